import Hummingbird

/// The one error shape of the API:
/// `{"error": {"code": "stable_code", "message": "...", "fields": [{"field": "...", "message": "..."}]}}`.
public struct APIError: Error, Sendable, Equatable {
    public struct FieldError: Codable, Sendable, Equatable {
        public var field: String
        public var message: String

        public init(field: String, message: String) {
            self.field = field
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

    public static func malformed(_ message: String) -> APIError {
        APIError(.badRequest, code: "malformed_request", message: message)
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
        "Google sign-in is off on this server: set GOOGLE_CLIENT_ID and GOOGLE_JWKS_FILE "
            + "(or --google-client-id/--google-jwks-file) to turn it on.")

    public static func validation(_ fields: [FieldError]) -> APIError {
        APIError(.unprocessableContent, code: "validation_failed", message: "The request is invalid.", fields: fields)
    }

    public static func validation(field: String, _ message: String) -> APIError {
        validation([FieldError(field: field, message: message)])
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
