/// Finds the `@name` mentions in a post's or comment's text, as ``MentionHandle``s.
///
/// A mention is `@` followed by a run of letters, digits, `_`, `.` and `-`, where the `@` starts the text or
/// follows a character that is none of those (so `bob@example.com` mentions nobody). Trailing `.`, `-` and `_`
/// end a sentence, not a name (`thanks @bob.` mentions `bob`). Handles come back deduplicated, in order of
/// first appearance, at most ``maximumHandles`` of them (a text cannot make the server look up thousands).
///
/// Pure: no database, no clock.
enum MentionParser {
    static let maximumHandles = 50

    static func handles(in text: String) -> [String] {
        var result: [String] = []
        var seen: Set<String> = []
        var previous: Character?
        var index = text.startIndex
        while index < text.endIndex, result.count < maximumHandles {
            let character = text[index]
            defer { previous = character }
            guard character == "@", !(previous.map(isNameCharacter) ?? false), previous != "@" else {
                index = text.index(after: index)
                continue
            }
            var end = text.index(after: index)
            while end < text.endIndex, isNameCharacter(text[end]) { end = text.index(after: end) }
            let raw = text[text.index(after: index)..<end].reversed().drop(while: { "._-".contains($0) }).reversed()
            let handle = MentionHandle.normalize(String(raw))
            if !handle.isEmpty, seen.insert(handle).inserted { result.append(handle) }
            index = end
        }
        return result
    }

    static func isNameCharacter(_ character: Character) -> Bool {
        character.isLetter || character.isNumber || character == "_" || character == "." || character == "-"
    }
}
