import Foundation
import Logging
import PostgresNIO

/// The feed in one SQL statement: a page of a workspace's posts, each with its author, reaction counts per
/// emoji (and whether the viewer used each), the comment count and the latest three comments.
///
/// LATERAL subqueries are evaluated only for the rows the LIMIT lets through (the plan is
/// Limit → Nested Loop → Index Scan on `posts_feed_idx`), so a page costs the same at any feed depth.
///
/// The page is a prepared statement (``PageStatement``): parsed and planned once per connection. Its cursor is bound as
/// text and cast in SQL, as everywhere else, and a test checks that the generic plan PostgreSQL may switch to for a
/// prepared statement still walks `posts_feed_idx`.
enum FeedQuery {
    /// Everything up to the WHERE clause; `$1` is the workspace id, `$2` the viewer's member id.
    static let select = """
        SELECT json_build_object(
                'id', p.id, 'workspace_id', p.workspace_id, 'kind', p.kind, 'body', p.body,
                'local_date', p.local_date, 'checkin_id', p.checkin_id,
                'created_at', p.created_at, 'edited_at', p.edited_at,
                'author', \(Projection.author("a")),
                'reactions', coalesce(r.counts, '[]'::json),
                'my_reactions', coalesce(r.mine, '[]'::json),
                'comment_count', cc.n,
                'latest_comments', coalesce(lc.items, '[]'::json)
            )::text,
            p.created_at::text || '|' || p.id::text
        FROM posts p
        JOIN members a ON a.id = p.member_id
        LEFT JOIN LATERAL (
            SELECT json_agg(json_build_object('emoji', x.emoji, 'count', x.n, 'reacted_by_me', x.by_me)
                            ORDER BY x.n DESC, x.emoji) AS counts,
                   json_agg(x.emoji ORDER BY x.emoji) FILTER (WHERE x.by_me) AS mine
            FROM (
                SELECT emoji, count(*) AS n, bool_or(member_id = $2) AS by_me
                FROM reactions WHERE post_id = p.id GROUP BY emoji
            ) x
        ) r ON true
        LEFT JOIN LATERAL (SELECT count(*) AS n FROM comments c WHERE c.post_id = p.id) cc ON true
        LEFT JOIN LATERAL (
            SELECT json_agg(latest.comment ORDER BY latest.created_at, latest.id) AS items
            FROM (
                SELECT \(Projection.comment("c", author: "ca")) AS comment, c.created_at, c.id
                FROM comments c JOIN members ca ON ca.id = c.member_id
                WHERE c.post_id = p.id
                ORDER BY c.created_at DESC, c.id DESC
                LIMIT 3
            ) latest
        ) lc ON true
        """

    /// A page, newest first: `$3`/`$4` the cursor (NULL on the first page), `$5` the fetch limit.
    struct PageStatement: PostgresPreparedStatement {
        static let name = "feed_page"
        static let sql = select + """

            WHERE p.workspace_id = $1
              AND (p.created_at, p.id) < (coalesce($3::timestamptz, 'infinity'),
                                        coalesce($4::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
            ORDER BY p.created_at DESC, p.id DESC
            LIMIT $5
            """
        static let bindingDataTypes: [PostgresDataType] = [.uuid, .uuid, .text, .uuid, .int8]
        typealias Row = (String, String)

        var workspaceID: UUID
        var viewerMemberID: UUID
        var page: PageRequest

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 5)
            bindings.append(workspaceID)
            bindings.append(viewerMemberID)
            bindings.append(page.cursorTimestamp)
            bindings.append(page.cursorID)
            bindings.append(page.fetchLimit)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// One post in its feed form: `$3` the post id.
    struct PostStatement: PostgresPreparedStatement {
        static let name = "feed_post"
        static let sql = select + "\nWHERE p.workspace_id = $1 AND p.id = $3"
        static let bindingDataTypes: [PostgresDataType] = [.uuid, .uuid, .uuid]
        typealias Row = (String, String)

        var workspaceID: UUID
        var viewerMemberID: UUID
        var postID: UUID

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 3)
            bindings.append(workspaceID)
            bindings.append(viewerMemberID)
            bindings.append(postID)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    static func page(
        _ connection: PostgresConnection, workspaceID: UUID, viewerMemberID: UUID, page: PageRequest, logger: Logger
    ) async throws -> Page {
        let statement = PageStatement(workspaceID: workspaceID, viewerMemberID: viewerMemberID, page: page)
        return try await Page(rows: connection.execute(statement, logger: logger), limit: page.limit)
    }

    static func post(
        _ connection: PostgresConnection, workspaceID: UUID, viewerMemberID: UUID, postID: UUID, logger: Logger
    ) async throws -> String? {
        let statement = PostStatement(workspaceID: workspaceID, viewerMemberID: viewerMemberID, postID: postID)
        for try await (json, _) in try await connection.execute(statement, logger: logger) { return json }
        return nil
    }

    /// The page statement with its bindings as a one-off query (EXPLAIN reads its plan).
    static func make(workspaceID: UUID, viewerMemberID: UUID, page: PageRequest) -> PostgresQuery {
        let statement = PageStatement(workspaceID: workspaceID, viewerMemberID: viewerMemberID, page: page)
        return PostgresQuery(unsafeSQL: PageStatement.sql, binds: statement.makeBindings())
    }
}
