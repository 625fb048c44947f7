import Foundation
import Hummingbird

/// Workspaces CRUD (``WorkspaceUseCases``).
struct WorkspaceRoutes {
    let deps: AppDependencies

    struct CreateRequest: Decodable {
        var name: String
        var time_zone: String
        /// The creator's display name inside the workspace; defaults to the email's local part.
        var display_name: String?
    }

    struct UpdateRequest: Decodable {
        var name: String?
        var time_zone: String?
    }

    func register(_ group: RouterGroup<AppRequestContext>) {
        group.post("workspaces") { request, context in try await self.create(request, context) }
        group.get("workspaces") { request, _ in try await self.list(request) }
        group.get("workspaces/:workspaceID") { request, context in try await self.get(request, context) }
        group.patch("workspaces/:workspaceID") { request, context in try await self.update(request, context) }
        group.delete("workspaces/:workspaceID") { request, context in try await self.delete(request, context) }
    }

    func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let body = try await request.decodeJSON(CreateRequest.self, context: context)
        let json = try await deps.workspaces.create(
            by: userID, name: body.name, timeZone: body.time_zone, displayName: body.display_name)
        return JSONResponse.raw(json, status: .created)
    }

    func list(_ request: Request) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let page = try PageRequest(request)
        return JSONResponse.raw(try await deps.workspaces.list(of: userID, page: page).json)
    }

    func get(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        return JSONResponse.raw(try await deps.workspaces.get(as: userID, in: workspaceID))
    }

    func update(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let body = try await request.decodeJSON(UpdateRequest.self, context: context)
        let json = try await deps.workspaces.update(as: userID, in: workspaceID, name: body.name, timeZone: body.time_zone)
        return JSONResponse.raw(json)
    }

    func delete(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        try await deps.workspaces.delete(as: userID, in: workspaceID)
        return JSONResponse.noContent()
    }
}
