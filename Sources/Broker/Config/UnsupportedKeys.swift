/// Every legal Centrifugo v6 key that the broker does not implement: refused when set (loading fails, naming
/// the key and what to do instead), or inert by design (loads without effect, for the reason given).
///
/// "Set" follows Centrifugo v6's own defaults (`internal/configtypes`): a section with an `enabled` switch
/// (off by default) is set when it is turned on, and its other keys only configure the feature, so they are
/// inert while it is off — a Centrifugo config carrying the section with `enabled: false` loads. Lists
/// (`proxies`, `consumers`, `rpc.namespaces`) are set when non-empty; proxies when they have an `endpoint`
/// (or, for the client proxies, `enabled: true`); proxy names when they name anything but `"default"`.
enum UnsupportedKeys {
    /// Keys of the whole config, by dotted path from the root (channel options under `channel.without_namespace`).
    static let config: [UnsupportedKey] = topLevel + httpServer + client + channel + transports + engine + endpoints
        + proxyClientCA + channelOptions.map { $0.moved(under: "channel.without_namespace") }

    /// The TLS keys of a proxy object (the named proxy sections and each `proxies[]` entry) that only a server uses.
    static let proxyTLSInertPaths = ["http.tls.client_ca_pem", "grpc.tls.client_ca_pem"]

    /// Keys of one channel options object: `channel.without_namespace` and each `channel.namespaces[]` entry.
    static let channelOptions: [UnsupportedKey] = [
        refused("subscription_type", .string("stream"),
                "map and shared_poll subscriptions are not supported by this broker yet: remove subscription_type "
                    + "(stream subscriptions, the default, are supported)"),
        refused("map_clients_presence_channel_prefix", .empty, mapPresence),
        refused("map_users_presence_channel_prefix", .empty, mapPresence),
        inert("map", "configures map subscriptions only, and subscription_type refuses those"),
        inert("shared_poll", "configures shared poll subscriptions only, and subscription_type refuses those"),
    ]

    // MARK: - Sections

    private static var topLevel: [UnsupportedKey] {
        var keys: [UnsupportedKey] = []
        keys += switched("broker",
            "a broker separate from the engine is not supported by this broker: choose engine.type (memory or redis) "
                + "and remove broker")
        keys += switched("presence_manager",
            "a presence manager separate from the engine is not supported by this broker: engine.type (memory or "
                + "redis) keeps presence; remove presence_manager")
        keys += switched("controller",
            "a custom controller is not supported by this broker: nodes of the redis engine talk through Redis; "
                + "remove controller")
        keys += [
            inert("map_broker", "serves map subscriptions only, and subscription_type refuses those"),
            inert("shared_poll", "serves shared poll subscriptions only, and subscription_type refuses those"),
            refused("consumers", .empty,
                    "consumers (PostgreSQL outbox, Kafka, …) are not supported by this broker yet: publish from your "
                        + "own consumer through the HTTP API (POST /api/publish)"),
            refused("pid_file", .empty,
                    "writing a PID file is not supported by this broker yet: let your process manager (systemd, "
                        + "Docker, scripts/start.sh) track the process and remove pid_file"),
            inert("usage_stats", "the broker sends no usage statistics, so there is nothing to turn off"),
            inert("enable_unreleased_features",
                  "only unlocks unreleased Centrifugo features, each of which is refused on its own key"),
        ]
        return keys
    }

    /// `client_ca_pem` on a proxy's TLS: the broker is the backend's client there.
    private static var proxyClientCA: [UnsupportedKey] {
        let sections = [
            "client.proxy.connect", "client.proxy.refresh", "channel.proxy.subscribe", "channel.proxy.publish",
            "channel.proxy.sub_refresh", "channel.proxy.subscribe_stream", "rpc.proxy",
        ]
        return sections.flatMap { section in
            proxyTLSInertPaths.map { path in
                inert(section + "." + path,
                      "verifies TLS clients, a server's job; the broker is the proxy backend's client, so the key has no use here")
            }
        }
    }

