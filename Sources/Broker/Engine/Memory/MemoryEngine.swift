import BrokerProtocol
import NIOConcurrencyHelpers

/// The single-node engine: history streams, idempotency results and presence in this process.
///
/// Channels are spread over shards, each behind its own lock, so publishes to different channels
/// rarely contend. Delivery to the sink happens inside the channel's shard lock, right after the
/// append, which is what keeps every channel's deliveries in offset order.
public final class MemoryEngine: PubSubEngine, PresenceEngine, ImmediatePublishing, @unchecked Sendable {
    private struct IdempotentResult {
        var result: PublishResult
        var expiresAt: Int64
    }

    /// A presence record lives until its TTL passes unless its connection refreshes it.
    private struct PresenceEntry {
        var info: ClientInfo
        var expiresAt: Int64
    }

    private struct Shard {
        var streams: [String: HistoryStream] = [:]
        var idempotency: [String: [String: IdempotentResult]] = [:]
        var presence: [String: [String: PresenceEntry]] = [:]
    }

    private let shards: [NIOLockedValueBox<Shard>]
    private let stopped = NIOLockedValueBox(false)
    private let clock: BrokerClock
    private let epochSource: @Sendable () -> String
    // Set once in start(); read under no lock afterwards (start happens-before any publish).
    private nonisolated(unsafe) var sink: (any EngineEventSink)?

    public init(clock: BrokerClock = .system, shardCount: Int = 64, epochSource: @escaping @Sendable () -> String = MemoryEngine.randomEpoch) {
        self.clock = clock
        self.epochSource = epochSource
        self.shards = (0..<max(1, shardCount)).map { _ in NIOLockedValueBox(Shard()) }
    }

    /// 8 random ASCII letters, as Centrifugo v6 makes them.
    public static func randomEpoch() -> String {
        // One random number for all eight letters (52^8 < 2^46): each `next()` is a system call, and the
        // Redis engine asks for an epoch with every publish.
        var bits = UInt64.random(in: 0...UInt64.max)
        var letters: [UInt8] = []
        letters.reserveCapacity(8)
        for _ in 0..<8 {
            letters.append(epochLetters[Int(bits % 52)])
            bits /= 52
        }
        return String(decoding: letters, as: UTF8.self)
    }

