import Logging
import PostgresNIO

/// The facade's handle on PostgreSQL: a connection pool plus the helpers the SQL layer (`Sources/Facade/SQL`) runs on.
public struct Database: Sendable {
    public let client: PostgresClient
    public let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func withConnection<Result: Sendable>(
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await client.withConnection { connection in
            try await body(connection)
        }
    }

    /// Runs `body` inside BEGIN/COMMIT, rolling back if it throws.
    ///
    /// PostgresNIO's own `withTransaction` wraps the closure's error in `PostgresTransactionError`;
    /// use cases throw `APIError`s from inside transactions, so this helper rethrows the original error.
    public func transaction<Result: Sendable>(
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await client.withConnection { connection in
            try await connection.query("BEGIN", logger: logger)
            do {
                let result = try await body(connection)
                try await connection.query("COMMIT", logger: logger)
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }
}

extension PostgresConnection {
    /// Runs a query whose first column is JSON text and returns the first row's value.
    func jsonRow(_ query: PostgresQuery, logger: Logger) async throws -> String? {
        let rows = try await self.query(query, logger: logger)
        for try await json in rows.decode(String.self) {
            return json
        }
        return nil
    }

    /// Runs a query whose first column is JSON text and returns all values.
    func jsonRows(_ query: PostgresQuery, logger: Logger) async throws -> [String] {
        let rows = try await self.query(query, logger: logger)
        var result: [String] = []
        for try await json in rows.decode(String.self) {
            result.append(json)
        }
        return result
    }

    /// Runs a query and reports whether it returned at least one row.
    func exists(_ query: PostgresQuery, logger: Logger) async throws -> Bool {
        let rows = try await self.query(query, logger: logger)
        for try await _ in rows {
            return true
        }
        return false
    }

    /// Runs a query returning `(json, cursor)` rows, fetched with `LIMIT limit + 1`, as one page.
    func page(_ query: PostgresQuery, limit: Int, logger: Logger) async throws -> Page {
        try await Page(rows: self.query(query, logger: logger).decode((String, String).self), limit: limit)
    }
}

extension Page {
    /// The page of `(json, cursor)` rows fetched with `LIMIT limit + 1`: the extra row only says there is a next page.
    init(rows: some AsyncSequence<(String, String), any Error>, limit: Int) async throws {
        var items: [String] = []
        var lastCursor: String?
        var hasMore = false
        for try await (json, cursor) in rows {
            if items.count == limit {
                hasMore = true
                break
            }
            items.append(json)
            lastCursor = cursor
        }
        self.init(items: items, nextCursor: hasMore ? lastCursor.map(PageCursor.encode) : nil)
    }
}
