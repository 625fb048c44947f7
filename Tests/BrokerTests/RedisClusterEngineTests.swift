import Foundation
import Testing

@testable import Broker
@testable import BrokerProtocol

#if canImport(Glibc)
import Glibc
#endif

// The shared engine contract suite runs against a Redis Cluster too (`EngineUnderTest.redisCluster`): three masters
// created with `redis-cli --cluster create`, every command routed by slot. Failovers and slot migrations under load
// are exercised with two broker nodes in Tests/Interop/test_redis_cluster.py.

extension EngineUnderTest {
    /// A RedisEngine whose one shard is the test cluster (seeded with one of its nodes), under a fresh prefix.
    static let redisCluster = EngineUnderTest(name: "redis-cluster") { clock in
        RedisEngine(
            endpoints: [SharedClusterTopology.shared.endpoint], prefix: "c\(UUID().uuidString.prefix(8))", clock: clock,
            options: SharedClusterTopology.options)
    }
}

/// Three cluster-enabled redis-servers made one cluster, for the whole test process (killed by a watchdog shell
/// once the test process is gone, like ``SharedRedisServer``).
final class SharedClusterTopology: Sendable {
    static let shared = SharedClusterTopology()
    let ports: [Int]

    static var options: RedisEngine.Options {
        var options = RedisEngine.Options()
        options.connectTimeout = .seconds(5)  // parallel suites on a small machine
        return options
    }

    var endpoint: RedisEndpoint {
        var e = RedisEndpoint(host: "127.0.0.1", port: ports[0])
        e.clusterSeeds = [RedisEndpoint(host: "127.0.0.1", port: ports[0])]
        return e
    }

    private init() {
        ports = (0..<3).map { _ in SharedRedisServer.freePort() }
        let busPorts = (0..<3).map { _ in SharedRedisServer.freePort() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("broker-cluster-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let starts = zip(ports, busPorts).map { port, bus in
            """
            mkdir -p '\(dir.path)/\(port)'
            redis-server --port \(port) --cluster-port \(bus) --bind 127.0.0.1 --cluster-enabled yes \
              --cluster-config-file nodes.conf --cluster-node-timeout 1000 --save '' --appendonly no \
              --dir '\(dir.path)/\(port)' --logfile '\(dir.path)/\(port)/redis.log' &
            PIDS="$PIDS $!"
            """
        }.joined(separator: "\n")
        SharedRedisServer.runWithWatchdog(
            start: """
                PIDS=""
                \(starts)
                for p in \(ports.map(String.init).joined(separator: " ")); do
                  until redis-cli -p $p ping >/dev/null 2>&1; do sleep 0.05; done
                done
                redis-cli --cluster create \(ports.map { "127.0.0.1:\($0)" }.joined(separator: " ")) --cluster-yes \
                  > '\(dir.path)/create.log' 2>&1
                """, directory: dir.path)
        // Ready once every node says cluster_state:ok.
        for _ in 0..<1000 where !ports.allSatisfy(Self.isOK) { usleep(20_000) }
    }

    private static func isOK(_ port: Int) -> Bool {
        SharedClusterTopology.command(port, ["CLUSTER", "INFO"]).contains("cluster_state:ok")
    }

    /// Runs a command on node `port` and returns its reply as text (an array's elements one per line). Over a plain
    /// blocking socket: the topology is made synchronously, from a static initializer.
    func command(_ port: Int, _ args: String...) -> String { Self.command(port, args) }
    func command(_ port: Int, _ args: [String]) -> String { Self.command(port, args) }

    static func command(_ port: Int, _ args: [String]) -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return "" }
        var request = "*\(args.count)\r\n"
        for a in args { request += "$\(a.utf8.count)\r\n\(a)\r\n" }
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let (text, _) = parse(buffer[...]) { return text }
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { return "" }
            buffer += chunk[0..<n]
        }
    }

    /// One RESP2 reply from the front of `b`, as text; nil while incomplete.
    private static func parse(_ b: ArraySlice<UInt8>) -> (String, ArraySlice<UInt8>)? {
        guard let cr = b.firstIndex(of: 13), cr + 1 < b.endIndex else { return nil }
        let line = String(decoding: b[(b.startIndex + 1)..<cr], as: UTF8.self)
        let rest = b[(cr + 2)...]
        switch b.first {
        case UInt8(ascii: "$"):
            guard let n = Int(line) else { return nil }
            if n < 0 { return ("", rest) }
            guard rest.count >= n + 2 else { return nil }
            return (String(decoding: rest.prefix(n), as: UTF8.self), rest.dropFirst(n + 2))
        case UInt8(ascii: "*"):
            var items: [String] = []
            var tail = rest
            for _ in 0..<max(0, Int(line) ?? 0) {
                guard let (item, next) = parse(tail) else { return nil }
                items.append(item)
                tail = next
            }
            return (items.joined(separator: "\n"), tail)
        default:
            return (line, rest)
        }
    }
}

