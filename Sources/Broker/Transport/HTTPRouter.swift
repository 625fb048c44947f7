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
        let sse = node.config.uniSSE
        let httpStream = node.config.uniHTTPStream
        guard servesClients, sse.enabled || httpStream.enabled else { return nil }
        let path = HTTPRouter.split(uri).path
        if sse.enabled && path == sse.handlerPrefix { return .sse }
        if httpStream.enabled && path == httpStream.handlerPrefix { return .httpStream }
        return nil
    }

    /// The answer to a request that needs no waiting (a publish on the memory engine), computed on the
    /// caller's event loop; nil when the request must go through ``route(head:body:remote:)``.
    func routeImmediately(head: HTTPRequestHead, body: [UInt8]) -> HTTPResponse? {
        guard head.method == .POST else { return nil }
        let (path, query) = HTTPRouter.split(head.uri)
        if let console, console.handles(path: path) { return nil }
        guard let method = apiMethod(path: path) else { return nil }
        return api.handleHTTPImmediately(method: method, headers: head.headers, query: query, body: body)
    }

    /// The server-API method `path` asks for (`""` for the bare prefix), when this port serves the API.
    private func apiMethod(path: String) -> String? {
        let api = node.config.httpAPI
        guard servesInternal || api.external, !api.disabled else { return nil }
        if path == api.handlerPrefix { return "" }
        guard path.hasPrefix(api.handlerPrefix) else { return nil }
        let rest = path.utf8.dropFirst(api.handlerPrefix.utf8.count)
        guard rest.first == UInt8(ascii: "/") else { return nil }
        return String(decoding: rest.dropFirst(), as: UTF8.self)
    }

    func route(head: HTTPRequestHead, body: [UInt8], remote: String) async -> HTTPResponse {
        // `node.config` is read member by member: a copy of the whole config costs a retain and a release
        // of every string and array in it, on every request.
        let (path, query) = HTTPRouter.split(head.uri)
        if let console, console.handles(path: path) {
            return await console.route(head: head, path: path, body: body, remote: remote)
        }
        let uniWebSocket = node.config.uniWebSocket.enabled && path == node.config.uniWebSocket.handlerPrefix
        if servesClients && (uniWebSocket || !node.config.websocket.disabled && path == node.config.websocket.handlerPrefix) {
            // The upgrader declined this request (no upgrade, bad headers or Origin, or a bad `cf_connect`).
            if !origins.allows(head.headers.first(name: "Origin")) { return .empty(.forbidden) }
            return .json(Array(#"{"error":"expected a WebSocket upgrade"}"#.utf8), status: .badRequest)
        }
        if let method = apiMethod(path: path) {
            guard head.method == .POST else { return .empty(.methodNotAllowed) }
            return await api.handleHTTP(method: method, headers: head.headers, query: query, body: body)
        }
        if servesInternal && node.config.health.enabled && path == node.config.health.handlerPrefix {
            // Unhealthy while the engine cannot serve (e.g. a Redis shard is unreachable); the body names
            // each shard's state so an operator sees which one.
            let health = await node.engine.health()
            node.metrics.record(health)
            if health.shards.isEmpty { return .json(Array("{}".utf8)) }
            let body = HTTPRouter.encode(health)
            return .json(body, status: health.isHealthy ? .ok : .serviceUnavailable)
        }
        if servesInternal && node.config.prometheus.enabled && path == node.config.prometheus.handlerPrefix, let registry = metricsRegistry {
            var out: [UInt8] = []
            registry.emit(into: &out)
            return HTTPResponse(status: .ok, contentType: "text/plain; version=0.0.4", body: out)
        }
        return notFound(path: path)
    }

    /// A 404 that names the setting turning the path's feature on, or the port serving it, when the path
    /// belongs to one; `{"error":"not found"}` otherwise.
    func notFound(path: String) -> HTTPResponse {
        let notice = FeatureOffNotice.find(
            path: path, config: node.config, servesInternal: servesInternal, servesClients: servesClients, consoleHere: console != nil)
        return notice?.response ?? .json(Array(#"{"error":"not found"}"#.utf8), status: .notFound)
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
        let utf8 = uri.utf8
        guard let q = utf8.firstIndex(of: UInt8(ascii: "?")) else { return (uri, "") }
        return (String(uri[..<q]), String(uri[utf8.index(after: q)...]))
    }
}