    private static var httpServer: [UnsupportedKey] {
        var keys: [UnsupportedKey] = []
        keys += switched("http_server.tls_autocert",
            "automatic TLS certificates are not supported by this broker yet: give it a certificate with http_server.tls "
                + "(cert_pem, key_pem; re-read on SIGHUP) or terminate TLS in front of it (Caddy, a load balancer), and "
                + "remove http_server.tls_autocert")
        for section in ["http_server.tls", "http_server.internal_tls", "grpc_api.tls"] {
            let clientSide = "verifies the server a client connects to, and the broker is the server on this listener"
            keys += [
                inert(section + ".server_ca_pem", clientSide), inert(section + ".server_name", clientSide),
                inert(section + ".insecure_skip_verify", clientSide),
            ]
        }
        keys += switched("http_server.http3",
            "HTTP/3 is not supported by this broker yet: serve HTTP/3 from a proxy in front of it and remove "
                + "http_server.http3")
        keys.append(refused("http_server.h2c_external", .off,
            "HTTP/2 over cleartext is not supported by this broker yet: it serves HTTP/1.1 (and WebSocket); remove "
                + "http_server.h2c_external"))
        return keys
    }

    private static var client: [UnsupportedKey] {
        let safetyCheck = "skips Centrifugo's safety check of JWKS URL templates; the broker's jwks_public_endpoint "
            + "is a fixed URL without templates, so there is no check to skip"
        return [
            inert("client.concurrency",
                  "tunes Centrifugo's Go workers per connection; the broker handles a connection's commands in order "
                      + "on its event loop, and replies carry their command ids either way"),
            refused("client.channel_position_max_time_lag", .zero,
                    "a lag limit for positioned subscriptions is not supported by this broker yet: remove "
                        + "client.channel_position_max_time_lag (positions are still checked every "
                        + "client.channel_position_check_delay)"),
            refused("client.connection_rate_limit", .zero,
                    "a connection rate limit is not supported by this broker yet: rate-limit new connections in "
                        + "front of it (e.g. nginx limit_req) and remove client.connection_rate_limit"),
            refused("client.user_id_http_header", .empty,
                    "authentication by an HTTP header is not supported by this broker yet: issue connection JWTs "
                        + "(client.token) and remove client.user_id_http_header"),
            inert("client.token.insecure_skip_jwks_endpoint_safety_check", safetyCheck),
            inert("client.subscription_token.insecure_skip_jwks_endpoint_safety_check", safetyCheck),
        ]
    }

    private static var channel: [UnsupportedKey] {
        [
            refused("channel.proxy.map_publish.endpoint", .empty, mapSubscriptions),
            inert("channel.proxy.map_publish", unusedProxy("channel.proxy.map_publish")),
            refused("channel.proxy.map_remove.endpoint", .empty, mapSubscriptions),
            inert("channel.proxy.map_remove", unusedProxy("channel.proxy.map_remove")),
            refused("channel.proxy.shared_poll_refresh.endpoint", .empty,
                    "shared poll subscriptions are not supported by this broker yet: remove "
                        + "channel.proxy.shared_poll_refresh"),
            inert("channel.proxy.shared_poll_refresh", unusedProxy("channel.proxy.shared_poll_refresh")),
        ]
    }

    private static var transports: [UnsupportedKey] {
        var keys: [UnsupportedKey] = []
        for section in ["websocket", "uni_websocket"] {
            keys += [
                inert(section + ".read_buffer_size", goBufferTuning),
                inert(section + ".write_buffer_size", goBufferTuning),
                inert(section + ".use_write_buffer_pool", goBufferTuning),
            ]
        }
        keys.append(refused("uni_websocket.disable_closing_handshake", .off,
            "skipping the WebSocket closing handshake is not supported by this broker: it always sends the close "
                + "frame (Centrifugo's behaviour since v6.5.1); remove uni_websocket.disable_closing_handshake"))
        keys += switched("sse",
            "the bidirectional SSE transport is not supported by this broker yet: use WebSocket "
                + "(websocket) or the unidirectional uni_sse")
        keys += switched("http_stream",
            "the bidirectional HTTP-streaming transport is not supported by this broker yet: use WebSocket "
                + "(websocket) or the unidirectional uni_http_stream")
        keys.append(inert("emulation",
            "serves only the bidirectional sse and http_stream transports (it has no switch of its own), and "
                + "turning those on is refused"))
        keys += switched("webtransport", "WebTransport is not supported by this broker yet: use WebSocket (websocket)")
        keys += switched("uni_grpc",
            "the unidirectional gRPC transport is not supported by this broker yet: use uni_websocket, uni_sse or "
                + "uni_http_stream")
        return keys
    }

