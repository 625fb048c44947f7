import Foundation

/// Every `type` a realtime event can have. Each publication is `{"type", "workspace_id", "data"}`; the
/// outbox writes accept only these cases, and a test checks that `/openapi.json` documents each one
/// (`components/schemas/RealtimeEvent`, a `oneOf` discriminated on `type`).
enum RealtimeEventType: String, CaseIterable, Sendable {
    case workspaceDeleted = "workspace.deleted"
    case memberJoined = "member.joined"
    case memberUpdated = "member.updated"
    case memberLeft = "member.left"
    case postCreated = "post.created"
    case postUpdated = "post.updated"
    case commentCreated = "comment.created"
    case reactionAdded = "reaction.added"
    case reactionRemoved = "reaction.removed"
    case todoCreated = "todo.created"
    case todoUpdated = "todo.updated"
    case todoDeleted = "todo.deleted"
    /// The only event of the personal channel; every other type goes to the workspace channel.
    case notificationCreated = "notification.created"

    /// The prefix of the channel the event is published on.
    var channelPrefix: String {
        self == .notificationCreated ? Channel.personalPrefix : Channel.workspacePrefix
    }
}

/// The `kind` of a notification, with the one key its `payload` holds.
enum NotificationKind: String, CaseIterable, Sendable {
    /// `{"post": Post}` or `{"comment": Comment}`: someone mentioned the recipient.
    case mention
    /// `{"comment": Comment}`: someone commented on the recipient's post.
    case comment
    /// `{"reaction": Reaction}`: someone reacted to the recipient's post or comment.
    case reaction
    /// `{"member": Member}`: someone accepted the recipient's invite.
    case inviteAccepted = "invite_accepted"
}
