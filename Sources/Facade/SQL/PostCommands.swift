import Foundation
import Logging
import PostgresNIO

/// Writes to `posts`.
enum PostCommands {
    /// A check-in or check-out dated in the workspace's time zone at `now`; nil when the member already made
    /// this kind of post that day (the unique index).
    static func create(
        _ connection: PostgresConnection, workspaceID: UUID, memberID: UUID, kind: String, body: String,
        checkinID: UUID?, at now: Date, logger: Logger
    ) async throws -> String? {
        try await connection.jsonRow(
            """
            WITH p AS (
                INSERT INTO posts (workspace_id, member_id, kind, local_date, body, checkin_id, created_at)
                SELECT w.id, \(memberID), \(kind), (\(now)::timestamptz AT TIME ZONE w.time_zone)::date,
                       \(body), \(checkinID), \(now)
                FROM workspaces w WHERE w.id = \(workspaceID)
                ON CONFLICT DO NOTHING
                RETURNING *
            )
            SELECT \(unescaped: Projection.post())::text FROM p JOIN members a ON a.id = p.member_id
            """, logger: logger)
    }

    static func updateBody(_ connection: PostgresConnection, postID: UUID, body: String, logger: Logger) async throws -> String? {
        try await connection.jsonRow(
            """
            WITH p AS (UPDATE posts SET body = \(body), edited_at = now() WHERE id = \(postID) RETURNING *)
            SELECT \(unescaped: Projection.post())::text FROM p JOIN members a ON a.id = p.member_id
            """, logger: logger)
    }
}
