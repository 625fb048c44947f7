import Foundation
import Logging
import PostgresNIO

/// Reads of `invites`.
enum InviteQueries {
    /// An invite as accepting it needs it.
    struct ForAccept: Sendable {
        var id: UUID
        var workspaceID: UUID
        var inviterMemberID: UUID
        var expiresAt: Date
        var used: Bool
        /// An open link, or an email invite made for the accepting user's email; nil when that user does not exist.
        var addressedToUser: Bool?
    }

    /// The invite with `token`, seen by `userID`, locked until the transaction ends (two concurrent accepts cannot
    /// both succeed); nil when there is none.
    static func lockForAccept(
        _ connection: PostgresConnection, token: String, userID: UUID, logger: Logger
    ) async throws -> ForAccept? {
        let rows = try await connection.query(
            """
            SELECT i.id, i.workspace_id, i.created_by_member_id, i.expires_at, i.accepted_at IS NOT NULL,
                   i.kind <> 'email' OR lower(i.email) = lower(u.email)
            FROM invites i LEFT JOIN users u ON u.id = \(userID)
            WHERE i.token = \(token) FOR UPDATE OF i
            """, logger: logger)
        var found: ForAccept?
        for try await (id, workspaceID, inviterID, expiresAt, used, addressed) in rows.decode(
            (UUID, UUID, UUID, Date, Bool, Bool?).self)
        {
            found = ForAccept(
                id: id, workspaceID: workspaceID, inviterMemberID: inviterID, expiresAt: expiresAt, used: used,
                addressedToUser: addressed)
        }
        return found
    }
}