@Suite struct RedisClusterSlotsTests {
    @Test func slotsFollowTheSpecification() {
        // The specification's CRC16 check value, and slots redis-cli's CLUSTER KEYSLOT gives.
        #expect("123456789".utf8.withContiguousStorageIfAvailable { RedisClusterSlots.crc16($0) } == 0x31C3)
        #expect(RedisClusterSlots.slot(of: "foo") == 12182)
        #expect(RedisClusterSlots.slot(of: "{user1000}.following") == RedisClusterSlots.slot(of: "{user1000}.followers"))
        #expect(RedisClusterSlots.slot(of: "{user1000}.following") == RedisClusterSlots.slot(of: "user1000"))
        // An empty tag hashes the whole key; only the first {…} counts.
        #expect(RedisClusterSlots.slot(of: "foo{}{bar}") != RedisClusterSlots.slot(of: "bar"))
        #expect(RedisClusterSlots.slot(of: "foo{{bar}}zap") == RedisClusterSlots.slot(of: "{bar"))
        #expect(RedisClusterSlots.slot(of: "foo{bar}{zap}") == RedisClusterSlots.slot(of: "bar"))
    }

    @Test func spreadTagsLandInEqualParts() {
        let tags = RedisClusterSlots.spreadTags(16)
        for (i, tag) in tags.enumerated() {
            let slot = RedisClusterSlots.slot(of: "{\(tag)}.fanout")
            #expect(slot >= i * 1024 && slot < (i + 1) * 1024, "tag \(tag) at slot \(slot)")
        }
        #expect(RedisClusterSlots.spreadTags(16) == tags)
    }

    @Test func clusterSlotsRepliesParse() throws {
        func node(_ port: Int64, _ id: String) -> RESPValue {
            .array([.bulkString(Array("127.0.0.1".utf8)), .integer(port), .bulkString(Array(id.utf8))])
        }
        let reply = RESPValue.array([
            .array([.integer(0), .integer(5460), node(7000, "a"), node(7003, "d")]),
            .array([.integer(5461), .integer(10922), node(7001, "b")]),
            .array([.integer(12000), .integer(16383), node(7002, "c")]),
        ])
        let t = try RedisClusterTopology(slotsReply: reply, askedHost: "127.0.0.1")
        #expect(t.masters.map(\.port) == [7000, 7001, 7002])
        #expect(t.master(ofSlot: 5461)?.id == "b")
        #expect(t.master(ofSlot: 11000) == nil)
        #expect(t.uncovered == [10923...11999])
        #expect(t.masterIDs == "a b c")
    }
}

@Suite(.timeLimit(.minutes(2)))
struct RedisClusterEngineTests {
    /// A channel's keys and its fan-out stream share a slot; channels spread over every master.
    @Test func channelsSpreadOverEveryMaster() async throws {
        let h = try await EngineHarness.start(.redisCluster)
        let engine = try #require(h.engine as? RedisEngine)
        for i in 0..<64 {
            _ = try await engine.publish(channel: "room\(i)", publication: enginePub("x"), options: .engineHistory())
        }
        let topology = SharedClusterTopology.shared
        for port in topology.ports {
            let keys = topology.command(port, "KEYS", "\(engine.prefix).*").split(separator: "\n")
            #expect(keys.contains { $0.hasSuffix(".fanout") }, "no fan-out stream on master \(port)")
            #expect(keys.contains { $0.contains(".stream.meta.room") }, "no channel on master \(port)")
        }
        let health = await engine.health()
        #expect(health.shards.count == 1 && health.shards[0].up, "\(health)")
        await h.engine.shutdown()
    }

