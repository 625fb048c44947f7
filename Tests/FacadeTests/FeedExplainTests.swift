import Foundation
import PostgresNIO
import Testing

@testable import Facade

/// Seeds 10,000 posts and checks the plan of the one-statement feed query.
/// `FACADE_PRINT_EXPLAIN=1` (see scripts/feed-explain.sh) prints the `EXPLAIN ANALYZE` output.
@Suite("Feed query plan")
struct FeedExplainTests {
    @Test("feed page over 10,000 posts uses the keyset index")
    func explainFeed() async throws {
        let database = try await TestDatabase.create()
        try await database.migrate()
        let plans = try await database.withClient { client -> [String] in
            let logger = TestDatabase.logger
            let workspaceID = UUID()
            // 50 members × 200 days = 10,000 posts, ~3 comments and ~2 reactions per post.
            let seed: [PostgresQuery] = [
                "INSERT INTO workspaces (id, name, time_zone) VALUES (\(workspaceID), 'Seeded', 'Europe/Paris')",
                """
                INSERT INTO users (email) SELECT 'seed' || i || '@example.com' FROM generate_series(1, 50) i
                """,
                """
                INSERT INTO members (workspace_id, user_id, display_name, role)
                SELECT \(workspaceID), u.id, u.email, 'member' FROM users u
                """,
                """
                INSERT INTO posts (workspace_id, member_id, kind, local_date, body, created_at)
                SELECT \(workspaceID), m.id, 'checkin', d::date, 'plan for ' || d::date,
                       d + (row_number() OVER (PARTITION BY d ORDER BY m.id)) * interval '1 minute'
                FROM members m, generate_series(timestamptz '2025-01-01', timestamptz '2025-01-01' + interval '199 days', interval '1 day') d
                """,
                """
                INSERT INTO comments (post_id, member_id, body, created_at)
                SELECT p.id, m.id, 'comment', p.created_at + interval '1 hour' * k
                FROM posts p CROSS JOIN generate_series(1, 3) k
                JOIN LATERAL (SELECT id FROM members ORDER BY md5(p.id::text || k) LIMIT 1) m ON true
                """,
                """
                INSERT INTO reactions (member_id, post_id, emoji)
                SELECT m.id, p.id, e FROM posts p CROSS JOIN unnest(ARRAY['👍', '🎉']) e
                JOIN LATERAL (SELECT id FROM members ORDER BY md5(p.id::text || e) LIMIT 1) m ON true
                """,
                "ANALYZE",
            ]
            for query in seed { try await client.query(query, logger: logger) }

            var viewer: UUID?
            for try await id in try await client.query("SELECT id FROM members LIMIT 1", logger: logger).decode(UUID.self) {
                viewer = id
            }
            let viewerID = try #require(viewer)
            var plans: [String] = []
            var cursor: PageCursor?
            for _ in 0..<2 {
                var page = PageRequest.first(limit: 20)
                page.cursor = cursor
                let feed = FeedQuery.make(workspaceID: workspaceID, viewerMemberID: viewerID, page: page)
                let explain = PostgresQuery(unsafeSQL: "EXPLAIN (ANALYZE, BUFFERS) " + feed.sql, binds: feed.binds)
                var lines: [String] = []
                for try await line in try await client.query(explain, logger: logger).decode(String.self) { lines.append(line) }
                plans.append(lines.joined(separator: "\n"))
                // Next page: start after the 100th post (a deep-ish cursor).
                for try await raw in try await client.query(
                    "SELECT created_at::text || '|' || id::text FROM posts ORDER BY created_at DESC, id DESC OFFSET 99 LIMIT 1",
                    logger: logger).decode(String.self)
                {
                    cursor = try PageCursor.decode(PageCursor.encode(raw))
                }
            }
            return plans
        }
        #expect(try await database.scalarInt("SELECT count(*)::int8 FROM posts") == 10_000)
        if ProcessInfo.processInfo.environment["FACADE_PRINT_EXPLAIN"] == "1" {
            print("===== EXPLAIN ANALYZE: feed, first page =====\n\(plans[0])")
            print("===== EXPLAIN ANALYZE: feed, page after 100 posts =====\n\(plans[1])")
        }
        for plan in plans {
            #expect(plan.contains("posts_feed_idx"), "\(plan)")
            #expect(!plan.contains("Seq Scan on posts"), "\(plan)")
        }
    }
}
