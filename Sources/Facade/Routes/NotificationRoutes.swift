import Foundation
import Hummingbird
import PostgresNIO

/// The caller's notifications across all their memberships.
struct NotificationRoutes {
    let deps: AppDependencies

    func register(_ group: RouterGroup<AppRequestContext>) {
        group.get("notifications") { request, _ in try await self.list(request) }
        group.post("notifications/:notificationID/read") { request, context in try await self.markRead(request, context) }
    }

    /// Newest first; `unread=true` keeps unread ones only.
    func list(_ request: Request) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let page = try PageRequest(request)
        var unreadOnly = false
        if let raw = request.uri.queryParameters["unread"] {
            guard let value = Bool(String(raw)) else { throw APIError.validation(field: "unread", .invalidFormat, "Must be true or false.") }
            unreadOnly = value
        }
        let result = try await deps.db.withConnection { connection in
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
                """, limit: page.limit, logger: deps.logger)
        }
        return JSONResponse.raw(result.json)
    }

    func markRead(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let notificationID = try context.parameters.uuid("notificationID", what: "Notification")
        let json = try await deps.db.withConnection { connection in
            try await connection.jsonRow(
                """
                UPDATE notifications n SET read_at = coalesce(n.read_at, now())
                FROM members m
                WHERE n.id = \(notificationID) AND m.id = n.recipient_member_id AND m.user_id = \(userID)
                RETURNING \(unescaped: Projection.notification())::text
                """, logger: deps.logger)
        }
        guard let json else { throw APIError.notFound("Notification") }
        return JSONResponse.raw(json)
    }
}
