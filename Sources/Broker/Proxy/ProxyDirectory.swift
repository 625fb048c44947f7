import BrokerProtocol
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import BrokerProxyGRPC

/// Where a proxy's calls go: an HTTP endpoint or a gRPC one.
enum ProxyBackend: Sendable {
    case http(HTTPProxyBackend)
    case grpc(GRPCProxyBackend)

    init(config: ProxyConfig, key: String) throws(TLSSetupError) {
        self = config.isGRPC ? .grpc(try GRPCProxyBackend(config: config, key: key)) : .http(try HTTPProxyBackend(config: config, key: key))
    }

    var protocolName: String {
        if case .grpc = self { return "grpc" }
        return "http"
    }

    func shutdown() async {
        switch self {
        case .http(let b): await b.shutdown()
        case .grpc(let b): await b.shutdown()
        }
    }
}

/// One configured proxy, as a kind of call uses it: its name, config and backend, and its metrics.
final class ProxyEndpoint: Sendable {
    let name: String
    let kind: ProxyKind
    let config: ProxyConfig
    let backend: ProxyBackend
    /// Lower-cased `http_headers` and `emulated_headers`.
    let transportHeaders: Set<String>
    let emulatedHeaders: Set<String>
    private let duration: Metrics.Timer
    private let errors: Counter
    private let inflight: Meter

    init(name: String, kind: ProxyKind, config: ProxyConfig, backend: ProxyBackend) {
        self.name = name
        self.kind = kind
        self.config = config
        self.backend = backend
        transportHeaders = Set(config.httpHeaders.map { $0.lowercased() })
        emulatedHeaders = Set(config.emulatedHeaders.map { $0.lowercased() })
        // Centrifugo's names and labels, so that existing dashboards keep working.
        let labels = [("protocol", backend.protocolName), ("type", kind.rawValue), ("name", name)]
        duration = Metrics.Timer(label: "centrifugo_proxy_duration_seconds_histogram", dimensions: labels, preferredDisplayUnit: .seconds)
        errors = Counter(label: "centrifugo_proxy_errors", dimensions: labels)
        inflight = Meter(label: "centrifugo_proxy_inflight_requests", dimensions: labels)
    }

    /// The headers this proxy passes on: emulated ones it allows, then transport ones it allows (which win).
    func headers(transport: [(String, String)], emulated: [(String, String)]) -> [(String, String)] {
        emulated.filter { emulatedHeaders.contains($0.0.lowercased()) }
            + transport.filter { transportHeaders.contains($0.0.lowercased()) }
    }

    /// Calls the backend and parses its answer. A failure (unreachable, timeout, a status that no
    /// `status_to_code_transforms` entry maps, a body that is not an answer) is logged with the proxy's name and
    /// counted; the caller turns it into the temporary internal error for its one client.
    func call<R: Sendable>(_ request: ProxyRequest, logger: Logger, _ kind: ProxyCall<R>) async -> Result<ProxyAnswer<R>, ProxyCallError> {
        let finish = started()
        defer { finish() }
        do {
            switch backend {
            case .grpc(let grpc):
                return .success(try await kind.grpc(grpc, request))
            case .http(let http):
                let body = try ProxyJSON.encode(request, binary: config.binaryEncoding)
                let response = try await http.post(body, headers: request.headers)
                do {
                    return .success(try ProxyJSON.answer(response, kind.json))
                } catch {
                    throw ProxyCallError(description: "the backend's answer is not a proxy response: \(error)")
                }
            }
        } catch let error as ProxyCallError {
            if let status = error.status, let t = config.http.statusToCodeTransforms.first(where: { $0.statusCode == status }) {
                if let e = t.toError { return .success(.error(e)) }
                if let d = t.toDisconnect { return .success(.disconnect(d)) }
            }
            return failed(error, request: request, logger: logger)
        } catch {
            return failed(ProxyCallError(description: "\(error)"), request: request, logger: logger)
        }
    }

    /// Opens a subscribe stream (gRPC proxies only): the backend's answer and, when it let the client in, the
    /// stream its publications come on.
    func openStream(
        _ request: ProxyRequest, bidirectional: Bool, logger: Logger
    ) async -> Result<(ProxyAnswer<SubscribeProxyResult>, ProxyGRPCSubscribeStream?), ProxyCallError> {
        guard case .grpc(let grpc) = backend else {
            return .failure(ProxyCallError(description: "the subscribe stream proxy needs a grpc:// endpoint"))
        }
        let finish = started()
        defer { finish() }
        do {
            return .success(try await grpc.openStream(request, bidirectional: bidirectional))
        } catch {
            return failed(error, request: request, logger: logger)
        }
    }

