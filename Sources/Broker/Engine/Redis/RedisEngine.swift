import BrokerProtocol
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore

/// The multi-node engine: history, idempotency results and presence live in Redis, and every node
/// receives the publications, joins and leaves of its subscribed channels through Redis streams.
///
/// Layout and atomicity: see ``RedisEngineScripts``. A channel belongs to one shard (jump consistent
/// hash over FNV-1a 64 of its name); within the shard it maps to one of `fanoutStreams` fan-out streams.
/// Publishing is one Lua script that appends to history and XADDs the delivery to the channel's fan-out
/// stream, so every node reads a channel's deliveries in offset order. Each node runs one reader per shard
/// (`XREAD BLOCK` over all the shard's fan-out streams, on a dedicated connection) that hands entries of
/// subscribed channels to the sink, and remembers the last entry ID and sequence number of every stream.
///
/// After a dropped connection the reader reconnects with backoff and resumes after the last ID. When it
/// cannot be sure it saw everything (a sequence number jumped: the stream was trimmed past its position, or
/// Redis lost the data, e.g. FLUSHALL or a restart without persistence) it reports the subscribed channels
/// of that stream to the sink (`handlePositionLost`), which makes those channels' subscribers recover.
///
/// Expiry follows the injected clock (expire-at times are stored as data and checked by the scripts), with
/// Redis TTLs as well so that Redis frees what nobody reads.
public final class RedisEngine: PubSubEngine, PresenceEngine, Sendable {
    /// Tuning; the defaults suit production.
    public struct Options: Sendable {
        /// Fan-out streams per shard; a channel's deliveries all go through one of them.
        public var fanoutStreams = 16
        /// Approximate MAXLEN of each fan-out stream: how far a disconnected reader can fall behind
        /// before it loses its position.
        public var fanoutMaxLength = 100_000
        /// Connections per shard for commands (pipelined, round-robin).
        public var poolSize = 2
        public var connectTimeout: Duration = .seconds(1)
        public var ioTimeout: Duration = .seconds(4)
        /// How long one `XREAD` blocks; also the period of the reader's check for lost streams.
        public var readBlock: Duration = .seconds(1)
        public var readCount = 512
        /// Approximate MAXLEN of the control stream.
        public var controlMaxLength = 10_000
        /// The longest pause between reconnect attempts of a reader.
        public var maxReconnectDelay: Duration = .seconds(2)
        /// How often the sentinels are asked which server is the master (Sentinel shards only). A failover is
        /// followed within this period, even while the old master still accepts connections and writes.
        public var sentinelPoll: Duration = .milliseconds(100)
        /// How often a cluster is asked for its slot map (`CLUSTER SLOTS`; cluster shards only), besides after every
        /// redirection: a reader whose slot moved leaves the old master within this period.
        public var clusterPoll: Duration = .seconds(1)
        /// How long a fan-out reader may be reconnecting before `/health` says its shard is down (a dead server shows
        /// at once through the command connections).
        public var readerGrace: Duration = .seconds(1)
        /// A publish is acknowledged only once this many replicas have it (`WAIT`), so that it survives a failover;
        /// 0 (the default, as in Centrifugo) acknowledges it once the master has it.
        public var waitReplicas = 0
        /// How long a publish waits for `waitReplicas` before it fails.
        public var waitTimeout: Duration = .seconds(1)
        /// Where the connections live: the broker passes its own event loops, so that a publish read on a loop
        /// is sent and answered there without a thread hop. nil: NIO's shared group.
        public var eventLoopGroup: (any EventLoopGroup)?

        public init() {}
    }

    struct Cursor: Sendable, Equatable {
        var id: String
        var seq: UInt64
    }

    /// The fan-out streams one blocking reader reads (`XREAD` over several keys needs them on one server, and in a
    /// cluster in one slot): a server's streams all together, a cluster's one by one.
    struct ReaderGroup: Sendable {
        var shard: Int
        var streams: [Int]
        /// The slot of the group's stream, in a cluster.
        var slot: Int?
        /// The first group also reads the control stream.
        var readsControl: Bool
    }

