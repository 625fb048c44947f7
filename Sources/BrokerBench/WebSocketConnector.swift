import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// Opens subscriber connections: TCP connect, HTTP/1.1 upgrade with `NIOWebSocketClientUpgrader` (the old-style
/// `HTTPClientUpgradeHandler`, which can be set up synchronously in the channel initializer), then
/// `SubscriberHandler`. Each attempt has a deadline covering connect + upgrade + subscribe.
struct WebSocketConnector: Sendable {
    let server: ServerSpec
    var setupTimeout: TimeAmount = .seconds(30)

    /// Starts one connection for `state` on `state.stats.loop`; completion is reported through `state`'s callbacks.
    func open(_ state: SubState, node: Int) {
        let loop = state.stats.loop
        let endpoint = server.nodes[node % server.nodes.count]
        let path = server.subscribePath(channel: state.channelName, node: node)
        let target = server.target
        let token = target == .centrifugo ? Token.make(user: state.user, secret: server.secret) : ""
        let host = endpoint.host
        let port = endpoint.port
        state.deadline = loop.scheduleTask(in: setupTimeout) { state.fail("setup timeout") }

        ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                state.channel = channel
                let upgrader = NIOWebSocketClientUpgrader(
                    maxFrameSize: 1 << 22,
                    automaticErrorHandling: false,
                    upgradePipelineHandler: { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            _ = channel.pipeline.syncOperations.removeHandler(name: UpgradeRequestHandler.name)
                            try channel.pipeline.syncOperations.addHandler(SubscriberHandler(state: state, target: target, token: token))
                        }
                    }
                )
                let config: NIOHTTPClientUpgradeConfiguration = (upgraders: [upgrader], completionHandler: { _ in })
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(withClientUpgrade: config)
                    try channel.pipeline.syncOperations.addHandler(
                        UpgradeRequestHandler(state: state, host: "\(host):\(port)", path: path), name: UpgradeRequestHandler.name)
                }
            }
            .connect(host: host, port: port)
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

/// Sends the upgrade request once connected and turns HTTP-level failures (a refused upgrade, a reset) into a
/// setup failure. Removed when the upgrade succeeds.
final class UpgradeRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart
    static let name = "bench-upgrade-request"

    let state: SubState
    let host: String
    let path: String

    init(state: SubState, host: String, path: String) {
        self.state = state
        self.host = host
        self.path = path
    }

    func channelActive(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host)
        headers.add(name: "Origin", value: "http://\(host)")
        headers.add(name: "Content-Length", value: "0")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Only a non-101 response reaches here: the upgrade was refused.
        if case .head(let head) = unwrapInboundIn(data) {
            state.fail("upgrade refused: HTTP \(head.status.code)")
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        state.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        state.fail("upgrade: \(error)")
        context.close(promise: nil)
    }
}
