import Foundation
import Hummingbird

/// Members of a workspace (``MemberUseCases``).
struct MemberRoutes {
    let deps: AppDependencies

    struct UpdateRequest: Decodable {
        var role: String?
        var display_name: String?
    }

    func register(_ group: RouterGroup<AppRequestContext>) {
        group.get("workspaces/:workspaceID/members") { request, context in try await self.list(request, context) }
        group.patch("workspaces/:workspaceID/members/:memberID") { request, context in
            try await self.update(request, context)
        }
        group.delete("workspaces/:workspaceID/members/:memberID") { request, context in
            try await self.remove(request, context)
        }
    }

    func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let page = try PageRequest(request)
        return JSONResponse.raw(try await deps.members.list(as: userID, in: workspaceID, page: page).json)
    }

    func update(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let memberID = try context.parameters.uuid("memberID", what: "Member")
        let body = try await request.decodeJSON(UpdateRequest.self, context: context)
        let json = try await deps.members.update(
            as: userID, in: workspaceID, memberID: memberID, role: body.role, displayName: body.display_name)
        return JSONResponse.raw(json)
    }

    func remove(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let memberID = try context.parameters.uuid("memberID", what: "Member")
        try await deps.members.remove(as: userID, in: workspaceID, memberID: memberID)
        return JSONResponse.noContent()
    }
}
