import Foundation
import Logging
import PostgresNIO

/// Writes to `notifications`.
enum NotificationCommands {
    /// Marks one of the user's notifications read (the first reading time stays); nil when the user has no such
    /// notification.
    static func markRead(_ connection: PostgresConnection, notificationID: UUID, userID: UUID, logger: Logger) async throws -> String? {
        try await connection.jsonRow(
            """
            UPDATE notifications n SET read_at = coalesce(n.read_at, now())
            FROM members m
            WHERE n.id = \(notificationID) AND m.id = n.recipient_member_id AND m.user_id = \(userID)
            RETURNING \(unescaped: Projection.notification())::text
            """, logger: logger)
    }
}
