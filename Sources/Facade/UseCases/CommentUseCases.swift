import Foundation
import PostgresNIO

/// Comments on a post. Commenting notifies the post's author and the members it mentions (by id or `@name`).
struct CommentUseCases {
    let db: Database

    /// Writes the comment, its `comment.created` event, a `comment` notification to the post's author (unless
    /// they wrote it) and the `mention` notifications, in one transaction.
    func create(as userID: UUID, in workspaceID: UUID, postID: UUID, body: String, mentions: [UUID]) async throws -> String {
        try PostUseCases.validateBody(body)
        return try await db.transaction(actingAs: userID, in: workspaceID) { me, connection -> String in
            let postAuthorID = try await postAuthor(connection, postID: postID, workspaceID: workspaceID)
            guard let json = try await CommentCommands.create(
                connection, postID: postID, memberID: me.memberID, body: body, logger: db.logger)
            else { throw APIError.notFound("Post") }
            try await OutboxWriter.workspaceEvent(
                connection, workspaceID: workspaceID, type: .commentCreated, dataJSON: json, logger: db.logger)
            if postAuthorID != me.memberID {
                try await OutboxWriter.notify(
                    connection, recipientMemberID: postAuthorID, kind: .comment,
                    payloadJSON: "{\"comment\":\(json)}", logger: db.logger)
            }
            try await MentionNotifications.write(
                connection, author: me, text: body, explicit: mentions, excluding: [postAuthorID],
                payloadJSON: "{\"comment\":\(json)}", logger: db.logger)
            return json
        }
    }

    /// Oldest first, keyset-paginated.
    func list(as userID: UUID, in workspaceID: UUID, postID: UUID, page: PageRequest) async throws -> Page {
        try await db.withConnection(actingAs: userID, in: workspaceID) { _, connection in
            _ = try await postAuthor(connection, postID: postID, workspaceID: workspaceID)
            return try await CommentQueries.page(connection, postID: postID, page: page, logger: db.logger)
        }
    }

    /// The author of a post of the workspace; else 404.
    private func postAuthor(_ connection: PostgresConnection, postID: UUID, workspaceID: UUID) async throws -> UUID {
        guard let authorID = try await PostQueries.author(connection, postID: postID, workspaceID: workspaceID, logger: db.logger)
        else { throw APIError.notFound("Post") }
        return authorID
    }
}
