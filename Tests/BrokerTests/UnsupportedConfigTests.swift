import BrokerProtocol
import Testing

@testable import Broker

// Legal Centrifugo v6 keys the broker does not implement: refused when set (loading fails naming the key),
// or inert by design (loads without a word). Nothing is accepted silently any more.

// MARK: - Helpers

private func parseError(_ json: String, env: [String: String] = [:]) -> ConfigError? {
    do {
        _ = try ConfigLoader.parse(json: Array(json.utf8), environment: env)
        return nil
    } catch {
        return error
    }
}

private func parse(_ json: String, env: [String: String] = [:]) throws(ConfigError) -> BrokerConfig {
    try ConfigLoader.parse(json: Array(json.utf8), environment: env)
}

/// `{"a":{"b":value}}` for path `a.b`.
private func nested(_ path: String, _ value: JSONValue) -> JSONValue {
    path.split(separator: ".").reversed().reduce(value) { inner, part in
        .object(JSONObject([(String(part), inner)]))
    }
}

private func document(_ path: String, _ value: JSONValue) -> String {
    nested(path, value).serializedString
}

/// A value that sets a refused key.
private func settingValue(_ unset: UnsetValue) -> JSONValue {
    switch unset {
    case .off: return .bool(true)
    case .empty: return .array([.string("x")])
    case .string: return .string("custom")
    case .zero: return .string("5s")
    }
}

private func refusedKeys(_ keys: [UnsupportedKey]) -> [(path: String, unset: UnsetValue, message: String)] {
    keys.compactMap { key in
        guard case .refused(let unset, let message) = key.rule else { return nil }
        return (key.path, unset, message)
    }
}

private func inertKeys(_ keys: [UnsupportedKey]) -> [String] {
    keys.compactMap { key in
        guard case .inert = key.rule else { return nil }
        return key.path
    }
}

// MARK: - Expected lists

/// Every refused key of the whole config (channel options listed once, relative, in `refusedChannelOptions`).
private let refusedConfigKeys: Set<String> = [
    "broker.enabled", "presence_manager.enabled", "controller.enabled", "consumers", "pid_file",
    "http_server.tls_autocert.enabled", "http_server.http3.enabled", "http_server.h2c_external",
    "client.channel_position_max_time_lag", "client.connection_rate_limit", "client.user_id_http_header", "channel.proxy.map_publish.endpoint", "channel.proxy.map_remove.endpoint",
    "channel.proxy.shared_poll_refresh.endpoint",
    "uni_websocket.disable_closing_handshake",
    "sse.enabled", "http_stream.enabled", "webtransport.enabled", "uni_grpc.enabled",
    "engine.redis.client_name",
    "engine.redis.history_use_lists", "engine.redis.presence_hash_field_ttl", "engine.redis.presence_user_mapping",
    "engine.redis.replica_client.enabled",
    "prometheus.instrument_http_handlers", "prometheus.recovered_publications_histogram", "prometheus.native_histograms",
    "admin.web_path", "admin.web_proxy_address",
    "swagger.enabled", "debug.enabled", "init.enabled", "opentelemetry.enabled", "graphite.enabled",
]

private let refusedChannelOptions: Set<String> = [
    "subscription_type",
    "map_clients_presence_channel_prefix", "map_users_presence_channel_prefix",
]

