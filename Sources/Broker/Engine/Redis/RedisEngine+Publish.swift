import BrokerProtocol

/// Publishing through Redis: one `publish` script (``RedisEngineScripts/publish``) appends to each channel's history
/// and to the fan-out stream its deliveries go through. A publish is the script for one channel; a broadcast groups
/// its channels by fan-out stream (in a cluster, one slot) and runs one script per group of at most
/// ``broadcastChunk`` channels, the groups side by side on the pooled connections. Every channel gets the same
/// history, epoch and idempotency handling either way; a script that fails fails only its own channels.
extension RedisEngine: BroadcastPublishing {
    /// Channels per script: a script holds its Redis server while it runs (a few µs per channel).
    static let broadcastChunk = 500

    public func publish(channel: String, publication: Publication, options o: PublishOptions) async throws -> PublishResult {
        if isStopped { throw EngineError.unavailable("engine stopped") }
        let items = [BroadcastItem(channel: channel, publication: publication, options: o)]
        return try await publish(items, [0])[0].1.get()
    }

    public func publish(broadcast items: [BroadcastItem]) async -> [Result<PublishResult, EngineError>] {
        if isStopped { return items.map { _ in .failure(.unavailable("engine stopped")) } }
        guard let shared = items.first?.publication else { return [] }
        var groups: [Int: [Int]] = [:]
        var alone: [[Int]] = []
        for (i, item) in items.enumerated() {
            // A broadcast publishes one publication everywhere; one that differs (never, today) goes on its own.
            guard item.publication == shared else {
                alone.append([i])
                continue
            }
            groups[shardIndex(item.channel) * options.fanoutStreams + fanoutIndex(item.channel), default: []].append(i)
        }
        let chunks = groups.keys.sorted().flatMap { key in
            let group = groups[key]!
            return stride(from: 0, to: group.count, by: Self.broadcastChunk).map {
                Array(group[$0..<min($0 + Self.broadcastChunk, group.count)])
            }
        } + alone
        var results = [Result<PublishResult, EngineError>?](repeating: nil, count: items.count)
        await withTaskGroup(of: [(Int, Result<PublishResult, EngineError>)].self) { group in
            for chunk in chunks {
                group.addTask { await self.publish(items, chunk) }
            }
            for await part in group {
                for (i, result) in part { results[i] = result }
            }
        }
        return results.map { $0! }
    }

    /// One script for `items[indices]`, which share a publication, a shard and a fan-out stream.
    private func publish(_ items: [BroadcastItem], _ indices: [Int]) async -> [(Int, Result<PublishResult, EngineError>)] {
        let first = items[indices[0]]
        let shard = shardIndex(first.channel)
        let k = fanoutIndex(first.channel)
        let now = clock.nowMillis()
        let p = keyPrefix(shard: shard, stream: k)
        var keys: [[UInt8]] = [fanoutKey(shard: shard, stream: k), seqKey(shard: shard, stream: k)]
        var args: [[UInt8]] = [
            RedisEngineCodec.encode(first.publication), Self.a(String(now)), Self.a(epochSource()),
            Self.a(String(options.fanoutMaxLength)),
        ]
        keys.reserveCapacity(2 + 3 * indices.count)
        args.reserveCapacity(4 + 10 * indices.count)
        for i in indices {
            let (ch, o) = (items[i].channel, items[i].options)
            keys.append(Self.key(p, "stream", "meta", ch))
            keys.append(Self.key(p, "stream", ch))
            keys.append(Self.key(p, "result", ch, o.idempotencyKey))
            args.append(Self.a(ch))
            args.append(Self.a(String(max(1, o.historySize))))
            args.append(Self.a(Self.ms(o.historyTTL)))
            args.append(Self.a(Self.ms(o.historyMetaTTL)))
            args.append(Self.a(Self.ms(o.idempotentResultTTL)))
            args.append(Self.a(o.keepsHistory ? "1" : "0"))
            args.append(Self.a(o.idempotencyKey.isEmpty ? "0" : "1"))
            args.append(Self.a(String(now + o.historyMetaTTL.milliseconds)))
            args.append(Self.a(String(now + o.historyTTL.milliseconds)))
            args.append(Self.a(String(now + o.idempotentResultTTL.milliseconds)))
        }
        let reply: RESPValue
        do {
            reply = try await shards[shard].eval(
                RedisEngineScripts.publish, keys: keys, args: args, tracksMaster: true,
                wait: options.waitReplicas > 0 ? (options.waitReplicas, options.waitTimeout) : nil)
        } catch {
            return indices.map { ($0, .failure(error)) }
        }
        guard let parts = reply.elements, parts.count == 3 * indices.count else {
            return indices.map { ($0, .failure(.unavailable("unexpected publish reply \(reply)"))) }
        }
        return indices.enumerated().map { n, i in
            guard let offset = Self.uint(parts[3 * n]) else { return (i, .failure(.unavailable("unexpected publish reply"))) }
            let position = offset == 0 ? nil : StreamPosition(offset: offset, epoch: parts[3 * n + 1].string ?? "")
            return (i, .success(PublishResult(position: position, fromCache: Self.uint(parts[3 * n + 2]) == 1)))
        }
    }
}
