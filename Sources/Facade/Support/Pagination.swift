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
            let id = UUID(uuidString: String(raw[raw.index(after: separator)...])),
            isTimestamp(raw[..<separator])
        else {
            throw APIError.malformed(field: "cursor", .invalidFormat, "Must be a next_cursor returned by this list.")
        }
        return PageCursor(timestamp: String(raw[..<separator]), id: id)
    }

    /// PostgreSQL's ISO rendering of a timestamptz (`2026-12-07 21:05:36.123456+00`), with a real date and time:
    /// a forged cursor is refused here, with its field named, rather than by the `::timestamptz` cast in SQL.
    static func isTimestamp(_ text: Substring) -> Bool {
        guard let match = text.wholeMatch(
            of: /(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?[+-]\d{2}(:\d{2}){0,2}/),
            let year = Int(match.1), let month = Int(match.2), let day = Int(match.3),
            let hour = Int(match.4), let minute = Int(match.5), let second = Int(match.6),
            hour < 24, minute < 60, second < 60
        else { return false }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let date = calendar.date(from: DateComponents(year: year, month: month, day: day)) else { return false }
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return parts.year == year && parts.month == month && parts.day == day
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
            guard let limit = Int(String(rawLimit)) else {
                throw APIError.validation(field: "limit", .invalidFormat, "Must be an integer between 1 and \(Self.maxLimit).")
            }
            guard (1...Self.maxLimit).contains(limit) else {
                throw APIError.validation(field: "limit", .outOfRange, "Must be an integer between 1 and \(Self.maxLimit).")
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
