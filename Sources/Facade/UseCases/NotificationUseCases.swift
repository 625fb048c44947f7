import Foundation

/// The user's notifications across all their memberships.
struct NotificationUseCases {
    let db: Database

    /// Newest first; `unreadOnly` keeps unread ones only.
    func list(of userID: UUID, unreadOnly: Bool, page: PageRequest) async throws -> Page {
        try await db.withConnection { connection in
            try await NotificationQueries.page(connection, userID: userID, unreadOnly: unreadOnly, page: page, logger: db.logger)
        }
    }

    /// Marks one of the user's notifications read; 404 when it is not theirs.
    func markRead(by userID: UUID, notificationID: UUID) async throws -> String {
        let json = try await db.withConnection { connection in
            try await NotificationCommands.markRead(connection, notificationID: notificationID, userID: userID, logger: db.logger)
        }
        guard let json else { throw APIError.notFound("Notification") }
        return json
    }
}
