/// What is wrong with one field of a request: the stable `code` of an entry of the error's `fields`.
public enum FieldProblem: String, Codable, Sendable, CaseIterable {
    /// Absent or null (for the body as a whole: empty).
    case required
    /// Present with another JSON type (a number where a string goes, a non-object body…).
    case wrongType = "wrong_type"
    /// The body is not JSON.
    case invalidJSON = "invalid_json"
    /// The right type, not the expected shape: an email, a date `YYYY-MM-DD`, a UUID, a cursor, a channel name.
    case invalidFormat = "invalid_format"
    /// Well-formed, not an allowed value: an unknown role or time zone, a member or post of another workspace.
    case invalidValue = "invalid_value"
    /// Empty or only whitespace.
    case blank
    case tooShort = "too_short"
    case tooLong = "too_long"
    /// A number outside its range.
    case outOfRange = "out_of_range"
    /// Text holding a character the API refuses (NUL, which PostgreSQL text cannot store).
    case forbiddenCharacter = "forbidden_character"
}
