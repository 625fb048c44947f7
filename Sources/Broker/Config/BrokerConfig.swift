/// The broker's configuration, in Centrifugo v6's layout (`broker.json`).
///
/// Every field has Centrifugo v6's default, so `BrokerConfig()` is a working single-node config
/// (memory engine, port 8000). Durations are stored as `Duration`; in the file they are Go duration
/// strings (`"25s"`, `"720h"`, `"1m30s"`) or integer seconds.
public struct BrokerConfig: Sendable, Equatable {
    public var httpServer = HTTPServerConfig()
    public var log = LogConfig()
    public var client = ClientConfig()
    public var channel = ChannelConfig()
    public var httpAPI = HTTPAPIConfig()
    public var grpcAPI = GRPCAPIConfig()
    public var websocket = WebSocketConfig()
    public var uniWebSocket = UniWebSocketConfig()
    public var uniSSE = UniHTTPStreamConfig(handlerPrefix: "/connection/uni_sse")
    public var uniHTTPStream = UniHTTPStreamConfig(handlerPrefix: "/connection/uni_http_stream")
    public var engine = EngineConfig()
    public var health = EndpointToggle(enabled: false, handlerPrefix: "/health")
    public var prometheus = EndpointToggle(enabled: false, handlerPrefix: "/metrics")
    public var admin = AdminConfig()
    public var shutdown = ShutdownConfig()
    public var node = NodeConfig()
    /// `rpc`: the RPC proxy and which methods go to it.
    public var rpc = RPCConfig()
    /// `proxies`: named proxies, selected by `*_proxy_name`.
    public var proxies: [NamedProxy] = []
    /// Keys present in the file that the broker does not know (logged as warnings at start).
    public var unknownKeys: [String] = []

    public init() {}
}

public struct HTTPServerConfig: Sendable, Equatable {
    /// Interface to bind; "" means all interfaces (0.0.0.0).
    public var address: String = ""
    public var port: Int = 8000
    /// When set, the server API, health and metrics are served on this port instead.
    public var internalPort: Int? = nil
    public var internalAddress: String = ""
    /// TLS on the client port (and on the internal port, unless `tlsExternal` or `internalTLS` says otherwise).
    public var tls = TLSServerConfig()
    /// `tls_external`: TLS on the client port only; the internal port stays plain.
    public var tlsExternal = false
    /// A TLS setup of its own for the internal port.
    public var internalTLS = TLSServerConfig()
    public init() {}
}

/// Centrifugo's TLS object, server side. Each PEM is, as in Centrifugo, the PEM text itself, that text base64-encoded,
/// or the path of a file holding it (re-read on SIGHUP).
public struct TLSServerConfig: Sendable, Equatable {
    public var enabled = false
    public var certPEM: String = ""
    public var keyPEM: String = ""
    /// Clients must present a certificate signed by this CA (mutual TLS).
    public var clientCAPEM: String = ""
    public init() {}
}

public struct LogConfig: Sendable, Equatable {
    /// none | trace | debug | info | warn | error
    public var level: String = "info"
    public var file: String = ""
    public init() {}
}

public struct TokenConfig: Sendable, Equatable {
    public var hmacSecretKey: String = ""
    public var hmacPreviousSecretKey: String = ""
    /// Unix seconds until which the previous HMAC key is still accepted (0 = not set).
    public var hmacPreviousSecretKeyValidUntil: Int64 = 0
    /// PEM text of an RSA public key (RS256/384/512).
    public var rsaPublicKey: String = ""
    /// PEM text of an ECDSA public key (ES256/384/512).
    public var ecdsaPublicKey: String = ""
    public var jwksPublicEndpoint: String = ""
    public var audience: String = ""
    public var audienceRegex: String = ""
    public var issuer: String = ""
    public var issuerRegex: String = ""
    /// Claim that carries the user ID; "" means `sub`.
    public var userIDClaim: String = ""
    public init() {}
}

public struct SubscriptionTokenConfig: Sendable, Equatable {
    /// When false, subscription tokens are verified with `client.token`'s keys.
    public var enabled: Bool = false
    public var token = TokenConfig()
    public init() {}
}