    private struct State {
        var sink: (any EngineEventSink)?
        var subscribed: Set<String> = []
        var stopped = false
        var started = false
        var readers: [Task<Void, Never>] = []
        /// Group index → its reader's connection.
        var readerConnections: [Int: RedisConnection] = [:]
        /// Group index → when its reader lost its connection (cleared once it has a new one).
        var readerDownSince: [Int: ContinuousClock.Instant] = [:]
    }

    public let prefix: String
    public let endpoints: [RedisEndpoint]
    let options: Options
    let shards: [RedisShard]
    let groups: [ReaderGroup]
    /// The hash tag of each fan-out stream in a cluster: a channel's keys carry its stream's tag, so that its
    /// history, meta, idempotency results, presence and its stream share a slot (one script touches them all).
    private let tags: [String]
    let clock: BrokerClock
    let epochSource: @Sendable () -> String
    private let state: NIOLockedValueBox<State>

    /// Nothing connects until `start` (or the first command).
    ///
    /// - Parameters:
    ///   - endpoints: one per shard, in a fixed order (the order decides the channel → shard mapping).
    ///   - prefix: the first part of every key; nodes sharing channels must use the same prefix.
    public init(
        endpoints: [RedisEndpoint], prefix: String, clock: BrokerClock = .system, options: Options = Options(),
        epochSource: @escaping @Sendable () -> String = MemoryEngine.randomEpoch
    ) {
        precondition(!endpoints.isEmpty, "RedisEngine needs at least one endpoint")
        self.endpoints = endpoints
        self.prefix = prefix
        self.clock = clock
        self.options = options
        self.epochSource = epochSource
        self.shards = endpoints.enumerated().map { i, e in
            if !e.clusterSeeds.isEmpty {
                return .cluster(
                    RedisClusterShard(
                        seeds: e.clusterSeeds, poolSize: options.poolSize, eventLoopGroup: options.eventLoopGroup,
                        connectTimeout: options.connectTimeout.timeAmount, ioTimeout: options.ioTimeout.timeAmount))
            }
            return .server(
                RedisShardPool(
                    endpoint: e, index: i, size: options.poolSize, eventLoopGroup: options.eventLoopGroup,
                    connectTimeout: options.connectTimeout.timeAmount, ioTimeout: options.ioTimeout.timeAmount))
        }
        let tags = RedisClusterSlots.spreadTags(options.fanoutStreams)
        self.tags = tags
        var groups: [ReaderGroup] = []
        for (shard, e) in endpoints.enumerated() {
            if e.clusterSeeds.isEmpty {
                groups.append(ReaderGroup(shard: shard, streams: Array(0..<options.fanoutStreams), slot: nil, readsControl: shard == 0))
            } else {
                for k in 0..<options.fanoutStreams {
                    groups.append(
                        ReaderGroup(shard: shard, streams: [k], slot: RedisClusterSlots.slot(of: tags[k]), readsControl: shard == 0 && k == 0))
                }
            }
        }
        self.groups = groups
        self.state = NIOLockedValueBox(State())
    }


    public var needsSubscriptions: Bool { true }

    /// A shard is up when it has a live command connection (or has not needed one yet) and, once started, its
    /// fan-out readers are connected; a cluster, when besides every slot has a master.
    public func health() async -> EngineHealth {
        let (started, readers, downSince) = state.withLockedValue { ($0.started, $0.readerConnections, $0.readerDownSince) }
        // A reader that lost its connection moments ago is most often following a slot that moved: not down yet.
        let now = ContinuousClock.now
        let down = { (g: Int) in
            readers[g]?.isActive != true && downSince[g].map { now - $0 > self.options.readerGrace } != false
        }
        var out: [EngineHealth.Shard] = []
        for (i, shard) in shards.enumerated() {
            let e = endpoints[i]
            var problem: String?
            switch shard {
            case .server(let pool):
                if await !pool.isHealthy { problem = await pool.lastError ?? "unreachable" }
            case .cluster(let cluster):
                problem = await cluster.problem()
            }
            if problem == nil, started,
                let g = groups.indices.first(where: { groups[$0].shard == i && down($0) })
            {
                problem = groups[g].slot.map { "fan-out reader of slot \($0) not connected" } ?? "fan-out reader not connected"
            }
            let address = e.sentinel.map { "\($0) at \($0.current?.description ?? "(none)")" } ?? e.label
            out.append(EngineHealth.Shard(address: address, up: problem == nil, error: problem))
        }
        return EngineHealth(shards: out)
    }

