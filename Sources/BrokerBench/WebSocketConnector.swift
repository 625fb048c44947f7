import Crypto
import NIOCore
import NIOPosix
import NIOWebSocket

/// Opens subscriber connections: TCP connect to the resolved address, the WebSocket opening handshake
/// (`WebSocketClientHandshake`), then `SubscriberHandler`. Each attempt has a deadline covering connect +
/// upgrade + subscribe.
///
/// The generator must open connections faster than any server under test accepts them, so the handshake
/// does not use NIO's HTTP client and upgrade handlers: their encoders, parser and the handler removals of the
/// upgrade cost more generator CPU per connection than the server spends on it.
struct WebSocketConnector: Sendable {
    let server: ServerSpec
    var setupTimeout: TimeAmount = .seconds(30)
    /// One random key per run: servers only echo its digest, and checking one precomputed answer is cheaper
    /// than a SHA-1 per connection.
    let key: String
    let expectedAccept: String
    /// Local addresses the connections leave from, round robin; empty means the kernel picks.
    let sources: [SocketAddress]
    let subscribe: SubscribeMode

    init(server: ServerSpec, subscribe: SubscribeMode) {
        self.server = server
        self.subscribe = subscribe
        sources = LoopbackSources.addresses(for: server.nodes.map(\.address))
        let raw = (0..<16).map { _ in UInt8.random(in: 0...255) }
        key = Token.base64(raw)
        expectedAccept = Token.base64(Array(Insecure.SHA1.hash(data: Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))))
    }

    /// Starts one connection for `state` on `state.stats.loop`; completion is reported through `state`'s callbacks.
    func open(_ state: SubState, node: Int) {
        let loop = state.stats.loop
        let endpoint = server.nodes[node % server.nodes.count]
        let path = server.subscribePath(channel: state.channelName, node: node)
        let target = server.target
        let token = target == .centrifugo
            ? Token.make(user: state.user, secret: server.secret, channels: subscribe == .token ? [state.channelName] : [])
            : ""
        let request =
            "GET \(path) HTTP/1.1\r\nHost: \(endpoint.host):\(endpoint.port)\r\nOrigin: http://\(endpoint.host):\(endpoint.port)\r\n"
            + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n"
        let accept = expectedAccept
        state.deadline = loop.scheduleTask(in: setupTimeout) { state.fail("setup timeout") }

        // ClientBootstrap sets TCP_NODELAY itself.
        var bootstrap = ClientBootstrap(group: loop).connectTimeout(.seconds(10))
        if !sources.isEmpty {
            let n = state.stats.connectsStarted
            state.stats.connectsStarted = n &+ 1
            bootstrap = bootstrap.channelOption(LoopbackSources.bindAddressNoPort, value: 1)
                .bind(to: sources[n % sources.count])
        }
        bootstrap
            .channelInitializer { channel in
                state.channel = channel
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(WebSocketClientHandshake(state: state, request: request, expectedAccept: accept))
                    try sync.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 22)))
                    try sync.addHandler(WebSocketFrameEncoder())
                    try sync.addHandler(SubscriberHandler(state: state, target: target, token: token, subscribe: subscribe))
                }
            }
            .connect(to: endpoint.address)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    if state.phase == .failed || state.phase == .closed { channel.close(promise: nil) }
                case .failure(let error):
                    state.fail("connect: \(error)")
                }
            }
    }
}

/// Told to the handlers after the handshake when the server answered 101 with the right accept value.
struct WebSocketHandshakeDone: Sendable {}

/// The client side of the opening handshake as bytes: sends the prepared GET when connected, collects the response
/// head, and on a `101` with the expected `Sec-WebSocket-Accept` passes every later byte on to the frame decoder.
/// It stays in the pipeline afterwards (one pass-through per read costs less than removing it). Any other status
/// fails the attempt with that status.
final class WebSocketClientHandshake: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let state: SubState
    private let request: String
    private let expectedAccept: String
    private var head: ByteBuffer?
    private var upgraded = false

    private static let headEnd = Array("\r\n\r\n".utf8)
    /// A response head longer than this is not a WebSocket handshake answer.
    static let maxHeadBytes = 16 * 1024

    init(state: SubState, request: String, expectedAccept: String) {
        self.state = state
        self.request = request
        self.expectedAccept = expectedAccept
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: request)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if upgraded {
            context.fireChannelRead(data)
            return
        }
        var incoming = unwrapInboundIn(data)
        if head == nil { head = incoming } else { head!.writeBuffer(&incoming) }
        guard var buffer = head else { return }
        let end = buffer.withUnsafeReadableBytes { ByteScan.find(Self.headEnd, in: $0, from: 0) }
        guard let end else {
            if buffer.readableBytes > Self.maxHeadBytes { refuse(context: context, "upgrade: response head too long") }
            return
        }
        let response = buffer.readSlice(length: end + 4)!
        head = nil
        let (status, accepted) = response.withUnsafeReadableBytes { p in
            (ByteScan.statusCode(p), ByteScan.contains(p, expectedAccept))
        }
        guard status == 101 else {
            refuse(context: context, "upgrade refused: HTTP \(status)")
            return
        }
        guard accepted else {
            refuse(context: context, "upgrade: wrong Sec-WebSocket-Accept")
            return
        }
        upgraded = true
        context.fireUserInboundEventTriggered(WebSocketHandshakeDone())
        if buffer.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(buffer)) }
    }

    private func refuse(context: ChannelHandlerContext, _ reason: String) {
        head = nil
        state.fail(reason)
        context.close(promise: nil)
    }
}