public struct ClientConfig: Sendable, Equatable {
    public var token = TokenConfig()
    public var subscriptionToken = SubscriptionTokenConfig()
    /// Origin globs (`*` wildcard); an empty list rejects every request that carries an Origin header.
    public var allowedOrigins: [String] = []
    public var allowAnonymousConnectWithoutToken = false
    public var disallowAnonymousConnectionTokens = false
    public var insecure = false
    public var insecureSkipTokenSignatureVerify = false
    public var connectIncludeServerTime = false
    public var connectCodeToUnidirectionalDisconnect = ConnectCodeToUnidirectionalDisconnect()
    public var pingInterval: Duration = .seconds(25)
    public var pongTimeout: Duration = .seconds(8)
    public var expiredCloseDelay: Duration = .seconds(25)
    public var expiredSubCloseDelay: Duration = .seconds(25)
    public var staleCloseDelay: Duration = .seconds(10)
    public var channelLimit: Int = 128
    public var queueMaxSize: Int = 1_048_576
    public var presenceUpdateInterval: Duration = .seconds(27)
    public var channelPositionCheckDelay: Duration = .seconds(40)
    public var connectionLimit: Int = 0
    public var userConnectionLimit: Int = 0
    public var historyMaxPublicationLimit: Int = 300
    public var recoveryMaxPublicationLimit: Int = 300
    /// Commands per second one connection may send before it is disconnected (0 = no limit).
    /// Not a Centrifugo OSS key: a guard against command floods (`client.command_rate_limit`).
    public var commandRateLimit: Int = 0
    public var subscribeToUserPersonalChannel = PersonalChannelConfig()
    /// `client.proxy`: the connect and refresh proxies.
    public var proxy = ClientProxies()
    public init() {}
}

public struct PersonalChannelConfig: Sendable, Equatable {
    public var enabled = false
    public var personalChannelNamespace: String = ""
    public var singleConnection = false
    public init() {}
}

/// Per-namespace channel options (`channel.without_namespace` and each `channel.namespaces[]`).
public struct ChannelOptions: Sendable, Equatable {
    public var presence = false
    public var joinLeave = false
    public var forcePushJoinLeave = false
    public var historySize: Int = 0
    public var historyTTL: Duration = .zero
    /// Zero means "use `channel.history_meta_ttl`".
    public var historyMetaTTL: Duration = .zero
    public var forcePositioning = false
    public var allowPositioning = false
    public var forceRecovery = false
    public var allowRecovery = false
    /// "stream" or "cache".
    public var forceRecoveryMode: String = "stream"
    public var autoCacheRecover = false
    public var allowedDeltaTypes: [String] = []
    public var deltaPublish = false
    public var allowTagsFilter = false
    public var allowSubscribeForClient = false
    public var allowSubscribeForAnonymous = false
    public var allowPublishForSubscriber = false
    public var allowPublishForClient = false
    public var allowPublishForAnonymous = false
    public var allowHistoryForSubscriber = false
    public var allowHistoryForClient = false
    public var allowHistoryForAnonymous = false
    public var allowPresenceForSubscriber = false
    public var allowPresenceForClient = false
    public var allowPresenceForAnonymous = false
    public var allowUserLimitedChannels = false
    /// Regular expression for the channel part after `ns:` ("" = no check).
    public var channelRegex: String = ""
    /// "" (non-empty data), "json", "json_object" or "binary". nil = use `channel.publication_data_format`.
    public var publicationDataFormat: String? = nil
    /// Subscriptions without a token are decided by the subscribe proxy named `subscribeProxyName`.
    public var subscribeProxyEnabled = false
    public var subscribeProxyName = "default"
    /// Client publications are decided (and may be rewritten) by the publish proxy named `publishProxyName`.
    public var publishProxyEnabled = false
    public var publishProxyName = "default"
    /// Subscriptions are refreshed server-side by the sub_refresh proxy named `subRefreshProxyName`.
    public var subRefreshProxyEnabled = false
    public var subRefreshProxyName = "default"
    /// Subscriptions are streams from the gRPC subscribe_stream proxy named `subscribeStreamProxyName`: its
    /// publications go to that one subscriber; with `subscribeStreamProxyBidirectional` the client's go back to it.
    public var subscribeStreamProxyEnabled = false
    public var subscribeStreamProxyName = "default"
    public var subscribeStreamProxyBidirectional = false

    /// History is kept only when both size and TTL are positive.
    public var historyEnabled: Bool { historySize > 0 && historyTTL > .zero }

    public init() {}
}

public struct NamespaceConfig: Sendable, Equatable {
    public var name: String
    public var options: ChannelOptions
    public init(name: String, options: ChannelOptions = ChannelOptions()) {
        self.name = name
        self.options = options
    }
}

public struct ChannelConfig: Sendable, Equatable {
    public var withoutNamespace = ChannelOptions()
    public var namespaces: [NamespaceConfig] = []
    public var historyMetaTTL: Duration = .seconds(720 * 3600)
    public var maxLength: Int = 255
    public var publicationDataFormat: String = ""
    public var privatePrefix: String = "$"
    public var namespaceBoundary: String = ":"
    public var userBoundary: String = "#"
    public var userSeparator: String = ","
    /// `channel.proxy`: the subscribe, publish and sub_refresh proxies named `"default"`.
    public var proxy = ChannelProxies()
    public init() {}
}

