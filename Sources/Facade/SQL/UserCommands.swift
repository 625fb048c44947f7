import Foundation
import Logging
import PostgresNIO

/// Writes to `users`.
enum UserCommands {
    /// A user signing up with a password; nil when the email is taken.
    static func create(_ connection: PostgresConnection, email: String, passwordHash: String, logger: Logger) async throws -> String? {
        try await connection.jsonRow(
            """
            INSERT INTO users (email, password_hash) VALUES (\(email), \(passwordHash))
            ON CONFLICT DO NOTHING
            RETURNING \(unescaped: Projection.user("users"))::text
            """, logger: logger)
    }

    /// Links the Google identity to the user with this email who has none yet; nil when there is no such user.
    static func linkGoogle(_ connection: PostgresConnection, subject: String, email: String, logger: Logger) async throws -> String? {
        try await connection.jsonRow(
            """
            UPDATE users u SET google_subject = \(subject)
            WHERE lower(u.email) = lower(\(email)) AND u.google_subject IS NULL
            RETURNING \(unescaped: Projection.user("u"))::text
            """, logger: logger)
    }

    /// A user signing up with Google; nil when the email is taken.
    static func createFromGoogle(
        _ connection: PostgresConnection, email: String, subject: String, logger: Logger
    ) async throws -> String? {
        try await connection.jsonRow(
            """
            INSERT INTO users (email, google_subject) VALUES (\(email), \(subject))
            ON CONFLICT DO NOTHING
            RETURNING \(unescaped: Projection.user("users"))::text
            """, logger: logger)
    }
}
