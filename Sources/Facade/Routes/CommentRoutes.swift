import Foundation
import Hummingbird
import PostgresNIO

/// Comments on a post. Commenting notifies the post's author and the members it mentions (by id or `@name`).
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

    /// The author member id of a post in the workspace, else 404.
    static func postAuthor(
        _ connection: PostgresConnection, postID: UUID, workspaceID: UUID, deps: AppDependencies
    ) async throws -> UUID {
        let rows = try await connection.query(
            "SELECT member_id FROM posts WHERE id = \(postID) AND workspace_id = \(workspaceID)", logger: deps.logger)
        for try await id in rows.decode(UUID.self) { return id }
        throw APIError.notFound("Post")
    }

    func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let postID = try context.parameters.uuid("postID", what: "Post")
        let body = try await request.decodeJSON(CreateRequest.self, context: context)
        try PostRoutes.validateBody(body.body)
        let json = try await deps.db.transaction { connection -> String in
            let me = try await Membership.require(connection, workspaceID: workspaceID, userID: userID, logger: deps.logger)
            let postAuthorID = try await Self.postAuthor(connection, postID: postID, workspaceID: workspaceID, deps: deps)
            guard let json = try await connection.jsonRow(
                """
                WITH c AS (INSERT INTO comments (post_id, member_id, body) VALUES (\(postID), \(me.memberID), \(body.body)) RETURNING *)
                SELECT \(unescaped: Projection.comment())::text FROM c JOIN members a ON a.id = c.member_id
                """, logger: deps.logger)
            else { throw APIError.notFound("Post") }
            try await OutboxWriter.workspaceEvent(
                connection, workspaceID: workspaceID, type: .commentCreated, dataJSON: json, logger: deps.logger)
            if postAuthorID != me.memberID {
                try await OutboxWriter.notify(
                    connection, recipientMemberID: postAuthorID, kind: .comment,
                    payloadJSON: "{\"comment\":\(json)}", logger: deps.logger)
            }
            try await MentionNotifications.write(
                connection, membership: me, text: body.body, explicit: body.mentions ?? [], excluding: [postAuthorID],
                payloadJSON: "{\"comment\":\(json)}", logger: deps.logger)
            return json
        }
        return JSONResponse.raw(json, status: .created)
    }

    /// Oldest first, keyset-paginated.
    func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let postID = try context.parameters.uuid("postID", what: "Post")
        let page = try PageRequest(request)
        let result = try await deps.db.withConnection { connection in
            _ = try await Membership.require(connection, workspaceID: workspaceID, userID: userID, logger: deps.logger)
            _ = try await Self.postAuthor(connection, postID: postID, workspaceID: workspaceID, deps: deps)
            return try await connection.page(
                """
                SELECT \(unescaped: Projection.comment())::text, c.created_at::text || '|' || c.id::text
                FROM comments c JOIN members a ON a.id = c.member_id
                WHERE c.post_id = \(postID)
                  AND (c.created_at, c.id) > (coalesce(\(page.cursorTimestamp)::timestamptz, '-infinity'),
                                            coalesce(\(page.cursorID)::uuid, '00000000-0000-0000-0000-000000000000'))
                ORDER BY c.created_at, c.id
                LIMIT \(page.fetchLimit)
                """, limit: page.limit, logger: deps.logger)
        }
        return JSONResponse.raw(result.json)
    }
}