    // MARK: Keys

    private func key(_ parts: String...) -> [UInt8] { Array((prefix + "." + parts.joined(separator: ".")).utf8) }
    /// Where `channel`'s keys start (its shard and fan-out stream computed once): `P.` on a server, `P.{t}.` in a
    /// cluster, where the hash tag of the channel's fan-out stream puts all its keys in that stream's slot.
    func keyPrefix(shard: Int, stream k: Int) -> String {
        shards[shard].isCluster ? prefix + ".{" + tags[k] + "}." : prefix + "."
    }
    private func keyPrefix(_ channel: String) -> String { keyPrefix(shard: shardIndex(channel), stream: fanoutIndex(channel)) }
    static func key(_ keyPrefix: String, _ parts: String...) -> [UInt8] {
        Array((keyPrefix + parts.joined(separator: ".")).utf8)
    }
    /// A channel's history keys: its meta, then its stream.
    private func historyKeys(_ ch: String) -> [[UInt8]] {
        let p = keyPrefix(ch)
        return [Self.key(p, "stream", "meta", ch), Self.key(p, "stream", ch)]
    }
    private func presenceKeys(_ ch: String) -> [[UInt8]] {
        let p = keyPrefix(ch)
        return [Self.key(p, "presence", "data", ch), Self.key(p, "presence", "expire", ch)]
    }
    func fanoutKey(shard: Int, stream k: Int) -> [UInt8] {
        shards[shard].isCluster ? key("{" + tags[k] + "}", "fanout") : key("fanout", String(shard), String(k))
    }
    func seqKey(shard: Int, stream k: Int) -> [UInt8] {
        shards[shard].isCluster ? key("{" + tags[k] + "}", "fanout", "seq") : key("fanout", String(shard), String(k), "seq")
    }
    /// Node-to-node control messages: one stream, on the first shard (in a cluster, in the slot of its first fan-out
    /// stream), read by every node's first reader.
    private var controlKey: [UInt8] { shards[0].isCluster ? key("{" + tags[0] + "}", "control") : key("control") }

    func shardIndex(_ channel: String) -> Int { RedisSharding.shard(of: channel, shards: shards.count) }
    func fanoutIndex(_ channel: String) -> Int { RedisSharding.stream(of: channel, streams: options.fanoutStreams) }

    static func a(_ s: String) -> [UInt8] { Array(s.utf8) }
    static func ms(_ d: Duration) -> String { String(max(1, d.milliseconds)) }

    // MARK: Lifecycle

    /// Connects to every shard, notes the current end of every fan-out stream and starts the readers:
    /// deliveries appended after `start` returns reach the sink (for subscribed channels).
    public func start(sink: any EngineEventSink) async throws {
        try await start(sink: sink, from: nil)
    }

    /// `start`, with the readers starting from `initial` cursors (one array per reader group, see ``groups``)
    /// instead of the streams' current ends: for tests that need a reader which fell behind.
    func start(sink: any EngineEventSink, from given: [[Cursor]]?) async throws {
        state.withLockedValue { $0.sink = sink }
        var initial: [[Cursor]] = []
        if let given {
            initial = given
        } else {
            for group in groups.indices {
                initial.append(try await cursors(group: group, via: nil))
            }
        }
        let controlStart = try await controlCursor()
        let tasks = groups.indices.map { group in
            // With the broker's loops, each reader and its connection share one loop: a reply is read,
            // processed and handed to the hub there, without a hop to Swift's global executor and back.
            let loop = options.eventLoopGroup?.next()
            let read: @Sendable () async -> Void = { [initial, groups] in
                await self.runReader(
                    group: group, cursors: initial[group], control: groups[group].readsControl ? controlStart : nil, on: loop)
            }
            return loop.map { Task(executorPreference: EventLoopTaskExecutor(eventLoop: $0), operation: read) } ?? Task(operation: read)
        }
        let watchers = shards.indices.compactMap { shard -> Task<Void, Never>? in
            if let sentinel = endpoints[shard].sentinel { return Task { await self.followMaster(of: sentinel, shard: shard) } }
            if case .cluster(let cluster) = shards[shard] { return Task { await self.followSlots(of: cluster, shard: shard) } }
            return nil
        }
        state.withLockedValue {
            $0.readers = tasks + watchers
            $0.started = true
        }
    }

