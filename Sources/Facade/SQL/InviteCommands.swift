import Foundation
import Logging
import PostgresNIO

/// Writes to `invites`.
enum InviteCommands {
    static func create(
        _ connection: PostgresConnection, workspaceID: UUID, kind: InviteKind, token: String, email: String?,
        createdBy memberID: UUID, expiresAt: Date, logger: Logger
    ) async throws -> String? {
        try await connection.jsonRow(
            """
            INSERT INTO invites (workspace_id, kind, token, email, created_by_member_id, expires_at)
            VALUES (\(workspaceID), \(kind.rawValue), \(token), \(email), \(memberID), \(expiresAt))
            RETURNING \(unescaped: Projection.invite("invites"))::text
            """, logger: logger)
    }

    static func markAccepted(_ connection: PostgresConnection, inviteID: UUID, by memberID: UUID, logger: Logger) async throws {
        try await connection.query(
            "UPDATE invites SET accepted_at = now(), accepted_by_member_id = \(memberID) WHERE id = \(inviteID)",
            logger: logger)
    }
}
