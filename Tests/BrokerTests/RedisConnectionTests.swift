import CHiredis
import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import Broker

// The Redis client against a real redis-server that each test starts on a free loopback port and stops at
// the end. Without redis-server on PATH these tests FAIL (CI installs it: apt-get install -y redis-server).

@Suite(.timeLimit(.minutes(2)))
struct RedisConnectionTests {
    // MARK: Replies

    @Test func setGetIsBinarySafe() async throws {
        try await withRedisTestServer { server in
            let c = try await server.connect()
            let key: [UInt8] = [0x6B, 0x00, 0x0D, 0x0A, 0x6B]
            let value: [UInt8] = [0x00, 0x0D, 0x0A, 0x41, 0x00, 0xFF] + Array("\r\n$3\r\nfoo\r\n*1\r\n".utf8)
            #expect(try await c.send(bytes: [Array("SET".utf8), key, value]) == .simpleString("OK"))
            #expect(try await c.send(bytes: [Array("GET".utf8), key]) == .bulkString(value))

            // A value far larger than one socket read: the reader reassembles it across reads.
            let big = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            #expect(try await c.send(bytes: [Array("SET".utf8), Array("big".utf8), big]) == .simpleString("OK"))
            #expect(try await c.send(["GET", "big"]) == .bulkString(big))
            #expect(try await c.send(bytes: [Array("SET".utf8), Array("empty".utf8), []]) == .simpleString("OK"))
            #expect(try await c.send(["GET", "empty"]) == .bulkString([]))
            await c.close()
        }
    }

    @Test func integerArrayAndNilReplies() async throws {
        try await withRedisTestServer { server in
            let c = try await server.connect()
            #expect(try await c.send(["PING"]) == .simpleString("PONG"))
            #expect(try await c.send(["INCR", "n"]) == .integer(1))
            #expect(try await c.send(["INCRBY", "n", "-5"]) == .integer(-4))
            #expect(try await c.send(["RPUSH", "l", "a", "b", "c"]) == .integer(3))
            #expect(try await c.send(["LRANGE", "l", "0", "-1"]) == .array(["a", "b", "c"].map(Self.bulk)))
            #expect(try await c.send(["LRANGE", "missing", "0", "-1"]) == .array([]))

            let missing = try await c.send(["GET", "missing"])
            #expect(missing == .null)
            #expect(missing.isNull)
            #expect(try await c.send(["HGET", "missing", "f"]).isNull)

            let nested = try await c.send(["EVAL", "return {1, {2, 'x'}, 'y'}", "0"])
            #expect(nested == .array([.integer(1), .array([.integer(2), Self.bulk("x")]), Self.bulk("y")]))
            #expect(nested.elements?.count == 3)
            await c.close()
        }
    }

