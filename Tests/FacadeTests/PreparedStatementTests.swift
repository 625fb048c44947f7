import Foundation
import PostgresNIO
import Testing

@testable import Facade

/// The hot queries run as prepared statements (parsed and planned once per connection).
@Suite("Prepared statements")
struct PreparedStatementTests {
    @Test("the membership check, the feed page, the comment insert and the outbox inserts are prepared on the connection")
    func prepared() async throws {
        try await UseCaseTeam.with(maxConnections: 1) { team in
            let postID = try await team.checkin(by: team.owner)
            for _ in 0..<2 {
                _ = try await team.comments.create(
                    as: team.grace, in: team.workspaceID, postID: postID, body: "Nice", mentions: [])
                _ = try await team.posts.feed(as: team.grace, in: team.workspaceID, page: .first(limit: 20))
                _ = try await team.posts.get(as: team.grace, in: team.workspaceID, postID: postID)
            }
            // One connection in the pool: the statements the use cases prepared are on it.
            let names = try await team.db.withConnection { connection in
                var names: [String] = []
                let rows = try await connection.query(
                    "SELECT name FROM pg_prepared_statements WHERE NOT from_sql ORDER BY name", logger: team.db.logger)
                for try await name in rows.decode(String.self) { names.append(name) }
                return names
            }
            #expect(names == [
                FeedQuery.PageStatement.name, FeedQuery.PostStatement.name, CommentCommands.CreateStatement.name,
                MembershipQueries.Statement.name, OutboxWriter.NotificationStatement.name,
                OutboxWriter.WorkspaceEventStatement.name,
            ].sorted())
        }
    }

    @Test("the feed page's generic plan (a prepared statement may switch to it) still walks posts_feed_idx, first page and later")
    func feedGenericPlan() async throws {
        try await UseCaseTeam.with(maxConnections: 1) { team in
            let logger = team.db.logger
            // 2 members × 1,000 days = 2,000 posts, each with a comment and a reaction.
            let seed: [PostgresQuery] = [
                """
                INSERT INTO posts (workspace_id, member_id, kind, local_date, body, created_at)
                SELECT \(team.workspaceID), m.id, 'checkin', d::date, 'plan', d + interval '1 minute' * (m.role = 'owner')::int
                FROM members m, generate_series(timestamptz '2023-01-01', timestamptz '2023-01-01' + interval '999 days', interval '1 day') d
                WHERE m.workspace_id = \(team.workspaceID)
                """,
                "INSERT INTO comments (post_id, member_id, body) SELECT id, member_id, 'comment' FROM posts",
                "INSERT INTO reactions (member_id, post_id, emoji) SELECT member_id, id, 'ok' FROM posts",
                "ANALYZE",
            ]
            let plans = try await team.db.withConnection { connection -> [String] in
                for query in seed { try await connection.query(query, logger: logger) }
                try await connection.query("SET plan_cache_mode = force_generic_plan", logger: logger)
                let page = try await FeedQuery.page(
                    connection, workspaceID: team.workspaceID, viewerMemberID: team.graceMember, page: .first(limit: 20),
                    logger: logger)
                #expect(page.items.count == 20)
                let workspace = team.workspaceID.uuidString.lowercased()
                let viewer = team.graceMember.uuidString.lowercased()
                var plans: [String] = []
                for cursor in ["NULL, NULL", "'2024-06-01 10:00:00+00', '\(viewer)'"] {
                    let explain = PostgresQuery(unsafeSQL: """
                        EXPLAIN EXECUTE \(FeedQuery.PageStatement.name)('\(workspace)', '\(viewer)', \(cursor), 21)
                        """)
                    var lines: [String] = []
                    for try await line in try await connection.query(explain, logger: logger).decode(String.self) {
                        lines.append(line)
                    }
                    plans.append(lines.joined(separator: "\n"))
                }
                return plans
            }
            for plan in plans {
                #expect(plan.contains("$1"), "not a generic plan: \(plan)")
                #expect(plan.contains("posts_feed_idx"), "\(plan)")
                #expect(!plan.contains("Seq Scan on posts"), "\(plan)")
            }
        }
    }
}
