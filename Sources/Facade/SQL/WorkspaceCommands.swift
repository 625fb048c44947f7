import Foundation
import Logging
import PostgresNIO

/// Writes to `workspaces`.
enum WorkspaceCommands {
    /// A workspace and its owner member, the user (named `displayName`, by default their email's local part);
    /// nil when the user does not exist.
    static func create(
        _ connection: PostgresConnection, name: String, timeZone: String, ownerUserID: UUID, displayName: String?,
        logger: Logger
    ) async throws -> String? {
        try await connection.jsonRow(
            """
            WITH w AS (
                INSERT INTO workspaces (name, time_zone) VALUES (\(name), \(timeZone)) RETURNING *
            ), m AS (
                INSERT INTO members (workspace_id, user_id, display_name, role)
                SELECT w.id, u.id, coalesce(\(displayName), split_part(u.email, '@', 1)), 'owner'
                FROM w, users u WHERE u.id = \(ownerUserID)
                RETURNING *
            )
            SELECT \(unescaped: Projection.workspace())::text FROM w, m
            """, logger: logger)
    }

    /// Sets the given fields (nil: unchanged), returned as `memberID` sees the workspace.
    static func update(
        _ connection: PostgresConnection, workspaceID: UUID, memberID: UUID, name: String?, timeZone: String?,
        logger: Logger
    ) async throws -> String? {
        try await connection.jsonRow(
            """
            WITH w AS (
                UPDATE workspaces SET name = coalesce(\(name), name),
                                      time_zone = coalesce(\(timeZone), time_zone)
                WHERE id = \(workspaceID) RETURNING *
            )
            SELECT \(unescaped: Projection.workspace())::text FROM w JOIN members m ON m.id = \(memberID)
            """, logger: logger)
    }

    /// Deletes the workspace and, by cascade, everything in it.
    static func delete(_ connection: PostgresConnection, workspaceID: UUID, logger: Logger) async throws {
        try await connection.query("DELETE FROM workspaces WHERE id = \(workspaceID)", logger: logger)
    }
}