private let inertConfigKeys: Set<String> = [
    "broker", "presence_manager", "controller", "map_broker", "shared_poll", "usage_stats",
    "enable_unreleased_features",
    "http_server.tls_autocert", "http_server.http3",
    "grpc_api.tls.server_ca_pem", "grpc_api.tls.server_name", "grpc_api.tls.insecure_skip_verify",
    "http_server.tls.server_ca_pem", "http_server.tls.server_name", "http_server.tls.insecure_skip_verify",
    "http_server.internal_tls.server_ca_pem", "http_server.internal_tls.server_name",
    "http_server.internal_tls.insecure_skip_verify",
    "client.concurrency", "client.token.insecure_skip_jwks_endpoint_safety_check",
    "client.subscription_token.insecure_skip_jwks_endpoint_safety_check",
    "channel.proxy.map_publish", "channel.proxy.map_remove", "channel.proxy.shared_poll_refresh",
    "websocket.read_buffer_size", "websocket.write_buffer_size", "websocket.use_write_buffer_pool",
    "uni_websocket.read_buffer_size", "uni_websocket.write_buffer_size", "uni_websocket.use_write_buffer_pool",
    "sse", "http_stream", "emulation", "webtransport", "uni_grpc",
    "engine.redis.sentinel_tls.client_ca_pem", "engine.redis.tls.client_ca_pem",
    "engine.redis.replica_client",
    "node.info_metrics_aggregate_interval", "swagger", "debug", "init", "opentelemetry", "graphite",
]

private let inertChannelOptions: Set<String> = ["map", "shared_poll"]

private let proxyClientCAKeys: [String] = [
    "client.proxy.connect", "client.proxy.refresh", "channel.proxy.subscribe", "channel.proxy.publish",
    "channel.proxy.sub_refresh", "channel.proxy.subscribe_stream", "rpc.proxy",
].flatMap { [$0 + ".http.tls.client_ca_pem", $0 + ".grpc.tls.client_ca_pem"] }

/// What the schema accepted silently before (each covering its subtree), and the keys it mapped but ignored.
private let formerlyAcceptedConfigPaths: [String] = [
    "broker", "presence_manager", "map_broker", "controller", "shared_poll", "rpc", "proxies",
    "grpc_api", "consumers", "sse", "http_stream", "webtransport", "uni_grpc", "emulation", "swagger", "debug", "init",
    "opentelemetry", "graphite", "usage_stats", "pid_file", "enable_unreleased_features",
    "http_server.tls", "http_server.tls_autocert", "http_server.tls_external", "http_server.internal_tls",
    "http_server.http3", "http_server.h2c_external",
    "client.proxy", "client.concurrency", "client.channel_position_max_time_lag", "client.connection_rate_limit",
    "client.user_id_http_header", "client.token.insecure_skip_jwks_endpoint_safety_check",
    "client.subscription_token.insecure_skip_jwks_endpoint_safety_check",
    "channel.proxy",
    "websocket.compression_min_size", "websocket.compression_level", "websocket.read_buffer_size",
    "websocket.use_write_buffer_pool", "websocket.write_buffer_size", "websocket.decompressed_message_size_limit",
    "uni_websocket.compression", "uni_websocket.compression_min_size", "uni_websocket.compression_level",
    "uni_websocket.read_buffer_size", "uni_websocket.use_write_buffer_pool", "uni_websocket.write_buffer_size",
    "uni_websocket.decompressed_message_size_limit", "uni_websocket.disable_closing_handshake",
    "engine.redis.client_name", "engine.redis.cluster_address", "engine.redis.sentinel_address",
    "engine.redis.sentinel_user", "engine.redis.sentinel_password", "engine.redis.sentinel_master_name",
    "engine.redis.sentinel_client_name", "engine.redis.sentinel_tls", "engine.redis.replica_client",
    "engine.redis.history_use_lists", "engine.redis.presence_hash_field_ttl", "engine.redis.presence_user_mapping",
    "engine.redis.tls.client_ca_pem",
    "prometheus.instrument_http_handlers", "prometheus.recovered_publications_histogram", "prometheus.native_histograms",
    "admin.web_path", "admin.web_proxy_address", "node.info_metrics_aggregate_interval",
    // Mapped to a config field that nothing read (now honoured: permessage-deflate):
    "websocket.compression",
]

private let formerlyAcceptedChannelOptions: [String] = [
    "map_clients_presence_channel_prefix", "map_users_presence_channel_prefix",
    "subscribe_proxy_name", "publish_proxy_name", "sub_refresh_proxy_name",
    "subscribe_stream_proxy_enabled", "subscribe_stream_proxy_name", "subscribe_stream_proxy_bidirectional",
    "subscription_type", "map", "shared_poll",
    // Mapped to config fields that nothing read:
    "subscribe_proxy_enabled", "publish_proxy_enabled", "sub_refresh_proxy_enabled",
]

