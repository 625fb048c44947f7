import Foundation
import PostgresNIO

/// Members of a workspace: list, update (role by owner/admin, display name by oneself), remove.
struct MemberUseCases {
    static let roles = ["owner", "admin", "member"]

    let db: Database

    /// Active members, in joining order.
    func list(as userID: UUID, in workspaceID: UUID, page: PageRequest) async throws -> Page {
        try await db.withConnection(actingAs: userID, in: workspaceID) { _, connection in
            try await MemberQueries.page(connection, workspaceID: workspaceID, page: page, logger: db.logger)
        }
    }

    /// Role rules: owners and admins set roles; only an owner grants or takes away `owner`;
    /// a workspace always keeps at least one owner. Anyone may change their own display name.
    func update(
        as userID: UUID, in workspaceID: UUID, memberID: UUID, role: String?, displayName: String?
    ) async throws -> String {
        var validator = Validator()
        if let role {
            validator.check(Self.roles.contains(role), "role", .invalidValue, "Must be owner, admin or member.")
        }
        validator.text(displayName, "display_name", maxLength: 100)
        try validator.throwIfInvalid()

        return try await db.transaction(actingAs: userID, in: workspaceID) { me, connection -> String in
            let target = try await lockTarget(connection, memberID: memberID, workspaceID: workspaceID)
            if displayName != nil, memberID != me.memberID {
                throw APIError.forbidden("Members set their own display name.", code: "not_allowed")
            }
            if let role, role != target.role {
                try me.requireManager()
                if role == "owner" || target.role == "owner" {
                    guard me.isOwner else {
                        throw APIError.forbidden("Only an owner may grant or remove the owner role.", code: "not_allowed")
                    }
                }
                if target.role == "owner" {
                    try await requireAnotherOwner(connection, workspaceID: workspaceID, besides: memberID)
                }
            }
            guard let json = try await MemberCommands.update(
                connection, memberID: memberID, role: role, displayName: displayName?.trimmed, logger: db.logger)
            else { throw APIError.notFound("Member") }
            try await OutboxWriter.workspaceEvent(
                connection, workspaceID: workspaceID, type: .memberUpdated, dataJSON: json, logger: db.logger)
            return json
        }
    }

    /// Owners/admins remove others (an admin cannot remove an owner); any member may remove themselves (leave).
    /// Removal marks the member `left`, keeping their posts and comments, and ends their open subscription to the
    /// workspace channel (a broker `unsubscribe` in the same outbox flow, after the `member.left` event).
    func remove(as userID: UUID, in workspaceID: UUID, memberID: UUID) async throws {
        try await db.transaction(actingAs: userID, in: workspaceID) { me, connection in
            let target = try await lockTarget(connection, memberID: memberID, workspaceID: workspaceID)
            if memberID != me.memberID {
                try me.requireManager()
                if target.role == "owner" && !me.isOwner {
                    throw APIError.forbidden("An admin cannot remove an owner.", code: "not_allowed")
                }
            }
            if target.role == "owner" {
                try await requireAnotherOwner(connection, workspaceID: workspaceID, besides: memberID)
            }
            guard let json = try await MemberCommands.markLeft(connection, memberID: memberID, logger: db.logger)
            else { throw APIError.notFound("Member") }
            try await OutboxWriter.workspaceEvent(
                connection, workspaceID: workspaceID, type: .memberLeft, dataJSON: json, logger: db.logger)
            try await OutboxWriter.revokeWorkspaceAccess(
                connection, workspaceID: workspaceID, userID: target.userID, logger: db.logger)
        }
    }

    /// The active member the operation is about, locked for the rest of the transaction; else 404.
    private func lockTarget(
        _ connection: PostgresConnection, memberID: UUID, workspaceID: UUID
    ) async throws -> (role: String, userID: UUID) {
        guard let target = try await MemberQueries.lockActive(
            connection, memberID: memberID, workspaceID: workspaceID, logger: db.logger)
        else { throw APIError.notFound("Member") }
        return target
    }

    private func requireAnotherOwner(_ connection: PostgresConnection, workspaceID: UUID, besides memberID: UUID) async throws {
        guard try await MemberQueries.anotherOwnerExists(
            connection, workspaceID: workspaceID, besides: memberID, logger: db.logger)
        else { throw APIError.conflict("last_owner", "A workspace must keep at least one owner.") }
    }
}