    /// A stream that came by a slot migration keeps its epoch (its data came with it); one last written under a node
    /// that is no longer a master gets a new epoch, so no position from before a failover looks valid.
    @Test func theEpochChangesOnlyWhenTheMasterBehindTheStreamFailedOver() async throws {
        let h = try await EngineHarness.start(.redisCluster)
        let engine = try #require(h.engine as? RedisEngine)
        let first = try await engine.publish(channel: "epochs", publication: enginePub("1"), options: .engineHistory())
        let meta = "\(engine.prefix).{\(RedisClusterSlots.spreadTags(16)[RedisSharding.stream(of: "epochs", streams: 16)])}.stream.meta.epochs"
        let port = try #require(SharedClusterTopology.shared.ports.first { SharedClusterTopology.shared.command($0, "exists", meta) == "1" })
        let myID = SharedClusterTopology.shared.command(port, "cluster", "myid")
        let otherMaster = try #require(
            SharedClusterTopology.shared.ports.first { $0 != port }.map { SharedClusterTopology.shared.command($0, "cluster", "myid") })
        // As if migrated from another master: same epoch, and the stream now belongs to this one.
        _ = SharedClusterTopology.shared.command(port, "hset", meta, "m", otherMaster)
        let second = try await engine.publish(channel: "epochs", publication: enginePub("2"), options: .engineHistory())
        #expect(second.position?.epoch == first.position?.epoch)
        #expect(second.position?.offset == 2)
        #expect(SharedClusterTopology.shared.command(port, "hget", meta, "m") == myID)
        // As if written under a master that failed over (a node ID no master has): a new epoch.
        _ = SharedClusterTopology.shared.command(port, "hset", meta, "m", String(repeating: "0", count: 40))
        let third = try await engine.publish(channel: "epochs", publication: enginePub("3"), options: .engineHistory())
        #expect(third.position?.epoch != first.position?.epoch)
        await h.engine.shutdown()
    }
}

extension RedisClusterEngineTests {
    /// A slot migrated by hand, as `redis-cli --cluster reshard` does it. While the channel's keys are already on the
    /// target, the source answers `ASK` and the engine follows it (`ASKING` on the target); once the slot is the
    /// target's, `MOVED` sends it there for good. The stream keeps its epoch: its data came with it.
    @Test func aMigratingSlotIsFollowedThroughAskThenMoved() async throws {
        let h = try await EngineHarness.start(.redisCluster)
        let engine = try #require(h.engine as? RedisEngine)
        let topology = SharedClusterTopology.shared
        let channel = "migrating"
        let first = try await engine.publish(channel: channel, publication: enginePub("1"), options: .engineHistory())
        let info = ClientInfo(user: "u", client: "c1")
        try await engine.addPresence(channel: channel, info: info, ttl: .seconds(60))
        let tag = RedisClusterSlots.spreadTags(16)[RedisSharding.stream(of: channel, streams: 16)]
        let slot = String(RedisClusterSlots.slot(of: tag))
        let meta = "\(engine.prefix).{\(tag)}.stream.meta.\(channel)"
        let source = try #require(topology.ports.first { topology.command($0, "exists", meta) == "1" })
        let target = try #require(topology.ports.first { $0 != source })
        let sourceID = topology.command(source, "cluster", "myid")
        let targetID = topology.command(target, "cluster", "myid")
        #expect(topology.command(target, "cluster", "setslot", slot, "importing", sourceID) == "OK")
        #expect(topology.command(source, "cluster", "setslot", slot, "migrating", targetID) == "OK")
        func moveKeys() {
            for _ in 0..<10 {
                let keys = topology.command(source, "cluster", "getkeysinslot", slot, "100000").split(separator: "\n").map(String.init)
                if keys.isEmpty { return }
                _ = topology.command(source, ["migrate", "127.0.0.1", String(target), "", "0", "5000", "keys"] + keys)
            }
        }
        moveKeys()
        // Reads whose keys all moved: the source answers ASK, the target serves them after ASKING.
        let presence = try await engine.presence(channel: channel)
        let history = try await engine.history(channel: channel, query: HistoryQuery(limit: -1))
        moveKeys()
        for port in topology.ports { _ = topology.command(port, "cluster", "setslot", slot, "node", targetID) }
        #expect(presence.keys.sorted() == ["c1"])
        #expect(history.publications.map(\.offset) == [1] && history.epoch == first.position?.epoch)
        #expect(topology.command(target, "exists", meta) == "1")

        // The slot is the target's now: MOVED, then the publish runs there, under the same epoch.
        let second = try await engine.publish(channel: channel, publication: enginePub("2"), options: .engineHistory())
        #expect(second.position?.offset == 2 && second.position?.epoch == first.position?.epoch)
        await h.engine.shutdown()
    }
}

