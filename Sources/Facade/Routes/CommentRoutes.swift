import Foundation
import Hummingbird

/// Comments on a post (``CommentUseCases``).
struct CommentRoutes {
    let deps: AppDependencies

    struct CreateRequest: Decodable {
        var body: String
        var mentions: [UUID]?
    }

    func register(_ group: RouterGroup<AppRequestContext>) {
        group.post("workspaces/:workspaceID/posts/:postID/comments") { request, context in
            try await self.create(request, context)
        }
        group.get("workspaces/:workspaceID/posts/:postID/comments") { request, context in
            try await self.list(request, context)
        }
    }

    func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let postID = try context.parameters.uuid("postID", what: "Post")
        let body = try await request.decodeJSON(CreateRequest.self, context: context)
        let json = try await deps.comments.create(
            as: userID, in: workspaceID, postID: postID, body: body.body, mentions: body.mentions ?? [])
        return JSONResponse.raw(json, status: .created)
    }

    func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let postID = try context.parameters.uuid("postID", what: "Post")
        let page = try PageRequest(request)
        return JSONResponse.raw(try await deps.comments.list(as: userID, in: workspaceID, postID: postID, page: page).json)
    }
}
