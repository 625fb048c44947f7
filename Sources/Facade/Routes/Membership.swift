import Foundation
import Logging
import PostgresNIO

/// The signed-in user acting inside one workspace. Every workspace operation goes through this.
struct Membership: Sendable {
    let workspaceID: UUID
    let memberID: UUID
    let userID: UUID
    let role: String
    let displayName: String

    /// Owners and admins manage members and invites.
    var isManager: Bool { role == "owner" || role == "admin" }

    /// Loads the caller's active membership: 404 if the workspace does not exist, 403 if not an active member.
    static func require(
        _ connection: PostgresConnection, workspaceID: UUID, userID: UUID, logger: Logger
    ) async throws -> Membership {
        let rows = try await connection.query(
            """
            SELECT m.id, m.role, m.display_name, m.status
            FROM workspaces w
            LEFT JOIN members m ON m.workspace_id = w.id AND m.user_id = \(userID)
            WHERE w.id = \(workspaceID)
            """, logger: logger)
        for try await (memberID, role, displayName, status) in rows.decode((UUID?, String?, String?, String?).self) {
            guard let memberID, let role, let displayName, status == "active" else {
                throw APIError.notAMember
            }
            return Membership(
                workspaceID: workspaceID, memberID: memberID, userID: userID, role: role, displayName: displayName)
        }
        throw APIError.notFound("Workspace")
    }

    func requireManager() throws {
        guard isManager else {
            throw APIError.forbidden("Only the workspace owner or an admin may do this.", code: "not_allowed")
        }
    }
}
