import Crypto
import NIOPosix
import Testing

@testable import Broker
@testable import BrokerProtocol

@Suite("Admin console")
struct AdminConsoleTests {
    @Test func sessionTokensVerifyOnlyWithTheirSecretAndUntilExpiry() throws {
        let (token, session) = AdminSessionToken.issue(secret: "s3cret", now: 1_000)
        #expect(session.expiresAt == 1_000 + AdminSessionToken.lifetime)
        #expect(AdminSessionToken.verify(token, secret: "s3cret", now: 1_001) == session)
        #expect(AdminSessionToken.verify(token, secret: "other", now: 1_001) == nil)
        #expect(AdminSessionToken.verify(token, secret: "", now: 1_001) == nil)
        #expect(AdminSessionToken.verify(token, secret: "s3cret", now: session.expiresAt) == nil)
        // Any change to the signed part breaks the signature: here a later expiry.
        var parts = token.split(separator: ".").map(String.init)
        parts[2] = String(session.expiresAt + 3600)
        #expect(AdminSessionToken.verify(parts.joined(separator: "."), secret: "s3cret", now: 1_001) == nil)
        // Two sign-ins are two sessions.
        #expect(AdminSessionToken.issue(secret: "s3cret", now: 1_000).session.sessionID != session.sessionID)
    }

    @Test func aClientJWTIsNeverAnAdminSession() {
        let jwt = TokenMinter.hs256(claims: JSONObject([("sub", .string("admin"))]), secret: "s3cret")
        #expect(AdminSessionToken.verify(jwt, secret: "s3cret", now: 0) == nil)
        #expect(AdminSessionToken.verify("adm1.zz.1.AA", secret: "s3cret", now: 0) == nil)
        #expect(AdminSessionToken.verify("", secret: "s3cret", now: 0) == nil)
    }

    @Test func signInLimiterCountsFailuresPerAddressWithinTheWindow() {
        let limiter = SignInLimiter()
        for i in 0..<SignInLimiter.maxFailures {
            #expect(limiter.retryAfter(address: "10.0.0.1", now: Int64(i) * 1000) == 0)
            limiter.recordFailure(address: "10.0.0.1", now: Int64(i) * 1000)
        }
        // Locked until the first failure (at 0 ms) leaves the 60 s window.
        #expect(limiter.retryAfter(address: "10.0.0.1", now: 5_000) == 55_000)
        #expect(limiter.retryAfter(address: "10.0.0.2", now: 5_000) == 0)
        #expect(limiter.retryAfter(address: "10.0.0.1", now: 60_000) == 0)
    }

    @Test func passwordsComeFromFormsOrJSON() {
        #expect(AdminConsole.password(from: Array("password=a%20b+c&x=1".utf8), contentType: "application/x-www-form-urlencoded") == "a b c")
        #expect(AdminConsole.password(from: Array(#"{"password":"p w"}"#.utf8), contentType: "application/json") == "p w")
        #expect(AdminConsole.password(from: Array("x=1".utf8), contentType: "") == nil)
        #expect(AdminConsole.constantTimeEqual("abc", "abc"))
        #expect(!AdminConsole.constantTimeEqual("abc", "abd"))
        #expect(!AdminConsole.constantTimeEqual("abc", "abcd"))
        #expect(!AdminConsole.constantTimeEqual("", "a"))
    }

    @Test func enabledConsoleNeedsPasswordAndSecretUnlessInsecure() throws {
        var admin = AdminConfig()
        admin.enabled = true
        #expect(throws: ConfigError.self) { try ConfigLoader.validateAdmin(admin) }
        admin.password = "p"
        #expect { try ConfigLoader.validateAdmin(admin) } throws: { ($0 as? ConfigError)?.key == "admin.secret" }
        admin.secret = "s"
        try ConfigLoader.validateAdmin(admin)
        try ConfigLoader.validateAdmin({ var a = AdminConfig(); a.enabled = true; a.insecure = true; return a }())
    }

