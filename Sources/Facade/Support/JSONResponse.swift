import Foundation
import Hummingbird

/// Builds JSON responses. Most resources are rendered to JSON by PostgreSQL itself
/// (`json_build_object`, which writes `{"id" : …}`, and `jsonb`, which writes `{"id": …}`), so every body goes
/// through ``compact(_:)``: all facade responses, errors and `/openapi.json` included, and every publication to
/// the broker, are compact JSON (no whitespace outside strings).
enum JSONResponse {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    /// A response whose body is JSON text already produced elsewhere (typically by SQL), compacted.
    static func raw(_ json: String, status: HTTPResponse.Status = .ok) -> Response {
        let buffer = ByteBuffer(bytes: compactBytes(json))
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

    /// `json` without the whitespace between tokens. `json` must be valid JSON (SQL or an encoder made it):
    /// the scan only tracks whether it is inside a string, so one pass, no parsing.
    static func compactBytes(_ json: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(json.utf8.count)
        var inString = false
        var escaped = false
        for byte in json.utf8 {
            if inString {
                out.append(byte)
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                continue
            case UInt8(ascii: "\""):
                inString = true
                out.append(byte)
            default:
                out.append(byte)
            }
        }
        return out
    }

    static func compact(_ json: String) -> String {
        String(decoding: compactBytes(json), as: UTF8.self)
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
