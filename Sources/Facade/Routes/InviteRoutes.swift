import Crypto
import Foundation
import Hummingbird
import PostgresNIO

/// Invites: created by owners/admins, accepted once, before expiry, by a signed-in user.
///
/// Two kinds (``InviteKind``): an `email` invite is bound to its addressee, and only a user whose account has
/// that email may accept it (anyone else: 403 `invite_addressee_mismatch`); a `link` invite is an open link
/// that whoever holds it may accept. `kind` defaults to `email` when an email is given, else `link`.
struct InviteRoutes {
    let deps: AppDependencies

    static let defaultLifetimeHours = 72
    static let maxLifetimeHours = 24 * 30

    struct CreateRequest: Decodable {
        var kind: String?
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
        let email = body.email?.trimmed
        var validator = Validator()
        validator.check((1...Self.maxLifetimeHours).contains(hours), "expires_in_hours", .outOfRange,
                        "Must be between 1 and \(Self.maxLifetimeHours).")
        let kind = InviteKind.of(requested: body.kind, email: email, &validator)
        try validator.throwIfInvalid()

        let expiresAt = deps.now().addingTimeInterval(TimeInterval(hours * 3600))
        let json = try await deps.db.transaction { connection -> String in
            let me = try await Membership.require(connection, workspaceID: workspaceID, userID: userID, logger: deps.logger)
            try me.requireManager()
            guard let json = try await connection.jsonRow(
                """
                INSERT INTO invites (workspace_id, kind, token, email, created_by_member_id, expires_at)
                VALUES (\(workspaceID), \(kind.rawValue), \(Self.makeToken()), \(email), \(me.memberID), \(expiresAt))
                RETURNING \(unescaped: Projection.invite("invites"))::text
                """, logger: deps.logger)
            else { throw APIError.notFound("Workspace") }
            return json
        }
        return JSONResponse.raw(json, status: .created)
    }

    /// Accepting turns the caller into an active member (reactivating one who had left). An email invite is
    /// checked against the caller's account email first, so anyone else learns nothing more about it.
    func accept(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let token = try context.parameters.text("token", what: "Invite")
        let body = try await request.decodeJSONIfPresent(AcceptRequest.self, context: context)
        let now = deps.now()
        let json = try await deps.db.transaction { connection -> String in
            // Lock the invite so two concurrent accepts cannot both succeed.
            let rows = try await connection.query(
                """
                SELECT i.id, i.workspace_id, i.created_by_member_id, i.expires_at, i.accepted_at IS NOT NULL,
                       i.kind <> 'email' OR lower(i.email) = lower(u.email)
                FROM invites i LEFT JOIN users u ON u.id = \(userID)
                WHERE i.token = \(token) FOR UPDATE OF i
                """, logger: deps.logger)
            var found: (UUID, UUID, UUID, Date, Bool, Bool?)?
            for try await row in rows.decode((UUID, UUID, UUID, Date, Bool, Bool?).self) { found = row }
            guard let (inviteID, workspaceID, inviterID, expiresAt, used, addressee) = found else {
                throw APIError.notFound("Invite")
            }
            guard addressee == true else { throw APIError.inviteAddresseeMismatch }
            if used { throw APIError.conflict("invite_used", "This invite has already been used.") }
            if expiresAt <= now { throw APIError(.gone, code: "invite_expired", message: "This invite has expired.") }
            let alreadyActive = try await connection.exists(
                "SELECT 1 FROM members WHERE workspace_id = \(workspaceID) AND user_id = \(userID) AND status = 'active'",
                logger: deps.logger)
            if alreadyActive { throw APIError.conflict("already_member", "You are already a member of this workspace.") }

            let displayName = body?.display_name?.trimmed
            var validator = Validator()
            validator.text(displayName, "display_name", maxLength: 100)
            try validator.throwIfInvalid()
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

/// The `kind` of an invite (`0004_invite_kinds.sql`).
enum InviteKind: String, Sendable {
    /// Made for one email address: only a signed-in user whose account has that email may accept it.
    case email
    /// An open link: whoever holds it may accept it.
    case link

    /// The kind `requested` (by default `email` when an email is given, else `link`), checking that the email
    /// fits it; a problem goes into `validator` (and the answer is then not used).
    static func of(requested: String?, email: String?, _ validator: inout Validator) -> InviteKind {
        let kind = requested.map { InviteKind(rawValue: $0) } ?? (email == nil ? .link : .email)
        switch kind {
        case nil:
            validator.check(false, "kind", .invalidValue, "Must be email (bound to the addressee) or link (an open link).")
        case .email?:
            if let email {
                validator.check(AuthRoutes.isPlausibleEmail(email), "email", .invalidFormat, "Must be a valid email address.")
            } else {
                validator.check(false, "email", .required, "An email invite needs the addressee's email.")
            }
        case .link?:
            validator.check(email == nil, "email", .invalidValue,
                            "An open link invite has no addressee: leave email out, or use kind email.")
        }
        return kind ?? .link
    }
}

extension APIError {
    static let inviteAddresseeMismatch = APIError.forbidden(
        "This invite was made for another email address: sign in with the account of that address to accept it.",
        code: "invite_addressee_mismatch")
}