    /// Counts a call in flight and returns what ends it: the in-flight count back down, its duration recorded.
    private func started() -> () -> Void {
        inflight.increment()
        let start = ContinuousClock.now
        return { [inflight, duration] in
            inflight.decrement()
            let elapsed = ContinuousClock.now - start
            duration.recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        }
    }

    private func failed<T>(_ error: ProxyCallError, request: ProxyRequest, logger: Logger) -> Result<T, ProxyCallError> {
        errors.increment()
        logger.error(
            "proxy call failed",
            metadata: [
                "proxy": "\(name)", "type": "\(kind.rawValue)", "endpoint": "\(config.endpoint)", "client": "\(request.client)",
                "error": "\(error.description)",
            ])
        return .failure(error)
    }
}

/// The node's proxies: one backend per configured proxy endpoint, looked up by kind and name.
final class ProxyDirectory: Sendable {
    let connect: ProxyEndpoint?
    let refresh: ProxyEndpoint?
    private let byKind: [ProxyKind: [String: ProxyEndpoint]]
    private let backends: [ProxyBackend]
    /// Lower-cased names of the transport headers some proxy passes on: what a connection keeps of its request.
    let transportHeaderNames: Set<String>
    /// Lower-cased names of the emulated headers some proxy passes on.
    let emulatedHeaderNames: Set<String>

    var isEmpty: Bool { backends.isEmpty }

    init(config: BrokerConfig) throws(TLSSetupError) {
        var backends: [String: ProxyBackend] = [:]
        func backend(_ key: String, _ proxy: ProxyConfig) throws(TLSSetupError) -> ProxyBackend {
            if let b = backends[key] { return b }
            let b = try ProxyBackend(config: proxy, key: key)
            backends[key] = b
            return b
        }
        let c = config.client.proxy
        connect = c.connect.enabled
            ? ProxyEndpoint(name: "default", kind: .connect, config: c.connect.proxy, backend: try backend("client.proxy.connect", c.connect.proxy))
            : nil
        refresh = c.refresh.enabled
            ? ProxyEndpoint(name: "default", kind: .refresh, config: c.refresh.proxy, backend: try backend("client.proxy.refresh", c.refresh.proxy))
            : nil
        let defaults: [(ProxyKind, String, ProxyConfig)] = [
            (.subscribe, "channel.proxy.subscribe", config.channel.proxy.subscribe),
            (.publish, "channel.proxy.publish", config.channel.proxy.publish),
            (.subRefresh, "channel.proxy.sub_refresh", config.channel.proxy.subRefresh),
            (.rpc, "rpc.proxy", config.rpc.proxy),
            (.subscribeStream, "channel.proxy.subscribe_stream", config.channel.proxy.subscribeStream),
        ]
        var byKind: [ProxyKind: [String: ProxyEndpoint]] = [:]
        for (kind, key, proxy) in defaults {
            var endpoints: [String: ProxyEndpoint] = [:]
            if !proxy.endpoint.isEmpty {
                endpoints["default"] = ProxyEndpoint(name: "default", kind: kind, config: proxy, backend: try backend(key, proxy))
            }
            // Only gRPC proxies can stream.
            for (i, named) in config.proxies.enumerated() where !named.proxy.endpoint.isEmpty && (kind != .subscribeStream || named.proxy.isGRPC) {
                endpoints[named.name] = ProxyEndpoint(
                    name: named.name, kind: kind, config: named.proxy, backend: try backend("proxies[\(i)]", named.proxy))
            }
            byKind[kind] = endpoints
        }
        self.byKind = byKind
        self.backends = Array(backends.values)
        let all = [connect, refresh].compactMap { $0 } + byKind.values.flatMap(\.values)
        transportHeaderNames = all.reduce(into: Set<String>()) { $0.formUnion($1.transportHeaders) }
        emulatedHeaderNames = all.reduce(into: Set<String>()) { $0.formUnion($1.emulatedHeaders) }
    }

    /// What a connection keeps of its HTTP request's headers: those some proxy passes on.
    func keptHeaders(_ headers: HTTPHeaders) -> [(String, String)] {
        guard !transportHeaderNames.isEmpty else { return [] }
        return headers.filter { transportHeaderNames.contains($0.name.lowercased()) }.map { ($0.name, $0.value) }
    }

    /// The proxy of `kind` a namespace selects by `name`.
    func endpoint(_ kind: ProxyKind, named name: String) -> ProxyEndpoint? {
        byKind[kind]?[name]
    }

    func shutdown() async {
        for b in backends { await b.shutdown() }
    }
}
