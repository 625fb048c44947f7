import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// Turns every error escaping a route into the API's single JSON error shape.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let apiError = Self.apiError(for: error)
            if apiError.status == .internalServerError {
                context.logger.error("Unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            }
            return JSONResponse.encode(apiError.body, status: apiError.status)
        }
    }

    static func apiError(for error: any Error) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as DecodingError:
            return .malformed([Self.fieldError(error)])
        case let error as HTTPError:
            return APIError(
                error.status, code: Self.code(for: error.status),
                message: error.body ?? error.status.reasonPhrase)
        case let error as any HTTPResponseError:
            return APIError(error.status, code: Self.code(for: error.status), message: error.status.reasonPhrase)
        case let error as PSQLError where ["22021", "22P05"].contains(error.serverInfo?[.sqlState]):
            // PostgreSQL text cannot hold NUL characters (and rejects invalid byte sequences). Bodies (`BodyDecoder`),
            // cursors and text path parameters are checked before SQL, so this is a last resort that cannot name
            // the field.
            return .validation(
                field: APIError.FieldError.wholeBody, .forbiddenCharacter, "Text must not contain NUL characters.")
        case let error as PSQLError where error.serverInfo?[.sqlState] == "23505":
            // A unique index caught a race the route did not anticipate.
            return .conflict("conflict", "The resource already exists.")
        default:
            return APIError(.internalServerError, code: "internal_error", message: "Internal server error.")
        }
    }

    static func code(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: "malformed_request"
        case 401: "unauthenticated"
        case 403: "forbidden"
        case 404: "not_found"
        case 405: "method_not_allowed"
        case 409: "conflict"
        case 413: "payload_too_large"
        case 422: "validation_failed"
        default: status.code >= 500 ? "internal_error" : "http_\(status.code)"
        }
    }

    /// The field a `DecodingError` is about (request bodies go through `BodyDecoder`, which reports them all).
    static func fieldError(_ error: DecodingError) -> APIError.FieldError {
        func path(_ context: DecodingError.Context, _ key: (any CodingKey)? = nil) -> String {
            let keys = context.codingPath + (key.map { [$0] } ?? [])
            let joined = keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            return joined.isEmpty ? APIError.FieldError.wholeBody : joined
        }
        switch error {
        case .keyNotFound(let key, let context):
            return .init(field: path(context, key), code: .required, message: "Required.")
        case .valueNotFound(_, let context):
            return .init(field: path(context), code: .required, message: "Must not be null.")
        case .typeMismatch(_, let context):
            return .init(field: path(context), code: .wrongType, message: "Has the wrong type.")
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? .init(field: APIError.FieldError.wholeBody, code: .invalidJSON, message: "The body is not valid JSON.")
                : .init(field: path(context), code: .invalidFormat, message: "Is not in the expected format.")
        @unknown default:
            return .init(field: APIError.FieldError.wholeBody, code: .invalidJSON, message: "The body could not be decoded.")
        }
    }
}
