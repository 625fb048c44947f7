import Foundation
import Logging
import PostgresNIO

/// Reads of `posts` that a write needs (the feed's reads are ``FeedQuery``).
enum PostQueries {
    /// The author member id of a post of the workspace; nil when there is none.
    static func author(_ connection: PostgresConnection, postID: UUID, workspaceID: UUID, logger: Logger) async throws -> UUID? {
        let rows = try await connection.query(
            "SELECT member_id FROM posts WHERE id = \(postID) AND workspace_id = \(workspaceID)", logger: logger)
        for try await id in rows.decode(UUID.self) { return id }
        return nil
    }

    static func exists(_ connection: PostgresConnection, postID: UUID, workspaceID: UUID, logger: Logger) async throws -> Bool {
        try await connection.exists(
            "SELECT 1 FROM posts WHERE id = \(postID) AND workspace_id = \(workspaceID)", logger: logger)
    }

    /// The member's check-in of the day `now` falls on in the workspace's time zone, if any.
    static func checkinOfTheDay(_ connection: PostgresConnection, memberID: UUID, at now: Date, logger: Logger) async throws -> UUID? {
        let rows = try await connection.query(
            """
            SELECT p.id FROM posts p JOIN workspaces w ON w.id = p.workspace_id
            WHERE p.member_id = \(memberID) AND p.kind = 'checkin'
              AND p.local_date = (\(now)::timestamptz AT TIME ZONE w.time_zone)::date
            """, logger: logger)
        var checkinID: UUID?
        for try await id in rows.decode(UUID.self) { checkinID = id }
        return checkinID
    }

    /// A post's author and body, locked until the transaction ends (an edit compares the old body's mentions).
    static func lockForEdit(
        _ connection: PostgresConnection, postID: UUID, workspaceID: UUID, logger: Logger
    ) async throws -> (authorID: UUID, body: String)? {
        let rows = try await connection.query(
            "SELECT member_id, body FROM posts WHERE id = \(postID) AND workspace_id = \(workspaceID) FOR UPDATE",
            logger: logger)
        var found: (authorID: UUID, body: String)?
        for try await row in rows.decode((UUID, String).self) { found = row }
        return found
    }
}
