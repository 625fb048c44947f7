import Foundation

/// Start-up validation (what `checkconfig` reports). Each error names the key, what was wrong and what is
/// allowed. Rules follow Centrifugo v6's own checks, plus range checks on values that could only misbehave.
/// Key material (PEM) is checked by the token verifier, not here; the JWKS endpoint's form is checked here.
extension ConfigLoader {
    public static func validate(_ c: BrokerConfig) throws(ConfigError) {
        try validateServer(c)
        try validateClient(c.client)
        try validateChannel(c.channel)
        try validatePersonalChannel(c)
        try validateEndpoints(c)
        try validateEngine(c.engine)
        try validateAdmin(c.admin)
        try validateProxies(c)
        try nonNegative("shutdown.timeout", c.shutdown.timeout)
    }

    /// Centrifugo refuses an enabled admin without both secrets unless `admin.insecure` is set.
    static func validateAdmin(_ a: AdminConfig) throws(ConfigError) {
        guard a.enabled, !a.insecure else { return }
        if a.password.isEmpty {
            throw ConfigError(key: "admin.password", message: "must be set when admin.enabled is true (or set admin.insecure for a console without sign-in)")
        }
        if a.secret.isEmpty {
            throw ConfigError(key: "admin.secret", message: "must be set when admin.enabled is true: it signs the console's sessions")
        }
    }

    static let logLevels = ["none", "trace", "debug", "info", "warn", "error"]
    static let engineTypes = ["memory", "redis"]
    static let recoveryModes = ["stream", "cache"]
    static let deltaTypes = ["fossil"]
    static let publicationDataFormats = ["", "json", "json_object", "binary"]
    static let errorModes = ["", "transport"]

    /// Namespace names, as in Centrifugo: `^[-a-zA-Z0-9_.]{2,}$`.
    static func isValidNamespaceName(_ name: String) -> Bool {
        name.unicodeScalars.count >= 2
            && name.unicodeScalars.allSatisfy { isASCIILetterOrDigit($0) || $0 == "-" || $0 == "_" || $0 == "." }
    }

