import Foundation
import Hummingbird
import PostgresNIO

/// Todos: assigned to a member, optional due date, optional link to a post.
struct TodoRoutes {
    let deps: AppDependencies

    struct CreateRequest: Decodable {
        var title: String
        /// Defaults to the creator.
        var assignee_member_id: UUID?
        /// `YYYY-MM-DD`.
        var due_date: String?
        var post_id: UUID?
    }

    struct UpdateRequest: Decodable {
        var title: String?
        var assignee_member_id: UUID?
        var due_date: String?
        var done: Bool?
        var post_id: UUID?
    }

    func register(_ group: RouterGroup<AppRequestContext>) {
        group.post("workspaces/:workspaceID/todos") { request, context in try await self.create(request, context) }
        group.get("workspaces/:workspaceID/todos") { request, context in try await self.list(request, context) }
        group.get("workspaces/:workspaceID/todos/:todoID") { request, context in try await self.get(request, context) }
        group.patch("workspaces/:workspaceID/todos/:todoID") { request, context in try await self.update(request, context) }
        group.delete("workspaces/:workspaceID/todos/:todoID") { request, context in try await self.delete(request, context) }
    }

    /// A real calendar date written `YYYY-MM-DD` (so 2026-02-30 is refused).
    static func isDate(_ string: String) -> Bool {
        guard let match = string.wholeMatch(of: /(\d{4})-(\d{2})-(\d{2})/),
            let year = Int(match.1), let month = Int(match.2), let day = Int(match.3)
        else { return false }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let date = calendar.date(from: DateComponents(year: year, month: month, day: day)) else { return false }
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return parts.year == year && parts.month == month && parts.day == day
    }

    /// Checks title/date shapes, that the assignee is an active member and the post is in the workspace.
    private func validate(
        _ connection: PostgresConnection, workspaceID: UUID, title: String?, assignee: UUID?, dueDate: String?, postID: UUID?
    ) async throws {
        var validator = Validator()
        validator.text(title, "title", maxLength: 500)
        if let dueDate {
            validator.check(Self.isDate(dueDate), "due_date", .invalidFormat, "Must be a date formatted YYYY-MM-DD.")
        }
        if let assignee {
            let ok = try await connection.exists(
                "SELECT 1 FROM members WHERE id = \(assignee) AND workspace_id = \(workspaceID) AND status = 'active'",
                logger: deps.logger)
            validator.check(ok, "assignee_member_id", .invalidValue, "Must be an active member of this workspace.")
        }
        if let postID {
            let ok = try await connection.exists(
                "SELECT 1 FROM posts WHERE id = \(postID) AND workspace_id = \(workspaceID)", logger: deps.logger)
            validator.check(ok, "post_id", .invalidValue, "Must be a post in this workspace.")
        }
        try validator.throwIfInvalid()
    }