    private static var engine: [UnsupportedKey] {
        var keys: [UnsupportedKey] = [
            refused("engine.redis.client_name", .empty,
                    "naming Redis connections (CLIENT SETNAME) is not supported by this broker yet: remove "
                        + "engine.redis.client_name"),
            inert("engine.redis.sentinel_tls.client_ca_pem",
                  "verifies TLS clients, a server's job; the broker is the sentinels' client, so the key has no use here"),
            refused("engine.redis.history_use_lists", .off,
                    "history in Redis lists is not supported by this broker: it keeps history in Redis streams; "
                        + "remove engine.redis.history_use_lists"),
            refused("engine.redis.presence_hash_field_ttl", .off,
                    "presence with hash field TTLs is not supported by this broker yet: remove "
                        + "engine.redis.presence_hash_field_ttl"),
            refused("engine.redis.presence_user_mapping", .off,
                    "presence user mapping is not supported by this broker yet: remove "
                        + "engine.redis.presence_user_mapping"),
            inert("engine.redis.tls.client_ca_pem",
                  "verifies TLS clients, a server's job; the broker is Redis's client, so the key has no use here"),
        ]
        keys += switched("engine.redis.replica_client",
            "reading from Redis replicas is not supported by this broker yet: remove engine.redis.replica_client "
                + "(everything goes to engine.redis.address)")
        return keys
    }

    /// Observability, the admin UI and other HTTP endpoints.
    private static var endpoints: [UnsupportedKey] {
        var keys: [UnsupportedKey] = [
            refused("prometheus.instrument_http_handlers", .off,
                    "HTTP handler metrics are not supported by this broker yet: remove prometheus.instrument_http_handlers"),
            refused("prometheus.recovered_publications_histogram", .off,
                    "the recovered publications histogram is not supported by this broker yet: remove "
                        + "prometheus.recovered_publications_histogram"),
            refused("prometheus.native_histograms", .off,
                    "native histograms are not supported by this broker yet: remove prometheus.native_histograms"),
            refused("admin.web_path", .empty,
                    "a custom admin web UI is not supported by this broker: it serves its own console at "
                        + "admin.handler_prefix; remove admin.web_path"),
            refused("admin.web_proxy_address", .empty,
                    "a custom admin web UI is not supported by this broker: it serves its own console at "
                        + "admin.handler_prefix; remove admin.web_proxy_address"),
            inert("node.info_metrics_aggregate_interval",
                  "Centrifugo's aggregation period for node metrics in the info command; the broker reports its "
                      + "current counters and aggregates nothing"),
        ]
        keys += switched("swagger",
            "the Swagger UI is not supported by this broker yet: see Centrifugo's HTTP API documentation; remove "
                + "swagger.enabled")
        keys += switched("debug",
            "Go pprof endpoints are not supported by this broker: profile the process with perf instead; remove "
                + "debug.enabled")
        keys += switched("init", "the connection init endpoint is not supported by this broker yet: remove init.enabled")
        keys += switched("opentelemetry",
            "OpenTelemetry tracing is not supported by this broker yet: use the Prometheus metrics "
                + "(prometheus.enabled)")
        keys += switched("graphite",
            "exporting metrics to Graphite is not supported by this broker yet: scrape the Prometheus endpoint "
                + "(prometheus.enabled) instead")
        return keys
    }

    // MARK: - Messages shared by several keys

    private static let mapSubscriptions = "map subscriptions are not supported by this broker yet: remove the map "
        + "proxies"
    private static let mapPresence = "map presence channels are not supported by this broker yet: use presence "
        + "(presence: true and the presence API)"
    private static let goBufferTuning = "buffer tuning of Centrifugo's Go WebSocket library; SwiftNIO sizes and "
        + "pools the broker's buffers itself"

    /// The other keys of a proxy whose endpoint is refused.
    private static func unusedProxy(_ section: String) -> String {
        "configures a proxy that cannot be used without \(section).endpoint, which is refused"
    }

    // MARK: - Builders

    private static func refused(_ path: String, _ unset: UnsetValue, _ message: String) -> UnsupportedKey {
        UnsupportedKey(path: path, rule: .refused(unset: unset, message: message))
    }

    private static func inert(_ path: String, _ reason: String) -> UnsupportedKey {
        UnsupportedKey(path: path, rule: .inert(reason: reason))
    }

    /// A section with an `enabled` switch, off in Centrifugo v6: turning it on is refused; its other keys only
    /// configure the feature, so they are inert while it is off.
    private static func switched(_ section: String, _ message: String) -> [UnsupportedKey] {
        [
            refused(section + ".enabled", .off, message),
            inert(section, "the feature's other keys do nothing while \(section).enabled is false"),
        ]
    }
}