public struct HTTPAPIConfig: Sendable, Equatable {
    public var disabled = false
    public var handlerPrefix: String = "/api"
    public var key: String = ""
    public var insecure = false
    /// "" or "transport".
    public var errorMode: String = ""
    public var external = false
    public init() {}
}

public struct WebSocketConfig: Sendable, Equatable {
    public var disabled = false
    public var handlerPrefix: String = "/connection/websocket"
    /// Largest client message as received (compressed bytes, with permessage-deflate).
    public var messageSizeLimit: Int = 65536
    public var writeTimeout: Duration = .milliseconds(1000)
    /// permessage-deflate offered to clients (see `WebSocketDeflate`).
    public var compression = false
    /// zlib level: -2 Huffman only, -1 zlib's default, 0 stored, 1 fastest … 9 best.
    public var compressionLevel = 1
    /// Messages of at most this many bytes go out uncompressed (0: all are compressed).
    public var compressionMinSize = 0
    /// Largest client message once inflated; 0: 10 × `messageSizeLimit`.
    public var decompressedMessageSizeLimit = 0
    public init() {}
}

public struct RedisConfig: Sendable, Equatable {
    /// One or more addresses (`redis://user:pass@host:port/db`, `rediss://` for TLS, or `host:port`).
    public var address: [String] = ["redis://127.0.0.1:6379"]
    public var prefix: String = "centrifugo"
    public var connectTimeout: Duration = .seconds(1)
    public var ioTimeout: Duration = .seconds(4)
    public var db: Int = 0
    public var user: String = ""
    public var password: String = ""
    public var tls = TLSClientConfig()
    public var forceResp2 = false
    public var presenceTTL: Duration = .seconds(60)
    /// Redis Sentinel, one entry per shard (its sentinels, comma-separated `host:port`); replaces `address`.
    public var sentinelAddress: [String] = []
    public var sentinelMasterName: String = ""
    public var sentinelUser: String = ""
    public var sentinelPassword: String = ""
    public var sentinelClientName: String = ""
    public var sentinelTLS = TLSClientConfig()
    /// Redis Cluster, one entry per cluster (its seed nodes, comma-separated `host:port`); replaces `address`.
    public var clusterAddress: [String] = []
    /// Not a Centrifugo key: a publish is acknowledged once this many replicas have it (Redis `WAIT`), so it
    /// survives a failover; 0 acknowledges it once the master has it.
    public var waitReplicas = 0
    /// Not a Centrifugo key: how long a publish waits for `wait_replicas` before it fails.
    public var waitTimeout: Duration = .seconds(1)
    public init() {}
}

/// Centrifugo's TLS object, client side (how the broker connects to a server such as Redis). Each PEM comes
/// inline (`cert_pem`) or from a file (`cert_pem_file`).
public struct TLSClientConfig: Sendable, Equatable {
    public var enabled = false
    /// Client certificate and key, for servers that ask for one (mutual TLS).
    public var certPEM: String = ""
    public var keyPEM: String = ""
    public var certPEMFile: String = ""
    public var keyPEMFile: String = ""
    /// The CA that signed the server's certificate; the system's roots when empty.
    public var serverCAPEM: String = ""
    public var serverCAPEMFile: String = ""
    /// Name to check the server's certificate against (and to send as SNI); the address's host when empty.
    public var serverName: String = ""
    /// Accepts any server certificate: for tests only.
    public var insecureSkipVerify = false
    public init() {}
}

public struct EngineConfig: Sendable, Equatable {
    /// "memory" or "redis".
    public var type: String = "memory"
    public var redis = RedisConfig()
    public init() {}
}

public struct EndpointToggle: Sendable, Equatable {
    public var enabled: Bool
    public var handlerPrefix: String
    public init(enabled: Bool, handlerPrefix: String) {
        self.enabled = enabled
        self.handlerPrefix = handlerPrefix
    }
}

public struct AdminConfig: Sendable, Equatable {
    public var enabled = false
    public var password: String = ""
    public var secret: String = ""
    public var insecure = false
    public var handlerPrefix: String = ""
    public var external = false
    public init() {}
}

public struct ShutdownConfig: Sendable, Equatable {
    public var timeout: Duration = .seconds(30)
    public init() {}
}

public struct NodeConfig: Sendable, Equatable {
    /// Node name shown by `info`; "" means hostname + port.
    public var name: String = ""
    public init() {}
}
