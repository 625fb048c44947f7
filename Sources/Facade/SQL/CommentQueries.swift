import Foundation
import Logging
import PostgresNIO

/// Reads of `comments`.
enum CommentQueries {
    /// A post's comments, oldest first, keyset-paginated.
    static func page(_ connection: PostgresConnection, postID: UUID, page: PageRequest, logger: Logger) async throws -> Page {
        try await connection.page(
            """
            SELECT \(unescaped: Projection.comment())::text, c.created_at::text || '|' || c.id::text
            FROM comments c JOIN members a ON a.id = c.member_id
            WHERE c.post_id = \(postID)
              AND (c.created_at, c.id) > (coalesce(\(page.cursorTimestamp)::timestamptz, '-infinity'),
                                        coalesce(\(page.cursorID)::uuid, '00000000-0000-0000-0000-000000000000'))
            ORDER BY c.created_at, c.id
            LIMIT \(page.fetchLimit)
            """, limit: page.limit, logger: logger)
    }

    /// The author member id of a comment on a post of the workspace; nil when there is none.
    static func author(_ connection: PostgresConnection, commentID: UUID, workspaceID: UUID, logger: Logger) async throws -> UUID? {
        let rows = try await connection.query(
            """
            SELECT c.member_id FROM comments c JOIN posts p ON p.id = c.post_id
            WHERE c.id = \(commentID) AND p.workspace_id = \(workspaceID)
            """, logger: logger)
        for try await id in rows.decode(UUID.self) { return id }
        return nil
    }
}
