import BrokerProtocol
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import Prometheus

/// The running broker: event loops, node, engine and the HTTP/WebSocket listeners.
public final class BrokerServer: Sendable {
    /// First size of a connection's read buffers (see the bootstrap). Measured with 10,000 idle
    /// connections, one subscription each: NIO's default 2048 costs 6.8 KiB of RSS per connection, 512
    /// costs 5.2 KiB, 256 only 0.2 KiB less.
    static let initialReadBuffer = 512

    public let node: Node
    public let group: MultiThreadedEventLoopGroup
    private let channels: [any Channel]
    private let memoryEngine: MemoryEngine?
    /// The listeners' TLS, reloaded by ``reloadTLS()``.
    private let tls: [ServerTLS]
    private let grpcAPI: GRPCAPIListener?

    private init(
        node: Node, group: MultiThreadedEventLoopGroup, channels: [any Channel], memoryEngine: MemoryEngine?, tls: [ServerTLS],
        grpcAPI: GRPCAPIListener?
    ) {
        self.node = node
        self.group = group
        self.channels = channels
        self.memoryEngine = memoryEngine
        self.tls = tls
        self.grpcAPI = grpcAPI
    }

    /// Reads every listener's certificate and key again (SIGHUP): new handshakes get them, open connections keep
    /// theirs.
    public func reloadTLS() {
        for t in tls { t.reload(logger: node.logger) }
    }

    /// Loads the listeners' certificates and keys as `serve` would (for `checkconfig`).
    public static func checkTLS(_ config: BrokerConfig) throws(ConfigError) {
        _ = try listenerTLS(config)
        _ = try grpcAPITLS(config)
    }

    /// `grpc_api.tls` when the gRPC API serves TLS.
    static func grpcAPITLS(_ config: BrokerConfig) throws(ConfigError) -> ServerTLS? {
        guard config.grpcAPI.enabled, config.grpcAPI.tls.enabled else { return nil }
        return try ServerTLS(config: config.grpcAPI.tls, section: "grpc_api.tls")
    }

    /// The TLS of the client listener and of the internal one, as Centrifugo applies `tls`, `tls_external` and
    /// `internal_tls`.
    static func listenerTLS(_ config: BrokerConfig) throws(ConfigError) -> (client: ServerTLS?, internal: ServerTLS?) {
        let server = config.httpServer
        let client = server.tls.enabled ? try ServerTLS(config: server.tls, section: "http_server.tls") : nil
        let internalTLS: ServerTLS?
        if server.internalTLS.enabled {
            internalTLS = try ServerTLS(config: server.internalTLS, section: "http_server.internal_tls")
        } else {
            internalTLS = server.tlsExternal ? nil : client
        }
        return (client, internalTLS)
    }

    /// Local addresses the server listens on (client port first).
    public var localAddresses: [SocketAddress] { channels.compactMap(\.localAddress) }

    /// Where the gRPC server API listens; nil when `grpc_api` is off.
    public var grpcAPIAddress: SocketAddress? { grpcAPI?.address }

