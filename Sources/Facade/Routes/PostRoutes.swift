import Foundation
import Hummingbird
import PostgresNIO

/// Check-ins and check-outs: create, edit, get, and the workspace feed.
struct PostRoutes {
    let deps: AppDependencies

    static let maxBodyLength = 10_000

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

    static func validateBody(_ body: String, field: String = "body") throws {
        var validator = Validator()
        validator.text(body, field, maxLength: maxBodyLength)
        try validator.throwIfInvalid()
    }

    /// One check-in and one check-out per member per day, "day" being the calendar date in the
    /// workspace's time zone at the moment of posting. A check-out requires, and links to, that day's check-in.
    func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let body = try await request.decodeJSON(CreateRequest.self, context: context)
        var validator = Validator()
        validator.check(["checkin", "checkout"].contains(body.kind), "kind", .invalidValue, "Must be checkin or checkout.")
        validator.text(body.body, "body", maxLength: Self.maxBodyLength)
        try validator.throwIfInvalid()
        let now = deps.now()

        let json = try await deps.db.transaction { connection -> String in
            let me = try await Membership.require(connection, workspaceID: workspaceID, userID: userID, logger: deps.logger)
            var checkinID: UUID?
            if body.kind == "checkout" {
                let rows = try await connection.query(
                    """
                    SELECT p.id FROM posts p JOIN workspaces w ON w.id = p.workspace_id
                    WHERE p.member_id = \(me.memberID) AND p.kind = 'checkin'
                      AND p.local_date = (\(now)::timestamptz AT TIME ZONE w.time_zone)::date
                    """, logger: deps.logger)
                for try await id in rows.decode(UUID.self) { checkinID = id }
                guard checkinID != nil else {
                    throw APIError.validation(field: "kind", .invalidValue, "Check in before checking out today.")
                }
            }
            guard let json = try await connection.jsonRow(
                """
                WITH p AS (
                    INSERT INTO posts (workspace_id, member_id, kind, local_date, body, checkin_id, created_at)
                    SELECT w.id, \(me.memberID), \(body.kind), (\(now)::timestamptz AT TIME ZONE w.time_zone)::date,
                           \(body.body), \(checkinID), \(now)
                    FROM workspaces w WHERE w.id = \(workspaceID)
                    ON CONFLICT DO NOTHING
                    RETURNING *
                )
                SELECT \(unescaped: Projection.post())::text FROM p JOIN members a ON a.id = p.member_id
                """, logger: deps.logger)
            else {
                throw APIError.conflict(
                    "already_posted_today",
                    body.kind == "checkin" ? "You already checked in today." : "You already checked out today.")
            }
            try await OutboxWriter.workspaceEvent(
                connection, workspaceID: workspaceID, type: .postCreated, dataJSON: json, logger: deps.logger)
            try await MentionNotifications.write(
                connection, membership: me, text: body.body, explicit: body.mentions ?? [],
                payloadJSON: "{\"post\":\(json)}", logger: deps.logger)
            return json
        }
        return JSONResponse.raw(json, status: .created)
    }

    /// A single post in its feed form (reactions, comment count, latest comments).
    func get(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let postID = try context.parameters.uuid("postID", what: "Post")
        let json = try await deps.db.withConnection { connection -> String? in
            let me = try await Membership.require(connection, workspaceID: workspaceID, userID: userID, logger: deps.logger)
            return try await connection.jsonRow(
                FeedQuery.make(workspaceID: workspaceID, viewerMemberID: me.memberID, page: nil, postID: postID),
                logger: deps.logger)
        }
        guard let json else { throw APIError.notFound("Post") }
        return JSONResponse.raw(json)
    }

    /// Only the author edits a post. An `@name` the edit adds notifies that member; one already there does not
    /// notify again.
    func update(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let postID = try context.parameters.uuid("postID", what: "Post")
        let body = try await request.decodeJSON(UpdateRequest.self, context: context)
        try Self.validateBody(body.body)
        let json = try await deps.db.transaction { connection -> String in
            let me = try await Membership.require(connection, workspaceID: workspaceID, userID: userID, logger: deps.logger)
            let rows = try await connection.query(
                "SELECT member_id, body FROM posts WHERE id = \(postID) AND workspace_id = \(workspaceID) FOR UPDATE",
                logger: deps.logger)
            var found: (authorID: UUID, body: String)?
            for try await row in rows.decode((UUID, String).self) { found = row }
            guard let (authorID, previousBody) = found else { throw APIError.notFound("Post") }
            guard authorID == me.memberID else {
                throw APIError.forbidden("Only the author may edit a post.", code: "not_author")
            }
            guard let json = try await connection.jsonRow(
                """
                WITH p AS (UPDATE posts SET body = \(body.body), edited_at = now() WHERE id = \(postID) RETURNING *)
                SELECT \(unescaped: Projection.post())::text FROM p JOIN members a ON a.id = p.member_id
                """, logger: deps.logger)
            else { throw APIError.notFound("Post") }
            try await OutboxWriter.workspaceEvent(
                connection, workspaceID: workspaceID, type: .postUpdated, dataJSON: json, logger: deps.logger)
            try await MentionNotifications.write(
                connection, membership: me, text: body.body, alreadyMentionedText: previousBody,
                payloadJSON: "{\"post\":\(json)}", logger: deps.logger)
            return json
        }
        return JSONResponse.raw(json)
    }

    /// Newest first, keyset-paginated; see `FeedQuery`.
    func feed(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let page = try PageRequest(request)
        let result = try await deps.db.withConnection { connection in
            let me = try await Membership.require(connection, workspaceID: workspaceID, userID: userID, logger: deps.logger)
            return try await connection.page(
                FeedQuery.make(workspaceID: workspaceID, viewerMemberID: me.memberID, page: page),
                limit: page.limit, logger: deps.logger)
        }
        return JSONResponse.raw(result.json)
    }
}
