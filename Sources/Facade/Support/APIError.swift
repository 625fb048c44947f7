import Hummingbird

/// The one error shape of the API:
/// `{"error": {"code": "stable_code", "message": "...", "fields": [{"field", "code", "message"}]}}`.
///
/// Every 400 and 422 names each offending field in `fields`: a body member by its dotted path (`title`,
/// `mentions.0`), a query parameter by its name (`limit`), or ``FieldError/wholeBody`` for the body as a whole
/// (empty, not JSON, not an object); each with a stable ``FieldProblem`` code.
public struct APIError: Error, Sendable, Equatable {
    public struct FieldError: Codable, Sendable, Equatable {
        /// The name used for the request body as a whole (no body member can be called that).
        public static let wholeBody = "$body"

        public var field: String
        public var code: FieldProblem
        public var message: String

        public init(field: String, code: FieldProblem, message: String) {
            self.field = field
            self.code = code
            self.message = message
        }
    }

    public var status: HTTPResponse.Status
    /// A stable, machine-readable code clients may switch on.
    public var code: String
    public var message: String
    public var fields: [FieldError]

    public init(_ status: HTTPResponse.Status, code: String, message: String, fields: [FieldError] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
    }

    /// 400: the request cannot be read as the operation's input (no body, not JSON, a field missing or of the
    /// wrong type, an unreadable cursor).
    public static func malformed(_ fields: [FieldError]) -> APIError {
        APIError(.badRequest, code: "malformed_request", message: summary(fields, or: "The request is malformed."), fields: fields)
    }

    public static func malformed(field: String, _ code: FieldProblem, _ message: String) -> APIError {
        malformed([FieldError(field: field, code: code, message: message)])
    }

    /// "title: Must not contain NUL characters." for one field, else `fallback`.
    static func summary(_ fields: [FieldError], or fallback: String) -> String {
        fields.count == 1 ? "\(fields[0].field): \(fields[0].message)" : fallback
    }

    public static let unauthenticated = APIError(
        .unauthorized, code: "unauthenticated", message: "A valid session token is required.")

    public static func forbidden(_ message: String, code: String = "forbidden") -> APIError {
        APIError(.forbidden, code: code, message: message)
    }

    public static let notAMember = APIError(
        .forbidden, code: "not_a_member", message: "You are not an active member of this workspace.")

    public static func notFound(_ what: String) -> APIError {
        APIError(.notFound, code: "not_found", message: "\(what) not found.")
    }

    public static func conflict(_ code: String, _ message: String) -> APIError {
        APIError(.conflict, code: code, message: message)
    }

    /// A feature this server runs without: says so and names the settings that turn it on.
    ///
    /// 501 Not Implemented, not 404 (the route exists, a client's URL is right) and not 503 (that means
    /// "down for now, retry later", while this answer does not change until the operator configures the feature
    /// and restarts): the server does not support the functionality, as configured.
    public static func featureOff(_ code: String, _ message: String) -> APIError {
        APIError(.notImplemented, code: code, message: message)
    }

    public static let googleSignInDisabled = featureOff(
        "google_sign_in_disabled",
        "Google sign-in is off on this server: set GOOGLE_CLIENT_ID (or --google-client-id) to turn it on; "
            + "Google's keys then come from GOOGLE_JWKS_URL (default \(GoogleJWKSCache.googleURL)), "
            + "or from GOOGLE_JWKS_FILE (--google-jwks-url/--google-jwks-file).")

    /// 503: Google's signing keys could not be fetched, and no cached key fits the token. Temporary.
    public static let googleKeysUnavailable = APIError(
        .serviceUnavailable, code: "google_keys_unavailable",
        message: "Google's signing keys cannot be fetched right now; try again shortly.")

    /// 422: the request is readable, and some field's value is not acceptable.
    public static func validation(_ fields: [FieldError]) -> APIError {
        APIError(.unprocessableContent, code: "validation_failed", message: summary(fields, or: "The request is invalid."), fields: fields)
    }

    public static func validation(field: String, _ code: FieldProblem, _ message: String) -> APIError {
        validation([FieldError(field: field, code: code, message: message)])
    }
}

extension APIError {
    struct Body: Encodable {
        struct Content: Encodable {
            var code: String
            var message: String
            var fields: [FieldError]
        }
        var error: Content
    }

    var body: Body { Body(error: .init(code: code, message: message, fields: fields)) }
}
