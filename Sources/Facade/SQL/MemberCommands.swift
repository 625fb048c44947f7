import Foundation
import Logging
import PostgresNIO

/// Writes to `members`.
enum MemberCommands {
    /// Sets the given fields (nil: unchanged); nil when there is no such member.
    static func update(
        _ connection: PostgresConnection, memberID: UUID, role: String?, displayName: String?, logger: Logger
    ) async throws -> String? {
        try await connection.jsonRow(
            """
            UPDATE members m SET role = coalesce(\(role), m.role),
                                 display_name = coalesce(\(displayName), m.display_name)
            WHERE m.id = \(memberID)
            RETURNING \(unescaped: Projection.member())::text
            """, logger: logger)
    }

    /// Marks the member `left` (their posts and comments stay); nil when there is no such member.
    static func markLeft(_ connection: PostgresConnection, memberID: UUID, logger: Logger) async throws -> String? {
        try await connection.jsonRow(
            "UPDATE members m SET status = 'left' WHERE m.id = \(memberID) RETURNING \(unescaped: Projection.member())::text",
            logger: logger)
    }

    /// The user becomes an active `member` (reactivated if they had left), named `displayName` or, by default,
    /// their email's local part (a returning member keeps their name); nil when the user does not exist.
    static func join(
        _ connection: PostgresConnection, workspaceID: UUID, userID: UUID, displayName: String?, logger: Logger
    ) async throws -> String? {
        try await connection.jsonRow(
            """
            INSERT INTO members AS m (workspace_id, user_id, display_name, role)
            SELECT \(workspaceID), u.id, coalesce(\(displayName), split_part(u.email, '@', 1)), 'member'
            FROM users u WHERE u.id = \(userID)
            ON CONFLICT (workspace_id, user_id) DO UPDATE
                SET status = 'active', role = 'member', joined_at = now(),
                    display_name = coalesce(\(displayName), m.display_name)
            RETURNING \(unescaped: Projection.member())::text
            """, logger: logger)
    }
}