    /// Asks the shard's sentinels for the master every `sentinelPoll`; when they name another one, every command
    /// connection and the fan-out reader leave the old master and reconnect to the new one. The reader then
    /// compares sequence numbers, so what the new master lacks is reported, never skipped silently.
    private func followMaster(of sentinel: RedisSentinel, shard: Int) async {
        let logger = Logger(label: "broker.redis")
        await repeatedly(every: options.sentinelPoll) {
            guard let (master, changed) = try? await sentinel.refresh(
                group: options.eventLoopGroup, connectTimeout: options.connectTimeout.timeAmount,
                ioTimeout: options.ioTimeout.timeAmount), changed
            else { return }
            logger.warning("redis master changed", metadata: ["shard": "\(shard)", "master": "\(master)", "sentinels": "\(sentinel)"])
            await shards[shard].closeAll()
            await closeReaders { groups[$0].shard == shard }
        }
    }

    /// Asks the cluster for its slot map every `clusterPoll`; a reader whose slot is now served by another master
    /// (a failover, or a migration) leaves the old one and resumes from its position on the new one, comparing
    /// sequence numbers as after any reconnect.
    private func followSlots(of cluster: RedisClusterShard, shard: Int) async {
        let logger = Logger(label: "broker.redis")
        await repeatedly(every: options.clusterPoll) {
            guard let topology = try? await cluster.refresh() else { return }
            let stale = state.withLockedValue { s in
                groups.indices.filter { g in
                    guard groups[g].shard == shard, let slot = groups[g].slot, let c = s.readerConnections[g], c.isActive else {
                        return false
                    }
                    return topology.master(ofSlot: slot)?.address != c.address
                }
            }
            if stale.isEmpty { return }
            logger.warning(
                "redis cluster slots moved", metadata: ["shard": "\(shard)", "readers": "\(stale.count)", "cluster": "\(cluster.label)"])
            await closeReaders { stale.contains($0) }
        }
    }

    /// Runs `body` every `period` until the engine stops (or the task is cancelled).
    private func repeatedly(every period: Duration, _ body: () async -> Void) async {
        while !isStopped {
            do {
                try await Task.sleep(for: period)
            } catch {
                return
            }
            await body()
        }
    }

    private func closeReaders(where belongs: (Int) -> Bool) async {
        let connections = state.withLockedValue { s in s.readerConnections.filter { belongs($0.key) }.map(\.value) }
        for c in connections { await c.close() }
    }

    public func subscribe(channel: String) async throws {
        state.withLockedValue { _ = $0.subscribed.insert(channel) }
    }

    public func unsubscribe(channel: String) async throws {
        state.withLockedValue { _ = $0.subscribed.remove(channel) }
    }

    /// Stops the readers and closes every connection; nothing is delivered after it returns.
    public func shutdown() async {
        let (tasks, conns) = state.withLockedValue { s in
            s.stopped = true
            return (s.readers, Array(s.readerConnections.values))
        }
        for c in conns { await c.close() }
        for t in tasks { t.cancel() }
        for t in tasks { await t.value }
        for shard in shards { await shard.closeAll() }
        for e in endpoints { await e.sentinel?.close() }
    }

    var isStopped: Bool { state.withLockedValue { $0.stopped } }

    // MARK: Publish

    /// Appends to the control stream (trimmed to about `controlMaxLength` entries): every node's first
    /// reader hands it to its sink. Control is best effort, so no sequence numbers.
    public func publishControl(_ message: [UInt8]) async throws {
        if isStopped { throw EngineError.unavailable("engine stopped") }
        let controlKey = self.controlKey
        _ = try await shards[0].send(
            [
                Self.a("XADD"), controlKey, Self.a("MAXLEN"), Self.a("~"), Self.a(String(options.controlMaxLength)), Self.a("*"),
                Self.a("d"), message,
            ], key: controlKey)
    }

    /// The ID of the control stream's newest entry ("0-0" when empty): a node reads what comes after it.
    private func controlCursor() async throws -> String {
        let controlKey = self.controlKey
        let reply = try await shards[0].send(
            [Self.a("XREVRANGE"), controlKey, Self.a("+"), Self.a("-"), Self.a("COUNT"), Self.a("1")], key: controlKey)
        guard let first = reply.elements?.first?.elements?.first?.string else { return "0-0" }
        return first
    }

