import NIOCore
import NIOPosix

/// The capability check of a Redis Cluster shard, before the broker relies on it: a seed answers `CLUSTER SLOTS`,
/// every slot has a master, and every master has what the engine needs (``RedisCapabilities/check(_:address:probeTag:)``).
enum RedisClusterCheck {
    static func check(_ e: RedisEndpoint, options: RedisEngine.Options) async throws(RedisEngineSetupError) {
        let label = e.label
        var topology: RedisClusterTopology?
        var failures: [String] = []
        for seed in e.clusterSeeds where topology == nil {
            let address = "\(seed.host):\(seed.port)"
            let c: RedisConnection
            do {
                c = try await connect(seed, options: options)
            } catch {
                failures.append("\(address): \(error)")
                continue
            }
            let reply: RESPValue
            do {
                reply = try await c.send(["CLUSTER", "SLOTS"])
            } catch {
                await c.close()
                if case .server(let message) = error { throw .capability(.notACluster(address: address, detail: message)) }
                failures.append("\(address): \(error)")
                continue
            }
            await c.close()
            do {
                topology = try RedisClusterTopology(slotsReply: reply, askedHost: seed.host)
            } catch {
                failures.append("\(address): \(error)")
            }
        }
        guard let topology else {
            throw .capability(.unreachable(address: label, cause: .connectFailed(failures.joined(separator: "; "))))
        }
        if !topology.uncovered.isEmpty {
            throw .capability(.slotsUncovered(address: label, slots: RedisClusterShard.describe(topology.uncovered)))
        }
        for master in topology.masters {
            let address = "\(master.address) (a master of the \(label))"
            var node = e.clusterSeeds[0]
            node.host = master.host
            node.port = master.port
            let c: RedisConnection
            do {
                c = try await connect(node, options: options)
            } catch {
                throw .capability(.unreachable(address: address, cause: error))
            }
            // Closed before returning or throwing: the caller shuts the event loops down on a refusal, and a close
            // left to a later task then found them gone ("Cannot schedule tasks on an EventLoop that has already
            // shut down").
            do {
                _ = try await RedisCapabilities.check(c, address: address, probeTag: topology.anySlot(of: master).map(tag(forSlot:)))
            } catch {
                await c.close()
                throw .capability(error)
            }
            await c.close()
        }
    }

    private static func connect(_ e: RedisEndpoint, options: RedisEngine.Options) async throws(RedisError) -> RedisConnection {
        try await RedisConnection.connect(
            host: e.host, port: e.port, eventLoop: (options.eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton).any(),
            connectTimeout: options.connectTimeout.timeAmount, ioTimeout: options.ioTimeout.timeAmount,
            username: e.username, password: e.password, tls: e.tls)
    }

    /// A hash tag whose slot is `slot`.
    static func tag(forSlot slot: Int) -> String {
        var n = 0
        while RedisClusterSlots.slot(of: "p\(n)") != slot { n += 1 }
        return "p\(n)"
    }
}
