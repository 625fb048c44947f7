import Foundation
import Hummingbird

/// The caller's notifications across all their memberships (``NotificationUseCases``).
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
        return JSONResponse.raw(try await deps.notifications.list(of: userID, unreadOnly: unreadOnly, page: page).json)
    }

    func markRead(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let notificationID = try context.parameters.uuid("notificationID", what: "Notification")
        return JSONResponse.raw(try await deps.notifications.markRead(by: userID, notificationID: notificationID))
    }
}
