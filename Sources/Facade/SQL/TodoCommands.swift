import Foundation
import Logging
import PostgresNIO

/// Writes to `todos`.
enum TodoCommands {
    static func create(
        _ connection: PostgresConnection, workspaceID: UUID, createdBy memberID: UUID, assignee: UUID, title: String,
        dueDate: String?, postID: UUID?, logger: Logger
    ) async throws -> String? {
        try await connection.jsonRow(
            """
            INSERT INTO todos AS t (workspace_id, created_by_member_id, assignee_member_id, title, due_date, post_id)
            VALUES (\(workspaceID), \(memberID), \(assignee), \(title), \(dueDate)::date, \(postID))
            RETURNING \(unescaped: Projection.todo())::text
            """, logger: logger)
    }

    /// Sets the given fields (nil: unchanged); nil when the workspace has no such todo.
    static func update(
        _ connection: PostgresConnection, todoID: UUID, workspaceID: UUID, title: String?, assignee: UUID?,
        dueDate: String?, done: Bool?, postID: UUID?, logger: Logger
    ) async throws -> String? {
        try await connection.jsonRow(
            """
            UPDATE todos t SET
                title = coalesce(\(title), t.title),
                assignee_member_id = coalesce(\(assignee), t.assignee_member_id),
                due_date = coalesce(\(dueDate)::date, t.due_date),
                done = coalesce(\(done), t.done),
                post_id = coalesce(\(postID), t.post_id),
                updated_at = now()
            WHERE t.id = \(todoID) AND t.workspace_id = \(workspaceID)
            RETURNING \(unescaped: Projection.todo())::text
            """, logger: logger)
    }

    /// The deleted todo; nil when the workspace has no such todo.
    static func delete(_ connection: PostgresConnection, todoID: UUID, workspaceID: UUID, logger: Logger) async throws -> String? {
        try await connection.jsonRow(
            "DELETE FROM todos t WHERE t.id = \(todoID) AND t.workspace_id = \(workspaceID) RETURNING \(unescaped: Projection.todo())::text",
            logger: logger)
    }
}
