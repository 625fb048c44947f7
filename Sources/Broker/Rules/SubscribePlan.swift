import BrokerProtocol

/// Everything decided about a subscription before the engine is asked (on the session's loop).
struct SubscribePlan: Sendable {
    var channel: String
    var options: ChannelOptions
    var serverSide: Bool
    var positioned = false
    var recoverable = false
    var recover = false
    var sinceOffset: UInt64 = 0
    var sinceEpoch = ""
    var rejectUnrecovered = false
    var presence = false
    var joinLeave = false
    var pushJoinLeave = false
    /// The client asked for fossil deltas and the namespace allows them.
    var delta = false
    var chanInfo: Payload?
    var data: Payload?
    /// Unix ms; 0 = never.
    var expiresAt: Int64 = 0
    /// The namespace's history meta TTL (or the channel default).
    var metaTTL: Duration = .zero
    /// The sub_refresh proxy that renews this subscription when it expires (server-side refresh), if any.
    var subRefreshProxy: String?
}
