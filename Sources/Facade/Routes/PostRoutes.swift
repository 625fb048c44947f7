import Foundation
import Hummingbird

/// Check-ins and check-outs: create, edit, get, and the workspace feed (``PostUseCases``).
struct PostRoutes {
    let deps: AppDependencies

    struct CreateRequest: Decodable {
        var kind: String
        var body: String
        /// Member ids to notify with a `mention` notification, besides the `@name`s in `body`.
        var mentions: [UUID]?
    }

    struct UpdateRequest: Decodable {
        var body: String
    }

    func register(_ group: RouterGroup<AppRequestContext>) {
        group.post("workspaces/:workspaceID/posts") { request, context in try await self.create(request, context) }
        group.get("workspaces/:workspaceID/posts/:postID") { request, context in try await self.get(request, context) }
        group.patch("workspaces/:workspaceID/posts/:postID") { request, context in try await self.update(request, context) }
        group.get("workspaces/:workspaceID/feed") { request, context in try await self.feed(request, context) }
    }

    func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let body = try await request.decodeJSON(CreateRequest.self, context: context)
        let json = try await deps.posts.create(
            as: userID, in: workspaceID, kind: body.kind, body: body.body, mentions: body.mentions ?? [])
        return JSONResponse.raw(json, status: .created)
    }

    func get(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let postID = try context.parameters.uuid("postID", what: "Post")
        return JSONResponse.raw(try await deps.posts.get(as: userID, in: workspaceID, postID: postID))
    }

    func update(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let postID = try context.parameters.uuid("postID", what: "Post")
        let body = try await request.decodeJSON(UpdateRequest.self, context: context)
        return JSONResponse.raw(try await deps.posts.update(as: userID, in: workspaceID, postID: postID, body: body.body))
    }

    func feed(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let page = try PageRequest(request)
        return JSONResponse.raw(try await deps.posts.feed(as: userID, in: workspaceID, page: page).json)
    }
}