    public func publishJoin(channel: String, info: ClientInfo) async throws {
        try await fanout(channel: channel, kind: "j", info: info)
    }

    public func publishLeave(channel: String, info: ClientInfo) async throws {
        try await fanout(channel: channel, kind: "l", info: info)
    }

    private func fanout(channel: String, kind: String, info: ClientInfo) async throws(EngineError) {
        if isStopped { throw .unavailable("engine stopped") }
        let shard = shardIndex(channel)
        let k = fanoutIndex(channel)
        _ = try await shards[shard].eval(
            RedisEngineScripts.fanout, keys: [fanoutKey(shard: shard, stream: k), seqKey(shard: shard, stream: k)],
            args: [Self.a(String(options.fanoutMaxLength)), Self.a(kind), Self.a(channel), RedisEngineCodec.encode(info)])
    }

    // MARK: History

    public func history(channel: String, query: HistoryQuery) async throws -> HistoryResult {
        var mode = "none"
        var bound = "-"
        if query.limit != 0 {
            if query.reverse {
                if let since = query.since {
                    if since.offset > 0 {
                        mode = "rev"
                        bound = "\(since.offset - 1)-0"
                    }
                } else {
                    mode = "rev"
                    bound = "+"
                }
            } else if let since = query.since {
                if since.offset < UInt64.max {
                    mode = "fwd"
                    bound = "\(since.offset + 1)-0"
                }
            } else {
                mode = "fwd"
            }
        }
        let count = query.limit < 0 ? 0 : min(query.limit, 1_000_000_000)
        let now = clock.nowMillis()
        let args: [[UInt8]] = [
            Self.a(String(now)), Self.a(Self.ms(query.metaTTL)), Self.a(epochSource()),
            Self.a(String(now + query.metaTTL.milliseconds)), Self.a(mode), Self.a(bound), Self.a(String(count)),
        ]
        let reply = try await shards[shardIndex(channel)].eval(
            RedisEngineScripts.history, keys: historyKeys(channel), args: args, tracksMaster: true)
        guard let parts = reply.elements, parts.count == 3, let epoch = parts[0].string, let top = Self.uint(parts[1]),
            let entries = parts[2].elements
        else { throw EngineError.unavailable("unexpected history reply") }
        if let since = query.since, !since.epoch.isEmpty, since.epoch != epoch { throw EngineError.unrecoverablePosition }
        if query.reverse, let since = query.since, since.offset == 0 { throw EngineError.badRequest }
        var pubs: [Publication] = []
        pubs.reserveCapacity(entries.count)
        for entry in entries {
            guard let e = entry.elements, e.count == 2, let id = e[0].string, let offset = Self.offset(ofID: id),
                let fields = e[1].elements, fields.count >= 2, let data = fields[1].bytes,
                let pub = RedisEngineCodec.decodePublication(data, offset: offset)
            else { throw EngineError.unavailable("undecodable history entry in \(channel)") }
            pubs.append(pub)
        }
        return HistoryResult(publications: pubs, epoch: epoch, offset: top)
    }

    public func removeHistory(channel: String) async throws {
        let stream = historyKeys(channel)[1]
        _ = try await shards[shardIndex(channel)].send([Self.a("DEL"), stream], key: stream)
    }

    // MARK: Presence

    public func addPresence(channel: String, info: ClientInfo, ttl: Duration) async throws {
        let expireAt = clock.nowMillis() + ttl.milliseconds
        _ = try await shards[shardIndex(channel)].eval(
            RedisEngineScripts.presenceAdd, keys: presenceKeys(channel),
            args: [Self.a(info.client), RedisEngineCodec.encode(info), Self.a(String(expireAt)), Self.a(Self.ms(ttl))])
    }

    public func removePresence(channel: String, clientID: String, user: String) async throws {
        _ = try await shards[shardIndex(channel)].eval(
            RedisEngineScripts.presenceRemove, keys: presenceKeys(channel), args: [Self.a(clientID)])
    }

