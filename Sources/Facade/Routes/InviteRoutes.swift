import Crypto
import Foundation
import Hummingbird
import PostgresNIO

/// Invites: created by owners/admins, accepted once, before expiry, by a signed-in user.
struct InviteRoutes {
    let deps: AppDependencies

    static let defaultLifetimeHours = 72
    static let maxLifetimeHours = 24 * 30

    struct CreateRequest: Decodable {
        var email: String?
        var expires_in_hours: Int?
    }

    struct AcceptRequest: Decodable {
        var display_name: String?
    }

    func register(_ group: RouterGroup<AppRequestContext>) {
        group.post("workspaces/:workspaceID/invites") { request, context in try await self.create(request, context) }
        group.post("invites/:token/accept") { request, context in try await self.accept(request, context) }
    }

    /// 32 random bytes, base64url: unguessable and URL-safe.
    static func makeToken() -> String {
        let key = SymmetricKey(size: .bits256)
        let data = key.withUnsafeBytes { Data($0) }
        return data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceID = try context.parameters.uuid("workspaceID", what: "Workspace")
        let body = try await request.decodeJSON(CreateRequest.self, context: context)
        let hours = body.expires_in_hours ?? Self.defaultLifetimeHours
        var validator = Validator()
        validator.check((1...Self.maxLifetimeHours).contains(hours), "expires_in_hours",
                        "Must be between 1 and \(Self.maxLifetimeHours).")
        if let email = body.email { validator.check(AuthRoutes.isPlausibleEmail(email), "email", "Must be a valid email address.") }
        try validator.throwIfInvalid()

        let expiresAt = deps.now().addingTimeInterval(TimeInterval(hours * 3600))
        let json = try await deps.db.transaction { connection -> String in
            let me = try await Membership.require(connection, workspaceID: workspaceID, userID: userID, logger: deps.logger)
            try me.requireManager()
            guard let json = try await connection.jsonRow(
                """
                INSERT INTO invites (workspace_id, token, email, created_by_member_id, expires_at)
                VALUES (\(workspaceID), \(Self.makeToken()), \(body.email), \(me.memberID), \(expiresAt))
                RETURNING \(unescaped: Projection.invite("invites"))::text
                """, logger: deps.logger)
            else { throw APIError.notFound("Workspace") }
            return json
        }
        return JSONResponse.raw(json, status: .created)
    }

    /// Accepting turns the caller into an active member (reactivating one who had left).
    func accept(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        guard let token = context.parameters.get("token") else { throw APIError.notFound("Invite") }
        let body = try await request.decodeJSONIfPresent(AcceptRequest.self, context: context)
        let now = deps.now()
        let json = try await deps.db.transaction { connection -> String in
            // Lock the invite so two concurrent accepts cannot both succeed.
            let rows = try await connection.query(
                """
                SELECT id, workspace_id, created_by_member_id, expires_at, accepted_at IS NOT NULL
                FROM invites WHERE token = \(token) FOR UPDATE
                """, logger: deps.logger)
            var found: (UUID, UUID, UUID, Date, Bool)?
            for try await row in rows.decode((UUID, UUID, UUID, Date, Bool).self) { found = row }
            guard let (inviteID, workspaceID, inviterID, expiresAt, used) = found else { throw APIError.notFound("Invite") }
            if used { throw APIError.conflict("invite_used", "This invite has already been used.") }
            if expiresAt <= now { throw APIError(.gone, code: "invite_expired", message: "This invite has expired.") }
            let alreadyActive = try await connection.exists(
                "SELECT 1 FROM members WHERE workspace_id = \(workspaceID) AND user_id = \(userID) AND status = 'active'",
                logger: deps.logger)
            if alreadyActive { throw APIError.conflict("already_member", "You are already a member of this workspace.") }

            let displayName = body?.display_name?.trimmed
            if let displayName, displayName.isEmpty || displayName.count > 100 {
                throw APIError.validation(field: "display_name", "Must be 1 to 100 characters.")
            }
            guard let memberJSON = try await connection.jsonRow(
                """
                INSERT INTO members AS m (workspace_id, user_id, display_name, role)
                SELECT \(workspaceID), u.id, coalesce(\(displayName), split_part(u.email, '@', 1)), 'member'
                FROM users u WHERE u.id = \(userID)
                ON CONFLICT (workspace_id, user_id) DO UPDATE
                    SET status = 'active', role = 'member', joined_at = now(),
                        display_name = coalesce(\(displayName), m.display_name)
                RETURNING \(unescaped: Projection.member())::text
                """, logger: deps.logger)
            else { throw APIError.unauthenticated }
            struct MemberID: Decodable { var id: UUID }
            let memberID = try JSONDecoder().decode(MemberID.self, from: Data(memberJSON.utf8)).id
            try await connection.query(
                "UPDATE invites SET accepted_at = now(), accepted_by_member_id = \(memberID) WHERE id = \(inviteID)",
                logger: deps.logger)
            try await OutboxWriter.workspaceEvent(
                connection, workspaceID: workspaceID, type: .memberJoined, dataJSON: memberJSON, logger: deps.logger)
            try await OutboxWriter.notify(
                connection, recipientMemberID: inviterID, kind: .inviteAccepted,
                payloadJSON: "{\"member\":\(memberJSON)}", logger: deps.logger)
            return memberJSON
        }
        return JSONResponse.raw(json)
    }
}
