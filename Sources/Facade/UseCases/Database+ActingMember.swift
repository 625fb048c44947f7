import Foundation
import PostgresNIO

/// How a workspace use case starts: the membership check (``ActingMember/require(_:workspaceID:userID:logger:)``)
/// on the connection that then does the work, so the caller's rights and the change they make are read and
/// written together.
extension Database {
    /// One transaction acting as `userID` in `workspaceID`: 404 or 403 before `body` runs when they may not.
    func transaction<Result: Sendable>(
        actingAs userID: UUID, in workspaceID: UUID, _ body: (ActingMember, PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await transaction { connection in
            let me = try await ActingMember.require(connection, workspaceID: workspaceID, userID: userID, logger: logger)
            return try await body(me, connection)
        }
    }

    /// A read acting as `userID` in `workspaceID` (no transaction): 404 or 403 before `body` runs when they may not.
    func withConnection<Result: Sendable>(
        actingAs userID: UUID, in workspaceID: UUID, _ body: (ActingMember, PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await withConnection { connection in
            let me = try await ActingMember.require(connection, workspaceID: workspaceID, userID: userID, logger: logger)
            return try await body(me, connection)
        }
    }
}
