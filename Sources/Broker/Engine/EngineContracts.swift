import BrokerProtocol

/// How a publication is stored: history size and TTLs come from the channel's namespace.
public struct PublishOptions: Sendable, Equatable {
    public var historySize: Int = 0
    public var historyTTL: Duration = .zero
    public var historyMetaTTL: Duration = .seconds(720 * 3600)
    /// Fan out only, do not append to history.
    public var skipHistory = false
    /// A repeated publish with the same key (per channel) within `idempotentResultTTL` is not published again:
    /// the first result is returned.
    public var idempotencyKey: String = ""
    public var idempotentResultTTL: Duration = .seconds(300)

    public init() {}

    public var keepsHistory: Bool { !skipHistory && historySize > 0 && historyTTL > .zero }
}

public struct PublishResult: Sendable, Equatable {
    /// The publication's place in the stream; nil when the channel keeps no history.
    public var position: StreamPosition?
    /// True when an idempotency key matched an earlier publish and nothing was published.
    public var fromCache: Bool

    public init(position: StreamPosition?, fromCache: Bool = false) {
        self.position = position
        self.fromCache = fromCache
    }
}

/// What to read from a channel's history.
public struct HistoryQuery: Sendable, Equatable {
    /// Forward: offsets > since.offset; reverse: offsets < since.offset. A non-empty epoch must match (else 112).
    public var since: StreamPosition?
    /// 0: only the stream top; < 0: everything; N: at most N.
    public var limit: Int
    public var reverse: Bool
    public var metaTTL: Duration

    public init(since: StreamPosition? = nil, limit: Int = 0, reverse: Bool = false, metaTTL: Duration = .seconds(720 * 3600)) {
        self.since = since
        self.limit = limit
        self.reverse = reverse
        self.metaTTL = metaTTL
    }
}

/// Failures an engine reports. The callers map them to protocol codes (112, or 100 internal).
public enum EngineError: Error, Sendable, Equatable {
    /// `since.epoch` is not the stream's current epoch.
    case unrecoverablePosition
    /// `reverse` with `since.offset == 0`.
    case badRequest
    /// The engine cannot serve right now (e.g. Redis down).
    case unavailable(String)
}

/// Receives what the engine delivers to this node: every publication, join and leave
/// of the channels this node subscribed to, in stream order per channel.
public protocol EngineEventSink: AnyObject, Sendable {
    /// `epoch` is the stream's epoch at publish time ("" without history).
    func handlePublication(channel: String, publication: Publication, epoch: String)
    func handleJoin(channel: String, info: ClientInfo)
    func handleLeave(channel: String, info: ClientInfo)
    /// The engine could not deliver everything published to these channels (e.g. Redis lost a fan-out
    /// stream): their positioned subscribers must recover from history.
    func handlePositionLost(channels: [String])
    /// A node-to-node control message (see ``ControlMessage``), published by any node, this one included.
    func handleControl(_ message: [UInt8])
}

/// Publish/subscribe and history: the seam between one node and many.
///
/// Contract: `publish` appends to the channel's history (when options keep history) and hands the
/// publication to the sink of every node subscribed to the channel, atomically per channel, so that
/// every node sees a channel's publications in offset order and a publication acknowledged to the
/// publisher is already in history. A lost stream (meta expired or removed) starts again at offset 1
/// under a new epoch, never silently reusing the old one.
public protocol PubSubEngine: Sendable {
    /// Called once before anything else, with the receiver of this node's deliveries.
    func start(sink: any EngineEventSink) async throws
    /// This node now has subscribers on `channel` (first one) / no longer has any.
    func subscribe(channel: String) async throws
    func unsubscribe(channel: String) async throws
    func publish(channel: String, publication: Publication, options: PublishOptions) async throws -> PublishResult
    func publishJoin(channel: String, info: ClientInfo) async throws
    func publishLeave(channel: String, info: ClientInfo) async throws
    /// The publications selected by `query` and the stream's current top position.
    func history(channel: String, query: HistoryQuery) async throws -> HistoryResult
    /// Removes the publications; the meta (epoch and top offset) is kept.
    func removeHistory(channel: String) async throws
    /// Releases resources; no delivery happens after it returns.
    func shutdown() async
    /// Whether deliveries depend on `subscribe(channel:)`/`unsubscribe(channel:)` (false when the engine
    /// hands every publication to the sink anyway, as the in-process memory engine does).
    var needsSubscriptions: Bool { get }
    /// Whether the engine can serve, per part (e.g. per Redis shard); `/health` and the metrics report it.
    func health() async -> EngineHealth
    /// Hands `message` to the sink of every node sharing this engine, this one included. Best effort:
    /// control messages carry server-API actions, heartbeats and surveys, never publications.
    func publishControl(_ message: [UInt8]) async throws
}

/// An engine whose `publish` never waits (the in-process memory engine): the server API answers a
/// publish on the event loop that read it, without a task.
public protocol ImmediatePublishing: Sendable {
    func publishImmediately(channel: String, publication: Publication, options: PublishOptions) throws -> PublishResult
}

/// One channel of a broadcast: the publication for it and the channel's options.
public struct BroadcastItem: Sendable {
    public var channel: String
    public var publication: Publication
    public var options: PublishOptions

    public init(channel: String, publication: Publication, options: PublishOptions) {
        self.channel = channel
        self.publication = publication
        self.options = options
    }
}

/// An engine that publishes to many channels at once in fewer round trips than one per channel (Redis: one
/// script per fan-out stream touched). Each channel's result is its own: one failing does not fail the others.
public protocol BroadcastPublishing: Sendable {
    func publish(broadcast items: [BroadcastItem]) async -> [Result<PublishResult, EngineError>]
}

/// Who is subscribed to a channel, across all nodes.
public protocol PresenceEngine: Sendable {
    func addPresence(channel: String, info: ClientInfo, ttl: Duration) async throws
    func removePresence(channel: String, clientID: String, user: String) async throws
    /// Client ID → info.
    func presence(channel: String) async throws -> [String: ClientInfo]
    func presenceStats(channel: String) async throws -> PresenceStats
}

/// The engine's state as `/health` and the metrics show it.
public struct EngineHealth: Sendable, Equatable {
    public struct Shard: Sendable, Equatable {
        /// `host:port` of the shard's server.
        public var address: String
        public var up: Bool
        /// Why it is down, when known.
        public var error: String?

        public init(address: String, up: Bool, error: String? = nil) {
            self.address = address
            self.up = up
            self.error = error
        }
    }

    /// Empty for an in-process engine, which is always up.
    public var shards: [Shard]

    public init(shards: [Shard] = []) {
        self.shards = shards
    }

    public var isHealthy: Bool { shards.allSatisfy(\.up) }
}

extension PubSubEngine {
    /// False while the engine cannot serve (e.g. a Redis shard is unreachable).
    public func isHealthy() async -> Bool { await health().isHealthy }
}
