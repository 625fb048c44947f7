import Foundation
import PostgresNIO

/// Workspaces: the creator becomes the owner member; managers rename them; only an owner deletes one.
struct WorkspaceUseCases {
    let db: Database

    /// Validates name and IANA time zone (against PostgreSQL's own zone database, which `AT TIME ZONE` uses).
    func validate(name: String?, timeZone: String?, _ connection: PostgresConnection) async throws {
        var validator = Validator()
        validator.text(name, "name", maxLength: 100)
        if let timeZone {
            let known = try await WorkspaceQueries.timeZoneExists(connection, timeZone, logger: db.logger)
            validator.check(known, "time_zone", .invalidValue, "Must be an IANA time zone name such as Europe/Paris.")
        }
        try validator.throwIfInvalid()
    }

    /// `displayName` is the creator's name inside the workspace; by default their email's local part.
    func create(by userID: UUID, name: String, timeZone: String, displayName rawDisplayName: String?) async throws -> String {
        try await db.transaction { connection -> String in
            try await validate(name: name, timeZone: timeZone, connection)
            let displayName = rawDisplayName?.trimmed
            var validator = Validator()
            validator.text(displayName, "display_name", maxLength: 100)
            try validator.throwIfInvalid()
            guard let json = try await WorkspaceCommands.create(
                connection, name: name.trimmed, timeZone: timeZone, ownerUserID: userID, displayName: displayName,
                logger: db.logger)
            else { throw APIError.unauthenticated }
            return json
        }
    }

    /// The workspaces where the user is an active member, oldest membership first.
    func list(of userID: UUID, page: PageRequest) async throws -> Page {
        try await db.withConnection { connection in
            try await WorkspaceQueries.page(connection, userID: userID, page: page, logger: db.logger)
        }
    }

    func get(as userID: UUID, in workspaceID: UUID) async throws -> String {
        let json = try await db.withConnection(actingAs: userID, in: workspaceID) { me, connection in
            try await WorkspaceQueries.get(connection, workspaceID: workspaceID, memberID: me.memberID, logger: db.logger)
        }
        guard let json else { throw APIError.notFound("Workspace") }
        return json
    }

    /// Owners and admins rename a workspace or change its time zone.
    func update(as userID: UUID, in workspaceID: UUID, name: String?, timeZone: String?) async throws -> String {
        let json = try await db.transaction(actingAs: userID, in: workspaceID) { me, connection in
            try me.requireManager()
            try await validate(name: name, timeZone: timeZone, connection)
            return try await WorkspaceCommands.update(
                connection, workspaceID: workspaceID, memberID: me.memberID, name: name?.trimmed, timeZone: timeZone,
                logger: db.logger)
        }
        guard let json else { throw APIError.notFound("Workspace") }
        return json
    }

    /// Only the owner may delete a workspace; everything in it goes with it, and every member's open subscription
    /// to its channel ends (one broker `unsubscribe` per member, after the `workspace.deleted` event).
    func delete(as userID: UUID, in workspaceID: UUID) async throws {
        try await db.transaction(actingAs: userID, in: workspaceID) { me, connection in
            guard me.isOwner else {
                throw APIError.forbidden("Only the owner may delete the workspace.", code: "not_allowed")
            }
            try await OutboxWriter.workspaceEvent(
                connection, workspaceID: workspaceID, type: .workspaceDeleted,
                dataJSON: "{\"id\":\"\(workspaceID.uuidString.lowercased())\"}", logger: db.logger)
            // After the event (members receive it), before the members rows go with the workspace.
            try await OutboxWriter.revokeWorkspaceAccessOfAllMembers(connection, workspaceID: workspaceID, logger: db.logger)
            try await WorkspaceCommands.delete(connection, workspaceID: workspaceID, logger: db.logger)
        }
    }
}
