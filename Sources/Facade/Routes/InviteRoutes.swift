import Foundation
import Hummingbird

/// Invites: created by owners/admins, accepted by a signed-in user (``InviteUseCases``).
struct InviteRoutes {
    let deps: AppDependencies

    struct CreateRequest: Decodable {
        var kind: String?
        var email: String?
        var expires_in_hours: Int?
    }

    struct AcceptRequest: Decodable {
        var display_name: String?
    }

    func register(_ group: RouterGroup<AppRequestContext>) {
        group.post("workspaces/:workspaceID/invites") { request, context in try await self.create(request, context) }
        group.post("invites/:token/accept") { request, context in try await self.accept(request, context) }
    }

    func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let body = try await request.decodeJSON(CreateRequest.self, context: context)
        let json = try await deps.invites.create(
            as: userID, in: workspaceID, kind: body.kind, email: body.email, expiresInHours: body.expires_in_hours)
        return JSONResponse.raw(json, status: .created)
    }

    /// The body is optional (`display_name`).
    func accept(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let token = try context.parameters.text("token", what: "Invite")
        let body = try await request.decodeJSONIfPresent(AcceptRequest.self, context: context)
        return JSONResponse.raw(try await deps.invites.accept(by: userID, token: token, displayName: body?.display_name))
    }
}
