import Foundation
import Logging
import PostgresNIO

/// Reads of `todos`.
enum TodoQueries {
    /// Oldest first; `assignee` and `done` filter when set.
    static func page(
        _ connection: PostgresConnection, workspaceID: UUID, assignee: UUID?, done: Bool?, page: PageRequest, logger: Logger
    ) async throws -> Page {
        try await connection.page(
            """
            SELECT \(unescaped: Projection.todo())::text, t.created_at::text || '|' || t.id::text
            FROM todos t
            WHERE t.workspace_id = \(workspaceID)
              AND (\(assignee)::uuid IS NULL OR t.assignee_member_id = \(assignee)::uuid)
              AND (\(done)::boolean IS NULL OR t.done = \(done)::boolean)
              AND (t.created_at, t.id) > (coalesce(\(page.cursorTimestamp)::timestamptz, '-infinity'),
                                        coalesce(\(page.cursorID)::uuid, '00000000-0000-0000-0000-000000000000'))
            ORDER BY t.created_at, t.id
            LIMIT \(page.fetchLimit)
            """, limit: page.limit, logger: logger)
    }

    static func get(_ connection: PostgresConnection, todoID: UUID, workspaceID: UUID, logger: Logger) async throws -> String? {
        try await connection.jsonRow(
            "SELECT \(unescaped: Projection.todo())::text FROM todos t WHERE t.id = \(todoID) AND t.workspace_id = \(workspaceID)",
            logger: logger)
    }
}
