import Foundation
import Hummingbird

/// Builds JSON responses. Most resources are rendered to JSON by PostgreSQL itself
/// (`json_build_object`), so routes often pass pre-rendered JSON text straight through.
enum JSONResponse {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    /// A response whose body is JSON text already produced elsewhere (typically by SQL).
    static func raw(_ json: String, status: HTTPResponse.Status = .ok) -> Response {
        let buffer = ByteBuffer(string: json)
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8", .contentLength: String(buffer.readableBytes)],
            body: .init(byteBuffer: buffer))
    }

    static func encode(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        do {
            let data = try encoder.encode(value)
            return raw(String(decoding: data, as: UTF8.self), status: status)
        } catch {
            return raw(#"{"error":{"code":"internal_error","message":"Encoding failed.","fields":[]}}"#, status: .internalServerError)
        }
    }

    static func noContent() -> Response {
        Response(status: .noContent)
    }

    /// Encodes a Swift string as a JSON string literal (for splicing into hand-built JSON).
    static func quote(_ string: String) -> String {
        let data = (try? encoder.encode(string)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
