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
            return .malformed(Self.describe(error))
        case let error as HTTPError:
            return APIError(
                error.status, code: Self.code(for: error.status),
                message: error.body ?? error.status.reasonPhrase)
        case let error as any HTTPResponseError:
            return APIError(error.status, code: Self.code(for: error.status), message: error.status.reasonPhrase)
        case let error as PSQLError where ["22021", "22P05"].contains(error.serverInfo?[.sqlState]):
            // PostgreSQL text cannot hold NUL characters (and rejects invalid byte sequences).
            return .validation(field: "body", "Text must not contain NUL characters.")
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

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map(\.stringValue).joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let prefix = path(context)
            return "Missing field '\(prefix.isEmpty ? key.stringValue : prefix + "." + key.stringValue)'."
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "Field '\(path(context))' has the wrong type."
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "The body is not valid JSON." : "Field '\(path(context))' is invalid."
        @unknown default:
            return "The body could not be decoded."
        }
    }
}
