import Foundation
import Logging
import PostgresNIO

/// Reads of `members` (the caller's own membership is ``MembershipQueries``).
enum MemberQueries {
    /// Active members, in joining order.
    static func page(_ connection: PostgresConnection, workspaceID: UUID, page: PageRequest, logger: Logger) async throws -> Page {
        try await connection.page(
            """
            SELECT \(unescaped: Projection.member())::text, m.joined_at::text || '|' || m.id::text
            FROM members m
            WHERE m.workspace_id = \(workspaceID) AND m.status = 'active'
              AND (m.joined_at, m.id) > (coalesce(\(page.cursorTimestamp)::timestamptz, '-infinity'),
                                       coalesce(\(page.cursorID)::uuid, '00000000-0000-0000-0000-000000000000'))
            ORDER BY m.joined_at, m.id
            LIMIT \(page.fetchLimit)
            """, limit: page.limit, logger: logger)
    }

    /// An active member's role and user, locked until the transaction ends; nil when there is no such member.
    static func lockActive(
        _ connection: PostgresConnection, memberID: UUID, workspaceID: UUID, logger: Logger
    ) async throws -> (role: String, userID: UUID)? {
        let rows = try await connection.query(
            """
            SELECT role, user_id FROM members
            WHERE id = \(memberID) AND workspace_id = \(workspaceID) AND status = 'active' FOR UPDATE
            """, logger: logger)
        for try await row in rows.decode((String, UUID).self) { return row }
        return nil
    }

    /// Whether an active owner other than `memberID` remains.
    static func anotherOwnerExists(
        _ connection: PostgresConnection, workspaceID: UUID, besides memberID: UUID, logger: Logger
    ) async throws -> Bool {
        try await connection.exists(
            """
            SELECT 1 FROM members WHERE workspace_id = \(workspaceID) AND role = 'owner' AND status = 'active'
              AND id <> \(memberID)
            """, logger: logger)
    }

    static func isActive(_ connection: PostgresConnection, memberID: UUID, workspaceID: UUID, logger: Logger) async throws -> Bool {
        try await connection.exists(
            "SELECT 1 FROM members WHERE id = \(memberID) AND workspace_id = \(workspaceID) AND status = 'active'",
            logger: logger)
    }

    static func userIsActive(_ connection: PostgresConnection, userID: UUID, workspaceID: UUID, logger: Logger) async throws -> Bool {
        try await connection.exists(
            "SELECT 1 FROM members WHERE workspace_id = \(workspaceID) AND user_id = \(userID) AND status = 'active'",
            logger: logger)
    }

    /// Which of `ids` are active members of the workspace.
    static func activeIDs(
        _ connection: PostgresConnection, among ids: [UUID], workspaceID: UUID, logger: Logger
    ) async throws -> Set<UUID> {
        var found: Set<UUID> = []
        let rows = try await connection.query(
            "SELECT id FROM members WHERE id = ANY(\(ids)) AND workspace_id = \(workspaceID) AND status = 'active'",
            logger: logger)
        for try await id in rows.decode(UUID.self) { found.insert(id) }
        return found
    }

    /// Every active member's id and display name, in joining order.
    static func activeNames(
        _ connection: PostgresConnection, workspaceID: UUID, logger: Logger
    ) async throws -> [(id: UUID, displayName: String)] {
        var members: [(id: UUID, displayName: String)] = []
        let rows = try await connection.query(
            "SELECT id, display_name FROM members WHERE workspace_id = \(workspaceID) AND status = 'active' ORDER BY joined_at, id",
            logger: logger)
        for try await row in rows.decode((UUID, String).self) { members.append(row) }
        return members
    }

    /// The workspaces where the user is an active member, oldest membership first.
    static func activeWorkspaceIDs(_ connection: PostgresConnection, userID: UUID, logger: Logger) async throws -> [UUID] {
        var ids: [UUID] = []
        let rows = try await connection.query(
            "SELECT workspace_id FROM members WHERE user_id = \(userID) AND status = 'active' ORDER BY joined_at",
            logger: logger)
        for try await id in rows.decode(UUID.self) { ids.append(id) }
        return ids
    }
}
