import Foundation
import Logging
import PostgresNIO

/// The signed-in user acting inside one workspace: their active membership, found by the membership check that
/// starts every workspace use case (``Database/transaction(actingAs:in:_:)``). The rules about who may do what in
/// a workspace read this value, never the bare user.
struct ActingMember: Sendable, Equatable {
    let workspaceID: UUID
    let memberID: UUID
    let userID: UUID
    let role: String
    let displayName: String

    /// Owners and admins manage members and invites.
    var isManager: Bool { role == "owner" || role == "admin" }
    var isOwner: Bool { role == "owner" }

    func requireManager() throws {
        guard isManager else {
            throw APIError.forbidden("Only the workspace owner or an admin may do this.", code: "not_allowed")
        }
    }

    /// The membership check: `userID`'s active membership of `workspaceID`; 404 if the workspace does not exist,
    /// 403 `not_a_member` if the user is not an active member of it.
    static func require(
        _ connection: PostgresConnection, workspaceID: UUID, userID: UUID, logger: Logger
    ) async throws -> ActingMember {
        switch try await MembershipQueries.find(connection, workspaceID: workspaceID, userID: userID, logger: logger) {
        case .noWorkspace: throw APIError.notFound("Workspace")
        case .notActive: throw APIError.notAMember
        case .active(let member): return member
        }
    }
}
