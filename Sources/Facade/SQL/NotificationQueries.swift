import Foundation
import Logging
import PostgresNIO

/// Reads of `notifications` (they are written with their event by ``OutboxWriter/notify(_:recipientMemberID:kind:payloadJSON:logger:)``).
enum NotificationQueries {
    /// The user's notifications across their active memberships, newest first.
    static func page(
        _ connection: PostgresConnection, userID: UUID, unreadOnly: Bool, page: PageRequest, logger: Logger
    ) async throws -> Page {
        try await connection.page(
            """
            SELECT \(unescaped: Projection.notification())::text, n.created_at::text || '|' || n.id::text
            FROM notifications n JOIN members m ON m.id = n.recipient_member_id
            WHERE m.user_id = \(userID) AND m.status = 'active'
              AND (NOT \(unreadOnly) OR n.read_at IS NULL)
              AND (n.created_at, n.id) < (coalesce(\(page.cursorTimestamp)::timestamptz, 'infinity'),
                                        coalesce(\(page.cursorID)::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
            ORDER BY n.created_at DESC, n.id DESC
            LIMIT \(page.fetchLimit)
            """, limit: page.limit, logger: logger)
    }
}
