import Foundation
import PostgresNIO

/// Todos: assigned to a member (by default their creator), optional due date, optional link to a post. Any
/// active member may update or delete one (the team shares its list).
struct TodoUseCases {
    let db: Database

    /// The fields of a new todo, as the request gave them.
    struct Draft: Sendable {
        var title: String
        var assignee: UUID?
        /// `YYYY-MM-DD`.
        var dueDate: String?
        var postID: UUID?
    }

    /// The fields an update sets; nil leaves one unchanged.
    struct Changes: Sendable {
        var title: String?
        var assignee: UUID?
        var dueDate: String?
        var done: Bool?
        var postID: UUID?
    }

    /// A real calendar date written `YYYY-MM-DD` (so 2026-02-30 is refused).
    static func isDate(_ string: String) -> Bool {
        guard let match = string.wholeMatch(of: /(\d{4})-(\d{2})-(\d{2})/),
            let year = Int(match.1), let month = Int(match.2), let day = Int(match.3)
        else { return false }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let date = calendar.date(from: DateComponents(year: year, month: month, day: day)) else { return false }
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return parts.year == year && parts.month == month && parts.day == day
    }

    func create(as userID: UUID, in workspaceID: UUID, _ draft: Draft) async throws -> String {
        try await db.transaction(actingAs: userID, in: workspaceID) { me, connection -> String in
            try await validate(
                connection, workspaceID: workspaceID, title: draft.title, assignee: draft.assignee, dueDate: draft.dueDate,
                postID: draft.postID)
            guard let json = try await TodoCommands.create(
                connection, workspaceID: workspaceID, createdBy: me.memberID, assignee: draft.assignee ?? me.memberID,
                title: draft.title.trimmed, dueDate: draft.dueDate, postID: draft.postID, logger: db.logger)
            else { throw APIError.notFound("Workspace") }
            try await OutboxWriter.workspaceEvent(
                connection, workspaceID: workspaceID, type: .todoCreated, dataJSON: json, logger: db.logger)
            return json
        }
    }

    /// Oldest first; `assignee` (`me` or a member id, read once the caller is known to be a member) and `done`
    /// filter when given.
    func list(
        as userID: UUID, in workspaceID: UUID, assignee: String?, done: Bool?, page: PageRequest
    ) async throws -> Page {
        try await db.withConnection(actingAs: userID, in: workspaceID) { me, connection in
            var assigneeID: UUID?
            if let assignee {
                guard let id = assignee == "me" ? me.memberID : UUID(uuidString: assignee) else {
                    throw APIError.validation(field: "assignee", .invalidFormat, "Must be 'me' or a member id.")
                }
                assigneeID = id
            }
            return try await TodoQueries.page(
                connection, workspaceID: workspaceID, assignee: assigneeID, done: done, page: page, logger: db.logger)
        }
    }

    func get(as userID: UUID, in workspaceID: UUID, todoID: UUID) async throws -> String {
        let json = try await db.withConnection(actingAs: userID, in: workspaceID) { _, connection in
            try await TodoQueries.get(connection, todoID: todoID, workspaceID: workspaceID, logger: db.logger)
        }
        guard let json else { throw APIError.notFound("Todo") }
        return json
    }

    func update(as userID: UUID, in workspaceID: UUID, todoID: UUID, _ changes: Changes) async throws -> String {
        try await db.transaction(actingAs: userID, in: workspaceID) { _, connection -> String in
            try await validate(
                connection, workspaceID: workspaceID, title: changes.title, assignee: changes.assignee,
                dueDate: changes.dueDate, postID: changes.postID)
            guard let json = try await TodoCommands.update(
                connection, todoID: todoID, workspaceID: workspaceID, title: changes.title?.trimmed,
                assignee: changes.assignee, dueDate: changes.dueDate, done: changes.done, postID: changes.postID,
                logger: db.logger)
            else { throw APIError.notFound("Todo") }
            try await OutboxWriter.workspaceEvent(
                connection, workspaceID: workspaceID, type: .todoUpdated, dataJSON: json, logger: db.logger)
            return json
        }
    }

    func delete(as userID: UUID, in workspaceID: UUID, todoID: UUID) async throws {
        try await db.transaction(actingAs: userID, in: workspaceID) { _, connection in
            guard let json = try await TodoCommands.delete(connection, todoID: todoID, workspaceID: workspaceID, logger: db.logger)
            else { throw APIError.notFound("Todo") }
            try await OutboxWriter.workspaceEvent(
                connection, workspaceID: workspaceID, type: .todoDeleted, dataJSON: json, logger: db.logger)
        }
    }

    /// Checks title/date shapes, that the assignee is an active member and the post is in the workspace; every
    /// problem in one 422.
    private func validate(
        _ connection: PostgresConnection, workspaceID: UUID, title: String?, assignee: UUID?, dueDate: String?, postID: UUID?
    ) async throws {
        var validator = Validator()
        validator.text(title, "title", maxLength: 500)
        if let dueDate {
            validator.check(Self.isDate(dueDate), "due_date", .invalidFormat, "Must be a date formatted YYYY-MM-DD.")
        }
        if let assignee {
            let active = try await MemberQueries.isActive(connection, memberID: assignee, workspaceID: workspaceID, logger: db.logger)
            validator.check(active, "assignee_member_id", .invalidValue, "Must be an active member of this workspace.")
        }
        if let postID {
            let found = try await PostQueries.exists(connection, postID: postID, workspaceID: workspaceID, logger: db.logger)
            validator.check(found, "post_id", .invalidValue, "Must be a post in this workspace.")
        }
        try validator.throwIfInvalid()
    }
}
