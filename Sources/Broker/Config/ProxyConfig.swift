import BrokerProtocol

/// One proxy: the application backend the broker asks (Centrifugo v6's `Proxy` object, used by `client.proxy.*`,
/// `channel.proxy.*`, `rpc.proxy` and each entry of `proxies`).
public struct ProxyConfig: Sendable, Equatable {
    /// `http://…` or `https://…` (a JSON POST to that URL) or `grpc://host:port` (Centrifugo's proxy service).
    public var endpoint: String = ""
    /// For the whole call, waiting for a connection included.
    public var timeout: Duration = .seconds(1)
    /// Headers of the client's HTTP request (the WebSocket upgrade) passed on, by name (case-insensitive).
    public var httpHeaders: [String] = []
    /// Metadata keys of a gRPC client's request passed on; the broker's clients connect over HTTP, which has none.
    public var grpcMetadata: [String] = []
    /// Headers the client sent inside its connect command (`headers`), passed on by name: the client controls them.
    public var emulatedHeaders: [String] = []
    /// `data` goes as base64 `b64data` (`encoding: "binary"`), for payloads that are not JSON.
    public var binaryEncoding = false
    /// The connection's `meta` (from its token or the connect proxy) is added to every other proxy request.
    public var includeConnectionMeta = false
    public var http = ProxyHTTPOptions()
    public var grpc = ProxyGRPCOptions()
    public init() {}

    public var isGRPC: Bool { endpoint.hasPrefix("grpc://") }
}

public struct ProxyHTTPOptions: Sendable, Equatable {
    /// TLS for `https://` endpoints with a CA or client certificate of their own.
    public var tls = TLSClientConfig()
    /// Sent with every request; the client's passed-on headers win over them.
    public var staticHeaders: [String: String] = [:]
    /// A non-200 status turned into a protocol error or disconnect for the client instead of error 100.
    public var statusToCodeTransforms: [ProxyStatusTransform] = []
    public init() {}
}

/// `http.status_to_code_transforms[]`: `{"status_code": 404, "to_error": {…}}` or `{… "to_disconnect": {…}}`.
public struct ProxyStatusTransform: Sendable, Equatable {
    public var statusCode: Int
    public var toError: ClientError?
    public var toDisconnect: Disconnect?
    public init(statusCode: Int, toError: ClientError? = nil, toDisconnect: Disconnect? = nil) {
        self.statusCode = statusCode
        self.toError = toError
        self.toDisconnect = toDisconnect
    }
}

public struct ProxyGRPCOptions: Sendable, Equatable {
    public var tls = TLSClientConfig()
    /// A metadata pair added to every call (per-RPC credentials), when the key is set.
    public var credentialsKey: String = ""
    public var credentialsValue: String = ""
    /// Gzip-compressed requests.
    public var compression = false
    public var staticMetadata: [String: String] = [:]
    public init() {}
}

/// `client.proxy.connect` and `client.proxy.refresh`: a proxy with its own `enabled`.
public struct SwitchedProxy: Sendable, Equatable {
    public var enabled = false
    public var proxy = ProxyConfig()
    public init() {}
}

public struct ClientProxies: Sendable, Equatable {
    /// Asked who a client without a connection token is.
    public var connect = SwitchedProxy()
    /// Asked, when a connection expires, whether it may go on (server-side refresh: clients send no `refresh`).
    public var refresh = SwitchedProxy()
    public init() {}
}

/// `channel.proxy.*`: the proxies a namespace selects by the name `"default"`.
public struct ChannelProxies: Sendable, Equatable {
    public var subscribe = ProxyConfig()
    public var publish = ProxyConfig()
    public var subRefresh = ProxyConfig()
    /// gRPC only: a stream per subscription.
    public var subscribeStream = ProxyConfig()
    public init() {}
}

/// `proxies[]`: a proxy a namespace or RPC namespace selects by its `name`.
public struct NamedProxy: Sendable, Equatable {
    public var name: String
    public var proxy: ProxyConfig
    public init(name: String, proxy: ProxyConfig = ProxyConfig()) {
        self.name = name
        self.proxy = proxy
    }
}

/// `rpc`: which methods go to which RPC proxy.
public struct RPCConfig: Sendable, Equatable {
    /// The RPC proxy named `"default"`.
    public var proxy = ProxyConfig()
    /// Methods without a namespace (no `namespace_boundary` in their name).
    public var withoutNamespace = RPCOptions()
    /// `ns:method` goes by namespace `ns`.
    public var namespaces: [RPCNamespace] = []
    public var namespaceBoundary: String = ":"
    public var ping = RPCPing()
    public init() {}
}

public struct RPCOptions: Sendable, Equatable {
    public var proxyEnabled = false
    public var proxyName: String = "default"
    public init() {}
}

public struct RPCNamespace: Sendable, Equatable {
    public var name: String
    public var options: RPCOptions
    public init(name: String, options: RPCOptions = RPCOptions()) {
        self.name = name
        self.options = options
    }
}

/// `rpc.ping`: a method the broker answers itself with an empty result, for clients to check the connection.
public struct RPCPing: Sendable, Equatable {
    public var enabled = false
    public var method: String = "ping"
    public init() {}
}
