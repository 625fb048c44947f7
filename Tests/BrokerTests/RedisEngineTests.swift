import Foundation
import NIOConcurrencyHelpers
import Synchronization
import Testing

@testable import Broker
@testable import BrokerProtocol

#if canImport(Glibc)
import Glibc
#endif

// The Redis engine: the shared contract suite runs against it through `EngineUnderTest.redis` (one
// redis-server for the whole test process, a unique key prefix per engine); the tests below cover what is
// Redis-specific (storage encoding, sharding, fan-out between two nodes, reconnects and lost positions),
// each multi-node test on a redis-server of its own. Without redis-server on PATH these tests FAIL.

extension EngineUnderTest {
    /// A RedisEngine on the process-wide test redis-server, under a fresh prefix.
    static let redis = EngineUnderTest(name: "redis") { clock in
        var options = RedisEngine.Options()
        options.connectTimeout = .seconds(5)  // parallel suites on a small machine
        return RedisEngine(
            endpoints: [RedisEndpoint(host: "127.0.0.1", port: SharedRedisServer.shared.port)],
            prefix: "t\(UUID().uuidString.prefix(8))", clock: clock, options: options)
    }
}

/// One redis-server for the contract suite, started on first use and killed when the test process exits
/// (a watchdog shell kills it once its parent is gone).
final class SharedRedisServer: Sendable {
    static let shared = SharedRedisServer()
    let port: Int

    private init() {
        port = Self.freePort()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("broker-redis-engine-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        Self.runWithWatchdog(
            start: """
                redis-server --port \(port) --bind 127.0.0.1 --save '' --appendonly no --dir '\(dir.path)' \
                --logfile '\(dir.path)/redis.log' &
                PIDS=$!
                """, directory: dir.path)
        // Wait (synchronously: the engine factory is synchronous) until the port accepts connections.
        for _ in 0..<500 where !Self.canConnect(port) { usleep(10_000) }
    }

