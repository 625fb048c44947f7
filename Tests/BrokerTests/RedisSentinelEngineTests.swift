import Foundation
import Testing

@testable import Broker

#if canImport(Glibc)
import Glibc
#endif

// The shared engine contract suite runs through Redis Sentinel too (`EngineUnderTest.redisSentinel`): every
// connection is found through a sentinel and checked with ROLE, and every history script carries the master's
// identity. Failovers are exercised against a real master, replica and three sentinels in
// Tests/Interop/test_redis_sentinel.py.

extension EngineUnderTest {
    /// A RedisEngine whose one shard is the master a sentinel names, under a fresh prefix.
    static let redisSentinel = EngineUnderTest(name: "redis-sentinel") { clock in
        var options = RedisEngine.Options()
        options.connectTimeout = .seconds(5)  // parallel suites on a small machine
        let topology = SharedSentinelTopology.shared
        var endpoint = RedisEndpoint(host: "127.0.0.1", port: topology.sentinelPort)
        endpoint.sentinel = RedisSentinel(
            sentinels: [.init(host: "127.0.0.1", port: topology.sentinelPort)], masterName: SharedSentinelTopology.masterName)
        return RedisEngine(endpoints: [endpoint], prefix: "s\(UUID().uuidString.prefix(8))", clock: clock, options: options)
    }
}

/// A redis-server and one sentinel monitoring it, for the whole test process (killed by a watchdog shell once
/// the test process is gone, like ``SharedRedisServer``).
final class SharedSentinelTopology: Sendable {
    static let shared = SharedSentinelTopology()
    static let masterName = "contract"
    let masterPort: Int
    let sentinelPort: Int

    private init() {
        masterPort = SharedRedisServer.freePort()
        sentinelPort = SharedRedisServer.freePort()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("broker-sentinel-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        SharedRedisServer.runWithWatchdog(
            start: """
                printf 'port \(sentinelPort)\\nbind 127.0.0.1\\nsentinel monitor \(Self.masterName) 127.0.0.1 \(masterPort) 1\\n' \
                  > '\(dir.path)/sentinel.conf'
                redis-server --port \(masterPort) --bind 127.0.0.1 --save '' --appendonly no --dir '\(dir.path)' \
                  --logfile '\(dir.path)/redis.log' &
                PIDS=$!
                redis-server '\(dir.path)/sentinel.conf' --sentinel --logfile '\(dir.path)/sentinel.log' &
                PIDS="$PIDS $!"
                """, directory: dir.path)
        for _ in 0..<500 where !(SharedRedisServer.canConnect(masterPort) && SharedRedisServer.canConnect(sentinelPort)) { usleep(10_000) }
    }
}

@Suite(.timeLimit(.minutes(2)))
struct RedisSentinelEngineTests {
    @Test func theMasterIsTheOneTheSentinelNames() async throws {
        let h = try await EngineHarness.start(.redisSentinel)
        let result = try await h.engine.publish(channel: "ch", publication: enginePub("x"), options: .engineHistory())
        #expect(result.position?.offset == 1)
        let health = await (h.engine as? RedisEngine)?.health()
        #expect(health?.shards.first?.address.contains("127.0.0.1:\(SharedSentinelTopology.shared.masterPort)") == true)
        await h.engine.shutdown()
    }
}
