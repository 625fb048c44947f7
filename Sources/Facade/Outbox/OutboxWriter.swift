import Foundation
import Logging
import PostgresNIO

/// Channels the facade publishes to.
enum Channel {
    /// The team feed of a workspace; clients need a subscription token (active members only).
    static func workspace(_ id: UUID) -> String { "workspace:\(id.uuidString.lowercased())" }
    /// A Centrifugo user-limited channel: only the user whose id follows `#` may subscribe.
    static func personal(userID: UUID) -> String { "personal:#\(userID.uuidString.lowercased())" }
}

/// Records events in the outbox table. Must be called on the connection and inside the
/// transaction that makes the change, so the event exists if and only if the change commits.
enum OutboxWriter {
    /// Enqueues `{"type": type, "workspace_id": workspaceID, "data": dataJSON}` on a workspace channel.
    static func workspaceEvent(
        _ connection: PostgresConnection, workspaceID: UUID, type: String, dataJSON: String, logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO outbox (channel, payload)
            VALUES (\(Channel.workspace(workspaceID)),
                    json_build_object('type', \(type)::text, 'workspace_id', \(workspaceID), 'data', \(dataJSON)::json))
            """, logger: logger)
    }

    /// Creates a notification for `recipientMemberID` and enqueues `notification.created` on the
    /// recipient's personal channel, in one statement. Does nothing if the recipient is not active.
    static func notify(
        _ connection: PostgresConnection, recipientMemberID: UUID, kind: String, payloadJSON: String, logger: Logger
    ) async throws {
        try await connection.query(
            """
            WITH n AS (
                INSERT INTO notifications (workspace_id, recipient_member_id, kind, payload)
                SELECT m.workspace_id, m.id, \(kind), \(payloadJSON)::jsonb
                FROM members m WHERE m.id = \(recipientMemberID) AND m.status = 'active'
                RETURNING *
            )
            INSERT INTO outbox (channel, payload)
            SELECT 'personal:#' || m.user_id::text,
                   json_build_object('type', 'notification.created', 'workspace_id', n.workspace_id,
                                     'data', \(unescaped: Projection.notification("n")))
            FROM n JOIN members m ON m.id = n.recipient_member_id
            """, logger: logger)
    }

    /// Notifies each mentioned active member of the workspace (except the author).
    static func notifyMentions(
        _ connection: PostgresConnection, mentions: [UUID], membership: Membership, payloadJSON: String, logger: Logger
    ) async throws {
        for memberID in Set(mentions) where memberID != membership.memberID {
            let inWorkspace = try await connection.exists(
                "SELECT 1 FROM members WHERE id = \(memberID) AND workspace_id = \(membership.workspaceID) AND status = 'active'",
                logger: logger)
            guard inWorkspace else {
                throw APIError.validation(field: "mentions", "Mentioned member \(memberID.uuidString.lowercased()) is not in this workspace.")
            }
            try await notify(connection, recipientMemberID: memberID, kind: "mention", payloadJSON: payloadJSON, logger: logger)
        }
    }
}
