import BrokerProtocol
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import Broker

/// Records the raw bytes a unidirectional session writes, one event per flush.
final class StreamRecordingTransport: SessionTransport, @unchecked Sendable {
    enum Event: Sendable, Equatable {
        case flushed(String)
        case closed(code: UInt16)
        case timedOut
    }

    let allocator = ByteBufferAllocator()
    var isWritable = true
    let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation
    private let pending = NIOLockedValueBox("")

    init() {
        (events, continuation) = AsyncStream.makeStream(of: Event.self)
    }

    func writeFrame(_ frame: ByteBuffer) {
        // WebSocket frame headers are not text: bytes other than `\n` below 0x20 or above 0x7F show as `<hex>`.
        let text = frame.readableBytesView.map { ($0 < 0x20 && $0 != 0x0A) || $0 >= 0x80 ? "<\(String($0, radix: 16))>" : String(UnicodeScalar($0)) }
        pending.withLockedValue { $0 += text.joined() }
    }

    func flush() {
        let bytes = pending.withLockedValue { p in
            defer { p = "" }
            return p
        }
        if !bytes.isEmpty { continuation.yield(.flushed(bytes)) }
    }

    func close(code: UInt16, reason: String) {
        flush()
        continuation.yield(.closed(code: code))
    }

    func deadline(_ d: Duration) -> Task<Void, Never> {
        let continuation = self.continuation
        return Task {
            try? await Task.sleep(for: d)
            if !Task.isCancelled { continuation.yield(.timedOut) }
        }
    }
}

/// The session behind uni_sse: the connect arrives out of band, everything goes out as SSE events.
@Suite struct UniSessionTests {
    struct Harness {
        let group: MultiThreadedEventLoopGroup
        let node: Node
        let engine: MemoryEngine
        let session: ClientSession
        let transport: StreamRecordingTransport
        var iterator: AsyncStream<StreamRecordingTransport.Event>.AsyncIterator

        static func make(framing: OutboundFraming = .sse) async throws -> Harness {
            var config = BrokerConfig()
            config.client.allowAnonymousConnectWithoutToken = true
            var news = ChannelOptions()
            news.allowSubscribeForClient = true
            news.allowSubscribeForAnonymous = true
            news.historySize = 10
            news.historyTTL = .seconds(60)
            news.forceRecovery = true
            config.channel.namespaces = [NamespaceConfig(name: "news", options: news)]
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let loop = group.next()
            let engine = MemoryEngine()
            let node = try Node(config: config, engine: engine, eventLoops: [loop])
            try await engine.start(sink: node.hub)
            let transport = StreamRecordingTransport()
            let session = try await loop.submit {
                ClientSession(node: node, loopHub: node.hub.loopHub(for: loop)!, transport: transport, framing: framing)
            }.get()
            return Harness(group: group, node: node, engine: engine, session: session, transport: transport,
                           iterator: transport.events.makeAsyncIterator())
        }

        func onLoop(_ body: @escaping @Sendable () -> Void) async throws {
            try await group.next().submit(body).get()
        }

        mutating func next() async throws -> StreamRecordingTransport.Event {
            let deadline = transport.deadline(.seconds(5))
            defer { deadline.cancel() }
            return try #require(await iterator.next())
        }

        func publish(_ channel: String, _ json: String) throws {
            _ = engine.publishNow(
                channel: channel, publication: Publication(data: Payload(bytes: Array(json.utf8))),
                options: node.clientRules.publishOptions(for: try node.rules.resolve(channel)))
        }
    }

    @Test("An out-of-band connect subscribes server-side and pushes its result; publications follow as bare SSE events")
    func connectAndPublication() async throws {
        var h = try await Harness.make()
        var request = ConnectRequest()
        request.subs["news:a"] = SubscribeRequest()
        let session = h.session
        try await h.onLoop { [request] in session.connectUnidirectional(request) }
        guard case .flushed(let connect) = try await h.next() else { Issue.record("no connect push"); return }
        #expect(connect.hasPrefix(#"data: {"connect":{"client":""#))
        #expect(connect.contains(#""subs":{"news:a":{"recoverable":true"#))
        #expect(connect.contains(#""session":""#) && !connect.contains(#""pong""#))
        #expect(connect.hasSuffix("}}\n\n"))
        try h.publish("news:a", #"{"x":1}"#)
        #expect(try await h.next() == .flushed("data: {\"channel\":\"news:a\",\"pub\":{\"data\":{\"x\":1},\"offset\":1}}\n\n"))
        try await h.onLoop { session.close(.forceNoReconnect) }
        #expect(try await h.next() == .flushed("data: {\"disconnect\":{\"code\":3503,\"reason\":\"force disconnect\"}}\n\n"))
        #expect(try await h.next() == .closed(code: 3503))
        try await h.group.shutdownGracefully()
    }

    @Test("Unidirectional pings are {} events and no pong is expected")
    func pingsWithoutPong() async throws {
        var h = try await Harness.make()
        let session = h.session
        try await h.onLoop { session.connectUnidirectional(ConnectRequest()) }
        _ = try await h.next()
        let start = h.node.clock.nowMillis()
        try await h.onLoop {
            session.tick(now: start + 25_000)
            session.flushNow()
        }
        #expect(try await h.next() == .flushed("data: {}\n\n"))
        // Long past any pong timeout: the next thing is the next ping, not a 3012 close.
        try await h.onLoop {
            session.tick(now: start + 49_000)
            session.tick(now: start + 50_001)
            session.flushNow()
        }
        #expect(try await h.next() == .flushed("data: {}\n\n"))
        try await h.group.shutdownGracefully()
    }

    @Test("A connect that fails closes with the mapped disconnect, after a disconnect push")
    func failedConnect() async throws {
        var h = try await Harness.make()
        var request = ConnectRequest()
        request.token = "not-a-jwt"
        let session = h.session
        try await h.onLoop { [request] in session.connectUnidirectional(request) }
        #expect(try await h.next() == .flushed("data: {\"disconnect\":{\"code\":3500,\"reason\":\"invalid token\"}}\n\n"))
        #expect(try await h.next() == .closed(code: 3500))
        try await h.group.shutdownGracefully()
    }

    @Test("uni_websocket: {} in a text frame plus a WebSocket ping frame; a missing pong closes with 3012")
    func uniWebSocketPing() async throws {
        var h = try await Harness.make(framing: .uniWebSocket(joined: false))
        let session = h.session
        try await h.onLoop { session.connectUnidirectional(ConnectRequest()) }
        guard case .flushed(let connect) = try await h.next() else { Issue.record("no connect push"); return }
        #expect(connect.contains(#"{"connect":{"client":"#))
        let start = h.node.clock.nowMillis()
        try await h.onLoop {
            session.tick(now: start + 25_000)
            session.flushNow()
        }
        #expect(try await h.next() == .flushed("<89><0><81><2>{}"))
        try await h.onLoop {
            session.nativePongReceived()
            session.tick(now: start + 34_000)
            session.tick(now: start + 50_000)
            session.flushNow()
        }
        #expect(try await h.next() == .flushed("<89><0><81><2>{}"))
        try await h.onLoop { session.tick(now: start + 58_000) }
        guard case .flushed(let disconnect) = try await h.next() else { Issue.record("no disconnect push"); return }
        #expect(disconnect.hasSuffix(#"{"disconnect":{"code":3012,"reason":"no pong"}}"#))
        #expect(try await h.next() == .closed(code: 3012))
        try await h.group.shutdownGracefully()
    }
}