    public func presence(channel: String) async throws -> [String: ClientInfo] {
        let reply = try await shards[shardIndex(channel)].eval(
            RedisEngineScripts.presenceGet, keys: presenceKeys(channel),
            args: [Self.a(String(clock.nowMillis()))])
        var out: [String: ClientInfo] = [:]
        var pairs: [(RESPValue, RESPValue)] = []
        if case .map(let m) = reply {
            pairs = m.map { ($0.key, $0.value) }
        } else if let flat = reply.elements {
            pairs = stride(from: 0, to: flat.count - 1, by: 2).map { (flat[$0], flat[$0 + 1]) }
        }
        for (k, v) in pairs {
            guard let client = k.string, let bytes = v.bytes, let info = RedisEngineCodec.decodeClientInfo(bytes) else {
                continue
            }
            out[client] = info
        }
        return out
    }

    public func presenceStats(channel: String) async throws -> PresenceStats {
        let entries = try await presence(channel: channel)
        return PresenceStats(numClients: UInt32(entries.count), numUsers: UInt32(Set(entries.values.map(\.user)).count))
    }

    // MARK: Fan-out reader

    /// The current end (last entry ID and sequence number) of every fan-out stream of reader group `group`, read
    /// atomically; through the shard's pool, or through `connection` (the reader's own).
    func cursors(group: Int, via connection: RedisConnection?) async throws(EngineError) -> [Cursor] {
        let g = groups[group]
        let keys = g.streams.map { fanoutKey(shard: g.shard, stream: $0) } + g.streams.map { seqKey(shard: g.shard, stream: $0) }
        let reply: RESPValue
        if let connection {
            do {
                reply = try await connection.send(
                    bytes: [Self.a("EVAL"), Self.a(RedisEngineScripts.cursors), Self.a(String(keys.count))] + keys)
            } catch {
                throw .unavailable(error.description)
            }
        } else {
            reply = try await shards[g.shard].eval(RedisEngineScripts.cursors, keys: keys, args: [])
        }
        guard let items = reply.elements, items.count == g.streams.count else { throw .unavailable("unexpected cursors reply") }
        var out: [Cursor] = []
        for item in items {
            guard let pair = item.elements, pair.count == 2, let id = pair[0].string, let seq = Self.uint(pair[1]) else {
                throw .unavailable("unexpected cursors reply")
            }
            out.append(Cursor(id: id, seq: seq))
        }
        return out
    }

    /// A new connection for `group`'s blocking reader: to its server, or to the master of its slot in a cluster.
    private func openReaderConnection(group g: ReaderGroup, on loop: (any EventLoop)?) async throws(RedisError) -> RedisConnection {
        switch shards[g.shard] {
        case .server:
            return try await RedisShardPool.open(
                endpoints[g.shard], on: loop, connectTimeout: options.connectTimeout.timeAmount, ioTimeout: nil)
        case .cluster(let cluster):
            return try await cluster.readerConnection(slot: g.slot ?? 0, on: loop)
        }
    }

    /// Reads reader group `group`'s fan-out streams for ever, reconnecting with backoff (in a cluster, after asking
    /// for the slot map again: a failed read is most often a slot that moved). `control`: where to start reading the
    /// control stream (only the first group's reader reads it). `loop`: where the reader's connection lives (nil:
    /// NIO's shared group).
    private func runReader(group: Int, cursors initial: [Cursor], control: String?, on loop: (any EventLoop)?) async {
        let g = groups[group]
        var cursors = initial
        var controlID = control
        var delay = Duration.milliseconds(50)
        let streamKeys = g.streams.map { fanoutKey(shard: g.shard, stream: $0) }
        while !isStopped {
            let conn: RedisConnection
            do {
                conn = try await openReaderConnection(group: g, on: loop)
                _ = try await conn.send(["CLIENT", "SETNAME", "broker-fanout-reader"])
            } catch {
                await readerFailed(group: g, delay: &delay)
                continue
            }
            let registered = state.withLockedValue { s in
                if s.stopped { return false }
                s.readerConnections[group] = conn
                s.readerDownSince[group] = nil
                return true
            }
            if !registered {
                await conn.close()
                return
            }
            // A reconnect may come after Redis lost data: compare sequence numbers before reading on.
            if delay > .milliseconds(50) { checkLost(group: g, cursors: &cursors, remote: try? await self.cursors(group: group, via: conn)) }
            delay = .milliseconds(50)
            do throws(RedisError) {
                while !isStopped {
                    let args: [[UInt8]] =
                        [Self.a("XREAD"), Self.a("COUNT"), Self.a(String(options.readCount)), Self.a("BLOCK"),
                         Self.a(String(options.readBlock.milliseconds)), Self.a("STREAMS")]
                        + streamKeys + (controlID == nil ? [] : [controlKey])
                        + cursors.map { Self.a($0.id) } + (controlID.map { [Self.a($0)] } ?? [])
                    let reply = try await conn.send(bytes: args)
                    if reply.isNull {
                        let remote = try? await self.cursors(group: group, via: conn)
                        checkLost(group: g, cursors: &cursors, remote: remote)
                        continue
                    }
                    process(group: g, reply: reply, streamKeys: streamKeys, cursors: &cursors, controlID: &controlID)
                }
            } catch {
                state.withLockedValue { $0.readerDownSince[group] = $0.readerDownSince[group] ?? .now }
                await conn.close()
                await readerFailed(group: g, delay: &delay)
            }
        }
    }

