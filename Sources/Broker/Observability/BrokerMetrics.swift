import Metrics
import Synchronization

/// The broker's metrics, with Centrifugo's names so existing dashboards keep working.
///
/// Hot-path counters are bumped once per batch (per fan-out task), not once per frame.
public struct BrokerMetrics: Sendable {
    public let connections: Meter
    public let subscriptions: Meter
    public let connectsTotal: Counter
    public let disconnectsTotal: Counter
    public let commandsTotal: Counter
    public let messagesSent: Counter
    public let messagesReceived: Counter
    public let publicationsPublished: Counter
    public let apiRequests: Counter
    public let apiErrors: Counter
    public let clientErrors: Counter
    /// Pushes deflated for permessage-deflate subscribers: once per push and frame form, however many
    /// subscribers receive it (see ``PreparedPush``).
    public let compressedPushes: Counter
    /// Readable totals behind the console's and `info`'s messages per second (swift-metrics' counters
    /// are write-only).
    public let traffic = TrafficCounters()

    public init() {
        connections = Meter(label: "centrifugo_node_num_clients")
        subscriptions = Meter(label: "centrifugo_node_num_subscriptions")
        connectsTotal = Counter(label: "centrifugo_client_num_connect")
        disconnectsTotal = Counter(label: "centrifugo_client_num_disconnect")
        commandsTotal = Counter(label: "centrifugo_client_num_commands")
        messagesSent = Counter(label: "centrifugo_node_messages_sent_count")
        messagesReceived = Counter(label: "centrifugo_transport_messages_received")
        publicationsPublished = Counter(label: "centrifugo_node_messages_published")
        apiRequests = Counter(label: "centrifugo_api_num_requests")
        apiErrors = Counter(label: "centrifugo_api_num_errors")
        clientErrors = Counter(label: "centrifugo_client_num_reply_errors")
        compressedPushes = Counter(label: "broker_websocket_compressed_pushes_total")
    }

    /// `n` messages went out to clients (counted once per fan-out batch).
    func sent(_ n: Int) {
        messagesSent.increment(by: n)
        traffic.sent.add(n, ordering: .relaxed)
    }

    /// A message came in from a client.
    func received() {
        messagesReceived.increment()
        traffic.received.add(1, ordering: .relaxed)
    }

    /// One gauge per engine shard: 1 while it can serve, 0 while not.
    public func record(_ health: EngineHealth) {
        for (i, shard) in health.shards.enumerated() {
            Gauge(label: "broker_engine_shard_up", dimensions: [("shard", String(i)), ("address", shard.address)])
                .record(shard.up ? 1 : 0)
        }
    }
}

/// Messages in and out since the node started.
public final class TrafficCounters: Sendable {
    let sent = Atomic<Int>(0)
    let received = Atomic<Int>(0)

    public var messagesSent: Int { sent.load(ordering: .relaxed) }
    public var messagesReceived: Int { received.load(ordering: .relaxed) }
}