/// `engine.redis.cluster_address` read and checked; the start refusals against real servers run in
/// Tests/Interop/test_redis_cluster.py.
struct RedisClusterConfigTests {
    private func parse(_ json: String) throws(ConfigError) -> BrokerConfig {
        try ConfigLoader.parse(json: Array(json.utf8), environment: [:])
    }

    @Test func clusterAddressesAreRead() throws {
        let c = try parse(#"{"engine": {"type": "redis", "redis": {"cluster_address": ["127.0.0.1:7000,127.0.0.1:7001", "10.0.0.1:7000"]}}}"#)
        #expect(c.engine.redis.clusterAddress == ["127.0.0.1:7000,127.0.0.1:7001", "10.0.0.1:7000"])
        let env = try ConfigLoader.parse(json: Array("{}".utf8), environment: ["CENTRIFUGO_ENGINE_REDIS_CLUSTER_ADDRESS": "127.0.0.1:7000"])
        #expect(env.engine.redis.clusterAddress == ["127.0.0.1:7000"])
    }

    @Test func badClusterSettingsNameTheirKey() {
        for (json, key) in [
            (#"{"engine": {"type": "redis", "redis": {"cluster_address": ["127.0.0.1:7000"], "db": 1}}}"#, "engine.redis.db"),
            (#"{"engine": {"type": "redis", "redis": {"cluster_address": ["127.0.0.1:7000"], "prefix": "a{b}"}}}"#, "engine.redis.prefix"),
            (#"{"engine": {"type": "redis", "redis": {"cluster_address": ["127.0.0.1:7000,"]}}}"#, "engine.redis.cluster_address"),
            (#"{"engine": {"type": "redis", "redis": {"cluster_address": ["127.0.0.1:0"]}}}"#, "engine.redis.cluster_address"),
            (#"{"engine": {"type": "redis", "redis": {"cluster_address": ["127.0.0.1:7000"], "sentinel_address": ["127.0.0.1:26379"], "sentinel_master_name": "m"}}}"#,
             "engine.redis.cluster_address"),
        ] {
            do {
                _ = try parse(json)
                Issue.record("loaded: \(json)")
            } catch {
                #expect(error.key == key, "\(json): \(error)")
            }
        }
    }

    @Test func unreachableSeedsStopTheStartNamingThem() async {
        var config = RedisConfig()
        config.clusterAddress = ["127.0.0.1:1,127.0.0.1:2"]
        do {
            _ = try await RedisEngine.make(config: config)
            Issue.record("made an engine without a cluster")
        } catch {
            #expect(error.description.contains("127.0.0.1:1") && error.description.contains("127.0.0.1:2"), "\(error)")
        }
    }

    @Test func aClusterNodeGivenAsAddressIsRefused() async {
        var config = RedisConfig()
        config.address = ["127.0.0.1:\(SharedClusterTopology.shared.ports[0])"]
        do {
            _ = try await RedisEngine.make(config: config)
            Issue.record("made an engine on a cluster node as a standalone server")
        } catch {
            #expect(error.description.contains("cluster_address"), "\(error)")
        }
    }
}