    /// Waits before the next attempt (doubling the wait up to `maxReconnectDelay`); in a cluster, asks for the slot
    /// map again first.
    private func readerFailed(group g: ReaderGroup, delay: inout Duration) async {
        if case .cluster(let cluster) = shards[g.shard] { _ = try? await cluster.refresh() }
        try? await Task.sleep(for: delay)
        delay = min(delay * 2, options.maxReconnectDelay)
    }

    /// A stream whose sequence counter went below ours lost its data (flush, restart, failover): start over from its
    /// beginning and report its channels.
    private func checkLost(group g: ReaderGroup, cursors: inout [Cursor], remote: [Cursor]?) {
        guard let remote, remote.count == cursors.count else { return }
        var lostStreams: Set<Int> = []
        for i in cursors.indices where remote[i].seq < cursors[i].seq {
            countLost(shard: g.shard, entries: cursors[i].seq - remote[i].seq, kind: "rolled_back")
            cursors[i] = Cursor(id: "0-0", seq: 0)
            lostStreams.insert(g.streams[i])
        }
        reportLost(shard: g.shard, streams: lostStreams)
    }

    /// `broker_redis_fanout_entries_lost_total{shard,kind}`: fan-out entries (publications, joins, leaves) this
    /// node will never read. `skipped`: the stream moved past them (trimmed while the reader was away);
    /// `rolled_back`: the server no longer has entries the node read (a failover to a replica that had not
    /// received them, a restart without persistence, a flush). Their channels' subscribers are told either way.
    private func countLost(shard: Int, entries: UInt64, kind: String) {
        Counter(label: "broker_redis_fanout_entries_lost_total", dimensions: [("shard", String(shard)), ("kind", kind)])
            .increment(by: Int64(clamping: entries))
    }

    private func reportLost(shard: Int, streams: Set<Int>) {
        if streams.isEmpty { return }
        let (channels, sink) = state.withLockedValue { s in
            (
                s.subscribed.filter { streams.contains(fanoutIndex($0)) && shardIndex($0) == shard }.sorted(),
                s.stopped ? nil : s.sink
            )
        }
        if !channels.isEmpty { sink?.handlePositionLost(channels: channels) }
    }

