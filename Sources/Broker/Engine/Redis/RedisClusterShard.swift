import Logging
import NIOCore
import NIOPosix

/// One shard of the engine that is a Redis Cluster (`engine.redis.cluster_address` entry): a pool of pipelined
/// connections per master, the slot map from `CLUSTER SLOTS`, and the redirections.
///
/// A command goes to the master of its first key's slot. `MOVED` (the slot has another master: a migration ended
/// or a replica took over) refreshes the map and retries there; `ASK` (the slot is being migrated and the key is
/// already on the target) retries once on the target after `ASKING`; `TRYAGAIN` (a multi-key command while its keys
/// are split between the two nodes of a migration) and `CLUSTERDOWN` wait and retry. A command is retried only when
/// Redis did not run it (a redirection, or a connection that could not be opened), never after a lost reply, so a
/// publish never runs twice. Retries stop after the I/O timeout.
actor RedisClusterShard {
    /// The seed addresses, with the credentials and TLS every node's connections use.
    let seeds: [RedisEndpoint]
    private let eventLoopGroup: (any EventLoopGroup)?
    private let connectTimeout: TimeAmount
    private let ioTimeout: TimeAmount
    private let poolSize: Int
    private(set) var topology: RedisClusterTopology?
    private var pools: [String: RedisShardPool] = [:]
    /// Node address → ID, for `ASK` targets that serve no slot yet.
    private var ids: [String: String] = [:]
    private var refreshing: Task<Result<RedisClusterTopology, RedisError>, Never>?
    private(set) var lastError: String?
    private let logger = Logger(label: "broker.redis")

    init(
        seeds: [RedisEndpoint], poolSize: Int, eventLoopGroup: (any EventLoopGroup)?, connectTimeout: TimeAmount, ioTimeout: TimeAmount
    ) {
        precondition(!seeds.isEmpty, "a Redis Cluster shard needs at least one seed")
        self.seeds = seeds
        self.poolSize = poolSize
        self.eventLoopGroup = eventLoopGroup
        self.connectTimeout = connectTimeout
        self.ioTimeout = ioTimeout
    }

    /// For messages and `/health`.
    nonisolated var label: String { "cluster " + seeds.map { "\($0.host):\($0.port)" }.joined(separator: ",") }

    // MARK: Topology

    /// The slot map, asking the cluster when none is known yet.
    func currentTopology() async throws(RedisError) -> RedisClusterTopology {
        if let topology { return topology }
        return try await refresh()
    }

    /// Asks the cluster for its slot map now (the masters known first, through their pools, then the seeds);
    /// concurrent callers share one question.
    @discardableResult
    func refresh() async throws(RedisError) -> RedisClusterTopology {
        let task: Task<Result<RedisClusterTopology, RedisError>, Never>
        if let running = refreshing {
            task = running
        } else {
            task = Task { await self.askSlots() }
            refreshing = task
        }
        let result = await task.value
        if refreshing == task { refreshing = nil }
        return try result.get()
    }

    private func askSlots() async -> Result<RedisClusterTopology, RedisError> {
        var failures: [String] = []
        let known = (topology?.masters ?? []).compactMap { pools[$0.address].map { pool in (pool.endpoint.host, pool) } }
        for (host, pool) in known {
            do {
                return .success(apply(try RedisClusterTopology(slotsReply: try await pool.send([Self.a("CLUSTER"), Self.a("SLOTS")]), askedHost: host)))
            } catch {
                failures.append("\(pool.endpoint.host):\(pool.endpoint.port): \(error)")
            }
        }
        for seed in seeds {
            do {
                let c = try await RedisConnection.connect(
                    host: seed.host, port: seed.port, eventLoop: (eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton).any(),
                    connectTimeout: connectTimeout, ioTimeout: ioTimeout, username: seed.username, password: seed.password,
                    tls: seed.tls)
                defer { Task { await c.close() } }
                return .success(apply(try RedisClusterTopology(slotsReply: try await c.send(["CLUSTER", "SLOTS"]), askedHost: seed.host)))
            } catch {
                failures.append("\(seed.host):\(seed.port): \(error)")
            }
        }
        let error = RedisError.connectFailed("no node of the Redis \(label) answered CLUSTER SLOTS (\(failures.joined(separator: "; ")))")
        lastError = error.description
        return .failure(error)
    }

    /// Keeps a pool per master of `t` (closing those of nodes that no longer serve slots) and makes `t` current.
    private func apply(_ t: RedisClusterTopology) -> RedisClusterTopology {
        for m in t.masters {
            ids[m.address] = m.id
            if pools[m.address] == nil { pools[m.address] = makePool(host: m.host, port: m.port) }
        }
        let serving = Set(t.masters.map(\.address))
        for (address, pool) in pools where !serving.contains(address) {
            pools[address] = nil
            Task { await pool.closeAll() }
        }
        topology = t
        lastError = t.uncovered.isEmpty ? nil : "slots \(Self.describe(t.uncovered)) have no master"
        return t
    }

    private func makePool(host: String, port: Int) -> RedisShardPool {
        var e = seeds[0]
        e.host = host
        e.port = port
        return RedisShardPool(
            endpoint: e, index: 0, size: poolSize, eventLoopGroup: eventLoopGroup, connectTimeout: connectTimeout, ioTimeout: ioTimeout)
    }

    static func describe(_ ranges: [ClosedRange<Int>]) -> String {
        ranges.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ",")
    }

    // MARK: Commands

    /// Runs `script` on the master of `keys[0]`'s slot (every key must share that slot). `tracksMaster`: append
    /// the node's identity for the history scripts (``RedisMasterIdentity/clusterNode(id:masters:)``).
    func eval(
        _ script: String, keys: [[UInt8]], args: [[UInt8]], tracksMaster: Bool, wait: (replicas: Int, timeout: Duration)?
    ) async throws(EngineError) -> RESPValue {
        try await routed(key: keys[0]) { pool, node, topology, asking throws(RedisError) in
            try await pool.eval(
                script, keys: keys, args: args,
                identity: tracksMaster ? .clusterNode(id: node.id, masters: topology.masterIDs) : nil, asking: asking, wait: wait)
        }
    }

    /// Sends one command to the master of `key`'s slot.
    func send(_ args: [[UInt8]], key: [UInt8]) async throws(EngineError) -> RESPValue {
        try await routed(key: key) { pool, _, _, asking throws(RedisError) in try await pool.send(args, asking: asking) }
    }

    private func routed(
        key: [UInt8],
        _ body: (RedisShardPool, RedisClusterNode, RedisClusterTopology, Bool) async throws(RedisError) -> RESPValue
    ) async throws(EngineError) -> RESPValue {
        let slot = RedisClusterSlots.slot(of: key)
        let deadline = ContinuousClock.now + .milliseconds(ioTimeout.nanoseconds / 1_000_000)
        var asked: RedisClusterNode?
        var failure = "no attempt"
        while true {
            do throws(RedisError) {
                let topology = try await currentTopology()
                guard let node = asked ?? topology.master(ofSlot: slot) else {
                    throw .server("CLUSTERDOWN slot \(slot) has no master in the \(label)")
                }
                let pool = pools[node.address] ?? makePool(host: node.host, port: node.port)
                if pools[node.address] == nil { pools[node.address] = pool }
                return try await body(pool, node, topology, asked != nil)
            } catch {
                failure = error.description
                asked = nil
                logger.debug("redis cluster command redirected or retried", metadata: ["slot": "\(slot)", "error": "\(error)"])
                switch RedisRedirection(error) {
                case .moved:
                    _ = try? await refresh()
                case .ask(let address):
                    asked = await node(at: address)
                case .tryAgain:
                    try? await Task.sleep(for: .milliseconds(20))
                case .clusterDown, .unreachable:
                    try? await Task.sleep(for: .milliseconds(100))
                    _ = try? await refresh()
                case nil:
                    throw .unavailable(error.description)
                }
            }
            if ContinuousClock.now >= deadline { throw .unavailable("\(failure) (gave up after the I/O timeout)") }
        }
    }

    /// The node at `address` (an `ASK` target), its ID learned with `CLUSTER MYID` when it serves no slot yet.
    private func node(at address: String) async -> RedisClusterNode? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else { return nil }
        let host = String(address[..<colon])
        if let id = ids[address] { return RedisClusterNode(host: host, port: port, id: id) }
        let pool = pools[address] ?? makePool(host: host, port: port)
        pools[address] = pool
        guard let id = try? await pool.send([Self.a("CLUSTER"), Self.a("MYID")]).string else { return nil }
        ids[address] = id
        return RedisClusterNode(host: host, port: port, id: id)
    }

    // MARK: Readers and health

    /// A new connection to the master of `slot`, for a blocking reader (no I/O timeout).
    func readerConnection(slot: Int, on group: (any EventLoopGroup)?) async throws(RedisError) -> RedisConnection {
        let topology = try await currentTopology()
        guard let node = topology.master(ofSlot: slot) else { throw .connectFailed("slot \(slot) has no master in the \(label)") }
        var e = seeds[0]
        e.host = node.host
        e.port = node.port
        return try await RedisShardPool.open(e, on: group ?? eventLoopGroup, connectTimeout: connectTimeout, ioTimeout: nil)
    }

    /// nil when every slot has a master and every master's pool is usable; otherwise what is wrong.
    func problem() async -> String? {
        guard let topology else { return lastError }
        if let lastError { return lastError }
        for m in topology.masters {
            if let pool = pools[m.address], await !pool.isHealthy {
                return "master \(m.address) unreachable: \(await pool.lastError ?? "no connection")"
            }
        }
        return nil
    }

    func closeAll() async {
        refreshing?.cancel()
        for pool in pools.values { await pool.closeAll() }
        pools = [:]
    }

    private static func a(_ s: String) -> [UInt8] { Array(s.utf8) }
}

/// What a Redis Cluster error asks the client to do.
enum RedisRedirection: Equatable {
    /// `MOVED <slot> <address>`: the slot has another master; refresh the map.
    case moved(String)
    /// `ASK <slot> <address>`: this key is already on the migration's target; ask there once, after `ASKING`.
    case ask(String)
    /// `TRYAGAIN`: a multi-key command's keys are split by a migration in progress.
    case tryAgain
    /// `CLUSTERDOWN`: the cluster cannot serve the slot now (a failover under way); `LOADING`: the node is reading
    /// its data from disk after a restart.
    case clusterDown
    /// The connection could not be opened: nothing was sent.
    case unreachable

    init?(_ error: RedisError) {
        switch error {
        case .connectFailed:
            self = .unreachable
        case .server(let message):
            let words = message.split(separator: " ")
            switch words.first {
            case "MOVED" where words.count >= 3: self = .moved(String(words[2]))
            case "ASK" where words.count >= 3: self = .ask(String(words[2]))
            case "TRYAGAIN": self = .tryAgain
            case "CLUSTERDOWN", "LOADING": self = .clusterDown
            default: return nil
            }
        default:
            return nil
        }
    }
}
