import Foundation
import Logging
import PostgresNIO

/// The membership check's query: it starts every workspace request, so it is a prepared statement.
enum MembershipQueries {
    enum Found: Sendable {
        case noWorkspace
        /// The workspace exists; the user never joined it, or left.
        case notActive
        case active(ActingMember)
    }

    /// One row when the workspace exists, with the user's member columns (NULL when they never joined).
    struct Statement: PostgresPreparedStatement {
        static let name = "membership_check"
        static let sql = """
            SELECT m.id, m.role, m.display_name, m.status
            FROM workspaces w
            LEFT JOIN members m ON m.workspace_id = w.id AND m.user_id = $2
            WHERE w.id = $1
            """
        static let bindingDataTypes: [PostgresDataType] = [.uuid, .uuid]
        typealias Row = (UUID?, String?, String?, String?)

        var workspaceID: UUID
        var userID: UUID

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 2)
            bindings.append(workspaceID)
            bindings.append(userID)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    static func find(_ connection: PostgresConnection, workspaceID: UUID, userID: UUID, logger: Logger) async throws -> Found {
        let rows = try await connection.execute(Statement(workspaceID: workspaceID, userID: userID), logger: logger)
        for try await (memberID, role, displayName, status) in rows {
            guard let memberID, let role, let displayName, status == "active" else { return .notActive }
            return .active(ActingMember(
                workspaceID: workspaceID, memberID: memberID, userID: userID, role: role, displayName: displayName))
        }
        return .noWorkspace
    }
}