    func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let body = try await request.decodeJSON(CreateRequest.self, context: context)
        let json = try await deps.db.transaction { connection -> String in
            let me = try await Membership.require(connection, workspaceID: workspaceID, userID: userID, logger: deps.logger)
            try await validate(connection, workspaceID: workspaceID, title: body.title, assignee: body.assignee_member_id,
                               dueDate: body.due_date, postID: body.post_id)
            guard let json = try await connection.jsonRow(
                """
                INSERT INTO todos AS t (workspace_id, created_by_member_id, assignee_member_id, title, due_date, post_id)
                VALUES (\(workspaceID), \(me.memberID), \(body.assignee_member_id ?? me.memberID), \(body.title.trimmed),
                        \(body.due_date)::date, \(body.post_id))
                RETURNING \(unescaped: Projection.todo())::text
                """, logger: deps.logger)
            else { throw APIError.notFound("Workspace") }
            try await OutboxWriter.workspaceEvent(
                connection, workspaceID: workspaceID, type: .todoCreated, dataJSON: json, logger: deps.logger)
            return json
        }
        return JSONResponse.raw(json, status: .created)
    }

    /// Oldest first. Filters: `assignee=me|<member id>`, `done=true|false`.
    func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let page = try PageRequest(request)
        let query = request.uri.queryParameters
        var done: Bool?
        if let rawDone = query["done"] {
            guard let value = Bool(String(rawDone)) else {
                throw APIError.validation(field: "done", .invalidFormat, "Must be true or false.")
            }
            done = value
        }
        let rawAssignee = query["assignee"].map(String.init)
        let result = try await deps.db.withConnection { connection in
            let me = try await Membership.require(connection, workspaceID: workspaceID, userID: userID, logger: deps.logger)
            var assignee: UUID?
            if let rawAssignee {
                guard let id = rawAssignee == "me" ? me.memberID : UUID(uuidString: rawAssignee) else {
                    throw APIError.validation(field: "assignee", .invalidFormat, "Must be 'me' or a member id.")
                }
                assignee = id
            }
            return try await connection.page(
                """
                SELECT \(unescaped: Projection.todo())::text, t.created_at::text || '|' || t.id::text
                FROM todos t
                WHERE t.workspace_id = \(workspaceID)
                  AND (\(assignee)::uuid IS NULL OR t.assignee_member_id = \(assignee)::uuid)
                  AND (\(done)::boolean IS NULL OR t.done = \(done)::boolean)
                  AND (t.created_at, t.id) > (coalesce(\(page.cursorTimestamp)::timestamptz, '-infinity'),
                                            coalesce(\(page.cursorID)::uuid, '00000000-0000-0000-0000-000000000000'))
                ORDER BY t.created_at, t.id
                LIMIT \(page.fetchLimit)
                """, limit: page.limit, logger: deps.logger)
        }
        return JSONResponse.raw(result.json)
    }

    func get(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let todoID = try context.parameters.uuid("todoID", what: "Todo")
        let json = try await deps.db.withConnection { connection -> String? in
            _ = try await Membership.require(connection, workspaceID: workspaceID, userID: userID, logger: deps.logger)
            return try await connection.jsonRow(
                "SELECT \(unescaped: Projection.todo())::text FROM todos t WHERE t.id = \(todoID) AND t.workspace_id = \(workspaceID)",
                logger: deps.logger)
        }
        guard let json else { throw APIError.notFound("Todo") }
        return JSONResponse.raw(json)
    }

    /// Any active member may update a todo (the team shares its list).
    func update(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let todoID = try context.parameters.uuid("todoID", what: "Todo")
        let body = try await request.decodeJSON(UpdateRequest.self, context: context)
        let json = try await deps.db.transaction { connection -> String in
            _ = try await Membership.require(connection, workspaceID: workspaceID, userID: userID, logger: deps.logger)
            try await validate(connection, workspaceID: workspaceID, title: body.title, assignee: body.assignee_member_id,
                               dueDate: body.due_date, postID: body.post_id)
            guard let json = try await connection.jsonRow(
                """
                UPDATE todos t SET
                    title = coalesce(\(body.title?.trimmed), t.title),
                    assignee_member_id = coalesce(\(body.assignee_member_id), t.assignee_member_id),
                    due_date = coalesce(\(body.due_date)::date, t.due_date),
                    done = coalesce(\(body.done), t.done),
                    post_id = coalesce(\(body.post_id), t.post_id),
                    updated_at = now()
                WHERE t.id = \(todoID) AND t.workspace_id = \(workspaceID)
                RETURNING \(unescaped: Projection.todo())::text
                """, logger: deps.logger)
            else { throw APIError.notFound("Todo") }
            try await OutboxWriter.workspaceEvent(
                connection, workspaceID: workspaceID, type: .todoUpdated, dataJSON: json, logger: deps.logger)
            return json
        }
        return JSONResponse.raw(json)
    }

    func delete(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let todoID = try context.parameters.uuid("todoID", what: "Todo")
        try await deps.db.transaction { connection in
            _ = try await Membership.require(connection, workspaceID: workspaceID, userID: userID, logger: deps.logger)
            guard let json = try await connection.jsonRow(
                "DELETE FROM todos t WHERE t.id = \(todoID) AND t.workspace_id = \(workspaceID) RETURNING \(unescaped: Projection.todo())::text",
                logger: deps.logger)
            else { throw APIError.notFound("Todo") }
            try await OutboxWriter.workspaceEvent(
                connection, workspaceID: workspaceID, type: .todoDeleted, dataJSON: json, logger: deps.logger)
        }
        return JSONResponse.noContent()
    }
}