    @Test func trafficRatesAreMessagesPerSecondOverWholeWindows() {
        let traffic = TrafficCounters()
        let rates = TrafficRates()
        #expect(rates.sample(traffic, now: 0) == .init(received: 0, sent: 0))
        traffic.sent.add(3000, ordering: .relaxed)
        traffic.received.add(20, ordering: .relaxed)
        #expect(rates.sample(traffic, now: 500) == .init(received: 0, sent: 0))  // too soon: the last window's
        #expect(rates.sample(traffic, now: 2000) == .init(received: 10, sent: 1500))
        #expect(rates.sample(traffic, now: 2100) == .init(received: 10, sent: 1500))
        #expect(rates.sample(traffic, now: 3100) == .init(received: 0, sent: 0))
    }

    @Test func feedSendsThePresenceSnapshotThenJoinsAndLeaves() async throws {
        var config = BrokerConfig()
        var chat = ChannelOptions()
        chat.presence = true
        config.channel.namespaces = [NamespaceConfig(name: "chat", options: chat)]
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let engine = MemoryEngine()
        let node = try Node(config: config, engine: engine, eventLoops: [group.next()])
        try await engine.start(sink: node.hub)
        var feed = AdminFeed(api: ServerAPI(node: node), channel: "chat:x")

        let first = await feed.tick(now: 0)
        #expect(first.map(\.name) == ["overview", "presence", "presence_stats", "history_error"])
        #expect(first[1].data == .object(JSONObject([("clients", .array([]))])))
        #expect(first[3].data.objectValue?["code"] == .number("108"))

        try await engine.addPresence(channel: "chat:x", info: ClientInfo(user: "alice", client: "c1"), ttl: .seconds(60))
        let joined = await feed.tick(now: 250)
        #expect(joined.map(\.name) == ["join", "presence_stats"])
        #expect(joined[0].data.objectValue?["user"] == .string("alice"))
        #expect(joined[0].data.objectValue?["time"] == .number("250"))

        #expect(await feed.tick(now: 500).isEmpty)  // nothing changed, nothing due

        try await engine.removePresence(channel: "chat:x", clientID: "c1", user: "alice")
        let left = await feed.tick(now: 1000)
        #expect(left.map(\.name) == ["overview", "leave", "presence_stats"])
        #expect(left[1].data.objectValue?["client"] == .string("c1"))
        try await group.shutdownGracefully()
    }

    @Test func inspectTablesAlignColumns() throws {
        let result = try JSONParser.parse(#"{"channels":{"chat:a":{"num_clients":12},"chat:long-name":{"num_clients":3}}}"#)
        #expect(
            InspectReport.channels(result) == """
                CHANNEL         SUBSCRIBERS
                chat:a                   12
                chat:long-name            3
                2 channel(s), 15 subscription(s)

                """)
        #expect(InspectReport.connections(try JSONParser.parse(#"{"connections":{}}"#)).contains("(none)"))
        #expect(InspectReport.uptime(3_725) == "1h2m5s")
        #expect(InspectReport.megabytes(41_943_040) == "40.0 MB")
    }

    @Test func apiURLFollowsTheConfig() {
        var config = BrokerConfig()
        config.httpServer.port = 9000
        #expect(InspectClient.apiURL(for: config) == "http://127.0.0.1:9000/api")
        config.httpServer.internalPort = 9001
        config.httpServer.address = "10.1.2.3"
        #expect(InspectClient.apiURL(for: config) == "http://10.1.2.3:9001/api")
        config.httpAPI.external = true
        config.httpAPI.handlerPrefix = "/server"
        #expect(InspectClient.apiURL(for: config) == "http://10.1.2.3:9000/server")
        // TLS on the listener asked: https. tls_external leaves the internal port plain; internal_tls gives it TLS.
        config.httpServer.tls.enabled = true
        #expect(InspectClient.apiURL(for: config) == "https://10.1.2.3:9000/server")
        config.httpAPI.external = false
        #expect(InspectClient.apiURL(for: config) == "https://10.1.2.3:9001/server")
        config.httpServer.tlsExternal = true
        #expect(InspectClient.apiURL(for: config) == "http://10.1.2.3:9001/server")
        config.httpServer.internalTLS.enabled = true
        #expect(InspectClient.apiURL(for: config) == "https://10.1.2.3:9001/server")
    }
}
