import Foundation
import PostgresNIO

/// Emoji reactions on posts and comments: one per member per emoji per target. Reacting notifies the target's
/// author (unless they reacted themselves).
struct ReactionUseCases {
    let db: Database

    func add(as userID: UUID, in workspaceID: UUID, to target: ReactionTarget, emoji rawEmoji: String) async throws -> String {
        let emoji = rawEmoji.trimmed
        var validator = Validator()
        validator.text(emoji, "emoji", maxLength: 16)
        validator.check(!emoji.contains("/"), "emoji", .forbiddenCharacter, "Must not contain '/'.")
        try validator.throwIfInvalid()
        return try await db.transaction(actingAs: userID, in: workspaceID) { me, connection -> String in
            let authorID = try await author(connection, of: target, workspaceID: workspaceID)
            guard let json = try await ReactionCommands.add(
                connection, memberID: me.memberID, target: target, emoji: emoji, logger: db.logger)
            else { throw APIError.conflict("duplicate_reaction", "You already reacted with this emoji.") }
            try await OutboxWriter.workspaceEvent(
                connection, workspaceID: workspaceID, type: .reactionAdded, dataJSON: json, logger: db.logger)
            if authorID != me.memberID {
                try await OutboxWriter.notify(
                    connection, recipientMemberID: authorID, kind: .reaction,
                    payloadJSON: "{\"reaction\":\(json)}", logger: db.logger)
            }
            return json
        }
    }

    func remove(as userID: UUID, in workspaceID: UUID, from target: ReactionTarget, emoji: String) async throws {
        try await db.transaction(actingAs: userID, in: workspaceID) { me, connection in
            _ = try await author(connection, of: target, workspaceID: workspaceID)
            guard let json = try await ReactionCommands.remove(
                connection, memberID: me.memberID, target: target, emoji: emoji, logger: db.logger)
            else { throw APIError.notFound("Reaction") }
            try await OutboxWriter.workspaceEvent(
                connection, workspaceID: workspaceID, type: .reactionRemoved, dataJSON: json, logger: db.logger)
        }
    }

    /// The author member of the target, checking it belongs to the workspace; else 404.
    private func author(_ connection: PostgresConnection, of target: ReactionTarget, workspaceID: UUID) async throws -> UUID {
        let authorID = switch target {
        case .post(let id):
            try await PostQueries.author(connection, postID: id, workspaceID: workspaceID, logger: db.logger)
        case .comment(let id):
            try await CommentQueries.author(connection, commentID: id, workspaceID: workspaceID, logger: db.logger)
        }
        guard let authorID else { throw APIError.notFound(target.what) }
        return authorID
    }
}
