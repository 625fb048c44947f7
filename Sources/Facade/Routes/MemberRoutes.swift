import Foundation
import Hummingbird
import PostgresNIO

/// Members of a workspace: list, update (role by owner/admin, display name by oneself), remove.
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

    /// Active members, in joining order.
    func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let page = try PageRequest(request)
        let result = try await deps.db.withConnection { connection in
            _ = try await Membership.require(connection, workspaceID: workspaceID, userID: userID, logger: deps.logger)
            return try await connection.page(
                """
                SELECT \(unescaped: Projection.member())::text, m.joined_at::text || '|' || m.id::text
                FROM members m
                WHERE m.workspace_id = \(workspaceID) AND m.status = 'active'
                  AND (m.joined_at, m.id) > (coalesce(\(page.cursorTimestamp)::timestamptz, '-infinity'),
                                           coalesce(\(page.cursorID)::uuid, '00000000-0000-0000-0000-000000000000'))
                ORDER BY m.joined_at, m.id
                LIMIT \(page.fetchLimit)
                """, limit: page.limit, logger: deps.logger)
        }
        return JSONResponse.raw(result.json)
    }

    private struct Target {
        var role: String
        var userID: UUID
    }

    private func loadTarget(_ connection: PostgresConnection, memberID: UUID, workspaceID: UUID) async throws -> Target {
        let rows = try await connection.query(
            """
            SELECT role, user_id FROM members
            WHERE id = \(memberID) AND workspace_id = \(workspaceID) AND status = 'active' FOR UPDATE
            """, logger: deps.logger)
        for try await (role, userID) in rows.decode((String, UUID).self) {
            return Target(role: role, userID: userID)
        }
        throw APIError.notFound("Member")
    }

    /// Role rules: owners and admins set roles; only an owner grants or takes away `owner`;
    /// a workspace always keeps at least one owner. Anyone may change their own display name.
    func update(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let memberID = try context.parameters.uuid("memberID", what: "Member")
        let body = try await request.decodeJSON(UpdateRequest.self, context: context)
        var validator = Validator()
        if let role = body.role {
            validator.check(["owner", "admin", "member"].contains(role), "role", .invalidValue, "Must be owner, admin or member.")
        }
        validator.text(body.display_name, "display_name", maxLength: 100)
        try validator.throwIfInvalid()

        let json = try await deps.db.transaction { connection -> String in
            let me = try await Membership.require(connection, workspaceID: workspaceID, userID: userID, logger: deps.logger)
            let target = try await loadTarget(connection, memberID: memberID, workspaceID: workspaceID)
            if body.display_name != nil, memberID != me.memberID {
                throw APIError.forbidden("Members set their own display name.", code: "not_allowed")
            }
            if let role = body.role, role != target.role {
                try me.requireManager()
                if role == "owner" || target.role == "owner" {
                    guard me.role == "owner" else {
                        throw APIError.forbidden("Only an owner may grant or remove the owner role.", code: "not_allowed")
                    }
                }
                if target.role == "owner" {
                    try await requireAnotherOwner(connection, workspaceID: workspaceID, besides: memberID)
                }
            }
            guard let json = try await connection.jsonRow(
                """
                UPDATE members m SET role = coalesce(\(body.role), m.role),
                                     display_name = coalesce(\(body.display_name?.trimmed), m.display_name)
                WHERE m.id = \(memberID)
                RETURNING \(unescaped: Projection.member())::text
                """, logger: deps.logger)
            else { throw APIError.notFound("Member") }
            try await OutboxWriter.workspaceEvent(
                connection, workspaceID: workspaceID, type: .memberUpdated, dataJSON: json, logger: deps.logger)
            return json
        }
        return JSONResponse.raw(json)
    }

    /// Owners/admins remove others (an admin cannot remove an owner); any member may remove themselves (leave).
    /// Removal marks the member `left`, keeping their posts and comments, and ends their open subscription to the
    /// workspace channel (a broker `unsubscribe` in the same outbox flow, after the `member.left` event).
    func remove(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let memberID = try context.parameters.uuid("memberID", what: "Member")
        try await deps.db.transaction { connection in
            let me = try await Membership.require(connection, workspaceID: workspaceID, userID: userID, logger: deps.logger)
            let target = try await loadTarget(connection, memberID: memberID, workspaceID: workspaceID)
            if memberID != me.memberID {
                try me.requireManager()
                if target.role == "owner" && me.role != "owner" {
                    throw APIError.forbidden("An admin cannot remove an owner.", code: "not_allowed")
                }
            }
            if target.role == "owner" {
                try await requireAnotherOwner(connection, workspaceID: workspaceID, besides: memberID)
            }
            guard let json = try await connection.jsonRow(
                "UPDATE members m SET status = 'left' WHERE m.id = \(memberID) RETURNING \(unescaped: Projection.member())::text",
                logger: deps.logger)
            else { throw APIError.notFound("Member") }
            try await OutboxWriter.workspaceEvent(
                connection, workspaceID: workspaceID, type: .memberLeft, dataJSON: json, logger: deps.logger)
            try await OutboxWriter.revokeWorkspaceAccess(
                connection, workspaceID: workspaceID, userID: target.userID, logger: deps.logger)
        }
        return JSONResponse.noContent()
    }

    private func requireAnotherOwner(_ connection: PostgresConnection, workspaceID: UUID, besides memberID: UUID) async throws {
        let another = try await connection.exists(
            """
            SELECT 1 FROM members WHERE workspace_id = \(workspaceID) AND role = 'owner' AND status = 'active'
              AND id <> \(memberID)
            """, logger: deps.logger)
        guard another else {
            throw APIError.conflict("last_owner", "A workspace must keep at least one owner.")
        }
    }
}
