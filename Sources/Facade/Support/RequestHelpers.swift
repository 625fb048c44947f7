import Foundation
import Hummingbird

extension Request {
    /// Decodes the JSON body; an empty or invalid body is a 400.
    func decodeJSON<T: Decodable>(_ type: T.Type, context: some RequestContext) async throws -> T {
        let buffer = try await self.body.collect(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else {
            throw APIError.malformed("A JSON body is required.")
        }
        return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
    }
}

extension Parameters {
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

    mutating func check(_ condition: Bool, _ field: String, _ message: String) {
        if !condition { fields.append(.init(field: field, message: message)) }
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
        return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
    }
}
