import BrokerProtocol
import NIOCore
import NIOHTTP1
import Prometheus

/// Routes plain HTTP requests by path (configured prefixes) to the server API, health and metrics.
final class HTTPRouter: Sendable {
    let node: Node
    let api: ServerAPI
    let metricsRegistry: PrometheusCollectorRegistry?
    let origins: OriginCheck
    /// Serve the server API, health and metrics here (false on the client port when an internal port is set).
    let servesInternal: Bool
    let servesClients: Bool
    /// The admin console, when `admin.enabled` and this port serves it.
    let console: AdminConsole?

    init(
        node: Node, api: ServerAPI, metricsRegistry: PrometheusCollectorRegistry?, servesInternal: Bool, servesClients: Bool,
        console: AdminConsole?
    ) {
        self.node = node
        self.api = api
        self.metricsRegistry = metricsRegistry
        self.origins = OriginCheck(patterns: node.config.client.allowedOrigins)
        self.servesInternal = servesInternal
        self.servesClients = servesClients
        // The console is where the server API is: the internal port when there is one, unless `admin.external`.
        self.console = servesInternal || node.config.admin.external ? console : nil
    }

    /// The console's live event stream, when `head` asks for it: a long-lived response like the
    /// unidirectional streams.
    func consoleEventStream(for head: HTTPRequestHead) -> AdminConsole? {
        guard let console, head.method == .GET, console.isEventStream(path: HTTPRouter.split(head.uri).path) else { return nil }
        return console
    }

    /// The unidirectional HTTP stream served at `uri`'s path, if any: such a request becomes a long-lived
    /// response (``UniHTTPStreamHandler``) instead of one buffered answer.
    func uniStream(for uri: String) -> UniHTTPStreamHandler.Kind? {
        guard servesClients else { return nil }
        let config = node.config
        let path = HTTPRouter.split(uri).path
        if config.uniSSE.enabled && path == config.uniSSE.handlerPrefix { return .sse }
        if config.uniHTTPStream.enabled && path == config.uniHTTPStream.handlerPrefix { return .httpStream }
        return nil
    }

    func route(head: HTTPRequestHead, body: [UInt8], remote: String) async -> HTTPResponse {
        let config = node.config
        let (path, query) = HTTPRouter.split(head.uri)
        if let console, console.handles(path: path) {
            return await console.route(head: head, path: path, body: body, remote: remote)
        }
        let uniWebSocket = config.uniWebSocket.enabled && path == config.uniWebSocket.handlerPrefix
        if servesClients && (uniWebSocket || !config.websocket.disabled && path == config.websocket.handlerPrefix) {
            // The upgrader declined this request (no upgrade, bad headers or Origin, or a bad `cf_connect`).
            if !origins.allows(head.headers.first(name: "Origin")) { return .empty(.forbidden) }
            return .json(Array(#"{"error":"expected a WebSocket upgrade"}"#.utf8), status: .badRequest)
        }
        let apiInternal = servesInternal || config.httpAPI.external
        if apiInternal && !config.httpAPI.disabled && (path == config.httpAPI.handlerPrefix || path.hasPrefix(config.httpAPI.handlerPrefix + "/")) {
            guard head.method == .POST else { return .empty(.methodNotAllowed) }
            let method = path == config.httpAPI.handlerPrefix ? "" : String(path.dropFirst(config.httpAPI.handlerPrefix.count + 1))
            return await api.handleHTTP(method: method, headers: head.headers, query: query, body: body)
        }
        if servesInternal && config.health.enabled && path == config.health.handlerPrefix {
            // Unhealthy while the engine cannot serve (e.g. a Redis shard is unreachable); the body names
            // each shard's state so an operator sees which one.
            let health = await node.engine.health()
            node.metrics.record(health)
            if health.shards.isEmpty { return .json(Array("{}".utf8)) }
            let body = HTTPRouter.encode(health)
            return .json(body, status: health.isHealthy ? .ok : .serviceUnavailable)
        }
        if servesInternal && config.prometheus.enabled && path == config.prometheus.handlerPrefix, let registry = metricsRegistry {
            var out: [UInt8] = []
            registry.emit(into: &out)
            return HTTPResponse(status: .ok, contentType: "text/plain; version=0.0.4", body: out)
        }
        return .json(Array(#"{"error":"not found"}"#.utf8), status: .notFound)
    }

    static func encode(_ health: EngineHealth) -> [UInt8] {
        var w = JSONWriter()
        w.raw("{\"engine\":{\"healthy\":")
        w.bool(health.isHealthy)
        w.raw(",\"shards\":[")
        for (i, shard) in health.shards.enumerated() {
            if i > 0 { w.raw(UInt8(ascii: ",")) }
            w.raw("{\"shard\":")
            w.int(i)
            w.raw(",\"address\":")
            w.string(shard.address)
            w.raw(",\"up\":")
            w.bool(shard.up)
            if let error = shard.error {
                w.raw(",\"error\":")
                w.string(error)
            }
            w.raw(UInt8(ascii: "}"))
        }
        w.raw("]}}")
        return w.bytes
    }

    static func split(_ uri: String) -> (path: String, query: String) {
        guard let q = uri.firstIndex(of: "?") else { return (uri, "") }
        return (String(uri[..<q]), String(uri[uri.index(after: q)...]))
    }
}