    @Test func errorReplyThrowsServerErrorAndKeepsTheConnection() async throws {
        try await withRedisTestServer { server in
            let c = try await server.connect()
            _ = try await c.send(["SET", "s", "not a number"])
            await #expect(throws: RedisError.server("ERR value is not an integer or out of range")) {
                try await c.send(["INCR", "s"])
            }
            do throws(RedisError) {
                _ = try await c.send(["NOSUCHCOMMAND", "x"])
                Issue.record("an unknown command must throw")
            } catch {
                guard case .server(let message) = error else { throw error }
                #expect(message.hasPrefix("ERR unknown command"))
            }
            // In a pipeline the error stays in its slot and the other commands' replies come back.
            let replies = try await c.pipeline([["INCR", "s"], ["PING"]].map(Self.bytes))
            #expect(replies.count == 2)
            if case .error(let message) = replies[0] { #expect(message.hasPrefix("ERR")) } else {
                Issue.record("expected an error reply, got \(replies[0])")
            }
            #expect(replies[1] == .simpleString("PONG"))
            #expect(try await c.send(["PING"]) == .simpleString("PONG"))
            await c.close()
        }
    }

    // MARK: Pipelining and concurrency

    @Test func pipelineOfTenThousandIncrsRepliesInOrder() async throws {
        try await withRedisTestServer { server in
            let c = try await server.connect()
            let commands = Array(repeating: Self.bytes(["INCR", "counter"]), count: 10_000)
            let replies = try await c.pipeline(commands)
            #expect(replies == (1...10_000).map { RESPValue.integer(Int64($0)) })
            #expect(try await c.send(["GET", "counter"]) == Self.bulk("10000"))
            await c.close()
        }
    }

    @Test func concurrentSendersEachGetTheirOwnReplies() async throws {
        try await withRedisTestServer { server in
            let c = try await server.connect()
            let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
                for task in 0..<32 {
                    group.addTask {
                        var wrong = 0
                        for i in 0..<100 {
                            let payload = "task\(task)-\(i)"
                            if i % 10 == 0 {
                                let replies = try await c.pipeline([["ECHO", payload], ["ECHO", payload + "b"]].map(Self.bytes))
                                if replies != [Self.bulk(payload), Self.bulk(payload + "b")] { wrong += 1 }
                            } else if try await c.send(["ECHO", payload]) != Self.bulk(payload) {
                                wrong += 1
                            }
                        }
                        if try await c.send(["INCRBY", "total", "1"]).int64 == nil { wrong += 1 }
                        return wrong
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(mismatches == 0)
            #expect(try await c.send(["GET", "total"]) == Self.bulk("32"))
            await c.close()
        }
    }

    // MARK: Failures

    @Test func killedConnectionFailsPendingCommandsPromptly() async throws {
        try await withRedisTestServer { server in
            let victim = try await server.connect(ioTimeout: nil)
            let admin = try await server.connect()
            guard let id = try await victim.send(["CLIENT", "ID"]).int64 else {
                Issue.record("CLIENT ID did not return an integer")
                return
            }
            let blocked = Task { try await victim.send(["BLPOP", "nokey", "10"]) }
            try await Self.waitForBlockedClients(1, admin)
            let start = ContinuousClock.now
            #expect(try await admin.send(["CLIENT", "KILL", "ID", String(id)]) == .integer(1))
            let result = await blocked.result
            #expect(ContinuousClock.now - start < .seconds(2))
            #expect(throws: RedisError.closed) { try result.get() }
            // Once closed, a connection fails every command at once.
            await #expect(throws: RedisError.closed) { try await victim.send(["PING"]) }
            #expect(!victim.isActive)
            await admin.close()
        }
    }

    @Test func stoppedServerFailsPendingCommands() async throws {
        try await withRedisTestServer { server in
            let c = try await server.connect(ioTimeout: nil)
            let observer = try await server.connect()
            let blocked = Task { try await c.pipeline([["BLPOP", "nokey", "10"], ["PING"]].map(Self.bytes)) }
            try await Self.waitForBlockedClients(1, observer)
            let start = ContinuousClock.now
            await server.stop()
            let outcome = await blocked.result
            #expect(throws: RedisError.closed) { try outcome.get() }
            #expect(ContinuousClock.now - start < .seconds(2))
            try await c.closeFuture.get()
        }
    }

    @Test func ioTimeoutFailsTheCommandAndClosesTheConnection() async throws {
        try await withRedisTestServer { server in
            let c = try await server.connect(ioTimeout: .milliseconds(200))
            let start = ContinuousClock.now
            // One write: Redis answers the PING only after the BLPOP, which blocks for 5 s.
            let futures = c.submit([["BLPOP", "nokey", "5"], ["PING"]].map(Self.bytes))
            await #expect(throws: RedisError.timeout) { try await futures[0].get() }
            let elapsed = ContinuousClock.now - start
            #expect(elapsed >= .milliseconds(200) && elapsed < .seconds(3), "timed out after \(elapsed)")
            // The command queued behind can never be answered on this stream either.
            await #expect(throws: RedisError.closed) { try await futures[1].get() }
            try await c.closeFuture.get()
            await #expect(throws: RedisError.closed) { try await c.send(["PING"]) }
        }
    }

    /// The timeout is per command: a connection busy for longer than the timeout, with each reply in time,
    /// never times out (the timer armed for an answered command re-arms for the one now oldest).
    @Test func ioTimeoutIsPerCommand() async throws {
        try await withRedisTestServer { server in
            let c = try await server.connect(ioTimeout: .seconds(1))
            #expect(try await c.send(["PING"]) == .simpleString("PONG"))  // arms the timer for t+1 s
            try await Task.sleep(for: .milliseconds(900))
            // Pending when that timer fires, answered (nil after 0.5 s) well within its own second.
            #expect(try await c.send(["BLPOP", "nokey", "0.5"]).isNull)
            #expect(try await c.send(["PING"]) == .simpleString("PONG"))
            #expect(c.isActive)
            await c.close()
        }
    }

    @Test func malformedReplyIsAProtocolErrorThatClosesTheConnection() async throws {
        let garbage = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RedisGarbageResponder())
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let port = try #require(garbage.localAddress?.port)
        let c = try await RedisConnection.connect(host: "127.0.0.1", port: port)
        // All three are pending when the garbage arrives: they all fail with the protocol error.
        do throws(RedisError) {
            _ = try await c.pipeline([["PING"], ["PING"], ["PING"]].map(Self.bytes))
            Issue.record("a malformed reply must throw")
        } catch {
            guard case .protocol(let why) = error else { throw error }
            #expect(why.contains("Protocol error"))
        }
        await #expect(throws: RedisError.closed) { try await c.send(["PING"]) }
        try await c.closeFuture.get()
        try await garbage.close()
    }

    // MARK: Connecting

    @Test func connectAuthenticatesAndSelectsTheDatabase() async throws {
        try await withRedisTestServer { server in
            let admin = try await server.connect()
            _ = try await admin.send(["ACL", "SETUSER", "app", "on", ">s3cret", "~*", "&*", "+@all"])
            let app = try await server.connect(username: "app", password: "s3cret", database: 3)
            #expect(try await app.send(["ACL", "WHOAMI"]) == Self.bulk("app"))
            _ = try await app.send(["SET", "where", "db3"])
            _ = try await admin.send(["SELECT", "3"])
            #expect(try await admin.send(["GET", "where"]) == Self.bulk("db3"))

            do throws(RedisError) {
                _ = try await server.connect(username: "app", password: "wrong")
                Issue.record("a wrong password must fail the connect")
            } catch {
                guard case .connectFailed(let why) = error else { throw error }
                #expect(why.contains("127.0.0.1:\(server.port)") && why.contains("AUTH failed") && why.contains("WRONGPASS"))
            }
            await app.close()
            await admin.close()
        }
    }

    @Test func connectToAClosedPortFailsNamingTheAddress() async throws {
        let port = try await RedisTestServer.freePort()
        do throws(RedisError) {
            _ = try await RedisConnection.connect(host: "127.0.0.1", port: port, connectTimeout: .seconds(2))
            Issue.record("nothing listens there")
        } catch {
            guard case .connectFailed(let why) = error else { throw error }
            #expect(why.contains("127.0.0.1:\(port)"))
        }
    }

    // MARK: Capabilities

    @Test func capabilityCheckPassesOnTheLocalServer() async throws {
        try await withRedisTestServer { server in
            let c = try await server.connect()
            let info = try await RedisCapabilities.check(c, address: c.address)
            #expect(info.version >= RedisCapabilities.minimumVersion)
            #expect(info.fields["redis_version"] == info.versionString)
            #expect(info.mode == "standalone")
            #expect(info.address == "127.0.0.1:\(server.port)")
            // The throw-away stream key is gone.
            #expect(try await c.send(["DBSIZE"]) == .integer(0))
            await c.close()
        }
    }

    @Test func versionComparisonRejectsOldServers() throws {
        for old in ["5.0.7", "6.0.16", "6.1.9", "4.0.0", "2.8", "", "unknown", ".6.2"] {
            #expect(!RedisCapabilities.isSupported(version: old), "\(old) must be rejected")
        }
        for ok in ["6.2.0", "6.2", "6.2.14", "6.10.0", "7.0.15", "7.2.4-rc1", "10.0.0", "255.255.255"] {
            #expect(RedisCapabilities.isSupported(version: ok), "\(ok) must be accepted")
        }
        #expect(RedisVersion("7.2.4-rc1") == RedisVersion(major: 7, minor: 2, patch: 4))
        #expect(RedisVersion("6.10.0")! > RedisVersion("6.9.9")!)
        let message = RedisCapabilityError.tooOld(address: "127.0.0.1:6379", version: "5.0.7").description
        #expect(message == "redis at 127.0.0.1:6379 is version 5.0.7; the broker needs Redis ≥ 6.2 "
            + "for streams with MAXLEN/XAUTOCLAIM — upgrade Redis")
    }

    @Test func capabilityCheckNamesMissingScriptingAndStreams() async throws {
        try await withRedisTestServer { server in
            let admin = try await server.connect()
            _ = try await admin.send(["ACL", "SETUSER", "nolua", "on", ">pw", "~*", "&*", "+@all", "-@scripting"])
            _ = try await admin.send(["ACL", "SETUSER", "nostream", "on", ">pw", "~*", "&*", "+@all", "-@stream"])

            let noLua = try await server.connect(username: "nolua", password: "pw")
            do throws(RedisCapabilityError) {
                _ = try await RedisCapabilities.check(noLua, address: noLua.address)
                Issue.record("EVAL is denied to this user")
            } catch {
                guard case .scriptingUnavailable = error else { throw error }
                let text = error.description
                #expect(text.hasPrefix("redis at \(noLua.address) refuses EVAL (scripting disabled?)"))
                #expect(text.contains("enable it or use a Redis that allows EVAL"))
            }

            let noStream = try await server.connect(username: "nostream", password: "pw")
            do throws(RedisCapabilityError) {
                _ = try await RedisCapabilities.check(noStream, address: noStream.address)
                Issue.record("XADD is denied to this user")
            } catch {
                guard case .streamsUnavailable(_, let detail) = error else { throw error }
                #expect(detail.contains("NOPERM"))
                #expect(error.description.hasPrefix("redis at \(noStream.address) refuses stream commands"))
            }
            await noLua.close()
            await noStream.close()
            await admin.close()
        }
    }

    @Test func infoParsingSkipsSectionsAndKeepsColonsInValues() {
        let fields = RedisCapabilities.parseInfo("# Server\r\nredis_version:7.0.15\r\nexecutable:/usr/bin/redis:server\r\n\r\n")
        #expect(fields == ["redis_version": "7.0.15", "executable": "/usr/bin/redis:server"])
    }

    // MARK: Encoding and reply conversion

    @Test func encoderIsBinarySafe() {
        let encoded = RESPCommandEncoder.encode([Array("SET".utf8), [], [0x61, 0x00, 0x0D, 0x0A]])
        #expect(encoded == Array("*3\r\n$3\r\nSET\r\n$0\r\n\r\n$4\r\na".utf8) + [0x00, 0x0D, 0x0A] + Array("\r\n".utf8))
        var buffer = ByteBuffer()
        RESPCommandEncoder.encode([Array("PING".utf8)], into: &buffer)
        #expect(buffer == ByteBuffer(string: "*1\r\n$4\r\nPING\r\n"))
    }

    /// RESP3 reply trees built by hand (Debian's hiredis 0.14 reader never produces them).
    @Test func resp3RepliesAreConverted() throws {
        var key = Self.reply(REDIS_REPLY_STRING, text: "k")
        var flag = Self.reply(REDIS_REPLY_BOOL, integer: 1)
        var big = Self.reply(REDIS_REPLY_BIGNUM, text: "123456789012345678901234567890")
        var nothing = Self.reply(REDIS_REPLY_NIL)
        defer { [key, big].forEach { free($0.str) } }
        try withUnsafeMutablePointer(to: &key) { keyPointer in
            try withUnsafeMutablePointer(to: &flag) { flagPointer in
                try withUnsafeMutablePointer(to: &big) { bigPointer in
                    try withUnsafeMutablePointer(to: &nothing) { nilPointer in
                        var mapChildren: [UnsafeMutablePointer<redisReply>?] = [keyPointer, flagPointer]
                        var setChildren: [UnsafeMutablePointer<redisReply>?] = [bigPointer, nilPointer]
                        try mapChildren.withUnsafeMutableBufferPointer { mapElements in
                            try setChildren.withUnsafeMutableBufferPointer { setElements in
                                var map = Self.reply(REDIS_REPLY_MAP, children: mapElements)
                                var set = Self.reply(REDIS_REPLY_SET, children: setElements)
                                let convertedMap = try RESPValue(copying: &map)
                                let convertedSet = try RESPValue(copying: &set)
                                #expect(convertedMap == .map([RESPMapEntry(key: Self.bulk("k"), value: .bool(true))]))
                                #expect(convertedSet == .set([.bignum("123456789012345678901234567890"), .null]))
                                var odd = Self.reply(REDIS_REPLY_MAP, children: UnsafeMutableBufferPointer(rebasing: setElements[0..<1]))
                                #expect(throws: RedisError.self) { try RESPValue(copying: &odd) }
                                var unknown = Self.reply(99)
                                #expect(throws: RedisError.protocol("unsupported reply type 99")) { try RESPValue(copying: &unknown) }
                            }
                        }
                    }
                }
            }
        }
    }
}

