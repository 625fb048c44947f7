import Foundation
import Logging
import PostgresNIO

/// Writes to `reactions`: one per member per emoji per post or comment.
enum ReactionCommands {
    /// The column holding the target's id.
    static func column(_ target: ReactionTarget) -> String {
        switch target {
        case .post: "post_id"
        case .comment: "comment_id"
        }
    }

    /// The new reaction; nil when the member already reacted to the target with this emoji.
    static func add(
        _ connection: PostgresConnection, memberID: UUID, target: ReactionTarget, emoji: String, logger: Logger
    ) async throws -> String? {
        try await connection.jsonRow(
            """
            INSERT INTO reactions AS r (member_id, \(unescaped: column(target)), emoji)
            VALUES (\(memberID), \(target.id), \(emoji))
            ON CONFLICT DO NOTHING
            RETURNING \(unescaped: Projection.reaction())::text
            """, logger: logger)
    }

    /// The removed reaction; nil when there was none.
    static func remove(
        _ connection: PostgresConnection, memberID: UUID, target: ReactionTarget, emoji: String, logger: Logger
    ) async throws -> String? {
        try await connection.jsonRow(
            """
            DELETE FROM reactions r
            WHERE r.member_id = \(memberID) AND r.\(unescaped: column(target)) = \(target.id) AND r.emoji = \(emoji)
            RETURNING \(unescaped: Projection.reaction())::text
            """, logger: logger)
    }
}
