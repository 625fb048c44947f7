import Foundation
import Logging
import PostgresNIO

/// Reads of `workspaces`, each with the reader's own member (`my_member`).
enum WorkspaceQueries {
    /// Whether PostgreSQL's own zone database (which `AT TIME ZONE` uses) knows the IANA name.
    static func timeZoneExists(_ connection: PostgresConnection, _ name: String, logger: Logger) async throws -> Bool {
        try await connection.exists("SELECT 1 FROM pg_timezone_names WHERE name = \(name)", logger: logger)
    }

    /// The workspaces where the user is an active member, oldest membership first.
    static func page(_ connection: PostgresConnection, userID: UUID, page: PageRequest, logger: Logger) async throws -> Page {
        try await connection.page(
            """
            SELECT \(unescaped: Projection.workspace())::text, m.joined_at::text || '|' || m.id::text
            FROM members m JOIN workspaces w ON w.id = m.workspace_id
            WHERE m.user_id = \(userID) AND m.status = 'active'
              AND (m.joined_at, m.id) > (coalesce(\(page.cursorTimestamp)::timestamptz, '-infinity'),
                                       coalesce(\(page.cursorID)::uuid, '00000000-0000-0000-0000-000000000000'))
            ORDER BY m.joined_at, m.id
            LIMIT \(page.fetchLimit)
            """, limit: page.limit, logger: logger)
    }

    static func get(_ connection: PostgresConnection, workspaceID: UUID, memberID: UUID, logger: Logger) async throws -> String? {
        try await connection.jsonRow(
            """
            SELECT \(unescaped: Projection.workspace())::text FROM workspaces w JOIN members m ON m.workspace_id = w.id
            WHERE w.id = \(workspaceID) AND m.id = \(memberID)
            """, logger: logger)
    }
}
