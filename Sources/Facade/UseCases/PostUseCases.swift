import Foundation

/// Check-ins and check-outs: create, edit, one post, and the workspace feed.
struct PostUseCases {
    static let maxBodyLength = 10_000
    static let kinds = ["checkin", "checkout"]

    let db: Database
    /// Injected clock: decides "today" in the workspace's time zone.
    let now: @Sendable () -> Date

    /// A post's or comment's text: 1 to ``maxBodyLength`` characters, not only whitespace.
    static func validateBody(_ body: String, field: String = "body") throws {
        var validator = Validator()
        validator.text(body, field, maxLength: maxBodyLength)
        try validator.throwIfInvalid()
    }

    /// One check-in and one check-out per member per day, "day" being the calendar date in the workspace's time
    /// zone at the moment of posting. A check-out requires, and links to, that day's check-in. Mentions notify.
    func create(as userID: UUID, in workspaceID: UUID, kind: String, body: String, mentions: [UUID]) async throws -> String {
        var validator = Validator()
        validator.check(Self.kinds.contains(kind), "kind", .invalidValue, "Must be checkin or checkout.")
        validator.text(body, "body", maxLength: Self.maxBodyLength)
        try validator.throwIfInvalid()
        let now = self.now()

        return try await db.transaction(actingAs: userID, in: workspaceID) { me, connection -> String in
            var checkinID: UUID?
            if kind == "checkout" {
                checkinID = try await PostQueries.checkinOfTheDay(connection, memberID: me.memberID, at: now, logger: db.logger)
                guard checkinID != nil else {
                    throw APIError.validation(field: "kind", .invalidValue, "Check in before checking out today.")
                }
            }
            guard let json = try await PostCommands.create(
                connection, workspaceID: workspaceID, memberID: me.memberID, kind: kind, body: body, checkinID: checkinID,
                at: now, logger: db.logger)
            else {
                throw APIError.conflict(
                    "already_posted_today",
                    kind == "checkin" ? "You already checked in today." : "You already checked out today.")
            }
            try await OutboxWriter.workspaceEvent(
                connection, workspaceID: workspaceID, type: .postCreated, dataJSON: json, logger: db.logger)
            try await MentionNotifications.write(
                connection, author: me, text: body, explicit: mentions, payloadJSON: "{\"post\":\(json)}", logger: db.logger)
            return json
        }
    }

    /// Only the author edits a post. An `@name` the edit adds notifies that member; one already there does not
    /// notify again.
    func update(as userID: UUID, in workspaceID: UUID, postID: UUID, body: String) async throws -> String {
        try Self.validateBody(body)
        return try await db.transaction(actingAs: userID, in: workspaceID) { me, connection -> String in
            guard let (authorID, previousBody) = try await PostQueries.lockForEdit(
                connection, postID: postID, workspaceID: workspaceID, logger: db.logger)
            else { throw APIError.notFound("Post") }
            guard authorID == me.memberID else {
                throw APIError.forbidden("Only the author may edit a post.", code: "not_author")
            }
            guard let json = try await PostCommands.updateBody(connection, postID: postID, body: body, logger: db.logger)
            else { throw APIError.notFound("Post") }
            try await OutboxWriter.workspaceEvent(
                connection, workspaceID: workspaceID, type: .postUpdated, dataJSON: json, logger: db.logger)
            try await MentionNotifications.write(
                connection, author: me, text: body, alreadyMentionedText: previousBody,
                payloadJSON: "{\"post\":\(json)}", logger: db.logger)
            return json
        }
    }

    /// A single post in its feed form (reactions, comment count, latest comments).
    func get(as userID: UUID, in workspaceID: UUID, postID: UUID) async throws -> String {
        let json = try await db.withConnection(actingAs: userID, in: workspaceID) { me, connection in
            try await FeedQuery.post(
                connection, workspaceID: workspaceID, viewerMemberID: me.memberID, postID: postID, logger: db.logger)
        }
        guard let json else { throw APIError.notFound("Post") }
        return json
    }

    /// Newest first, keyset-paginated; see ``FeedQuery``.
    func feed(as userID: UUID, in workspaceID: UUID, page: PageRequest) async throws -> Page {
        try await db.withConnection(actingAs: userID, in: workspaceID) { me, connection in
            try await FeedQuery.page(
                connection, workspaceID: workspaceID, viewerMemberID: me.memberID, page: page, logger: db.logger)
        }
    }
}
