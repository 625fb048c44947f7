import BrokerProtocol
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import Broker

/// A transport that records what the session writes, so the protocol state machine is tested without sockets.
final class RecordingTransport: SessionTransport, @unchecked Sendable {
    enum Event: Sendable, Equatable {
        case text(String)
        case binary([UInt8])
        case closed(code: UInt16, reason: String)
        /// A WebSocket ping frame (native ping mode).
        case ping
        /// Nothing arrived in time (yielded by `RecordingTransport.next`'s deadline).
        case timedOut
    }

    let allocator = ByteBufferAllocator()
    var isWritable = true
    let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation

    init() {
        (events, continuation) = AsyncStream.makeStream(of: Event.self)
    }

    func writeFrame(_ frame: ByteBuffer) {
        var f = frame
        guard let b0: UInt8 = f.readInteger(), let b1: UInt8 = f.readInteger() else { return }
        var length = Int(b1 & 0x7F)
        if length == 126 { length = Int(f.readInteger(as: UInt16.self)!) } else if length == 127 { length = Int(f.readInteger(as: UInt64.self)!) }
        let payload = f.readBytes(length: length) ?? []
        // One event per message: JSON frames may hold several `\n`-separated messages.
        if b0 & 0x0F == WebSocketFraming.opcodePing {
            continuation.yield(.ping)
        } else if b0 & 0x0F == WebSocketFraming.opcodeText {
            for line in String(decoding: payload, as: UTF8.self).split(separator: "\n") { continuation.yield(.text(String(line))) }
        } else {
            continuation.yield(.binary(payload))
        }
    }

    func flush() {}

    /// Arms a deadline that yields `.timedOut` unless cancelled first.
    func deadline(_ d: Duration) -> Task<Void, Never> {
        let continuation = self.continuation
        return Task {
            try? await Task.sleep(for: d)
            if !Task.isCancelled { continuation.yield(.timedOut) }
        }
    }

    func close(code: UInt16, reason: String) {
        continuation.yield(.closed(code: code, reason: reason))
    }
}

/// A node on one real event loop plus one session on it.
struct SessionHarness {
    let group: MultiThreadedEventLoopGroup
    let node: Node
    let engine: MemoryEngine
    let session: ClientSession
    let transport: RecordingTransport
    var iterator: AsyncStream<RecordingTransport.Event>.AsyncIterator

    static func make(nativePing: Bool = false, configure: (inout BrokerConfig) -> Void = { _ in }) async throws -> SessionHarness {
        var config = BrokerConfig()
        config.client.allowAnonymousConnectWithoutToken = true
        config.client.token.hmacSecretKey = "secret"
        var news = ChannelOptions()
        news.allowSubscribeForClient = true
        news.allowSubscribeForAnonymous = true
        news.historySize = 10
        news.historyTTL = .seconds(60)
        news.forceRecovery = true
        config.channel.namespaces = [NamespaceConfig(name: "news", options: news)]
        configure(&config)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let engine = MemoryEngine()
        let node = try Node(config: config, engine: engine, eventLoops: [loop])
        try await engine.start(sink: node.hub)
        let transport = RecordingTransport()
        let session = try await loop.submit {
            ClientSession(node: node, loopHub: node.hub.loopHub(for: loop)!, transport: transport, nativePing: nativePing)
        }.get()
        return SessionHarness(
            group: group, node: node, engine: engine, session: session, transport: transport,
            iterator: transport.events.makeAsyncIterator())
    }

    /// Feeds a frame to the session on its loop.
    func send(_ text: String) async throws {
        let session = self.session
        try await group.next().submit { session.handleFrame(Array(text.utf8)) }.get()
    }

    func onLoop(_ body: @escaping @Sendable () -> Void) async throws {
        try await group.next().submit(body).get()
    }

    /// The next message or close the session wrote (`.timedOut` after 5 s).
    mutating func next() async throws -> RecordingTransport.Event {
        let deadline = transport.deadline(.seconds(5))
        defer { deadline.cancel() }
        let event = await iterator.next()
        return try #require(event)
    }

    func shutdown() async throws {
        try await group.shutdownGracefully()
    }
}