// MARK: Helpers

extension RedisConnectionTests {
    static func bulk(_ text: String) -> RESPValue { .bulkString(Array(text.utf8)) }

    static func bytes(_ args: [String]) -> [[UInt8]] { args.map { Array($0.utf8) } }

    static func reply(
        _ type: Int32, integer: Int64 = 0, text: String? = nil,
        children: UnsafeMutableBufferPointer<UnsafeMutablePointer<redisReply>?>? = nil
    ) -> redisReply {
        var r = redisReply()
        r.type = type
        r.integer = integer
        if let text {
            r.str = strdup(text)
            r.len = text.utf8.count
        }
        if let children {
            r.element = children.baseAddress
            r.elements = children.count
        }
        return r
    }

    /// Waits until the server reports `count` clients blocked in a command (BLPOP), so a test acts on a
    /// command that is really in flight.
    static func waitForBlockedClients(_ count: Int, _ c: RedisConnection) async throws {
        for _ in 0..<200 {
            let info = try await c.send(["INFO", "clients"]).string ?? ""
            if RedisCapabilities.parseInfo(info)["blocked_clients"] == String(count) { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("no client blocked after 2 s")
    }
}

/// Answers anything with bytes that are not RESP.
private final class RedisGarbageResponder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "?garbage\r\n")), promise: nil)
    }
}

