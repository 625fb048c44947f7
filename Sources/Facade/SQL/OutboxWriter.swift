import Foundation
import Logging
import PostgresNIO

/// Records events in the outbox table. Must be called on the connection and inside the
/// transaction that makes the change, so the event exists if and only if the change commits.
///
/// Channel names come from ``Channel`` and are bound as parameters; the SQL never spells one.
enum OutboxWriter {
    /// A workspace event: nearly every change writes one, so it is a prepared statement.
    struct WorkspaceEventStatement: PostgresPreparedStatement {
        static let name = "outbox_workspace_event"
        static let sql = """
            INSERT INTO outbox (channel, payload)
            VALUES ($1, json_build_object('type', $2::text, 'workspace_id', $3, 'data', $4::json))
            """
        static let bindingDataTypes: [PostgresDataType] = [.text, .text, .uuid, .text]
        typealias Row = ()

        var workspaceID: UUID
        var type: RealtimeEventType
        var dataJSON: String

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 4)
            bindings.append(Channel.workspace(workspaceID))
            bindings.append(type.rawValue)
            bindings.append(workspaceID)
            bindings.append(dataJSON)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row {}
    }

    /// Enqueues `{"type": type, "workspace_id": workspaceID, "data": dataJSON}` on a workspace channel.
    static func workspaceEvent(
        _ connection: PostgresConnection, workspaceID: UUID, type: RealtimeEventType, dataJSON: String, logger: Logger
    ) async throws {
        assert(type.channelPrefix == Channel.workspacePrefix, "\(type.rawValue) is not a workspace event")
        _ = try await connection.execute(
            WorkspaceEventStatement(workspaceID: workspaceID, type: type, dataJSON: dataJSON), logger: logger)
    }

    /// A notification and its `notification.created` event, in one statement: every comment, reaction and
    /// mention writes one, so it is a prepared statement.
    struct NotificationStatement: PostgresPreparedStatement {
        static let name = "outbox_notification"
        static let sql = """
            WITH n AS (
                INSERT INTO notifications (workspace_id, recipient_member_id, kind, payload)
                SELECT m.workspace_id, m.id, $2, $3::jsonb
                FROM members m WHERE m.id = $1 AND m.status = 'active'
                RETURNING *
            )
            INSERT INTO outbox (channel, payload)
            SELECT $4::text || m.user_id::text,
                   json_build_object('type', $5::text,
                                     'workspace_id', n.workspace_id,
                                     'data', \(Projection.notification("n")))
            FROM n JOIN members m ON m.id = n.recipient_member_id
            """
        static let bindingDataTypes: [PostgresDataType] = [.uuid, .text, .text, .text, .text]
        typealias Row = ()

        var recipientMemberID: UUID
        var kind: NotificationKind
        var payloadJSON: String

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 5)
            bindings.append(recipientMemberID)
            bindings.append(kind.rawValue)
            bindings.append(payloadJSON)
            bindings.append(Channel.personalPrefix)
            bindings.append(RealtimeEventType.notificationCreated.rawValue)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row {}
    }

    /// Creates a notification for `recipientMemberID` and enqueues `notification.created` on the
    /// recipient's personal channel, in one statement. Does nothing if the recipient is not active.
    ///
    /// The recipient's user id is only known in SQL, so the channel is ``Channel/personalPrefix`` (a parameter)
    /// followed by `user_id::text`, which is ``Channel/personal(userID:)`` (PostgreSQL writes uuids lowercase).
    static func notify(
        _ connection: PostgresConnection, recipientMemberID: UUID, kind: NotificationKind, payloadJSON: String, logger: Logger
    ) async throws {
        _ = try await connection.execute(
            NotificationStatement(recipientMemberID: recipientMemberID, kind: kind, payloadJSON: payloadJSON), logger: logger)
    }
}
