import Metrics

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
    }

    /// One gauge per engine shard: 1 while it can serve, 0 while not.
    public func record(_ health: EngineHealth) {
        for (i, shard) in health.shards.enumerated() {
            Gauge(label: "broker_engine_shard_up", dimensions: [("shard", String(i)), ("address", shard.address)])
                .record(shard.up ? 1 : 0)
        }
    }
}
