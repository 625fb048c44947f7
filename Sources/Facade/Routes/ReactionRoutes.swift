import Foundation
import Hummingbird
import PostgresNIO

/// Emoji reactions on posts and comments: one per member per emoji per target.
struct ReactionRoutes {
    let deps: AppDependencies

    /// What a reaction is attached to.
    enum Target {
        case post(UUID)
        case comment(UUID)

        var column: String {
            switch self {
            case .post: "post_id"
            case .comment: "comment_id"
            }
        }

        var id: UUID {
            switch self {
            case .post(let id), .comment(let id): id
            }
        }
    }

    struct AddRequest: Decodable {
        var emoji: String
    }

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

    /// The author member of the target, checking it belongs to the workspace; else 404.
    private func targetAuthor(_ connection: PostgresConnection, _ target: Target, workspaceID: UUID) async throws -> UUID {
        let query: PostgresQuery = switch target {
        case .post(let id):
            "SELECT member_id FROM posts WHERE id = \(id) AND workspace_id = \(workspaceID)"
        case .comment(let id):
            """
            SELECT c.member_id FROM comments c JOIN posts p ON p.id = c.post_id
            WHERE c.id = \(id) AND p.workspace_id = \(workspaceID)
            """
        }
        for try await id in try await connection.query(query, logger: deps.logger).decode(UUID.self) { return id }
        throw APIError.notFound(target.column == "post_id" ? "Post" : "Comment")
    }

    static func reactionJSON(_ r: String = "r") -> String {
        """
        json_build_object('id', \(r).id, 'post_id', \(r).post_id, 'comment_id', \(r).comment_id, \
        'member_id', \(r).member_id, 'emoji', \(r).emoji, 'created_at', \(r).created_at)
        """
    }

    func add(_ request: Request, _ context: AppRequestContext, target: Target) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let body = try await request.decodeJSON(AddRequest.self, context: context)
        let emoji = body.emoji.trimmed
        var validator = Validator()
        validator.text(emoji, "emoji", maxLength: 16)
        validator.check(!emoji.contains("/"), "emoji", .forbiddenCharacter, "Must not contain '/'.")
        try validator.throwIfInvalid()
        let json = try await deps.db.transaction { connection -> String in
            let me = try await Membership.require(connection, workspaceID: workspaceID, userID: userID, logger: deps.logger)
            let authorID = try await targetAuthor(connection, target, workspaceID: workspaceID)
            guard let json = try await connection.jsonRow(
                """
                INSERT INTO reactions AS r (member_id, \(unescaped: target.column), emoji)
                VALUES (\(me.memberID), \(target.id), \(emoji))
                ON CONFLICT DO NOTHING
                RETURNING \(unescaped: Self.reactionJSON())::text
                """, logger: deps.logger)
            else {
                throw APIError.conflict("duplicate_reaction", "You already reacted with this emoji.")
            }
            try await OutboxWriter.workspaceEvent(
                connection, workspaceID: workspaceID, type: .reactionAdded, dataJSON: json, logger: deps.logger)
            if authorID != me.memberID {
                try await OutboxWriter.notify(
                    connection, recipientMemberID: authorID, kind: .reaction,
                    payloadJSON: "{\"reaction\":\(json)}", logger: deps.logger)
            }
            return json
        }
        return JSONResponse.raw(json, status: .created)
    }

    func remove(_ request: Request, _ context: AppRequestContext, target: Target) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let emoji = try context.parameters.text("emoji", what: "Reaction", decode: true)
        try await deps.db.transaction { connection in
            let me = try await Membership.require(connection, workspaceID: workspaceID, userID: userID, logger: deps.logger)
            _ = try await targetAuthor(connection, target, workspaceID: workspaceID)
            guard let json = try await connection.jsonRow(
                """
                DELETE FROM reactions r
                WHERE r.member_id = \(me.memberID) AND r.\(unescaped: target.column) = \(target.id) AND r.emoji = \(emoji)
                RETURNING \(unescaped: Self.reactionJSON())::text
                """, logger: deps.logger)
            else { throw APIError.notFound("Reaction") }
            try await OutboxWriter.workspaceEvent(
                connection, workspaceID: workspaceID, type: .reactionRemoved, dataJSON: json, logger: deps.logger)
        }
        return JSONResponse.noContent()
    }
}