    /// Builds the node for `config` and starts listening.
    public static func start(
        config: BrokerConfig, logger: Logger, metricsRegistry: PrometheusCollectorRegistry? = nil,
        threads: Int = UsableCores.count
    ) async throws -> BrokerServer {
        // A certificate that cannot be read, or does not match its key, stops the start before anything else.
        let tls = try listenerTLS(config)
        let grpcTLS = try grpcAPITLS(config)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, min(threads, 64)))
        let loops = Array(group.makeIterator())
        let engine: any PubSubEngine & PresenceEngine
        var memoryEngine: MemoryEngine?
        switch config.engine.type {
        case "redis":
            do {
                var options = RedisEngine.Options()
                options.eventLoopGroup = group
                engine = try await RedisEngine.make(config: config.engine.redis, options: options)
            } catch {
                try? await group.shutdownGracefully()
                throw ConfigError(key: "engine.redis", message: error.description)
            }
        default:
            let memory = MemoryEngine()
            memoryEngine = memory
            engine = memory
        }
        let node: Node
        do {
            node = try Node(config: config, engine: engine, eventLoops: loops, logger: logger)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        do {
            try await node.start()
        } catch {
            await node.proxies.shutdown()
            try? await group.shutdownGracefully()
            throw error
        }
        let api = ServerAPI(node: node)
        var listeners: [any Channel] = []
        var grpcAPI: GRPCAPIListener?
        do {
            // The gRPC port first: once /health answers on the HTTP port, every port of the broker accepts.
            grpcAPI = try await GRPCAPIListener.start(config: config, api: api, tls: grpcTLS, group: group, logger: logger)
            let internalSeparate = config.httpServer.internalPort != nil
            // One console for every port that serves it, so its sign-in limit is one limit.
            let console = config.admin.enabled ? AdminConsole(node: node, api: api) : nil
            let clientRouter = HTTPRouter(
                node: node, api: api, metricsRegistry: metricsRegistry, servesInternal: !internalSeparate, servesClients: true,
                console: console)
            let client = config.clientListener
            listeners.append(
                try await bind(
                    group: group, host: client.host, port: client.port, node: node, router: clientRouter, websocket: true,
                    tls: tls.client))
            if let internalListener = config.internalListener {
                let internalRouter = HTTPRouter(
                    node: node, api: api, metricsRegistry: metricsRegistry, servesInternal: true, servesClients: false,
                    console: console)
                listeners.append(
                    try await bind(
                        group: group, host: internalListener.host, port: internalListener.port, node: node,
                        router: internalRouter, websocket: false, tls: tls.internal))
            }
        } catch {
            await grpcAPI?.shutdown()
            for l in listeners { try? await l.close() }
            await node.proxies.shutdown()
            try? await group.shutdownGracefully()
            throw error
        }
        let server = BrokerServer(
            node: node, group: group, channels: listeners, memoryEngine: memoryEngine,
            tls: [tls.client, tls.internal, grpcTLS].compactMap { $0 }, grpcAPI: grpcAPI)
        server.startHousekeeping()
        return server
    }

    private func startHousekeeping() {
        guard let engine = memoryEngine else { return }
        group.next().scheduleRepeatedTask(initialDelay: .seconds(10), delay: .seconds(10)) { _ in
            engine.removeExpired()
        }
    }

    private static func bind(
        group: MultiThreadedEventLoopGroup, host: String, port: Int, node: Node, router: HTTPRouter, websocket: Bool,
        tls: ServerTLS?
    ) async throws -> any Channel {
        let config = node.config
        let origins = OriginCheck(patterns: config.client.allowedOrigins)
        let routes = websocket ? webSocketRoutes(node: node) : [:]
        let handshake = routes.isEmpty ? nil : ClientWebSocketHandshake(routes: routes, origins: origins)
        let queueMax = config.client.queueMaxSize
        let readBuffers = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: BrokerServer.initialReadBuffer, maximum: 65536)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            #if !os(Linux)
            // Linux copies TCP_NODELAY from the listening socket, where NIO sets it; elsewhere set it per connection.
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            #endif
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Set here rather than as the bootstrap's child options, which NIO applies one future per
                    // option: that was 5% of the broker's CPU while clients connected at full rate.
                    if let options = channel.syncOptions {
                        try options.setOption(.writeBufferWaterMark, value: .init(low: max(1, queueMax / 2), high: max(2, queueMax)))
                        try options.setOption(.maxMessagesPerRead, value: 4)
                        // NIO keeps each connection's read buffers for reuse (up to maxMessagesPerRead of them), so
                        // their first size is memory every idle connection holds: start small (a client's commands
                        // are short) and let the adaptive allocator grow them for connections that read more.
                        try options.setOption(.recvAllocator, value: readBuffers)
                    }
                    // Only NIO's HTTP/1 request decoder: HTTPRequestHandler orders pipelined answers, answers
                    // malformed requests, writes responses as bytes and does the WebSocket handshake itself (see
                    // there), so NIO's encoder, pipelining, error, header-validation and upgrade handlers would
                    // only add hops to each response write and handlers to add and remove per connection.
                    let pipeline = channel.pipeline.syncOperations
                    if let tls { try pipeline.addHandler(NIOSSLServerHandler(context: tls.current)) }
                    // After a handshake, bytes the decoder holds beyond the request (frames a client sent
                    // without waiting for the 101) go on to the frame decoder instead of being dropped.
                    let decoder = ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: handshake != nil ? .forwardBytes : .dropBytes))
                    try pipeline.addHandler(decoder)
                    // It also closes a plain HTTP connection that sends nothing for a minute; WebSocket
                    // connections are watched by the session's own timers instead.
                    try pipeline.addHandler(HTTPRequestHandler(router: router, decoder: decoder, webSocket: handshake))
                }
            }
        return try await bootstrap.bind(host: host, port: port).get()
    }

    /// The client WebSocket endpoints: `websocket` (unless disabled) and `uni_websocket` (when enabled).
    private static func webSocketRoutes(node: Node) -> [String: ClientWebSocketHandshake.Route] {
        let config = node.config
        var routes: [String: ClientWebSocketHandshake.Route] = [:]
        if !config.websocket.disabled {
            let maxMessage = config.websocket.messageSizeLimit
            routes[config.websocket.handlerPrefix] = ClientWebSocketHandshake.Route(
                maxFrameSize: maxMessage, negotiatesSubprotocol: true,
                makeHandler: { head in
                    let offered = head.headers[canonicalForm: "Sec-WebSocket-Protocol"].map { String($0) }
                    let query = HTTPRouter.split(head.uri).query
                    let format = WireFormat.select(offeredSubprotocols: offered, query: query)
                    let nativePing = query.split(separator: "&").contains("cf_ws_frame_ping_pong=true")
                    return WebSocketConnectionHandler(
                        node: node, maxMessageSize: maxMessage, format: format, nativePing: nativePing,
                        requestHeaders: node.proxies.keptHeaders(head.headers))
                })
        }
        let uni = config.uniWebSocket
        if uni.enabled {
            routes[uni.handlerPrefix] = ClientWebSocketHandshake.Route(
                maxFrameSize: uni.messageSizeLimit, negotiatesSubprotocol: false,
                // A malformed `cf_connect` is refused before the handshake (Centrifugo: 400).
                accepts: { head in
                    do {
                        _ = try UniConnectRequest.fromQuery(HTTPRouter.split(head.uri).query)
                        return true
                    } catch {
                        return false
                    }
                },
                makeHandler: { head in
                    let connect = (try? UniConnectRequest.fromQuery(HTTPRouter.split(head.uri).query)) ?? nil
                    return WebSocketConnectionHandler(
                        node: node, uni: UniWebSocketOptions(config: uni, connect: connect),
                        requestHeaders: node.proxies.keptHeaders(head.headers))
                })
        }
        return routes
    }

    /// Stops accepting, disconnects clients with 3001, stops the engine and the event loops.
    public func shutdown() async {
        for c in channels { try? await c.close() }
        await grpcAPI?.shutdown()
        await node.shutdown(disconnect: .shutdown)
        // Let the close frames reach the clients before the loops stop.
        try? await Task.sleep(for: .milliseconds(300))
        await node.engine.shutdown()
        try? await group.shutdownGracefully()
    }
}
