import Foundation
import Logging
import PostgresNIO

/// Records events in the outbox table. Must be called on the connection and inside the
/// transaction that makes the change, so the event exists if and only if the change commits.
enum OutboxWriter {
    /// Enqueues `{"type": type, "workspace_id": workspaceID, "data": dataJSON}` on a workspace channel.
    static func workspaceEvent(
        _ connection: PostgresConnection, workspaceID: UUID, type: RealtimeEventType, dataJSON: String, logger: Logger
    ) async throws {
        assert(type.channelPrefix == Channel.workspacePrefix, "\(type.rawValue) is not a workspace event")
        try await connection.query(
            """
            INSERT INTO outbox (channel, payload)
            VALUES (\(Channel.workspace(workspaceID)),
                    json_build_object('type', \(type.rawValue)::text, 'workspace_id', \(workspaceID), 'data', \(dataJSON)::json))
            """, logger: logger)
    }

    /// Creates a notification for `recipientMemberID` and enqueues `notification.created` on the
    /// recipient's personal channel, in one statement. Does nothing if the recipient is not active.
    static func notify(
        _ connection: PostgresConnection, recipientMemberID: UUID, kind: NotificationKind, payloadJSON: String, logger: Logger
    ) async throws {
        try await connection.query(
            """
            WITH n AS (
                INSERT INTO notifications (workspace_id, recipient_member_id, kind, payload)
                SELECT m.workspace_id, m.id, \(kind.rawValue), \(payloadJSON)::jsonb
                FROM members m WHERE m.id = \(recipientMemberID) AND m.status = 'active'
                RETURNING *
            )
            INSERT INTO outbox (channel, payload)
            SELECT \(Channel.personalPrefix)::text || m.user_id::text,
                   json_build_object('type', \(RealtimeEventType.notificationCreated.rawValue)::text,
                                     'workspace_id', n.workspace_id,
                                     'data', \(unescaped: Projection.notification("n")))
            FROM n JOIN members m ON m.id = n.recipient_member_id
            """, logger: logger)
    }
}