    private static let epochLetters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)

    private func shard(_ channel: String) -> NIOLockedValueBox<Shard> {
        var h: UInt64 = 14_695_981_039_346_656_037
        for b in channel.utf8 {
            h ^= UInt64(b)
            h &*= 1_099_511_628_211
        }
        return shards[Int(h % UInt64(shards.count))]
    }

    public func start(sink: any EngineEventSink) async throws {
        self.sink = sink
    }

    public var needsSubscriptions: Bool { false }
    public func health() async -> EngineHealth { EngineHealth() }

    /// One process, one node: control messages come straight back to this node's sink.
    public func publishControl(_ message: [UInt8]) async throws {
        if stopped.withLockedValue({ $0 }) { return }
        sink?.handleControl(message)
    }

    public func subscribe(channel: String) async throws {}
    public func unsubscribe(channel: String) async throws {}
    /// After this returns nothing more is delivered to the sink.
    public func shutdown() async {
        for shard in shards {
            shard.withLockedValue { _ in }
        }
        stopped.withLockedValue { $0 = true }
    }

    public func publish(channel: String, publication: Publication, options: PublishOptions) async throws -> PublishResult {
        publishNow(channel: channel, publication: publication, options: options)
    }

    public func publishImmediately(channel: String, publication: Publication, options: PublishOptions) throws -> PublishResult {
        publishNow(channel: channel, publication: publication, options: options)
    }

    /// The synchronous core of `publish` (the memory engine never waits).
    public func publishNow(channel: String, publication: Publication, options: PublishOptions) -> PublishResult {
        let now = clock.nowMillis()
        let sink = stopped.withLockedValue { $0 } ? nil : self.sink
        return shard(channel).withLockedValue { shard in
            if !options.idempotencyKey.isEmpty,
                let cached = shard.idempotency[channel]?[options.idempotencyKey], cached.expiresAt > now
            {
                return PublishResult(position: cached.result.position, fromCache: true)
            }
            let result: PublishResult
            if options.keepsHistory {
                var stream = liveStream(&shard, channel: channel, now: now, metaTTL: options.historyMetaTTL)
                let stored = stream.append(
                    publication, now: now, size: options.historySize, ttl: options.historyTTL, metaTTL: options.historyMetaTTL)
                shard.streams[channel] = stream
                result = PublishResult(position: StreamPosition(offset: stored.offset, epoch: stream.epoch))
                sink?.handlePublication(channel: channel, publication: stored, epoch: stream.epoch)
            } else {
                result = PublishResult(position: nil)
                sink?.handlePublication(channel: channel, publication: publication, epoch: "")
            }
            if !options.idempotencyKey.isEmpty {
                shard.idempotency[channel, default: [:]][options.idempotencyKey] = IdempotentResult(
                    result: result, expiresAt: now + options.idempotentResultTTL.milliseconds)
            }
            return result
        }
    }

    /// The channel's stream, or a new one under a fresh epoch when there is none or its meta expired.
    /// The stream is taken out of the shard (the caller puts it back): while the map still held it, the
    /// caller's first change would copy every stored publication.
    private func liveStream(_ shard: inout Shard, channel: String, now: Int64, metaTTL: Duration) -> HistoryStream {
        if var s = shard.streams.removeValue(forKey: channel), s.metaExpireAt > now {
            s.expire(now: now)
            return s
        }
        return HistoryStream(epoch: epochSource(), now: now, metaTTL: metaTTL)
    }

    public func publishJoin(channel: String, info: ClientInfo) async throws {
        if stopped.withLockedValue({ $0 }) { return }
        sink?.handleJoin(channel: channel, info: info)
    }

    public func publishLeave(channel: String, info: ClientInfo) async throws {
        if stopped.withLockedValue({ $0 }) { return }
        sink?.handleLeave(channel: channel, info: info)
    }

    public func history(channel: String, query: HistoryQuery) async throws -> HistoryResult {
        try historyNow(channel: channel, query: query)
    }

    public func historyNow(channel: String, query: HistoryQuery) throws -> HistoryResult {
        let now = clock.nowMillis()
        return try shard(channel).withLockedValue { (shard) throws -> HistoryResult in
            var stream = liveStream(&shard, channel: channel, now: now, metaTTL: query.metaTTL)
            // Reading keeps the meta alive (the epoch a reader saw stays valid), as Centrifugo does.
            stream.touchMeta(now: now, metaTTL: query.metaTTL)
            shard.streams[channel] = stream
            if let since = query.since, !since.epoch.isEmpty, since.epoch != stream.epoch {
                throw EngineError.unrecoverablePosition
            }
            if query.reverse, let since = query.since, since.offset == 0 { throw EngineError.badRequest }
            let pubs = stream.read(since: query.since, limit: query.limit, reverse: query.reverse)
            return HistoryResult(publications: pubs, epoch: stream.epoch, offset: stream.top)
        }
    }

    public func removeHistory(channel: String) async throws {
        shard(channel).withLockedValue { shard in
            shard.streams[channel]?.removeAll()
        }
    }

    // MARK: Presence

    public func addPresence(channel: String, info: ClientInfo, ttl: Duration) async throws {
        let expiresAt = clock.nowMillis() + ttl.milliseconds
        shard(channel).withLockedValue { $0.presence[channel, default: [:]][info.client] = PresenceEntry(info: info, expiresAt: expiresAt) }
    }

    public func removePresence(channel: String, clientID: String, user: String) async throws {
        shard(channel).withLockedValue { shard in
            shard.presence[channel]?[clientID] = nil
            if shard.presence[channel]?.isEmpty == true { shard.presence[channel] = nil }
        }
    }

    /// The channel's live presence records (expired ones are dropped on the way).
    private func livePresence(_ channel: String) -> [String: ClientInfo] {
        let now = clock.nowMillis()
        return shard(channel).withLockedValue { shard in
            guard let entries = shard.presence[channel] else { return [:] }
            let live = entries.filter { $0.value.expiresAt > now }
            if live.count != entries.count { shard.presence[channel] = live.isEmpty ? nil : live }
            return live.mapValues(\.info)
        }
    }

    public func presence(channel: String) async throws -> [String: ClientInfo] {
        livePresence(channel)
    }

    public func presenceStats(channel: String) async throws -> PresenceStats {
        let entries = livePresence(channel)
        let users = Set(entries.values.map(\.user))
        return PresenceStats(numClients: UInt32(entries.count), numUsers: UInt32(users.count))
    }

    // MARK: Housekeeping

    /// Frees streams whose meta expired and idempotency results past their TTL. Called periodically.
    public func removeExpired() {
        let now = clock.nowMillis()
        for shard in shards {
            shard.withLockedValue { s in
                s.streams = s.streams.filter { $0.value.metaExpireAt > now }
                for (ch, var results) in s.idempotency {
                    results = results.filter { $0.value.expiresAt > now }
                    s.idempotency[ch] = results.isEmpty ? nil : results
                }
                for key in s.streams.keys { s.streams[key]?.expire(now: now) }
                for (ch, entries) in s.presence {
                    let live = entries.filter { $0.value.expiresAt > now }
                    s.presence[ch] = live.isEmpty ? nil : live
                }
            }
        }
    }
}
