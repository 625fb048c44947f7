import BrokerProtocol
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The broker's rules and shared state: config, channel rules, token verifiers, engine and hub.
///
/// Sessions and the server API ask the node; the node asks the engine. Nothing here knows which
/// transport a client used or which engine runs underneath.
public final class Node: Sendable {
    public static let version = "6.9.1-swift"

    public let config: BrokerConfig
    /// The rule path: every decision on what a client may do (see ``ClientRules``).
    public let clientRules: ClientRules
    /// Channel name resolution (the rule path's own).
    public var rules: ChannelRules { clientRules.channels }
    public let engine: any PubSubEngine
    /// The engine, when it publishes without waiting (found once here, not cast per request).
    public let immediatePublisher: (any ImmediatePublishing)?
    public let presenceEngine: any PresenceEngine
    public let hub: Hub
    public let connectionTokens: TokenVerifier
    public let subscriptionTokens: TokenVerifier
    /// The application backends asked by the connect, refresh, subscribe, publish, sub_refresh and RPC proxies.
    let proxies: ProxyDirectory
    public let clock: BrokerClock
    public let logger: Logger
    public let metrics: BrokerMetrics
    public let id: String
    public let name: String
    public let startedAt: Int64

    private let clientCount = NIOLockedValueBox(0)
    private let userConnections = NIOLockedValueBox([String: Int]())
    private let draining = NIOLockedValueBox(false)
    /// Other nodes heard through the control channel.
    let nodes = NodeRegistry(maxAgeMillis: 3 * Node.heartbeatInterval.milliseconds + 1_000)
    let surveys = SurveyCollector()
    let heartbeat = NIOLockedValueBox<Task<Void, Never>?>(nil)
    let trafficRates = TrafficRates()

    public init(
        config: BrokerConfig, engine: any PubSubEngine & PresenceEngine, eventLoops: [any EventLoop],
        clock: BrokerClock = .system, logger: Logger = Logger(label: "broker")
    ) throws(ConfigError) {
        self.config = config
        self.clientRules = ClientRules(config: config)
        self.engine = engine
        self.immediatePublisher = engine as? any ImmediatePublishing
        self.presenceEngine = engine
        self.clock = clock
        self.logger = logger
        self.metrics = BrokerMetrics()
        self.connectionTokens = try TokenVerifier(
            config: config.client.token, configKeyPrefix: "client.token",
            skipSignatureVerify: config.client.insecureSkipTokenSignatureVerify)
        if config.client.subscriptionToken.enabled {
            self.subscriptionTokens = try TokenVerifier(
                config: config.client.subscriptionToken.token, configKeyPrefix: "client.subscription_token",
                skipSignatureVerify: config.client.insecureSkipTokenSignatureVerify)
        } else {
            self.subscriptionTokens = connectionTokens
        }
        do {
            self.proxies = try ProxyDirectory(config: config)
        } catch {
            throw ConfigError(key: error.key, message: error.message)
        }
        self.id = UUID().uuidString.lowercased()
        let host = ProcessInfo.processInfo.hostName
        self.name = config.node.name.isEmpty ? "\(host)_\(config.httpServer.port)" : config.node.name
        self.startedAt = clock.nowMillis()
        // An engine that delivers everything (the memory engine) needs no subscription interest.
        // Other engines are told through a serial reconciler that re-reads the hub, so interest changes
        // that race each other still end in the hub's current state.
        if !engine.needsSubscriptions {
            self.hub = Hub(eventLoops: eventLoops, metrics: metrics, interestChanged: nil)
        } else {
            let reconciler = EngineInterest(engine: engine)
            self.hub = Hub(eventLoops: eventLoops, metrics: metrics, interestChanged: { channel, _ in
                Task { await reconciler.sync(channel) }
            })
            reconciler.hub = hub
        }
        hub.setControlReceiver { [weak self] message in self?.handleControl(message) }
    }

    /// Starts the engine's delivery and the per-loop timers.
    public func start() async throws {
        try await engine.start(sink: hub)
        startHeartbeat()
        let clock = self.clock
        for loopHub in hub.loops {
            loopHub.eventLoop.execute {
                loopHub.startTicker(interval: .seconds(1), now: clock.nowMillis)
            }
        }
    }

    public var isDraining: Bool { draining.withLockedValue { $0 } }

    // MARK: Connection accounting

    /// Reserves a slot for a connected client; false when `client.connection_limit` or
    /// `client.user_connection_limit` would be exceeded.
    func admit(user: String) -> Bool {
        let limit = config.client.connectionLimit
        let ok = clientCount.withLockedValue { n -> Bool in
            if limit > 0 && n >= limit { return false }
            n += 1
            return true
        }
        if !ok { return false }
        let userLimit = config.client.userConnectionLimit
        let userOK = userConnections.withLockedValue { map -> Bool in
            let n = map[user] ?? 0
            if userLimit > 0 && !user.isEmpty && n >= userLimit { return false }
            map[user] = n + 1
            return true
        }
        if !userOK {
            clientCount.withLockedValue { $0 -= 1 }
            return false
        }
        metrics.connections.set(numClients)
        return true
    }

    func release(user: String) {
        clientCount.withLockedValue { $0 -= 1 }
        userConnections.withLockedValue { map in
            let n = (map[user] ?? 1) - 1
            map[user] = n <= 0 ? nil : n
        }
        metrics.connections.set(numClients)
    }

    public var numClients: Int { clientCount.withLockedValue { $0 } }
    public var numUsers: Int { userConnections.withLockedValue { $0.count } }

    // MARK: Shutdown

    /// Disconnects every client with `disconnect` (3001 shutdown by default) and stops the timers.
    public func shutdown(disconnect: Disconnect = .shutdown) async {
        draining.withLockedValue { $0 = true }
        await stopHeartbeat()
        var futures: [EventLoopFuture<Void>] = []
        for loopHub in hub.loops {
            futures.append(
                loopHub.eventLoop.submit {
                    loopHub.stopTicker()
                    for s in Array(loopHub.allSessions) { s.close(disconnect) }
                })
        }
        for f in futures { try? await f.get() }
        await proxies.shutdown()
    }

    // MARK: Acting on connections (server API)

    /// Runs `body` on every event loop with the sessions of `user` there; returns how many were found.
    func forEachSession(ofUser user: String, _ body: @escaping @Sendable (ClientSession) -> Void) async -> Int {
        var futures: [EventLoopFuture<Int>] = []
        for loopHub in hub.loops {
            futures.append(
                loopHub.eventLoop.submit {
                    let sessions = loopHub.sessions(ofUser: user)
                    for s in sessions { body(s) }
                    return sessions.count
                })
        }
        var n = 0
        for f in futures { n += (try? await f.get()) ?? 0 }
        return n
    }

    /// Subscriber counts per channel, summed over the loops.
    func channelCounts() async -> [String: Int] {
        var futures: [EventLoopFuture<[String: Int]>] = []
        for loopHub in hub.loops {
            futures.append(loopHub.eventLoop.submit { loopHub.channelCounts() })
        }
        var total: [String: Int] = [:]
        for f in futures {
            for (k, v) in (try? await f.get()) ?? [:] { total[k, default: 0] += v }
        }
        return total
    }
}
