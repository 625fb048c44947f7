import PostgresNIO

/// The health check's round trip.
enum HealthQuery {
    /// Throws when the database does not answer.
    static func ping(_ db: Database) async throws {
        try await db.withConnection { connection in
            _ = try await connection.query("SELECT 1", logger: db.logger)
        }
    }
}
