import Foundation
import Logging
import PostgresNIO

/// Reads of `users`.
enum UserQueries {
    static func get(_ connection: PostgresConnection, userID: UUID, logger: Logger) async throws -> String? {
        try await connection.jsonRow(
            "SELECT \(unescaped: Projection.user("u"))::text FROM users u WHERE u.id = \(userID)", logger: logger)
    }

    /// The user with this email (any case) and their password hash (nil: Google sign-in only).
    static func withPasswordHash(
        _ connection: PostgresConnection, email: String, logger: Logger
    ) async throws -> (userJSON: String, passwordHash: String?)? {
        let rows = try await connection.query(
            "SELECT \(unescaped: Projection.user("u"))::text, u.password_hash FROM users u WHERE lower(u.email) = lower(\(email))",
            logger: logger)
        for try await row in rows.decode((String, String?).self) { return row }
        return nil
    }

    static func byGoogleSubject(_ connection: PostgresConnection, _ subject: String, logger: Logger) async throws -> String? {
        try await connection.jsonRow(
            "SELECT \(unescaped: Projection.user("u"))::text FROM users u WHERE u.google_subject = \(subject)", logger: logger)
    }
}
