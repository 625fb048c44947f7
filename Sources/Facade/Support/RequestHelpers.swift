import Foundation
import Hummingbird

extension Request {
    /// Decodes the JSON body, reporting every missing, mistyped or malformed field (``BodyDecoder``); an empty
    /// body is a 400 on ``APIError/FieldError/wholeBody``.
    func decodeJSON<T: Decodable>(_ type: T.Type, context: some RequestContext) async throws -> T {
        let buffer = try await self.body.collect(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else {
            throw APIError.malformed(field: APIError.FieldError.wholeBody, .required, "A JSON body is required.")
        }
        return try BodyDecoder.decode(T.self, from: Data(buffer.readableBytesView))
    }
}

extension Parameters {
    /// A text path parameter (percent-decoded when `decode`); one holding a NUL character is reported as "not found":
    /// PostgreSQL text cannot hold NUL, so no such row exists.
    func text(_ name: String, what: String, decode: Bool = false) throws -> String {
        guard let raw = self.get(name) else { throw APIError.notFound(what) }
        let value = decode ? (raw.removingPercentEncoding ?? raw) : raw
        guard !value.unicodeScalars.contains("\u{0}") else { throw APIError.notFound(what) }
        return value
    }

    /// A UUID path parameter; a malformed id is reported as "not found" (it cannot exist).
    func uuid(_ name: String, what: String) throws -> UUID {
        guard let raw = self.get(name), let id = UUID(uuidString: raw) else {
            throw APIError.notFound(what)
        }
        return id
    }
}

/// Collects field errors and throws them together as a 422.
struct Validator {
    private(set) var fields: [APIError.FieldError] = []

    mutating func check(_ condition: Bool, _ field: String, _ code: FieldProblem, _ message: String) {
        if !condition { fields.append(.init(field: field, code: code, message: message)) }
    }

    /// Text of 1 to `maxLength` characters, not only whitespace (nil: absent, nothing to check).
    mutating func text(_ value: String?, _ field: String, maxLength: Int) {
        guard let value else { return }
        if value.trimmed.isEmpty {
            check(false, field, .blank, "Must not be empty or only whitespace.")
        } else {
            check(value.count <= maxLength, field, .tooLong, "Must be at most \(maxLength) characters.")
        }
    }

    func throwIfInvalid() throws {
        if !fields.isEmpty { throw APIError.validation(fields) }
    }
}

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}

extension Request {
    /// Decodes an optional JSON body: nil when the body is empty.
    func decodeJSONIfPresent<T: Decodable>(_ type: T.Type, context: some RequestContext) async throws -> T? {
        let buffer = try await self.body.collect(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { return nil }
        return try BodyDecoder.decode(T.self, from: Data(buffer.readableBytesView))
    }
}