// MARK: A real redis-server per test

/// Runs `body` against a fresh redis-server and stops it afterwards, whatever `body` did.
func withRedisTestServer(_ body: (RedisTestServer) async throws -> Void) async throws {
    let server = try await RedisTestServer.start()
    do {
        try await body(server)
    } catch {
        await server.stop()
        throw error
    }
    await server.stop()
}

struct RedisTestServerError: Error, CustomStringConvertible {
    var description: String
}

/// A redis-server subprocess on 127.0.0.1 with no persistence, in its own temporary directory.
final class RedisTestServer: Sendable {
    let port: Int
    let directory: URL
    private let process: Process

    private init(port: Int, directory: URL, process: Process) {
        self.port = port
        self.directory = directory
        self.process = process
    }

    func connect(
        ioTimeout: TimeAmount? = .seconds(10), username: String? = nil, password: String? = nil, database: Int = 0
    ) async throws(RedisError) -> RedisConnection {
        try await RedisConnection.connect(
            host: "127.0.0.1", port: port, ioTimeout: ioTimeout, username: username, password: password,
            database: database)
    }

    static func start() async throws -> RedisTestServer {
        guard let executable = findOnPath("redis-server") else {
            throw RedisTestServerError(
                description: "redis-server is not on PATH: the Redis client tests need a real server — "
                    + "install it (apt-get install -y redis-server)")
        }
        var lastFailure = ""
        for _ in 0..<3 {  // a free port can be taken between probing and redis binding it: try another
            let port = try await freePort()
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("broker-redis-test-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = [
                "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", directory.path, "--logfile", directory.appendingPathComponent("redis.log").path,
            ]
            try process.run()
            let server = RedisTestServer(port: port, directory: directory, process: process)
            if await server.waitUntilReady() { return server }
            lastFailure = server.log()
            await server.stop()
        }
        throw RedisTestServerError(description: "redis-server did not answer PING; its log:\n\(lastFailure)")
    }

    /// Polls PING for up to 10 s while the process is alive.
    private func waitUntilReady() async -> Bool {
        for _ in 0..<200 {
            guard process.isRunning else { return false }
            if let c = try? await RedisConnection.connect(host: "127.0.0.1", port: port, connectTimeout: .seconds(1)) {
                let pong = try? await c.send(["PING"])
                await c.close()
                if pong == .simpleString("PONG") { return true }
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// Kills the server (SIGKILL: the tests need no graceful shutdown, and redis 7 can linger for seconds
    /// after SIGTERM), waits for it to exit and removes its directory. Safe to call twice.
    func stop() async {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            for _ in 0..<200 where process.isRunning {
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    private func log() -> String {
        (try? String(contentsOf: directory.appendingPathComponent("redis.log"), encoding: .utf8)) ?? "(no log)"
    }

    static func freePort() async throws -> Int {
        let probe = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let port = probe.localAddress?.port
        try await probe.close()
        guard let port else { throw RedisTestServerError(description: "no local port") }
        return port
    }

    private static func findOnPath(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