@Suite struct ClientSessionTests {
    @Test("A command before connect closes the connection with 3501 bad request")
    func commandBeforeConnect() async throws {
        var h = try await SessionHarness.make()
        try await h.send(#"{"id":1,"subscribe":{"channel":"news:a"}}"#)
        #expect(try await h.next() == .closed(code: 3501, reason: "bad request"))
        try await h.shutdown()
    }

    @Test("Connect, subscribe, receive a publication from the engine, unsubscribe: replies in order, pushes after the reply")
    func connectSubscribePublish() async throws {
        var h = try await SessionHarness.make()
        try await h.send(#"{"id":1,"connect":{}}"# + "\n" + #"{"id":2,"subscribe":{"channel":"news:a"}}"#)
        guard case .text(let connect) = try await h.next() else { Issue.record("no connect reply"); return }
        #expect(connect.hasPrefix(#"{"id":1,"connect":{"client":""#))
        guard case .text(let subscribe) = try await h.next() else { Issue.record("no subscribe reply"); return }
        #expect(subscribe.hasPrefix(#"{"id":2,"subscribe":{"recoverable":true,"epoch":""#))
        _ = h.engine.publishNow(channel: "news:a", publication: Publication(data: Payload(bytes: Array(#"{"x":1}"#.utf8))), options: h.node.clientRules.publishOptions(for: try h.node.rules.resolve("news:a")))
        #expect(try await h.next() == .text(#"{"push":{"channel":"news:a","pub":{"data":{"x":1},"offset":1}}}"#))
        try await h.send(#"{"id":3,"unsubscribe":{"channel":"news:a"}}"#)
        #expect(try await h.next() == .text(#"{"id":3,"unsubscribe":{}}"#))
        try await h.shutdown()
    }

    @Test("A missing pong after a ping closes with 3012 no pong; an answered ping keeps the connection")
    func pingPong() async throws {
        var h = try await SessionHarness.make()
        try await h.send(#"{"id":1,"connect":{}}"#)
        _ = try await h.next()
        let session = h.session
        let start = h.node.clock.nowMillis()
        try await h.onLoop { session.tick(now: start + 25_000) }
        #expect(try await h.next() == .text("{}"))
        try await h.send("{}")  // the pong
        try await h.onLoop { session.tick(now: start + 25_000 + 9_000) }
        try await h.onLoop { session.tick(now: start + 50_000) }
        #expect(try await h.next() == .text("{}"))
        try await h.onLoop { session.tick(now: start + 50_000 + 8_000) }
        #expect(try await h.next() == .closed(code: 3012, reason: "no pong"))
        try await h.shutdown()
    }

    @Test("No connect within client.stale_close_delay closes with 3502 stale")
    func stale() async throws {
        var h = try await SessionHarness.make()
        let session = h.session
        let start = h.node.clock.nowMillis()
        try await h.onLoop { session.tick(now: start + 5_000) }
        try await h.onLoop { session.tick(now: start + 10_001) }
        #expect(try await h.next() == .closed(code: 3502, reason: "stale"))
        try await h.shutdown()
    }

    @Test("A subscriber whose outbound queue is full is disconnected with 3008 slow")
    func slowClient() async throws {
        var h = try await SessionHarness.make()
        try await h.send(#"{"id":1,"connect":{}}"# + "\n" + #"{"id":2,"subscribe":{"channel":"news:a"}}"#)
        _ = try await h.next()
        _ = try await h.next()
        h.transport.isWritable = false
        _ = h.engine.publishNow(channel: "news:a", publication: Publication(data: Payload(bytes: Array("1".utf8))), options: h.node.clientRules.publishOptions(for: try h.node.rules.resolve("news:a")))
        #expect(try await h.next() == .closed(code: 3008, reason: "slow"))
        try await h.shutdown()
    }

    @Test("A publication that skips the subscriber's next offset makes it resubscribe: unsubscribe push 2500")
    func gapDetected() async throws {
        var h = try await SessionHarness.make()
        try await h.send(#"{"id":1,"connect":{}}"# + "\n" + #"{"id":2,"subscribe":{"channel":"news:a"}}"#)
        _ = try await h.next()
        _ = try await h.next()
        let result = try await h.engine.history(channel: "news:a", query: HistoryQuery(limit: 0))
        // Offset 2 arrives while the subscriber is at 0: offset 1 was lost.
        h.node.hub.handlePublication(channel: "news:a", publication: Publication(data: Payload(bytes: Array("2".utf8)), offset: 2), epoch: result.epoch)
        #expect(try await h.next() == .text(#"{"push":{"channel":"news:a","unsubscribe":{"code":2500,"reason":"insufficient state"}}}"#))
        try await h.shutdown()
    }

    @Test("When the engine reports lost publications, positioned subscribers are told to recover with 2500")
    func engineReportsPositionLost() async throws {
        var h = try await SessionHarness.make()
        try await h.send(#"{"id":1,"connect":{}}"# + "\n" + #"{"id":2,"subscribe":{"channel":"news:a"}}"#)
        _ = try await h.next()
        _ = try await h.next()
        h.node.hub.handlePositionLost(channels: ["news:a", "news:other"])
        #expect(try await h.next() == .text(#"{"push":{"channel":"news:a","unsubscribe":{"code":2500,"reason":"insufficient state"}}}"#))
        try await h.shutdown()
    }

    @Test("A ttl counts whole Unix seconds as Centrifugo does, and an expiring reply always carries one")
    func ttlCountsUnixSeconds() {
        // A token expiring at second 5, asked at 4.3 s: 1 second left (the milliseconds rounded down said 0, and a
        // reply with `expires` but no `ttl` made centrifuge-python fail with KeyError: 'ttl').
        #expect(ClientSession.ttlSeconds(until: 5_000, now: 4_300) == 1)
        #expect(ClientSession.ttlSeconds(until: 3_600_000, now: 0) == 3600)
        #expect(ClientSession.ttlSeconds(until: 3_600_000, now: 999) == 3600)
        #expect(ClientSession.ttlSeconds(until: 5_000, now: 5_200) == 1)
    }

    @Test("A position lost while a subscribe is in flight: the subscribe is answered, then the client is told with 2500")
    func positionLostWhileSubscribing() async throws {
        var h = try await SessionHarness.make()
        try await h.send(#"{"id":1,"connect":{}}"#)
        _ = try await h.next()
        let session = h.session
        let node = h.node
        let loop = h.group.next()
        // The engine's answer runs as a task on the loop: the loss is reported before it, within the same loop turn.
        try await h.onLoop {
            session.handleFrame(Array(#"{"id":2,"subscribe":{"channel":"news:a"}}"#.utf8))
            node.hub.loopHub(for: loop)!.positionLost(channel: "news:a")
        }
        let reply = try await h.next()
        guard case .text(let text) = reply else {
            Issue.record("expected the subscribe reply, got \(reply)")
            return
        }
        #expect(text.hasPrefix(#"{"id":2,"subscribe":"#), "\(text)")
        #expect(try await h.next() == .text(#"{"push":{"channel":"news:a","unsubscribe":{"code":2500,"reason":"insufficient state"}}}"#))
        try await h.shutdown()
    }

    @Test("With cf_ws_frame_ping_pong the server sends WebSocket ping frames, not {}, and a missing pong closes with 3012")
    func nativePings() async throws {
        var h = try await SessionHarness.make(nativePing: true)
        try await h.send(#"{"id":1,"connect":{}}"#)
        guard case .text(let connect) = try await h.next() else { Issue.record("no connect reply"); return }
        #expect(!connect.contains("\"ping\"") && !connect.contains("\"pong\""))
        let session = h.session
        let start = h.node.clock.nowMillis()
        try await h.onLoop { session.tick(now: start + 25_000) }
        #expect(try await h.next() == .ping)
        try await h.onLoop { session.nativePongReceived() }
        try await h.onLoop { session.tick(now: start + 49_000) }
        try await h.onLoop { session.tick(now: start + 50_000) }
        #expect(try await h.next() == .ping)
        try await h.onLoop { session.tick(now: start + 60_000) }
        #expect(try await h.next() == .closed(code: 3012, reason: "no pong"))
        try await h.shutdown()
    }
}