    private func process(
        group g: ReaderGroup, reply: RESPValue, streamKeys: [[UInt8]], cursors: inout [Cursor], controlID: inout String?
    ) {
        var perStream: [(RESPValue, RESPValue)] = []
        if case .map(let m) = reply {
            perStream = m.map { ($0.key, $0.value) }
        } else if let arr = reply.elements {
            for s in arr {
                if let pair = s.elements, pair.count == 2 { perStream.append((pair[0], pair[1])) }
            }
        }
        var lostStreams: Set<Int> = []
        let controlKey = self.controlKey
        for (keyValue, entriesValue) in perStream {
            if controlID != nil, keyValue.bytes == controlKey, let entries = entriesValue.elements {
                processControl(entries, controlID: &controlID)
                continue
            }
            guard let keyBytes = keyValue.bytes, let i = streamKeys.firstIndex(of: keyBytes),
                let entries = entriesValue.elements
            else { continue }
            for entry in entries {
                guard let e = entry.elements, e.count == 2, let id = e[0].string, let flat = e[1].elements else { continue }
                let fields = FanoutEntryFields(flat: flat)
                let seq = fields["n"].flatMap(Self.uint) ?? 0
                if seq != cursors[i].seq + 1 {
                    lostStreams.insert(g.streams[i])
                    if seq > cursors[i].seq + 1 {
                        countLost(shard: g.shard, entries: seq - cursors[i].seq - 1, kind: "skipped")
                    } else {
                        // The counter went back: the server lost the entries from `seq` on that this node had read
                        // (a failover to a replica behind, noticed by reading on rather than by a reconnect).
                        countLost(shard: g.shard, entries: cursors[i].seq - seq + 1, kind: "rolled_back")
                    }
                }
                cursors[i] = Cursor(id: id, seq: seq)
                // Every node reads every entry of its streams: those of channels nobody here subscribes to are
                // not decoded at all.
                guard let channel = fields["c"]?.string, isSubscribed(channel), let kind = fields["t"]?.bytes,
                    let data = fields["d"]?.bytes
                else { continue }
                deliver(channel: channel, kind: kind, data: data, fields: fields)
            }
        }
        reportLost(shard: g.shard, streams: lostStreams)
    }

    private func processControl(_ entries: [RESPValue], controlID: inout String?) {
        for entry in entries {
            guard let e = entry.elements, e.count == 2, let id = e[0].string, let flat = e[1].elements else { continue }
            controlID = id
            guard flat.count >= 2, flat[0].string == "d", let data = flat[1].bytes else { continue }
            let sink = state.withLockedValue { $0.stopped ? nil : $0.sink }
            sink?.handleControl(data)
        }
    }

    private func isSubscribed(_ channel: String) -> Bool {
        state.withLockedValue { !$0.stopped && $0.subscribed.contains(channel) }
    }

    private func deliver(channel: String, kind: [UInt8], data: [UInt8], fields: FanoutEntryFields) {
        switch kind.count == 1 ? kind[0] : 0 {
        case UInt8(ascii: "p"):
            let offset = fields["o"].flatMap(Self.uint) ?? 0
            guard let pub = RedisEngineCodec.decodePublication(data, offset: offset) else { return }
            let epoch = fields["e"]?.string ?? ""
            withSink(channel) { $0.handlePublication(channel: channel, publication: pub, epoch: epoch) }
        case UInt8(ascii: "j"):
            guard let info = RedisEngineCodec.decodeClientInfo(data) else { return }
            withSink(channel) { $0.handleJoin(channel: channel, info: info) }
        case UInt8(ascii: "l"):
            guard let info = RedisEngineCodec.decodeClientInfo(data) else { return }
            withSink(channel) { $0.handleLeave(channel: channel, info: info) }
        default:
            return
        }
    }

    /// Calls the sink under the state lock, so that `shutdown` (which sets `stopped` under it) is a barrier.
    private func withSink(_ channel: String, _ body: (any EngineEventSink) -> Void) {
        state.withLockedValue { s in
            guard !s.stopped, s.subscribed.contains(channel), let sink = s.sink else { return }
            body(sink)
        }
    }

    // MARK: Reply helpers

    static func uint(_ v: RESPValue) -> UInt64? {
        switch v {
        case .integer(let i): i >= 0 ? UInt64(i) : nil
        default: v.string.flatMap { UInt64($0) }
        }
    }

    /// `"<offset>-0"` → offset.
    static func offset(ofID id: String) -> UInt64? {
        guard let dash = id.firstIndex(of: "-") else { return nil }
        return UInt64(id[..<dash])
    }
}

extension Duration {
    var timeAmount: TimeAmount { .milliseconds(milliseconds) }
}

/// The fields of a fan-out stream entry (one-letter names: `n`, `t`, `c`, `d`, `o`, `e`), found by a scan of
/// the flat name/value list: for six fields that is cheaper than building a dictionary of strings per entry.
struct FanoutEntryFields {
    let flat: [RESPValue]

    subscript(name: StaticString) -> RESPValue? {
        let wanted = name.utf8Start.pointee
        var i = 0
        while i + 1 < flat.count {
            if let b = flat[i].bytes, b.count == 1, b[0] == wanted { return flat[i + 1] }
            i += 2
        }
        return nil
    }
}
