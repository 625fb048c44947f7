import Foundation
import Logging
import PostgresNIO

/// Revocation in real time: when someone loses access to a workspace, the same transaction enqueues a broker
/// `unsubscribe` of that user from the workspace channel, so an open subscription ends as soon as the relay
/// delivers the row (the broker applies it on every node). Subscription tokens are short-lived
/// (`FacadeConfiguration.subscriptionTokenLifetime`), so a revocation the broker never got cannot outlive them.
///
/// Call these after the publication announcing the change (`member.left`, `workspace.deleted`): rows go out in
/// id order, so the leaving member still receives that event, and nothing after it.
extension OutboxWriter {
    /// `userID` loses access to `workspaceID` (removed, or left).
    static func revokeWorkspaceAccess(
        _ connection: PostgresConnection, workspaceID: UUID, userID: UUID, logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO outbox (kind, channel, user_id)
            VALUES (\(BrokerCommand.Kind.unsubscribe.rawValue), \(Channel.workspace(workspaceID)), \(userID))
            """, logger: logger)
    }

    /// Every active member of `workspaceID` loses access (the workspace is being deleted). Call it before the
    /// members rows are deleted.
    static func revokeWorkspaceAccessOfAllMembers(
        _ connection: PostgresConnection, workspaceID: UUID, logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO outbox (kind, channel, user_id)
            SELECT \(BrokerCommand.Kind.unsubscribe.rawValue), \(Channel.workspace(workspaceID)), m.user_id
            FROM members m WHERE m.workspace_id = \(workspaceID) AND m.status = 'active'
            ORDER BY m.joined_at, m.id
            """, logger: logger)
    }
}
