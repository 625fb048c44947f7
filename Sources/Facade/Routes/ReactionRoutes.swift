import Foundation
import Hummingbird

/// Emoji reactions on posts and comments (``ReactionUseCases``).
struct ReactionRoutes {
    let deps: AppDependencies

    struct AddRequest: Decodable {
        var emoji: String
    }

    /// The target's id is read first, before authentication.
    func register(_ group: RouterGroup<AppRequestContext>) {
        group.post("workspaces/:workspaceID/posts/:postID/reactions") { request, context in
            try await self.add(request, context, target: .post(try context.parameters.uuid("postID", what: "Post")))
        }
        group.delete("workspaces/:workspaceID/posts/:postID/reactions/:emoji") { request, context in
            try await self.remove(request, context, target: .post(try context.parameters.uuid("postID", what: "Post")))
        }
        group.post("workspaces/:workspaceID/comments/:commentID/reactions") { request, context in
            try await self.add(request, context, target: .comment(try context.parameters.uuid("commentID", what: "Comment")))
        }
        group.delete("workspaces/:workspaceID/comments/:commentID/reactions/:emoji") { request, context in
            try await self.remove(request, context, target: .comment(try context.parameters.uuid("commentID", what: "Comment")))
        }
    }

    func add(_ request: Request, _ context: AppRequestContext, target: ReactionTarget) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let body = try await request.decodeJSON(AddRequest.self, context: context)
        let json = try await deps.reactions.add(as: userID, in: workspaceID, to: target, emoji: body.emoji)
        return JSONResponse.raw(json, status: .created)
    }

    func remove(_ request: Request, _ context: AppRequestContext, target: ReactionTarget) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let emoji = try context.parameters.text("emoji", what: "Reaction", decode: true)
        try await deps.reactions.remove(as: userID, in: workspaceID, from: target, emoji: emoji)
        return JSONResponse.noContent()
    }
}
