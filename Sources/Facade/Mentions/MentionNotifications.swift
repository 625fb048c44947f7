import Foundation
import Logging
import PostgresNIO

/// The `mention` notifications of a new or edited post or comment, written in the caller's transaction.
///
/// Recipients are the members named by id in the request's `mentions` (each must be an active member of the
/// workspace, else 422) and the active members of the same workspace whose ``MentionHandle`` appears as
/// `@name` in the text (``MentionParser``; a name matching nobody is plain text). Each recipient is notified
/// once however often they are named, the author never, nor anyone in `excluding` (the post's author on a
/// comment: the `comment` notification already tells them). A handle that several members share notifies each.
/// Every notification also goes to the recipient's personal channel as `notification.created` (outbox).
enum MentionNotifications {
    static func write(
        _ connection: PostgresConnection, author: ActingMember, text: String, explicit: [UUID] = [],
        excluding: Set<UUID> = [], alreadyMentionedText: String? = nil, payloadJSON: String, logger: Logger
    ) async throws {
        try await requireMembers(connection, explicit, workspaceID: author.workspaceID, logger: logger)
        var handles = MentionParser.handles(in: text)
        if let alreadyMentionedText {
            let before = Set(MentionParser.handles(in: alreadyMentionedText))
            handles.removeAll(where: before.contains)
        }
        let named = try await members(connection, handles: handles, workspaceID: author.workspaceID, logger: logger)
        var notified: Set<UUID> = excluding.union([author.memberID])
        for memberID in explicit + named where notified.insert(memberID).inserted {
            try await OutboxWriter.notify(
                connection, recipientMemberID: memberID, kind: .mention, payloadJSON: payloadJSON, logger: logger)
        }
    }

    /// 422 on `mentions` naming the first id that is not an active member of the workspace.
    static func requireMembers(
        _ connection: PostgresConnection, _ ids: [UUID], workspaceID: UUID, logger: Logger
    ) async throws {
        guard !ids.isEmpty else { return }
        let found = try await MemberQueries.activeIDs(connection, among: ids, workspaceID: workspaceID, logger: logger)
        if let missing = ids.first(where: { !found.contains($0) }) {
            throw APIError.validation(
                field: "mentions", .invalidValue,
                "Mentioned member \(missing.uuidString.lowercased()) is not in this workspace.")
        }
    }

    /// The active members of the workspace whose handle is one of `handles`, in the order of `handles`.
    static func members(
        _ connection: PostgresConnection, handles: [String], workspaceID: UUID, logger: Logger
    ) async throws -> [UUID] {
        guard !handles.isEmpty else { return [] }
        var byHandle: [String: [UUID]] = [:]
        for member in try await MemberQueries.activeNames(connection, workspaceID: workspaceID, logger: logger) {
            byHandle[MentionHandle.normalize(member.displayName), default: []].append(member.id)
        }
        return handles.flatMap { byHandle[$0] ?? [] }
    }
}
