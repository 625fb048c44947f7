import Foundation
import Hummingbird
import PostgresNIO

/// Workspaces CRUD. The creator becomes the owner member.
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

    /// Validates name and IANA time zone (against PostgreSQL's own zone database, which `AT TIME ZONE` uses).
    static func validate(
        name: String?, timeZone: String?, connection: PostgresConnection, deps: AppDependencies
    ) async throws {
        var validator = Validator()
        validator.text(name, "name", maxLength: 100)
        if let timeZone {
            let known = try await connection.exists(
                "SELECT 1 FROM pg_timezone_names WHERE name = \(timeZone)", logger: deps.logger)
            validator.check(known, "time_zone", .invalidValue, "Must be an IANA time zone name such as Europe/Paris.")
        }
        try validator.throwIfInvalid()
    }

    func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let body = try await request.decodeJSON(CreateRequest.self, context: context)
        let json = try await deps.db.transaction { connection -> String in
            try await Self.validate(name: body.name, timeZone: body.time_zone, connection: connection, deps: deps)
            let displayName = body.display_name?.trimmed
            var validator = Validator()
            validator.text(displayName, "display_name", maxLength: 100)
            try validator.throwIfInvalid()
            let json = try await connection.jsonRow(
                """
                WITH w AS (
                    INSERT INTO workspaces (name, time_zone) VALUES (\(body.name.trimmed), \(body.time_zone)) RETURNING *
                ), m AS (
                    INSERT INTO members (workspace_id, user_id, display_name, role)
                    SELECT w.id, u.id, coalesce(\(displayName), split_part(u.email, '@', 1)), 'owner'
                    FROM w, users u WHERE u.id = \(userID)
                    RETURNING *
                )
                SELECT \(unescaped: Projection.workspace())::text FROM w, m
                """, logger: deps.logger)
            guard let json else { throw APIError.unauthenticated }
            return json
        }
        return JSONResponse.raw(json, status: .created)
    }

    /// The workspaces where the caller is an active member, oldest membership first.
    func list(_ request: Request) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let page = try PageRequest(request)
        let result = try await deps.db.withConnection { connection in
            try await connection.page(
                """
                SELECT \(unescaped: Projection.workspace())::text, m.joined_at::text || '|' || m.id::text
                FROM members m JOIN workspaces w ON w.id = m.workspace_id
                WHERE m.user_id = \(userID) AND m.status = 'active'
                  AND (m.joined_at, m.id) > (coalesce(\(page.cursorTimestamp)::timestamptz, '-infinity'),
                                           coalesce(\(page.cursorID)::uuid, '00000000-0000-0000-0000-000000000000'))
                ORDER BY m.joined_at, m.id
                LIMIT \(page.fetchLimit)
                """, limit: page.limit, logger: deps.logger)
        }
        return JSONResponse.raw(result.json)
    }

    func get(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let json = try await deps.db.withConnection { connection -> String? in
            let membership = try await Membership.require(
                connection, workspaceID: workspaceID, userID: userID, logger: deps.logger)
            return try await connection.jsonRow(
                """
                SELECT \(unescaped: Projection.workspace())::text FROM workspaces w JOIN members m ON m.workspace_id = w.id
                WHERE w.id = \(workspaceID) AND m.id = \(membership.memberID)
                """, logger: deps.logger)
        }
        guard let json else { throw APIError.notFound("Workspace") }
        return JSONResponse.raw(json)
    }

    func update(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let body = try await request.decodeJSON(UpdateRequest.self, context: context)
        let json = try await deps.db.transaction { connection -> String? in
            let membership = try await Membership.require(
                connection, workspaceID: workspaceID, userID: userID, logger: deps.logger)
            try membership.requireManager()
            try await Self.validate(name: body.name, timeZone: body.time_zone, connection: connection, deps: deps)
            return try await connection.jsonRow(
                """
                WITH w AS (
                    UPDATE workspaces SET name = coalesce(\(body.name?.trimmed), name),
                                          time_zone = coalesce(\(body.time_zone), time_zone)
                    WHERE id = \(workspaceID) RETURNING *
                )
                SELECT \(unescaped: Projection.workspace())::text FROM w JOIN members m ON m.id = \(membership.memberID)
                """, logger: deps.logger)
        }
        guard let json else { throw APIError.notFound("Workspace") }
        return JSONResponse.raw(json)
    }

    /// Only the owner may delete a workspace; everything in it goes with it, and every member's open subscription
    /// to its channel ends (one broker `unsubscribe` per member, after the `workspace.deleted` event).
    func delete(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        try await deps.db.transaction { connection in
            let membership = try await Membership.require(
                connection, workspaceID: workspaceID, userID: userID, logger: deps.logger)
            guard membership.role == "owner" else {
                throw APIError.forbidden("Only the owner may delete the workspace.", code: "not_allowed")
            }
            try await OutboxWriter.workspaceEvent(
                connection, workspaceID: workspaceID, type: .workspaceDeleted,
                dataJSON: "{\"id\":\"\(workspaceID.uuidString.lowercased())\"}", logger: deps.logger)
            // After the event (members receive it), before the members rows go with the workspace.
            try await OutboxWriter.revokeWorkspaceAccessOfAllMembers(connection, workspaceID: workspaceID, logger: deps.logger)
            try await connection.query("DELETE FROM workspaces WHERE id = \(workspaceID)", logger: deps.logger)
        }
        return JSONResponse.noContent()
    }
}
