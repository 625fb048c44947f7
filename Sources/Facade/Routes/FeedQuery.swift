import Foundation
import PostgresNIO

/// The feed in one SQL statement: a page of a workspace's posts, each with its author, reaction counts per
/// emoji (and whether the viewer used each), the comment count and the latest three comments.
///
/// LATERAL subqueries are evaluated only for the rows the LIMIT lets through (the plan is
/// Limit → Nested Loop → Index Scan on `posts_feed_idx`), so a page costs the same at any feed depth.
enum FeedQuery {
    static func make(
        workspaceID: UUID, viewerMemberID: UUID, page: PageRequest?, postID: UUID? = nil
    ) -> PostgresQuery {
        let limit = page?.fetchLimit ?? 1
        return """
            SELECT json_build_object(
                    'id', p.id, 'workspace_id', p.workspace_id, 'kind', p.kind, 'body', p.body,
                    'local_date', p.local_date, 'checkin_id', p.checkin_id,
                    'created_at', p.created_at, 'edited_at', p.edited_at,
                    'author', \(unescaped: Projection.author("a")),
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
                    SELECT emoji, count(*) AS n, bool_or(member_id = \(viewerMemberID)) AS by_me
                    FROM reactions WHERE post_id = p.id GROUP BY emoji
                ) x
            ) r ON true
            LEFT JOIN LATERAL (SELECT count(*) AS n FROM comments c WHERE c.post_id = p.id) cc ON true
            LEFT JOIN LATERAL (
                SELECT json_agg(latest.comment ORDER BY latest.created_at, latest.id) AS items
                FROM (
                    SELECT \(unescaped: Projection.comment("c", author: "ca")) AS comment, c.created_at, c.id
                    FROM comments c JOIN members ca ON ca.id = c.member_id
                    WHERE c.post_id = p.id
                    ORDER BY c.created_at DESC, c.id DESC
                    LIMIT 3
                ) latest
            ) lc ON true
            WHERE p.workspace_id = \(workspaceID)
              AND (\(postID)::uuid IS NULL OR p.id = \(postID)::uuid)
              AND (p.created_at, p.id) < (coalesce(\(page?.cursorTimestamp)::timestamptz, 'infinity'),
                                        coalesce(\(page?.cursorID)::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
            ORDER BY p.created_at DESC, p.id DESC
            LIMIT \(limit)
            """
    }
}
