import BrokerProtocol
import Foundation

/// One channel subscription of one session. Lives on the session's event loop.
final class Subscription {
    enum State {
        /// The subscribe is in flight: pushes are held until the reply has gone out.
        case subscribing([PreparedPush])
        case subscribed
    }

    let channel: String
    unowned(unsafe) let session: ClientSession
    var state: State = .subscribing([])
    /// The engine reported this channel's position lost while the subscribe was in flight: the client is told
    /// (unsubscribe 2500) right after the subscribe's reply, never instead of it.
    var positionLostWhileSubscribing = false
    /// Index in the LoopHub's subscriber list for the channel (-1 when not in the hub).
    var hubIndex = -1
    let serverSide: Bool
    /// Track offsets and detect gaps (positioning or recovery is on).
    var positioned = false
    var recoverable = false
    var epoch = ""
    /// The last offset this client has (from the subscribe result or a delivered publication).
    var offset: UInt64 = 0
    var pushJoinLeave = false
    /// Fossil delta compression was negotiated.
    let delta: Bool
    /// The client holds the previous publication's data, so the next one may come as a patch.
    var deltaReady = false
    var presence = false
    var joinLeave = false
    var chanInfo: Payload?
    /// Unix ms; 0 = never.
    var expiresAt: Int64 = 0
    /// The sub_refresh proxy that renews this subscription when it expires, instead of the client.
    var refreshProxy: String?
    /// A subscribe_stream proxy's stream feeding this subscription (ended when the subscription goes).
    var stream: (any SubscriptionStream)?

    init(channel: String, session: ClientSession, serverSide: Bool, delta: Bool = false) {
        self.channel = channel
        self.session = session
        self.serverSide = serverSide
        self.delta = delta
    }

    var isSubscribed: Bool {
        if case .subscribed = state { return true }
        return false
    }
}

/// A backend's stream that feeds one subscription (the subscribe_stream proxy).
protocol SubscriptionStream: AnyObject, Sendable {
    /// A client publication into a bidirectional stream; false when the stream takes none.
    func send(data: Data) -> Bool
    func cancel()
    /// The subscription is in place: publications (held until now, then as they come) and the stream's end (failed:
    /// it broke rather than the backend closing it) go to these.
    func start(
        onPublication: @escaping @Sendable (_ data: [UInt8], _ tags: [String: String]) -> Void,
        onEnd: @escaping @Sendable (_ failed: Bool) -> Void)
}