    /// Runs `start` (a shell script that starts servers in the background and collects their PIDs in `PIDS`) in a
    /// watchdog shell that SIGKILLs them and removes `directory` once the test process is gone.
    static func runWithWatchdog(start: String, directory: String) {
        let script = """
            \(start)
            while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done
            kill -9 $PIDS
            rm -rf '\(directory)'
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", script]
        // Not the test process's pipes: `swift test` waits for them to close before it reaps the test
        // process, and the watchdog waits for the test process to be gone.
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try? p.run()
    }

    /// A port nothing listens on now (also for ``SharedSentinelTopology``).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func canConnect(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let len = socklen_t(MemoryLayout<sockaddr_in>.size)
        return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, len) } } == 0
    }
}

@Suite(.timeLimit(.minutes(2)))
struct RedisEngineTests {
    // MARK: Pure parts

    @Test func codecRoundTripsEveryField() {
        let infos = [
            ClientInfo(user: "", client: ""),
            ClientInfo(user: "42", client: "c-1", connInfo: Payload(bytes: Array("{}".utf8))),
            ClientInfo(user: "ü", client: "x", connInfo: Payload(bytes: [0, 255, 13, 10], isBinary: true),
                       chanInfo: Payload(bytes: [], isBinary: false)),
            ClientInfo(user: "u", client: "c", chanInfo: Payload(bytes: [1, 2], isBinary: true)),
        ]
        for info in infos {
            #expect(RedisEngineCodec.decodeClientInfo(RedisEngineCodec.encode(info)) == info)
        }
        let pubs = [
            Publication(data: Payload(bytes: [])),
            Publication(data: Payload(bytes: Array("\"x\"".utf8)), tags: ["a": "1", "": "", "ключ": "значение"], time: 1234),
            Publication(data: Payload(bytes: (0..<300).map { UInt8($0 % 256) }, isBinary: true), info: infos[2], time: -5),
            Publication(data: Payload(bytes: [0x7B, 0x7D]), info: infos[1], time: Int64.max),
            Publication(data: Payload(bytes: [1]), time: Int64.min),
        ]
        for (i, p) in pubs.enumerated() {
            var expected = p
            expected.offset = UInt64(i) * 1_000_000_007
            #expect(RedisEngineCodec.decodePublication(RedisEngineCodec.encode(p), offset: expected.offset) == expected)
        }
        #expect(RedisEngineCodec.decodePublication([], offset: 1) == nil)
        #expect(RedisEngineCodec.decodePublication([1, 0, 5, 1], offset: 1) == nil)
        #expect(RedisEngineCodec.decodeClientInfo(RedisEngineCodec.encode(pubs[1])) == nil)
    }

    @Test func endpointParsing() throws {
        #expect(try RedisEndpoint.parse("127.0.0.1:6380") == RedisEndpoint(host: "127.0.0.1", port: 6380))
        #expect(try RedisEndpoint.parse("redis://localhost") == RedisEndpoint(host: "localhost"))
        #expect(
            try RedisEndpoint.parse("redis://user:p%40ss:x@h:7000/3")
                == RedisEndpoint(host: "h", port: 7000, username: "user", password: "p%40ss:x", database: 3))
        #expect(try RedisEndpoint.parse("redis://:secret@h") == RedisEndpoint(host: "h", password: "secret"))
        var tls = RedisEndpoint(host: "h", port: 1)
        tls.wantsTLS = true
        #expect(try RedisEndpoint.parse("rediss://h:1") == tls)
        #expect(throws: EngineError.self) { try RedisEndpoint.parse("h:notaport") }
        #expect(throws: EngineError.self) { try RedisEndpoint.parse("redis://h/x") }
    }

    @Test func jumpHashIsStableAndSpreads() {
        #expect(RedisSharding.fnv1a64("") == 14_695_981_039_346_656_037)
        #expect(RedisSharding.fnv1a64("a") == 0xaf63_dc4c_8601_ec8c)
        var counts = [0, 0, 0]
        for i in 0..<3000 {
            let s = RedisSharding.shard(of: "ch\(i)", shards: 3)
            counts[s] += 1
            // Growing from 3 to 4 shards moves a channel only to the new shard.
            let s4 = RedisSharding.shard(of: "ch\(i)", shards: 4)
            #expect(s4 == s || s4 == 3)
        }
        #expect(counts.allSatisfy { $0 > 800 })
        #expect(RedisSharding.shard(of: "x", shards: 1) == 0)
    }

    // MARK: Against redis-server

    private static func node(_ server: RedisTestServer, prefix: String, shards: Int = 1)
        async throws -> (RedisEngine, RecordingEngineSink)
    {
        var options = RedisEngine.Options()
        // Generous: the suites run in parallel on a small machine, and a connect may wait for a busy CPU.
        options.connectTimeout = .seconds(5)
        options.readBlock = .milliseconds(200)
        options.maxReconnectDelay = .milliseconds(200)
        let engine = RedisEngine(
            endpoints: Array(repeating: RedisEndpoint(host: "127.0.0.1", port: server.port), count: shards),
            prefix: prefix, options: options)
        let sink = RecordingEngineSink()
        try await engine.start(sink: sink)
        return (engine, sink)
    }

    @Test func publicationsReachTheOtherNodeInOrder() async throws {
        try await withRedisTestServer { server in
            let (a, sinkA) = try await Self.node(server, prefix: "p")
            let (b, sinkB) = try await Self.node(server, prefix: "p")
            try await b.subscribe(channel: "news")
            try await b.subscribe(channel: "plain")
            var results: [PublishResult] = []
            for i in 1...50 {
                results.append(try await a.publish(channel: "news", publication: enginePub("m\(i)"), options: .engineHistory()))
            }
            _ = try await a.publish(channel: "plain", publication: enginePub("p"), options: PublishOptions())
            _ = try await a.publish(channel: "nobody", publication: enginePub("n"), options: .engineHistory())
            await sinkB.waitForEvents(count: 51)
            let got = sinkB.publications(in: "news")
            #expect(got.map(\.publication.offset) == Array(1...50))
            #expect(got.map(\.publication.engineText) == (1...50).map { "m\($0)" })
            #expect(got.allSatisfy { $0.epoch == results[0].position?.epoch })
            #expect(sinkB.publications(in: "plain").map(\.epoch) == [""])
            #expect(sinkB.publications(in: "plain").map(\.publication.offset) == [0])
            #expect(sinkB.events(in: "nobody").isEmpty)
            #expect(sinkA.events.isEmpty)  // A subscribed to nothing

            // History written by A is read by B.
            let h = try await b.history(channel: "news", query: HistoryQuery(limit: 3, reverse: true))
            #expect(engineOffsets(h.publications) == [50, 49, 48])
            #expect(h.offset == 50)

            try await b.unsubscribe(channel: "news")
            _ = try await a.publish(channel: "news", publication: enginePub("late"), options: .engineHistory())
            _ = try await a.publish(channel: "plain", publication: enginePub("p2"), options: PublishOptions())
            await sinkB.waitForEvents(count: 52)
            #expect(sinkB.publications(in: "news").count == 50)
            await a.shutdown()
            await b.shutdown()
        }
    }

    @Test func joinsAndLeavesReachTheOtherNode() async throws {
        try await withRedisTestServer { server in
            let (a, _) = try await Self.node(server, prefix: "j", shards: 2)
            let (b, sinkB) = try await Self.node(server, prefix: "j", shards: 2)
            try await b.subscribe(channel: "room")
            let x = ClientInfo(user: "1", client: "cx", connInfo: Payload(bytes: [9, 8], isBinary: true))
            let y = ClientInfo(user: "2", client: "cy")
            try await a.publishJoin(channel: "room", info: x)
            _ = try await a.publish(channel: "room", publication: enginePub("hi"), options: .engineHistory())
            try await a.publishJoin(channel: "room", info: y)
            try await a.publishLeave(channel: "room", info: x)
            await sinkB.waitForEvents(count: 4)
            var pub = enginePub("hi")
            pub.offset = 1
            let epoch = try await a.history(channel: "room", query: HistoryQuery()).epoch
            #expect(
                sinkB.events(in: "room") == [
                    .join(channel: "room", info: x), .publication(channel: "room", publication: pub, epoch: epoch),
                    .join(channel: "room", info: y), .leave(channel: "room", info: x),
                ])
            // Presence is shared too.
            try await a.addPresence(channel: "room", info: x, ttl: .seconds(60))
            try await b.addPresence(channel: "room", info: y, ttl: .seconds(60))
            #expect(try await b.presence(channel: "room") == ["cx": x, "cy": y])
            #expect(try await a.presenceStats(channel: "room") == PresenceStats(numClients: 2, numUsers: 2))
            await a.shutdown()
            await b.shutdown()
        }
    }

    /// The reader's connection is killed while A publishes: B reconnects, resumes after its last entry and
    /// gets every publication exactly once, in order, without reporting a lost position.
    @Test func readerReconnectLosesAndDuplicatesNothing() async throws {
        try await withRedisTestServer { server in
            let (a, _) = try await Self.node(server, prefix: "k")
            let (b, sinkB) = try await Self.node(server, prefix: "k")
            try await b.subscribe(channel: "c")
            let admin = try await server.connect()
            let total = 300
            // The second half is published only after the reader was killed once, so the kill always lands
            // mid-stream, however slow the machine.
            let (killed, killedNow) = AsyncStream.makeStream(of: Void.self)
            let publisher = Task {
                for i in 1...total {
                    if i == total / 2 { for await _ in killed { break } }
                    _ = try await a.publish(channel: "c", publication: enginePub("m\(i)"), options: .engineHistory(size: 1000))
                    if i % 50 == 0 { try await Task.sleep(for: .milliseconds(20)) }
                }
            }
            var kills = 0
            let deadline = ContinuousClock.now + .seconds(10)
            // Redis says nothing when a client connects: its CLIENT LIST is polled for the reader.
            while kills < 2 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                let list = try await admin.send(["CLIENT", "LIST"]).string ?? ""
                for line in list.split(separator: "\n") where line.contains("name=broker-fanout-reader") {
                    if let idField = line.split(separator: " ").first(where: { $0.hasPrefix("id=") }) {
                        _ = try? await admin.send(["CLIENT", "KILL", "ID", String(idField.dropFirst(3))])
                        kills += 1
                        killedNow.yield()
                    }
                }
            }
            killedNow.finish()
            try await publisher.value
            await sinkB.waitForEvents(count: total, timeout: .seconds(15))
            try await Task.sleep(for: .milliseconds(300))
            #expect(kills >= 1)
            #expect(sinkB.publications(in: "c").map(\.publication.offset) == Array(1...UInt64(total)))
            #expect(sinkB.lostChannels.isEmpty)
            await admin.close()
            await a.shutdown()
            await b.shutdown()
        }
    }

    /// Every connection but the admin's is killed (`CLIENT KILL TYPE normal SKIPME yes`) while A publishes:
    /// A's pool reconnects (the publisher retries with its idempotency key, so a publish whose reply was
    /// lost is not repeated) and B's reader resumes: B gets every publication exactly once, in order.
    @Test func killingAllConnectionsLosesAndDuplicatesNothing() async throws {
        try await withRedisTestServer { server in
            let (a, _) = try await Self.node(server, prefix: "ka")
            let (b, sinkB) = try await Self.node(server, prefix: "ka")
            try await b.subscribe(channel: "c")
            let admin = try await server.connect()
            let total = 200
            let publisher = Task {
                for i in 1...total {
                    let o = PublishOptions.engineHistory(size: 1000, idempotencyKey: "k\(i)")
                    var attempts = 0
                    while true {
                        do {
                            _ = try await a.publish(channel: "c", publication: enginePub("m\(i)"), options: o)
                            break
                        } catch {
                            attempts += 1
                            if attempts > 50 { throw error }
                            try await Task.sleep(for: .milliseconds(10))
                        }
                    }
                    if i % 40 == 0 { try await Task.sleep(for: .milliseconds(20)) }
                }
            }
            for _ in 0..<4 {
                try await Task.sleep(for: .milliseconds(40))
                _ = try await admin.send(["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"])
            }
            try await publisher.value
            await sinkB.waitForEvents(count: total, timeout: .seconds(15))
            try await Task.sleep(for: .milliseconds(300))
            #expect(sinkB.publications(in: "c").map(\.publication.offset) == Array(1...UInt64(total)))
            #expect(sinkB.publications(in: "c").map(\.publication.engineText) == (1...total).map { "m\($0)" })
            #expect(sinkB.lostChannels.isEmpty)
            await admin.close()
            await a.shutdown()
            await b.shutdown()
        }
    }

    /// FLUSHALL drops the fan-out streams: the readers notice (sequence numbers went back) and report the
    /// subscribed channels; deliveries after the flush still arrive.
    @Test func flushReportsLostPositions() async throws {
        try await withRedisTestServer { server in
            let (a, _) = try await Self.node(server, prefix: "f")
            let (b, sinkB) = try await Self.node(server, prefix: "f")
            try await b.subscribe(channel: "c")
            try await b.subscribe(channel: "d")
            _ = try await a.publish(channel: "c", publication: enginePub("1"), options: .engineHistory())
            _ = try await a.publish(channel: "d", publication: enginePub("1"), options: .engineHistory())
            await sinkB.waitForEvents(count: 2)
            let admin = try await server.connect()
            _ = try await admin.send(["FLUSHALL"])
            #expect(await sinkB.waitForLost("c"))
            #expect(await sinkB.waitForLost("d"))
            let r = try await a.publish(channel: "c", publication: enginePub("2"), options: .engineHistory())
            #expect(r.position?.offset == 1)  // the stream was lost: new epoch, offset 1
            await sinkB.waitForEvents(count: 3)
            #expect(sinkB.publications(in: "c").map(\.publication.engineText) == ["1", "2"])
            await admin.close()
            await a.shutdown()
            await b.shutdown()
        }
    }

    /// A fan-out stream trimmed past a reader's position (the reader was away longer than MAXLEN allows)
    /// is reported as a lost position; the entries still there are delivered.
    @Test func trimmedFanoutStreamReportsLostPosition() async throws {
        try await withRedisTestServer { server in
            var options = RedisEngine.Options()
            options.fanoutStreams = 1
            options.fanoutMaxLength = 10
            options.readBlock = .milliseconds(200)
            options.connectTimeout = .seconds(5)
            let endpoint = RedisEndpoint(host: "127.0.0.1", port: server.port)
            let a = RedisEngine(endpoints: [endpoint], prefix: "m", options: options)
            try await a.start(sink: RecordingEngineSink())
            let b = RedisEngine(endpoints: [endpoint], prefix: "m", options: options)
            let sinkB = RecordingEngineSink()
            try await b.subscribe(channel: "c")
            // B's position before A writes far more than MAXLEN; B's reader starts from it afterwards.
            let before = try await b.cursors(group: 0, via: nil)
            for i in 1...500 { _ = try await a.publish(channel: "c", publication: enginePub("\(i)"), options: PublishOptions()) }
            let admin = try await server.connect()
            let length = try await admin.send(["XLEN", "m.fanout.0.0"]).int64 ?? 0
            #expect(length < 500)
            try await b.start(sink: sinkB, from: [before])
            #expect(await sinkB.waitForLost("c"))
            await sinkB.waitForEvents(count: Int(length))
            #expect(sinkB.publications(in: "c").last?.publication.engineText == "500")
            #expect(sinkB.publications(in: "c").count == Int(length))
            await admin.close()
            await a.shutdown()
            await b.shutdown()
        }
    }

    @Test func makeFromConfigChecksEveryShard() async throws {
        try await withRedisTestServer { server in
            var config = RedisConfig()
            config.address = ["127.0.0.1:\(server.port)", "redis://127.0.0.1:\(server.port)/2"]
            config.prefix = "cfg"
            let engine = try await RedisEngine.make(config: config)
            #expect(engine.endpoints.map(\.database) == [0, 2])
            let sink = RecordingEngineSink()
            try await engine.start(sink: sink)
            try await engine.subscribe(channel: "x")
            let r = try await engine.publish(channel: "x", publication: enginePub("a"), options: .engineHistory())
            #expect(r.position?.offset == 1)
            await sink.waitForEvents(count: 1)
            #expect(sink.publications(in: "x").count == 1)
            var healthy = false
            for _ in 0..<200 where !healthy {  // readers connect in the background
                healthy = await engine.isHealthy()
                if !healthy { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(healthy)
            await engine.shutdown()

            config.address = ["127.0.0.1:1"]
            do throws(RedisEngineSetupError) {
                _ = try await RedisEngine.make(config: config)
                Issue.record("an unreachable shard must refuse")
            } catch {
                var unreachable = false
                if case .capability(let inner) = error, case .unreachable = inner { unreachable = true }
                #expect(unreachable, "\(error)")
            }
            // TLS to a plain-text server: refused, and the message says it was the TLS session.
            config.address = ["rediss://127.0.0.1:\(server.port)"]
            config.connectTimeout = .seconds(2)
            do throws(RedisEngineSetupError) {
                _ = try await RedisEngine.make(config: config)
                Issue.record("TLS to a plain server must refuse")
            } catch {
                #expect(error.description.contains("TLS"), "\(error)")
            }
        }
    }

    /// Presence records past their TTL are pruned on read (real TTL: the Redis keys expire by Redis time,
    /// the records by the engine's clock).
    @Test func presenceExpiresAndPrunesManyMembers() async throws {
        try await withRedisTestServer { server in
            let clock = ManualEngineClock()
            let engine = RedisEngine(
                endpoints: [RedisEndpoint(host: "127.0.0.1", port: server.port)], prefix: "pr", clock: clock.brokerClock)
            for i in 0..<2500 {
                try await engine.addPresence(channel: "big", info: ClientInfo(user: "u\(i % 7)", client: "c\(i)"), ttl: .seconds(10))
            }
            try await engine.addPresence(channel: "big", info: ClientInfo(user: "late", client: "late"), ttl: .seconds(60))
            #expect(try await engine.presenceStats(channel: "big") == PresenceStats(numClients: 2501, numUsers: 8))
            clock.advance(.seconds(11))
            #expect(try await engine.presence(channel: "big") == ["late": ClientInfo(user: "late", client: "late")])
            let admin = try await server.connect()
            #expect(try await admin.send(["HLEN", "pr.presence.data.big"]) == .integer(1))
            #expect(try await admin.send(["ZCARD", "pr.presence.expire.big"]) == .integer(1))
            await admin.close()
            await engine.shutdown()
        }
    }

    @Test func controlMessagesReachEveryNodeAndLateNodesStartAtTheEnd() async throws {
        try await withRedisTestServer { server in
            let (a, sinkA) = try await Self.node(server, prefix: "ctl", shards: 2)
            try await a.publishControl(Array("before-b".utf8))
            #expect(await sinkA.wait(timeout: .seconds(5)) { $0.controls.count == 1 })
            let (b, sinkB) = try await Self.node(server, prefix: "ctl", shards: 2)
            try await b.publishControl(Array("from-b".utf8))
            try await a.publishControl(Array("from-a".utf8))
            #expect(await sinkA.wait(timeout: .seconds(5)) { $0.controls.count == 3 })
            #expect(await sinkB.wait(timeout: .seconds(5)) { $0.controls.count == 2 })
            #expect(sinkA.controlTexts == ["before-b", "from-b", "from-a"])
            #expect(sinkB.controlTexts == ["from-b", "from-a"])
            // Messages sent while B's reader is cut off arrive once it has reconnected.
            let admin = try await server.connect()
            _ = try await admin.send(["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"])
            // A's own connections were killed too: its first attempt may fail, a retry reconnects.
            for attempt in 1...20 {
                do {
                    try await a.publishControl(Array("after-kill".utf8))
                    break
                } catch {
                    if attempt == 20 { throw error }
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            #expect(await sinkB.wait(timeout: .seconds(5)) { $0.controls.count == 3 })
            #expect(sinkB.controlTexts.last == "after-kill")
            await a.shutdown()
            await b.shutdown()
        }
    }

    @Test func shutdownStopsDeliveryAndPublishing() async throws {
        try await withRedisTestServer { server in
            let (a, sinkA) = try await Self.node(server, prefix: "s")
            try await a.subscribe(channel: "c")
            _ = try await a.publish(channel: "c", publication: enginePub("x"), options: PublishOptions())
            await sinkA.waitForEvents(count: 1)
            #expect(await a.isHealthy())
            await a.shutdown()
            await #expect(throws: EngineError.self) {
                try await a.publish(channel: "c", publication: enginePub("y"), options: PublishOptions())
            }
            #expect(sinkA.events.count == 1)
        }
    }
}