/// Refusals with the advice the message must carry.
private let refusalCases: [(json: String, key: String, message: String)] = [
    (#"{"http_server":{"tls_autocert":{"enabled":true}}}"#, "http_server.tls_autocert.enabled", "terminate TLS"),
    (#"{"channel":{"namespaces":[{"name":"m1","subscription_type":"map"}]}}"#,
     "channel.namespaces[0].subscription_type", "map and shared_poll subscriptions are not supported"),
    (#"{"consumers":[{"name":"c","enabled":true,"type":"kafka"}]}"#, "consumers", "POST /api/publish"),
    (#"{"engine":{"redis":{"replica_client":{"enabled":true}}}}"#, "engine.redis.replica_client.enabled", "replicas"),
    (#"{"sse":{"enabled":true}}"#, "sse.enabled", "bidirectional SSE transport is not supported"),
    (#"{"http_stream":{"enabled":true}}"#, "http_stream.enabled", "bidirectional HTTP-streaming transport"),
    (#"{"client":{"channel_position_max_time_lag":"10s"}}"#, "client.channel_position_max_time_lag", "lag limit"),
    (#"{"client":{"connection_rate_limit":100}}"#, "client.connection_rate_limit", "limit_req"),
    (#"{"pid_file":"/run/broker.pid"}"#, "pid_file", "PID file"),
    (#"{"opentelemetry":{"enabled":true}}"#, "opentelemetry.enabled", "prometheus.enabled"),
]

// MARK: - Tests

@Suite struct UnsupportedConfigTests {
    @Test(arguments: refusalCases)
    func refusedKeyNamesItselfAndTheWayOut(json: String, key: String, message: String) {
        let error = parseError(json)
        #expect(error?.key == key, "error was: \(error?.description ?? "none")")
        #expect(error?.message.contains(message) == true, "message was: \(error?.message ?? "none")")
        #expect(error?.message.contains("not supported by this broker") == true)
    }

    @Test func everyRefusedConfigKeyFailsWhenSet() {
        for (path, unset, message) in refusedKeys(UnsupportedKeys.config) {
            let error = parseError(document(path, settingValue(unset)))
            #expect(error?.key == path, "\(path): \(error?.description ?? "loaded")")
            #expect(error?.message == message)
            #expect(message.contains("not supported by this broker"), "\(path): \(message)")
        }
    }

    @Test func everyRefusedChannelOptionFailsInANamespace() {
        for (option, unset, message) in refusedKeys(UnsupportedKeys.channelOptions) {
            let namespaces = JSONValue.array([
                .object(JSONObject([("name", .string("a1"))])),
                .object(JSONObject([("name", .string("b1"))])),
                .object(JSONObject([("name", .string("c1")), (option, settingValue(unset))])),
            ])
            let error = parseError(document("channel.namespaces", namespaces))
            #expect(error?.key == "channel.namespaces[2].\(option)", "\(option): \(error?.description ?? "loaded")")
            #expect(error?.message == message)
        }
    }

    @Test func refusedKeysAtCentrifugosDefaultsLoad() throws {
        for (path, unset, _) in refusedKeys(UnsupportedKeys.config) {
            let unsetValue: JSONValue
            switch unset {
            case .off: unsetValue = .bool(false)
            case .empty: unsetValue = .array([])
            case .string(let defaultValue): unsetValue = .string(defaultValue)
            case .zero: unsetValue = .string("0s")
            }
            let config = try parse(document(path, unsetValue))
            #expect(config.unknownKeys.isEmpty, "\(path)")
        }
    }

    /// A Centrifugo config carrying a switched-off section (with its other keys) loads without a word.
    @Test func everySwitchedOffSectionLoads() throws {
        let refused = Set(refusedKeys(UnsupportedKeys.config).map(\.path))
        let sections = inertKeys(UnsupportedKeys.config).filter { refused.contains($0 + ".enabled") }
        #expect(sections.count == 15)
        for section in sections {
            let body = JSONValue.object(JSONObject([("enabled", .bool(false)), ("port", .number("10000"))]))
            let config = try parse(document(section, body))
            #expect(config.unknownKeys.isEmpty, "\(section)")
        }
        let grpc = try parse(#"{"grpc_api":{"enabled":false,"port":10000,"key":"k","tls":{"enabled":true}}}"#)
        #expect(grpc.unknownKeys.isEmpty)
    }

    @Test func everyInertKeyLoadsWithoutAWord() throws {
        let all = UnsupportedKeys.config
        for path in inertKeys(all) {
            let isSection = all.contains { $0.path.hasPrefix(path + ".") }
            let value: JSONValue = isSection ? .object(JSONObject([("some_option", .number("1"))])) : .number("4096")
            let config = try parse(document(path, value))
            #expect(config.unknownKeys.isEmpty, "\(path): \(config.unknownKeys)")
        }
        for option in inertKeys(UnsupportedKeys.channelOptions) {
            let config = try parse(#"{"channel":{"namespaces":[{"name":"ns","\#(option)":{"mode":"x"}}]}}"#)
            #expect(config.unknownKeys.isEmpty, "\(option)")
        }
    }

    @Test func envVariablesOfRefusedKeysAreRefusedToo() {
        let cases: [(env: [String: String], key: String, path: String)] = [
            (["CENTRIFUGO_HTTP_SERVER_TLS_AUTOCERT_ENABLED": "true"], "CENTRIFUGO_HTTP_SERVER_TLS_AUTOCERT_ENABLED",
             "http_server.tls_autocert.enabled"),
            (["CENTRIFUGO_ENGINE_REDIS_CLIENT_NAME": "broker"],
             "CENTRIFUGO_ENGINE_REDIS_CLIENT_NAME", "engine.redis.client_name"),
            (["CENTRIFUGO_CHANNEL_NAMESPACES": "chat", "CENTRIFUGO_CHANNEL_NAMESPACES_CHAT_SUBSCRIPTION_TYPE": "map"],
             "CENTRIFUGO_CHANNEL_NAMESPACES_CHAT_SUBSCRIPTION_TYPE", "subscription_type"),
        ]
        for (env, key, path) in cases {
            let error = parseError("{}", env: env)
            #expect(error?.key == key, "\(key): \(error?.description ?? "loaded")")
            #expect(error?.message.contains("not supported by this broker") == true)
            #expect(error?.message.contains(path) == true, "\(error?.message ?? "")")
        }
        let bad = parseError("{}", env: ["CENTRIFUGO_HTTP_SERVER_TLS_AUTOCERT_ENABLED": "yes"])
        #expect(bad?.key == "CENTRIFUGO_HTTP_SERVER_TLS_AUTOCERT_ENABLED")
        #expect(bad?.message.contains("is not a boolean") == true)
    }

    @Test func envVariablesAtDefaultsOrOfInertKeysLoadWithoutAWord() throws {
        let env = [
            "CENTRIFUGO_GRPC_API_ENABLED": "false",
            "CENTRIFUGO_GRPC_API_PORT": "10001",
            "CENTRIFUGO_PROXIES": "[]",
            "CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_SUBSCRIBE_PROXY_NAME": "default",
            "CENTRIFUGO_WEBSOCKET_READ_BUFFER_SIZE": "4096",
            "CENTRIFUGO_USAGE_STATS_DISABLED": "true",
            "CENTRIFUGO_HTTP_SERVER_TLS_CERT_PEM": "cert",
            "CENTRIFUGO_CLIENT_CHANNEL_POSITION_MAX_TIME_LAG": "0",
            "CENTRIFUGO_CHANNEL_NAMESPACES": "chat",
            "CENTRIFUGO_CHANNEL_NAMESPACES_CHAT_MAP_MODE": "ephemeral",
        ]
        let config = try parse("{}", env: env)
        #expect(config.unknownKeys.isEmpty, "\(config.unknownKeys)")
    }

    @Test func wrongTypesOfRefusedKeysNameTheKey() {
        let error = parseError(#"{"http_server":{"tls":{"enabled":"yes"}}}"#)
        #expect(error?.key == "http_server.tls.enabled")
        #expect(error?.message.contains("expected a boolean") == true)
        #expect(parseError(#"{"grpc_api":true}"#)?.key == "grpc_api")
    }

    @Test func unknownKeysStillWarn() throws {
        let config = try parse(#"{"websocket":{"nope":1},"grpc_api":{"enabled":false},"http_server":{"tlss":{}}}"#)
        #expect(config.unknownKeys == ["websocket.nope", "http_server.tlss"])
    }

    // MARK: The lists

    @Test func theListsAreTheExpectedOnes() {
        // Differences only, so that a failure names the keys.
        #expect(Set(refusedKeys(UnsupportedKeys.config).map(\.path))
            .symmetricDifference(refusedConfigKeys.union(refusedChannelOptions.map { "channel.without_namespace." + $0 }))
            == [])
        #expect(Set(inertKeys(UnsupportedKeys.config))
            .symmetricDifference(
                inertConfigKeys.union(inertChannelOptions.map { "channel.without_namespace." + $0 }).union(proxyClientCAKeys))
            == [])
        #expect(Set(refusedKeys(UnsupportedKeys.channelOptions).map(\.path)).symmetricDifference(refusedChannelOptions) == [])
        #expect(Set(inertKeys(UnsupportedKeys.channelOptions)).symmetricDifference(inertChannelOptions) == [])
    }

    @Test func noKeyIsInTwoCategories() {
        for keys in [UnsupportedKeys.config, UnsupportedKeys.channelOptions] {
            let paths = keys.map(\.path)
            #expect(Set(paths).count == paths.count, "a path is listed twice")
        }
        // No refused key is also an implemented setting, and no inert key is or covers one.
        let refused = Set(refusedKeys(UnsupportedKeys.config).map(\.path))
        let implemented = BrokerConfigSchema.config.settings.map(\.path).filter { !refused.contains($0) }
        #expect(Set(BrokerConfigSchema.config.settings.map(\.path)).count == BrokerConfigSchema.config.settings.count)
        for inert in inertKeys(UnsupportedKeys.config) {
            #expect(!implemented.contains { $0 == inert || $0.hasPrefix(inert + ".") }, "\(inert)")
        }
        let namespacePaths = BrokerConfigSchema.namespace.settings.map(\.path)
        #expect(Set(namespacePaths).count == namespacePaths.count)
    }

    @Test func everyFormerlyAcceptedKeyIsRefusedOrInert() {
        // Implemented since: the proxies (each such key or section is now read).
        let implemented = Set(BrokerConfigSchema.config.settings.map(\.path))
            .union(BrokerConfigSchema.config.sectionPaths).union(BrokerConfigSchema.namespace.settings.map(\.path))
        func covered(_ path: String, by keys: [UnsupportedKey]) -> Bool {
            if implemented.contains(path) { return true }
            return keys.contains { key in
                if key.path == path { return true }
                if case .inert = key.rule, path.hasPrefix(key.path + ".") { return true }
                return false
            }
        }
        let uncovered = formerlyAcceptedConfigPaths.filter { !covered($0, by: UnsupportedKeys.config) }
            + formerlyAcceptedChannelOptions.filter { !covered($0, by: UnsupportedKeys.channelOptions) }
            + formerlyAcceptedChannelOptions.map { "channel.without_namespace." + $0 }
                .filter { !covered($0, by: UnsupportedKeys.config) }
        #expect(uncovered == [])
        // What the broker mapped but never read is now honoured.
        #expect(implemented.contains("websocket.compression") && implemented.contains("uni_websocket.compression"))
    }
}
