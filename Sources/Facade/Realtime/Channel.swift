import Foundation

/// The broker channels the facade publishes to. Defined once: the outbox writes, the token use cases and the
/// tests use these, and `/openapi.json` documents them (the `realtime` tag and `x-realtime-channels`). SQL never
/// spells a channel name: a statement that needs one gets it (or its prefix) as a parameter.
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
