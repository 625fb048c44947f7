import NIOCore
import NIOPosix

/// Where one Redis shard lives and how to log in to it.
public struct RedisEndpoint: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var database: Int
    /// The address asked for TLS (`rediss://`).
    public var wantsTLS = false
    /// Set when the connection must use TLS.
    public var tls: RedisTLS?
    /// Set when the shard's master is found through Redis Sentinel: `host` and `port` are then only a label
    /// (the sentinels' first address) and every connection goes to the master they name.
    public var sentinel: RedisSentinel?
    /// Set when the shard is a Redis Cluster: its seed nodes (each with these credentials and TLS); `host` and
    /// `port` are then the first seed's, a label only.
    public var clusterSeeds: [RedisEndpoint] = []

    /// Where to look for this shard, for messages and `/health`.
    public var label: String {
        if !clusterSeeds.isEmpty { return "cluster " + clusterSeeds.map { "\($0.host):\($0.port)" }.joined(separator: ",") }
        return sentinel.map { "\($0)" } ?? "\(host):\(port)"
    }

    public init(host: String, port: Int = 6379, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses `redis://[user[:pass]@]host[:port][/db]`, `rediss://…` (TLS) or `host[:port]`. Credentials
    /// and database given in the address win over `defaults`.
    public static func parse(_ address: String, defaults: RedisEndpoint = RedisEndpoint(host: "127.0.0.1"))
        throws(EngineError) -> RedisEndpoint
    {
        var rest = Substring(address)
        while rest.first?.isWhitespace == true { rest = rest.dropFirst() }
        while rest.last?.isWhitespace == true { rest = rest.dropLast() }
        var e = defaults
        if rest.hasPrefix("rediss://") {
            rest = rest.dropFirst("rediss://".count)
            e.wantsTLS = true
        } else if rest.hasPrefix("redis://") {
            rest = rest.dropFirst("redis://".count)
        }
        if let at = rest.lastIndex(of: "@") {
            let creds = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = creds.firstIndex(of: ":") {
                let user = String(creds[..<colon])
                e.username = user.isEmpty ? nil : user
                e.password = String(creds[creds.index(after: colon)...])
            } else if !creds.isEmpty {
                e.password = String(creds)
            }
        }
        if let slash = rest.firstIndex(of: "/") {
            let dbText = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !dbText.isEmpty {
                guard let db = Int(dbText), db >= 0 else { throw .unavailable("redis address \(address): bad database") }
                e.database = db
            }
        }
        if let colon = rest.lastIndex(of: ":") {
            guard let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port) else {
                throw .unavailable("redis address \(address): bad port")
            }
            e.port = port
            rest = rest[..<colon]
        }
        guard !rest.isEmpty else { throw .unavailable("redis address \(address): no host") }
        e.host = String(rest)
        return e
    }
}

/// Channel → shard and channel → fan-out stream.
enum RedisSharding {
    /// FNV-1a 64 of the channel's UTF-8 bytes.
    static func fnv1a64(_ s: String) -> UInt64 {
        var h: UInt64 = 14_695_981_039_346_656_037
        for b in s.utf8 {
            h ^= UInt64(b)
            h &*= 1_099_511_628_211
        }
        return h
    }

    /// Jump consistent hash (Lamping & Veach): a bucket in 0..<buckets that moves for few keys when
    /// buckets are added.
    static func jump(_ key: UInt64, buckets: Int) -> Int {
        var k = key
        var b: Int64 = -1
        var j: Int64 = 0
        while j < Int64(buckets) {
            b = j
            k = k &* 2_862_933_555_777_941_757 &+ 1
            j = Int64(Double(b + 1) * (Double(Int64(1) << 31) / Double((k >> 33) + 1)))
        }
        return Int(b)
    }

    static func shard(of channel: String, shards: Int) -> Int {
        shards <= 1 ? 0 : jump(fnv1a64(channel), buckets: shards)
    }

    /// The fan-out stream of a channel within its shard (independent of the shard choice).
    static func stream(of channel: String, streams: Int) -> Int {
        let h = fnv1a64(channel)
        return Int((h ^ (h >> 29)) % UInt64(max(1, streams)))
    }
}

