import Foundation

/// The broker channels the facade publishes to. Defined once: the outbox writes, the token routes and the
/// tests use these, and `/openapi.json` documents them (the `realtime` tag and `x-realtime-channels`).
enum Channel {
    /// The team feed of a workspace: `workspace:<workspace id>`. Clients need a subscription token
    /// (`GET /v1/realtime/subscription-token`, active members only).
    static let workspacePrefix = "workspace:"
    /// A Centrifugo user-limited channel, `personal:#<user id>`: only the user whose id follows `#` may
    /// subscribe, with the connection token alone.
    static let personalPrefix = "personal:#"

    static func workspace(_ id: UUID) -> String { workspacePrefix + id.uuidString.lowercased() }
    static func personal(userID: UUID) -> String { personalPrefix + userID.uuidString.lowercased() }

    /// The workspace id of `workspace:<uuid>`, else nil.
    static func workspaceID(of channel: String) -> UUID? {
        guard channel.hasPrefix(workspacePrefix) else { return nil }
        return UUID(uuidString: String(channel.dropFirst(workspacePrefix.count)))
    }
}

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