    /// Custom user ID claim names, as in Centrifugo: `^[a-zA-Z_]+$`.
    static func isValidClaimName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { isASCIILetter($0) || $0 == "_" }
    }

    private static func isASCIILetter(_ c: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(c) || ("A"..."Z").contains(c)
    }

    private static func isASCIILetterOrDigit(_ c: Unicode.Scalar) -> Bool {
        isASCIILetter(c) || ("0"..."9").contains(c)
    }

    // MARK: - Sections

    private static func validateServer(_ c: BrokerConfig) throws(ConfigError) {
        try port("http_server.port", c.httpServer.port)
        if let internalPort = c.httpServer.internalPort {
            try port("http_server.internal_port", internalPort)
        }
        try oneOf("log.level", c.log.level, logLevels)
    }

    private static func validateClient(_ client: ClientConfig) throws(ConfigError) {
        try validateToken(client.token, at: "client.token")
        try validateToken(client.subscriptionToken.token, at: "client.subscription_token")

        let durations: [(String, Duration)] = [
            ("client.ping_interval", client.pingInterval),
            ("client.pong_timeout", client.pongTimeout),
            ("client.expired_close_delay", client.expiredCloseDelay),
            ("client.expired_sub_close_delay", client.expiredSubCloseDelay),
            ("client.stale_close_delay", client.staleCloseDelay),
            ("client.presence_update_interval", client.presenceUpdateInterval),
            ("client.channel_position_check_delay", client.channelPositionCheckDelay),
        ]
        for (key, value) in durations { try nonNegative(key, value) }
        if client.pongTimeout > .zero, client.pongTimeout >= client.pingInterval {
            throw ConfigError(
                key: "client.pong_timeout",
                message: "\(formatGoDuration(client.pongTimeout)) must be less than client.ping_interval "
                    + "(\(formatGoDuration(client.pingInterval))), or 0 to disable the pong check")
        }

        let limits: [(String, Int)] = [
            ("client.channel_limit", client.channelLimit),
            ("client.connection_limit", client.connectionLimit),
            ("client.user_connection_limit", client.userConnectionLimit),
            ("client.history_max_publication_limit", client.historyMaxPublicationLimit),
            ("client.recovery_max_publication_limit", client.recoveryMaxPublicationLimit),
            ("client.command_rate_limit", client.commandRateLimit),
        ]
        for (key, value) in limits { try nonNegative(key, value) }
        try positive("client.queue_max_size", client.queueMaxSize)
    }

    static func isHTTPURL(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else {
            return false
        }
        return scheme == "http" || scheme == "https"
    }

    private static func validateToken(_ token: TokenConfig, at section: String) throws(ConfigError) {
        if token.hmacPreviousSecretKeyValidUntil < 0 {
            throw ConfigError(
                key: section + ".hmac_previous_secret_key_valid_until",
                message: "must be a Unix time in seconds (0 = not set), got \(token.hmacPreviousSecretKeyValidUntil)")
        }
        if !token.userIDClaim.isEmpty, !isValidClaimName(token.userIDClaim) {
            throw ConfigError(
                key: section + ".user_id_claim",
                message: "\(ConfigMessage.quoted(token.userIDClaim)) is not a valid claim name (letters and '_' only)")
        }
        try compiles(section + ".audience_regex", token.audienceRegex)
        try compiles(section + ".issuer_regex", token.issuerRegex)
        if !token.jwksPublicEndpoint.isEmpty, !isHTTPURL(token.jwksPublicEndpoint) {
            throw ConfigError(
                key: section + ".jwks_public_endpoint",
                message: "\(ConfigMessage.quoted(token.jwksPublicEndpoint)) is not an http:// or https:// URL")
        }
    }

    private static func validateChannel(_ channel: ChannelConfig) throws(ConfigError) {
        try nonNegative("channel.history_meta_ttl", channel.historyMetaTTL)
        try wholeSeconds("channel.history_meta_ttl", channel.historyMetaTTL)
        try positive("channel.max_length", channel.maxLength)
        try oneOf("channel.publication_data_format", channel.publicationDataFormat, publicationDataFormats)
        try validateOptions(channel.withoutNamespace, at: "channel.without_namespace", channel: channel)

        var firstIndexByName: [String: Int] = [:]
        for (i, ns) in channel.namespaces.enumerated() {
            let location = "channel.namespaces[\(i)]"
            if !isValidNamespaceName(ns.name) {
                throw ConfigError(
                    key: location + ".name",
                    message: "\(ConfigMessage.quoted(ns.name)) is not a valid namespace name "
                        + "(at least 2 characters of a-z, A-Z, 0-9, '-', '_', '.')")
            }
            if let first = firstIndexByName[ns.name] {
                throw ConfigError(
                    key: location + ".name",
                    message: "duplicate namespace name \(ConfigMessage.quoted(ns.name)) "
                        + "(also channel.namespaces[\(first)]); names must be unique")
            }
            firstIndexByName[ns.name] = i
            try validateOptions(ns.options, at: location, channel: channel)
        }
    }

    /// Rules for one set of channel options (`channel.without_namespace` or a namespace).
    private static func validateOptions(
        _ o: ChannelOptions, at location: String, channel: ChannelConfig
    ) throws(ConfigError) {
        func key(_ name: String) -> String { location + "." + name }

        try nonNegative(key("history_size"), o.historySize)
        try nonNegative(key("history_ttl"), o.historyTTL)
        try nonNegative(key("history_meta_ttl"), o.historyMetaTTL)
        try wholeSeconds(key("history_ttl"), o.historyTTL)
        try wholeSeconds(key("history_meta_ttl"), o.historyMetaTTL)
        if o.historySize > 0, o.historyTTL == .zero {
            throw ConfigError(
                key: key("history_ttl"), message: "must be set when history_size is set (history needs both)")
        }
        if o.historySize == 0, o.historyTTL > .zero {
            throw ConfigError(
                key: key("history_size"), message: "must be set when history_ttl is set (history needs both)")
        }
        let metaTTLFromOptions = o.historyMetaTTL > .zero
        let metaTTL = metaTTLFromOptions ? o.historyMetaTTL : channel.historyMetaTTL
        if o.historyTTL > metaTTL {
            let source = metaTTLFromOptions ? key("history_meta_ttl") : "channel.history_meta_ttl"
            throw ConfigError(
                key: key("history_ttl"),
                message: "\(formatGoDuration(o.historyTTL)) must not be greater than the history meta TTL "
                    + "(\(formatGoDuration(metaTTL)) from \(source))")
        }
        if o.forceRecovery, !o.historyEnabled {
            throw ConfigError(
                key: key("force_recovery"), message: "requires history (set history_size and history_ttl)")
        }
        try oneOf(key("force_recovery_mode"), o.forceRecoveryMode, recoveryModes)
        if o.autoCacheRecover, !o.forceRecovery || o.forceRecoveryMode != "cache" {
            throw ConfigError(
                key: key("auto_cache_recover"),
                message: "requires force_recovery: true and force_recovery_mode: \"cache\"")
        }
        for deltaType in o.allowedDeltaTypes {
            try oneOf(key("allowed_delta_types"), deltaType, deltaTypes)
        }
        if let format = o.publicationDataFormat {
            try oneOf(key("publication_data_format"), format, publicationDataFormats)
        }
        try compiles(key("channel_regex"), o.channelRegex)
    }

    private static func validatePersonalChannel(_ c: BrokerConfig) throws(ConfigError) {
        let personal = c.client.subscribeToUserPersonalChannel
        guard personal.enabled else { return }
        let section = "client.subscribe_to_user_personal_channel"
        var options = c.channel.withoutNamespace
        var presenceKey = "channel.without_namespace.presence"
        if !personal.personalChannelNamespace.isEmpty {
            guard let index = c.channel.namespaces.firstIndex(where: { $0.name == personal.personalChannelNamespace })
            else {
                throw ConfigError(
                    key: section + ".personal_channel_namespace",
                    message: "namespace \(ConfigMessage.quoted(personal.personalChannelNamespace)) is not in channel.namespaces")
            }
            options = c.channel.namespaces[index].options
            presenceKey = "channel.namespaces[\(index)].presence"
        }
        if personal.singleConnection, !options.presence {
            throw ConfigError(
                key: section + ".single_connection",
                message: "requires presence on the personal channel's namespace (set \(presenceKey): true)")
        }
    }

    private static func validateEndpoints(_ c: BrokerConfig) throws(ConfigError) {
        try handlerPrefix("http_api.handler_prefix", c.httpAPI.handlerPrefix)
        try oneOf("http_api.error_mode", c.httpAPI.errorMode, errorModes)
        try oneOf("grpc_api.error_mode", c.grpcAPI.errorMode, errorModes)
        if c.grpcAPI.enabled {
            try port("grpc_api.port", c.grpcAPI.port)
            try nonNegative("grpc_api.max_receive_message_size", c.grpcAPI.maxReceiveMessageSize)
        }
        try handlerPrefix("websocket.handler_prefix", c.websocket.handlerPrefix)
        try positive("websocket.message_size_limit", c.websocket.messageSizeLimit)
        try nonNegative("websocket.write_timeout", c.websocket.writeTimeout)
        try compressionLevel("websocket.compression_level", c.websocket.compressionLevel)
        try uniDisconnectTransforms(c.client.connectCodeToUnidirectionalDisconnect.transforms)
        try handlerPrefix("uni_websocket.handler_prefix", c.uniWebSocket.handlerPrefix)
        try positive("uni_websocket.message_size_limit", c.uniWebSocket.messageSizeLimit)
        try nonNegative("uni_websocket.write_timeout", c.uniWebSocket.writeTimeout)
        try compressionLevel("uni_websocket.compression_level", c.uniWebSocket.compressionLevel)
        try httpResponseTransforms("uni_sse", c.uniSSE.connectCodeToHTTPResponse.transforms)
        try httpResponseTransforms("uni_http_stream", c.uniHTTPStream.connectCodeToHTTPResponse.transforms)
        try handlerPrefix("uni_sse.handler_prefix", c.uniSSE.handlerPrefix)
        try positive("uni_sse.max_request_body_size", c.uniSSE.maxRequestBodySize)
        try handlerPrefix("uni_http_stream.handler_prefix", c.uniHTTPStream.handlerPrefix)
        try positive("uni_http_stream.max_request_body_size", c.uniHTTPStream.maxRequestBodySize)
        try distinctClientPaths(c)
        try handlerPrefix("health.handler_prefix", c.health.handlerPrefix)
        try handlerPrefix("prometheus.handler_prefix", c.prometheus.handlerPrefix)
        // The admin UI is served at the root by default, so its prefix may be empty.
        if !c.admin.handlerPrefix.isEmpty {
            try handlerPrefix("admin.handler_prefix", c.admin.handlerPrefix)
        }
    }

    /// Centrifugo's rules: a code to match, a disconnect code to send, an ASCII reason (a close-frame reason).
    private static func uniDisconnectTransforms(_ transforms: [ConnectCodeToUnidirectionalDisconnect.Transform]) throws(ConfigError) {
        let key = "client.connect_code_to_unidirectional_disconnect.transforms"
        for (i, t) in transforms.enumerated() {
            if t.code == 0 { throw ConfigError(key: "\(key)[\(i)].code", message: "no code specified") }
            if t.toCode == 0 || t.toCode > UInt32(UInt16.max) {
                throw ConfigError(key: "\(key)[\(i)].to.code", message: "no valid disconnect code specified (e.g. 4501)")
            }
            if !t.toReason.utf8.allSatisfy({ $0 < 0x80 }) {
                throw ConfigError(key: "\(key)[\(i)].to.reason", message: "disconnect reason must be ASCII")
            }
        }
    }

    private static func httpResponseTransforms(_ section: String, _ transforms: [ConnectCodeToHTTPResponse.Transform]) throws(ConfigError) {
        let key = section + ".connect_code_to_http_response.transforms"
        for (i, t) in transforms.enumerated() {
            if t.code == 0 { throw ConfigError(key: "\(key)[\(i)].code", message: "no code specified") }
            if !(100...599).contains(t.statusCode) {
                throw ConfigError(key: "\(key)[\(i)].to.status_code", message: "no valid HTTP status code specified (e.g. 401)")
            }
        }
    }

    /// Two enabled client transports on one path would shadow each other.
    private static func distinctClientPaths(_ c: BrokerConfig) throws(ConfigError) {
        var seen: [String: String] = [:]
        let transports: [(key: String, on: Bool, path: String)] = [
            ("websocket", !c.websocket.disabled, c.websocket.handlerPrefix),
            ("uni_websocket", c.uniWebSocket.enabled, c.uniWebSocket.handlerPrefix),
            ("uni_sse", c.uniSSE.enabled, c.uniSSE.handlerPrefix),
            ("uni_http_stream", c.uniHTTPStream.enabled, c.uniHTTPStream.handlerPrefix),
        ]
        for t in transports where t.on {
            if let other = seen[t.path] {
                throw ConfigError(
                    key: t.key + ".handler_prefix",
                    message: "\(ConfigMessage.quoted(t.path)) is already used by \(other).handler_prefix")
            }
            seen[t.path] = t.key
        }
    }

    private static func validateEngine(_ engine: EngineConfig) throws(ConfigError) {
        try oneOf("engine.type", engine.type, engineTypes)
        let redis = engine.redis
        try nonNegative("engine.redis.connect_timeout", redis.connectTimeout)
        try nonNegative("engine.redis.io_timeout", redis.ioTimeout)
        try nonNegative("engine.redis.presence_ttl", redis.presenceTTL)
        try nonNegative("engine.redis.db", redis.db)
        try nonNegative("engine.redis.wait_replicas", redis.waitReplicas)
        try nonNegative("engine.redis.wait_timeout", redis.waitTimeout)
        if engine.type == "redis", !redis.clusterAddress.isEmpty {
            try validateCluster(redis)
        } else if engine.type == "redis", !redis.sentinelAddress.isEmpty {
            if redis.sentinelMasterName.isEmpty {
                throw ConfigError(
                    key: "engine.redis.sentinel_master_name",
                    message: "must be set when engine.redis.sentinel_address is (the name the sentinels monitor the master by)")
            }
            for entry in redis.sentinelAddress {
                do {
                    _ = try RedisSentinel.parseAddresses(entry)
                } catch {
                    throw ConfigError(key: "engine.redis.sentinel_address", message: "\(error)")
                }
            }
        } else if engine.type == "redis" {
            if redis.address.isEmpty || redis.address.contains(where: \.isEmpty) {
                throw ConfigError(
                    key: "engine.redis.address",
                    message: "needs at least one non-empty address (e.g. \"redis://127.0.0.1:6379\")")
            }
        }
    }

    /// Redis Cluster: not together with Sentinel, database 0 only (a cluster has one), no braces in the prefix (the
    /// engine puts a hash tag right after it, and Redis hashes the first `{…}` of a key), and well-formed seeds.
    private static func validateCluster(_ redis: RedisConfig) throws(ConfigError) {
        if !redis.sentinelAddress.isEmpty {
            throw ConfigError(
                key: "engine.redis.cluster_address",
                message: "cannot be set together with engine.redis.sentinel_address: a Redis Cluster fails over by itself; set one of them")
        }
        if redis.db != 0 {
            throw ConfigError(key: "engine.redis.db", message: "must be 0 with engine.redis.cluster_address: a Redis Cluster has one database")
        }
        if redis.prefix.contains("{") || redis.prefix.contains("}") {
            throw ConfigError(
                key: "engine.redis.prefix",
                message: "must not contain { or } with engine.redis.cluster_address: the broker places its own hash tags after it")
        }
        for entry in redis.clusterAddress {
            let seeds = entry.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            if seeds.isEmpty || seeds.contains(where: \.isEmpty) {
                throw ConfigError(
                    key: "engine.redis.cluster_address",
                    message: "each entry lists one cluster's seed nodes, comma-separated host:port (got \(ConfigMessage.quoted(entry)))")
            }
            for seed in seeds {
                do {
                    _ = try RedisEndpoint.parse(seed)
                } catch {
                    throw ConfigError(key: "engine.redis.cluster_address", message: "\(error)")
                }
            }
        }
    }

    // MARK: - Rule helpers

    private static func port(_ key: String, _ value: Int) throws(ConfigError) {
        guard (1...65535).contains(value) else {
            throw ConfigError(key: key, message: "\(value) is not a valid port (allowed: 1...65535)")
        }
    }

    private static func oneOf(_ key: String, _ value: String, _ allowed: [String]) throws(ConfigError) {
        guard allowed.contains(value) else {
            let list = allowed.map { $0.isEmpty ? "\"\" (empty)" : "\"\($0)\"" }.joined(separator: ", ")
            throw ConfigError(key: key, message: "unknown value \(ConfigMessage.quoted(value)) (allowed: \(list))")
        }
    }

    private static func nonNegative(_ key: String, _ value: Int) throws(ConfigError) {
        guard value >= 0 else { throw ConfigError(key: key, message: "must not be negative, got \(value)") }
    }

    private static func positive(_ key: String, _ value: Int) throws(ConfigError) {
        guard value > 0 else { throw ConfigError(key: key, message: "must be greater than 0, got \(value)") }
    }

    private static func nonNegative(_ key: String, _ value: Duration) throws(ConfigError) {
        guard value >= .zero else {
            throw ConfigError(key: key, message: "must not be negative, got \(formatGoDuration(value))")
        }
    }

    /// History TTLs are stored with second precision, so Centrifugo rejects fractions of a second.
    private static func wholeSeconds(_ key: String, _ value: Duration) throws(ConfigError) {
        guard value.components.attoseconds == 0 else {
            throw ConfigError(
                key: key, message: "\(formatGoDuration(value)) has sub-second precision (use whole seconds)")
        }
    }

    /// Centrifugo takes Go's `compress/flate` levels; it logs a bad one and compresses at its default, the
    /// broker refuses to start instead (checked whether or not compression is on, so it cannot surprise later).
    private static func compressionLevel(_ key: String, _ value: Int) throws(ConfigError) {
        guard WebSocketDeflate.levels.contains(value) else {
            throw ConfigError(
                key: key,
                message: "\(value) is not a zlib compression level (allowed: -2 Huffman coding only, -1 zlib's default, "
                    + "0 no compression, 1 fastest … 9 best)")
        }
    }

    private static func handlerPrefix(_ key: String, _ value: String) throws(ConfigError) {
        guard value.hasPrefix("/") else {
            throw ConfigError(key: key, message: "\(ConfigMessage.quoted(value)) must start with \"/\"")
        }
    }

    private static func compiles(_ key: String, _ pattern: String) throws(ConfigError) {
        guard !pattern.isEmpty else { return }
        do {
            _ = try NSRegularExpression(pattern: pattern)
        } catch {
            throw ConfigError(key: key, message: "\(ConfigMessage.quoted(pattern)) is not a valid regular expression")
        }
    }
}
