import Foundation

/// Invites: created by owners/admins, accepted once, before expiry, by a signed-in user.
///
/// Two kinds (``InviteKind``): an `email` invite is bound to its addressee, and only a user whose account has
/// that email may accept it (anyone else: 403 `invite_addressee_mismatch`); a `link` invite is an open link
/// that whoever holds it may accept. `kind` defaults to `email` when an email is given, else `link`.
struct InviteUseCases {
    static let defaultLifetimeHours = 72
    static let maxLifetimeHours = 24 * 30

    let db: Database
    /// Injected clock: decides expiry.
    let now: @Sendable () -> Date

    func create(
        as userID: UUID, in workspaceID: UUID, kind requestedKind: String?, email rawEmail: String?, expiresInHours: Int?
    ) async throws -> String {
        let hours = expiresInHours ?? Self.defaultLifetimeHours
        let email = rawEmail?.trimmed
        var validator = Validator()
        validator.check((1...Self.maxLifetimeHours).contains(hours), "expires_in_hours", .outOfRange,
                        "Must be between 1 and \(Self.maxLifetimeHours).")
        let kind = InviteKind.of(requested: requestedKind, email: email, &validator)
        try validator.throwIfInvalid()

        let expiresAt = now().addingTimeInterval(TimeInterval(hours * 3600))
        return try await db.transaction(actingAs: userID, in: workspaceID) { me, connection -> String in
            try me.requireManager()
            guard let json = try await InviteCommands.create(
                connection, workspaceID: workspaceID, kind: kind, token: InviteToken.make(), email: email,
                createdBy: me.memberID, expiresAt: expiresAt, logger: db.logger)
            else { throw APIError.notFound("Workspace") }
            return json
        }
    }

    /// Accepting turns the user into an active member (reactivating one who had left), announced to the workspace
    /// and notified to the inviter. An email invite is checked against the user's account email first, so anyone
    /// else learns nothing more about it.
    func accept(by userID: UUID, token: String, displayName rawDisplayName: String?) async throws -> String {
        let now = self.now()
        return try await db.transaction { connection -> String in
            guard let invite = try await InviteQueries.lockForAccept(connection, token: token, userID: userID, logger: db.logger)
            else { throw APIError.notFound("Invite") }
            guard invite.addressedToUser == true else { throw APIError.inviteAddresseeMismatch }
            if invite.used { throw APIError.conflict("invite_used", "This invite has already been used.") }
            if invite.expiresAt <= now { throw APIError(.gone, code: "invite_expired", message: "This invite has expired.") }
            if try await MemberQueries.userIsActive(connection, userID: userID, workspaceID: invite.workspaceID, logger: db.logger) {
                throw APIError.conflict("already_member", "You are already a member of this workspace.")
            }

            let displayName = rawDisplayName?.trimmed
            var validator = Validator()
            validator.text(displayName, "display_name", maxLength: 100)
            try validator.throwIfInvalid()
            guard let memberJSON = try await MemberCommands.join(
                connection, workspaceID: invite.workspaceID, userID: userID, displayName: displayName, logger: db.logger)
            else { throw APIError.unauthenticated }
            struct MemberID: Decodable { var id: UUID }
            let memberID = try JSONDecoder().decode(MemberID.self, from: Data(memberJSON.utf8)).id
            try await InviteCommands.markAccepted(connection, inviteID: invite.id, by: memberID, logger: db.logger)
            try await OutboxWriter.workspaceEvent(
                connection, workspaceID: invite.workspaceID, type: .memberJoined, dataJSON: memberJSON, logger: db.logger)
            try await OutboxWriter.notify(
                connection, recipientMemberID: invite.inviterMemberID, kind: .inviteAccepted,
                payloadJSON: "{\"member\":\(memberJSON)}", logger: db.logger)
            return memberJSON
        }
    }
}

extension APIError {
    static let inviteAddresseeMismatch = APIError.forbidden(
        "This invite was made for another email address: sign in with the account of that address to accept it.",
        code: "invite_addressee_mismatch")
}
