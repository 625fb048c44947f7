import Foundation
import Hummingbird

/// One page of a list: `{"items": [...], "next_cursor": "..." | null}`.
struct Page: Sendable {
    var items: [String]
    var nextCursor: String?

    var json: String {
        "{\"items\":[\(items.joined(separator: ","))],\"next_cursor\":\(nextCursor.map(JSONResponse.quote) ?? "null")}"
    }
}

/// Keyset pagination position: a sort timestamp plus the row id to break ties.
///
/// List queries compare `(sort_column, id)` with `(coalesce(cursor_ts, ±infinity), coalesce(cursor_id, min/max uuid))`
/// rather than `cursor IS NULL OR ...`, so the comparison stays an index condition on the first and later pages.
///
/// Opaque to clients: base64url of `"<timestamptz text>|<uuid>"`. The timestamp is PostgreSQL's own
/// text rendering (`created_at::text`), which round-trips exactly at microsecond precision.
struct PageCursor: Sendable {
    var timestamp: String
    var id: UUID

    static func encode(_ raw: String) -> String {
        Data(raw.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ cursor: String) throws -> PageCursor {
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64),
            let raw = String(data: data, encoding: .utf8),
            let separator = raw.lastIndex(of: "|"),
            let id = UUID(uuidString: String(raw[raw.index(after: separator)...]))
        else {
            throw APIError.malformed("The cursor is invalid.")
        }
        return PageCursor(timestamp: String(raw[..<separator]), id: id)
    }
}

/// `?limit=&cursor=` query parameters shared by every list endpoint.
struct PageRequest: Sendable {
    static let defaultLimit = 20
    static let maxLimit = 100

    var limit: Int
    var cursor: PageCursor?

    init(limit: Int, cursor: PageCursor?) {
        self.limit = limit
        self.cursor = cursor
    }

    static func first(limit: Int) -> PageRequest {
        PageRequest(limit: limit, cursor: nil)
    }

    init(_ request: Request) throws {
        let query = request.uri.queryParameters
        if let rawLimit = query["limit"] {
            guard let limit = Int(String(rawLimit)), (1...Self.maxLimit).contains(limit) else {
                throw APIError.validation(field: "limit", "limit must be an integer between 1 and \(Self.maxLimit).")
            }
            self.limit = limit
        } else {
            self.limit = Self.defaultLimit
        }
        if let rawCursor = query["cursor"], !rawCursor.isEmpty {
            self.cursor = try PageCursor.decode(String(rawCursor))
        }
    }

    /// The cursor timestamp, bound as text and cast with `::timestamptz` in SQL.
    var cursorTimestamp: String? { cursor?.timestamp }
    var cursorID: UUID? { cursor?.id }
    /// Fetch one extra row to know whether there is a next page.
    var fetchLimit: Int { limit + 1 }
}