/// A few pipelined connections to one shard, used round-robin; a closed one is replaced on next use.
actor RedisShardPool {
    let endpoint: RedisEndpoint
    let index: Int
    private let eventLoopGroup: (any EventLoopGroup)?
    private let connectTimeout: TimeAmount
    private let ioTimeout: TimeAmount
    private var connections: [RedisConnection?]
    private var next = 0
    /// Script body → SHA1, filled by `SCRIPT LOAD`.
    private var shas: [String: String] = [:]
    private(set) var lastError: String?

    init(
        endpoint: RedisEndpoint, index: Int, size: Int, eventLoopGroup: (any EventLoopGroup)? = nil, connectTimeout: TimeAmount,
        ioTimeout: TimeAmount
    ) {
        self.endpoint = endpoint
        self.index = index
        self.eventLoopGroup = eventLoopGroup
        self.connectTimeout = connectTimeout
        self.ioTimeout = ioTimeout
        self.connections = Array(repeating: nil, count: max(1, size))
    }

    /// A live connection, connecting (again) when the slot's one is closed.
    func connection() async throws(RedisError) -> RedisConnection {
        let slot = next
        next = (next + 1) % connections.count
        if let c = connections[slot], c.isActive { return c }
        do {
            let c = try await Self.open(endpoint, on: eventLoopGroup, connectTimeout: connectTimeout, ioTimeout: ioTimeout)
            connections[slot] = c
            lastError = nil
            return c
        } catch {
            lastError = error.description
            throw error
        }
    }

    /// True when at least one connection is open (or none was needed yet and the last attempt did not fail).
    var isHealthy: Bool {
        connections.contains { $0?.isActive == true } || (lastError == nil && connections.allSatisfy { $0 == nil })
    }

    /// `group`: where the connection lives (nil: NIO's shared group). Through Sentinel: to the master the
    /// sentinels name, which must say it is the master (`ROLE`); otherwise the sentinels are asked again next time.
    static func open(_ e: RedisEndpoint, on group: (any EventLoopGroup)?, connectTimeout: TimeAmount, ioTimeout: TimeAmount?)
        async throws(RedisError) -> RedisConnection
    {
        var host = e.host
        var port = e.port
        if let sentinel = e.sentinel {
            let master = try await sentinel.master(group: group, connectTimeout: connectTimeout, ioTimeout: ioTimeout ?? connectTimeout)
            host = master.host
            port = master.port
        }
        let c: RedisConnection
        do {
            c = try await RedisConnection.connect(
                host: host, port: port, eventLoop: (group ?? MultiThreadedEventLoopGroup.singleton).any(),
                connectTimeout: connectTimeout, ioTimeout: ioTimeout,
                username: e.username, password: e.password, database: e.database, tls: e.tls)
        } catch {
            e.sentinel?.invalidate()
            throw error
        }
        guard let sentinel = e.sentinel else { return c }
        let role: RESPValue
        do {
            role = try await c.send(["ROLE"])
        } catch {
            await c.close()
            sentinel.invalidate()
            throw error
        }
        guard role.elements?.first?.string == "master" else {
            await c.close()
            sentinel.invalidate()
            throw .connectFailed("redis at \(host):\(port) is not the master of the \(sentinel) (ROLE: \(role.elements?.first?.string ?? "?"))")
        }
        return c
    }

    func sha(for script: String) -> String? { shas[script] }
    func setSHA(_ sha: String, for script: String) { shas[script] = sha }

    func closeAll() async {
        for c in connections { await c?.close() }
        connections = connections.map { _ in nil }
    }

    /// Runs `script` with EVALSHA (loading it first when its SHA is unknown), falling back to EVAL on
    /// NOSCRIPT. Errors come back as Redis gave them (a cluster router needs MOVED and ASK as they are).
    ///
    /// `identity`: for the history scripts, which master they run on (see ``RedisMasterIdentity``); nil for the others.
    ///
    /// `asking`: send `ASKING` first, on the same connection (a Redis Cluster `ASK` redirection to this node).
    ///
    /// `wait`: after the script, `WAIT` on the same connection until that many replicas have its writes (or the
    /// timeout passes, which fails the call: the writes are on the master but might not survive a failover).
    func eval(
        _ script: String, keys: [[UInt8]], args: [[UInt8]], identity: RedisMasterIdentity? = nil, asking: Bool = false,
        wait: (replicas: Int, timeout: Duration)? = nil
    ) async throws(RedisError) -> RESPValue {
        let c = try await connection()
        let tail = [Array(String(keys.count).utf8)] + keys + args + (identity?.arguments(connection: c) ?? [])
        let reply = try await evalOnce(script, tail: tail, asking: asking, on: c)
        guard let wait, wait.replicas > 0 else { return reply }
        let acknowledged = try await c.send(["WAIT", String(wait.replicas), String(max(1, wait.timeout.milliseconds))])
        guard case .integer(let n) = acknowledged, n >= wait.replicas else {
            throw .server(
                "redis at \(c.address): the write reached \(acknowledged) of \(wait.replicas) replicas within "
                    + "\(wait.timeout) (engine.redis.wait_replicas)")
        }
        return reply
    }

    private func evalOnce(_ script: String, tail: [[UInt8]], asking: Bool, on c: RedisConnection) async throws(RedisError)
        -> RESPValue
    {
        var sha = shas[script]
        if sha == nil {
            sha = try await c.send(["SCRIPT", "LOAD", script]).string
            if let sha { shas[script] = sha }
        }
        if let sha {
            do {
                return try await send([Array("EVALSHA".utf8), Array(sha.utf8)] + tail, asking: asking, on: c)
            } catch .server(let message) where message.hasPrefix("NOSCRIPT") {
                shas[script] = nil
            }
        }
        return try await send([Array("EVAL".utf8), Array(script.utf8)] + tail, asking: asking, on: c)
    }

    private func send(_ command: [[UInt8]], asking: Bool, on c: RedisConnection) async throws(RedisError) -> RESPValue {
        guard asking else { return try await c.send(bytes: command) }
        let replies = try await c.pipeline([[Array("ASKING".utf8)], command])
        if case .error(let message) = replies[1] { throw .server(message) }
        return replies[1]
    }

    func send(_ args: [[UInt8]], asking: Bool = false) async throws(RedisError) -> RESPValue {
        try await send(args, asking: asking, on: try await connection())
    }
}

/// What a history script is told about the master it runs on, so that a stream last written under another master
/// gets a new epoch (see ``RedisEngineScripts/publish``). Two arguments: the master's identity, and the identities
/// a stream may have been written under without a failover in between ("" unless in a cluster).
enum RedisMasterIdentity: Sendable {
    /// A standalone server: not tracked ("", "").
    case standalone
    /// Through Sentinel: the address of the master the connection reached.
    case connectionAddress
    /// In a cluster: the node's ID, and the IDs of every master now serving slots (a stream written under one of
    /// them came by a slot migration, with its data).
    case clusterNode(id: String, masters: String)

    func arguments(connection c: RedisConnection) -> [[UInt8]] {
        switch self {
        case .standalone: [[], []]
        case .connectionAddress: [Array(c.address.utf8), []]
        case .clusterNode(let id, let masters): [Array(id.utf8), Array(masters.utf8)]
        }
    }
}
