#if canImport(BrokerProtocol)
import BrokerProtocol
#endif

/// Which Centrifugo v6 key maps to which `BrokerConfig` field. The legal keys the broker does not implement
/// are in `UnsupportedKeys`: refused ones become settings that fail when set, inert ones are loaded without effect.
enum BrokerConfigSchema {
    typealias Setting = ConfigSetting<BrokerConfig>

    static var config: ConfigSchema<BrokerConfig> {
        let unsupported = UnsupportedKeys.config
        return ConfigSchema(
            settings: configSettings + unsupported.refusals(of: BrokerConfig.self), inertPaths: unsupported.inertPaths)
    }

    /// One `channel.namespaces[]` entry: `name` plus every channel option.
    static var namespace: ConfigSchema<NamespaceConfig> {
        let unsupported = UnsupportedKeys.channelOptions
        return ConfigSchema(
            settings: [.value("name", \NamespaceConfig.name, .string)]
                + channelOptionSettings.nested(under: "", at: \NamespaceConfig.options)
                + unsupported.refusals(of: NamespaceConfig.self),
            inertPaths: unsupported.inertPaths
        )
    }

    // MARK: - Settings

    private static var configSettings: [Setting] {
        var s: [Setting] = []
        s += [
            .value("http_server.address", \.httpServer.address, .string),
            .value("http_server.port", \.httpServer.port, .int),
            .value("http_server.internal_port", \.httpServer.internalPort, .optionalPort),
            .value("http_server.internal_address", \.httpServer.internalAddress, .string),
            .value("http_server.tls_external", \.httpServer.tlsExternal, .bool),
            .value("log.level", \.log.level, .string),
            .value("log.file", \.log.file, .string),
        ]
        s += tokenSettings.nested(under: "client.token", at: \BrokerConfig.client.token)
        s.append(.value("client.subscription_token.enabled", \.client.subscriptionToken.enabled, .bool))
        s += tokenSettings.nested(under: "client.subscription_token", at: \BrokerConfig.client.subscriptionToken.token)
        s += [
            .value("client.allowed_origins", \.client.allowedOrigins, .stringList),
            .value("client.allow_anonymous_connect_without_token", \.client.allowAnonymousConnectWithoutToken, .bool),
            .value("client.disallow_anonymous_connection_tokens", \.client.disallowAnonymousConnectionTokens, .bool),
            .value("client.insecure", \.client.insecure, .bool),
            .value("client.insecure_skip_token_signature_verify", \.client.insecureSkipTokenSignatureVerify, .bool),
            .value("client.connect_include_server_time", \.client.connectIncludeServerTime, .bool),
            .value("client.connect_code_to_unidirectional_disconnect.enabled",
                   \.client.connectCodeToUnidirectionalDisconnect.enabled, .bool),
            uniDisconnectTransformsSetting,
            .value("client.ping_interval", \.client.pingInterval, .duration),
            .value("client.pong_timeout", \.client.pongTimeout, .duration),
            .value("client.expired_close_delay", \.client.expiredCloseDelay, .duration),
            .value("client.expired_sub_close_delay", \.client.expiredSubCloseDelay, .duration),
            .value("client.stale_close_delay", \.client.staleCloseDelay, .duration),
            .value("client.channel_limit", \.client.channelLimit, .int),
            .value("client.queue_max_size", \.client.queueMaxSize, .int),
            .value("client.presence_update_interval", \.client.presenceUpdateInterval, .duration),
            .value("client.channel_position_check_delay", \.client.channelPositionCheckDelay, .duration),
            .value("client.connection_limit", \.client.connectionLimit, .int),
            .value("client.user_connection_limit", \.client.userConnectionLimit, .int),
            .value("client.history_max_publication_limit", \.client.historyMaxPublicationLimit, .int),
            .value("client.recovery_max_publication_limit", \.client.recoveryMaxPublicationLimit, .int),
            .value("client.command_rate_limit", \.client.commandRateLimit, .int),
            .value("client.subscribe_to_user_personal_channel.enabled",
                   \.client.subscribeToUserPersonalChannel.enabled, .bool),
            .value("client.subscribe_to_user_personal_channel.personal_channel_namespace",
                   \.client.subscribeToUserPersonalChannel.personalChannelNamespace, .string),
            .value("client.subscribe_to_user_personal_channel.single_connection",
                   \.client.subscribeToUserPersonalChannel.singleConnection, .bool),
        ]
        s += channelOptionSettings.nested(under: "channel.without_namespace", at: \BrokerConfig.channel.withoutNamespace)
        s += [
            objectList("channel.namespaces", \.channel.namespaces, schema: namespace) { NamespaceConfig(name: $0) },
            .value("channel.history_meta_ttl", \.channel.historyMetaTTL, .duration),
            .value("channel.max_length", \.channel.maxLength, .int),
            .value("channel.publication_data_format", \.channel.publicationDataFormat, .string),
            .value("channel.private_prefix", \.channel.privatePrefix, .string),
            .value("channel.namespace_boundary", \.channel.namespaceBoundary, .string),
            .value("channel.user_boundary", \.channel.userBoundary, .string),
            .value("channel.user_separator", \.channel.userSeparator, .string),
            .value("http_api.disabled", \.httpAPI.disabled, .bool),
            .value("http_api.handler_prefix", \.httpAPI.handlerPrefix, .string),
            .value("http_api.key", \.httpAPI.key, .string),
            .value("http_api.insecure", \.httpAPI.insecure, .bool),
            .value("http_api.error_mode", \.httpAPI.errorMode, .string),
            .value("http_api.external", \.httpAPI.external, .bool),
            .value("grpc_api.enabled", \.grpcAPI.enabled, .bool),
            .value("grpc_api.error_mode", \.grpcAPI.errorMode, .string),
            .value("grpc_api.address", \.grpcAPI.address, .string),
            .value("grpc_api.port", \.grpcAPI.port, .int),
            .value("grpc_api.key", \.grpcAPI.key, .string),
            .value("grpc_api.max_receive_message_size", \.grpcAPI.maxReceiveMessageSize, .int),
            .value("grpc_api.reflection", \.grpcAPI.reflection, .bool),
            .value("websocket.disabled", \.websocket.disabled, .bool),
            .value("websocket.handler_prefix", \.websocket.handlerPrefix, .string),
            .value("websocket.message_size_limit", \.websocket.messageSizeLimit, .int),
            .value("websocket.write_timeout", \.websocket.writeTimeout, .duration),
            .value("websocket.compression", \.websocket.compression, .bool),
            .value("websocket.compression_level", \.websocket.compressionLevel, .int),
            .value("websocket.compression_min_size", \.websocket.compressionMinSize, .int),
            .value("websocket.decompressed_message_size_limit", \.websocket.decompressedMessageSizeLimit, .int),
            .value("uni_websocket.enabled", \.uniWebSocket.enabled, .bool),
            .value("uni_websocket.handler_prefix", \.uniWebSocket.handlerPrefix, .string),
            .value("uni_websocket.message_size_limit", \.uniWebSocket.messageSizeLimit, .int),
            .value("uni_websocket.write_timeout", \.uniWebSocket.writeTimeout, .duration),
            .value("uni_websocket.join_push_messages", \.uniWebSocket.joinPushMessages, .bool),
            .value("uni_websocket.disable_disconnect_push", \.uniWebSocket.disableDisconnectPush, .bool),
            .value("uni_websocket.compression", \.uniWebSocket.compression, .bool),
            .value("uni_websocket.compression_level", \.uniWebSocket.compressionLevel, .int),
            .value("uni_websocket.compression_min_size", \.uniWebSocket.compressionMinSize, .int),
            .value("uni_websocket.decompressed_message_size_limit", \.uniWebSocket.decompressedMessageSizeLimit, .int),
            .value("uni_sse.enabled", \.uniSSE.enabled, .bool),
            .value("uni_sse.handler_prefix", \.uniSSE.handlerPrefix, .string),
            .value("uni_sse.max_request_body_size", \.uniSSE.maxRequestBodySize, .int),
            .value("uni_sse.connect_code_to_http_response.enabled", \.uniSSE.connectCodeToHTTPResponse.enabled, .bool),
            httpResponseTransformsSetting("uni_sse", \.uniSSE.connectCodeToHTTPResponse.transforms),
            .value("uni_http_stream.enabled", \.uniHTTPStream.enabled, .bool),
            .value("uni_http_stream.handler_prefix", \.uniHTTPStream.handlerPrefix, .string),
            .value("uni_http_stream.max_request_body_size", \.uniHTTPStream.maxRequestBodySize, .int),
            .value("uni_http_stream.connect_code_to_http_response.enabled",
                   \.uniHTTPStream.connectCodeToHTTPResponse.enabled, .bool),
            httpResponseTransformsSetting("uni_http_stream", \.uniHTTPStream.connectCodeToHTTPResponse.transforms),
            .value("engine.type", \.engine.type, .string),
            .value("engine.redis.address", \.engine.redis.address, .stringOrList),
            .value("engine.redis.prefix", \.engine.redis.prefix, .string),
            .value("engine.redis.connect_timeout", \.engine.redis.connectTimeout, .duration),
            .value("engine.redis.io_timeout", \.engine.redis.ioTimeout, .duration),
            .value("engine.redis.db", \.engine.redis.db, .int),
            .value("engine.redis.user", \.engine.redis.user, .string),
            .value("engine.redis.password", \.engine.redis.password, .string),
            .value("engine.redis.force_resp2", \.engine.redis.forceResp2, .bool),
            .value("engine.redis.presence_ttl", \.engine.redis.presenceTTL, .duration),
            .value("engine.redis.sentinel_address", \.engine.redis.sentinelAddress, .stringOrList),
            .value("engine.redis.cluster_address", \.engine.redis.clusterAddress, .stringOrList),
            .value("engine.redis.sentinel_master_name", \.engine.redis.sentinelMasterName, .string),
            .value("engine.redis.sentinel_user", \.engine.redis.sentinelUser, .string),
            .value("engine.redis.sentinel_password", \.engine.redis.sentinelPassword, .string),
            .value("engine.redis.sentinel_client_name", \.engine.redis.sentinelClientName, .string),
            .value("engine.redis.wait_replicas", \.engine.redis.waitReplicas, .int),
            .value("engine.redis.wait_timeout", \.engine.redis.waitTimeout, .duration),
            .value("health.enabled", \.health.enabled, .bool),
            .value("health.handler_prefix", \.health.handlerPrefix, .string),
            .value("prometheus.enabled", \.prometheus.enabled, .bool),
            .value("prometheus.handler_prefix", \.prometheus.handlerPrefix, .string),
            .value("admin.enabled", \.admin.enabled, .bool),
            .value("admin.password", \.admin.password, .string),
            .value("admin.secret", \.admin.secret, .string),
            .value("admin.insecure", \.admin.insecure, .bool),
            .value("admin.handler_prefix", \.admin.handlerPrefix, .string),
            .value("admin.external", \.admin.external, .bool),
            .value("shutdown.timeout", \.shutdown.timeout, .duration),
            .value("node.name", \.node.name, .string),
        ]
        s += tlsClientKeys.nested(under: "engine.redis.tls", at: \BrokerConfig.engine.redis.tls)
        s += tlsClientKeys.nested(under: "engine.redis.sentinel_tls", at: \BrokerConfig.engine.redis.sentinelTLS)
        s += tlsServerKeys.nested(under: "http_server.tls", at: \BrokerConfig.httpServer.tls)
        s += tlsServerKeys.nested(under: "http_server.internal_tls", at: \BrokerConfig.httpServer.internalTLS)
        s += tlsServerKeys.nested(under: "grpc_api.tls", at: \BrokerConfig.grpcAPI.tls)
        s += proxySettings
        return s
    }

    /// Keys of Centrifugo's TLS object on a listener (its client-side keys are inert there, see `UnsupportedKeys`).
    static var tlsServerKeys: [ConfigSetting<TLSServerConfig>] {
        [
            .value("enabled", \.enabled, .bool),
            .value("cert_pem", \.certPEM, .string),
            .value("key_pem", \.keyPEM, .string),
            .value("client_ca_pem", \.clientCAPEM, .string),
        ]
    }

    /// Keys of `client.token` and, with `enabled`, of `client.subscription_token`.
    private static var tokenSettings: [ConfigSetting<TokenConfig>] {
        [
            .value("hmac_secret_key", \.hmacSecretKey, .string),
            .value("hmac_previous_secret_key", \.hmacPreviousSecretKey, .string),
            .value("hmac_previous_secret_key_valid_until", \.hmacPreviousSecretKeyValidUntil, .int64),
            .value("rsa_public_key", \.rsaPublicKey, .string),
            .value("ecdsa_public_key", \.ecdsaPublicKey, .string),
            .value("jwks_public_endpoint", \.jwksPublicEndpoint, .string),
            .value("audience", \.audience, .string),
            .value("audience_regex", \.audienceRegex, .string),
            .value("issuer", \.issuer, .string),
            .value("issuer_regex", \.issuerRegex, .string),
            .value("user_id_claim", \.userIDClaim, .string),
        ]
    }

    /// Options of `channel.without_namespace` and of each namespace.
    static var channelOptionSettings: [ConfigSetting<ChannelOptions>] {
        [
            .value("presence", \.presence, .bool),
            .value("join_leave", \.joinLeave, .bool),
            .value("force_push_join_leave", \.forcePushJoinLeave, .bool),
            .value("history_size", \.historySize, .int),
            .value("history_ttl", \.historyTTL, .duration),
            .value("history_meta_ttl", \.historyMetaTTL, .duration),
            .value("force_positioning", \.forcePositioning, .bool),
            .value("allow_positioning", \.allowPositioning, .bool),
            .value("force_recovery", \.forceRecovery, .bool),
            .value("allow_recovery", \.allowRecovery, .bool),
            .value("force_recovery_mode", \.forceRecoveryMode, .string),
            .value("auto_cache_recover", \.autoCacheRecover, .bool),
            .value("allowed_delta_types", \.allowedDeltaTypes, .stringList),
            .value("delta_publish", \.deltaPublish, .bool),
            .value("allow_tags_filter", \.allowTagsFilter, .bool),
            .value("allow_subscribe_for_client", \.allowSubscribeForClient, .bool),
            .value("allow_subscribe_for_anonymous", \.allowSubscribeForAnonymous, .bool),
            .value("allow_publish_for_subscriber", \.allowPublishForSubscriber, .bool),
            .value("allow_publish_for_client", \.allowPublishForClient, .bool),
            .value("allow_publish_for_anonymous", \.allowPublishForAnonymous, .bool),
            .value("allow_history_for_subscriber", \.allowHistoryForSubscriber, .bool),
            .value("allow_history_for_client", \.allowHistoryForClient, .bool),
            .value("allow_history_for_anonymous", \.allowHistoryForAnonymous, .bool),
            .value("allow_presence_for_subscriber", \.allowPresenceForSubscriber, .bool),
            .value("allow_presence_for_client", \.allowPresenceForClient, .bool),
            .value("allow_presence_for_anonymous", \.allowPresenceForAnonymous, .bool),
            .value("allow_user_limited_channels", \.allowUserLimitedChannels, .bool),
            .value("channel_regex", \.channelRegex, .string),
            .value("publication_data_format", \.publicationDataFormat, .optionalString),
        ] + channelProxyOptionSettings
    }

    /// `client.connect_code_to_unidirectional_disconnect.transforms`: `[{"code":109,"to":{"code":4501,"reason":"…"}}]`,
    /// in env as the same JSON text.
    private static var uniDisconnectTransformsSetting: Setting {
        let path = "client.connect_code_to_unidirectional_disconnect.transforms"
        return Setting(
            path: path,
            applyJSON: { config, json, fullPath, _ throws(ConfigError) in
                config.client.connectCodeToUnidirectionalDisconnect.transforms = try decodeUniDisconnectTransforms(json, location: fullPath)
            },
            applyText: { config, text, envName, _ throws(ConfigError) in
                let json: JSONValue
                do {
                    json = try JSONParser.parse(text)
                } catch {
                    throw ConfigError(key: envName, message: "not a valid JSON array of transforms: \(error)")
                }
                do throws(ConfigError) {
                    config.client.connectCodeToUnidirectionalDisconnect.transforms = try decodeUniDisconnectTransforms(json, location: path)
                } catch {
                    throw ConfigError(key: envName, message: "\(error.key): \(error.message)")
                }
            }
        )
    }

    static func decodeUniDisconnectTransforms(
        _ json: JSONValue, location: String
    ) throws(ConfigError) -> [ConnectCodeToUnidirectionalDisconnect.Transform] {
        try decodeTransforms(json, location: location) { object, at throws(ConfigError) in
            var transform = ConnectCodeToUnidirectionalDisconnect.Transform(
                code: try transformCode(object["code"], at + ".code"), toCode: 0, toReason: "")
            if let target = try transformTarget(object["to"], at + ".to") {
                transform.toCode = try transformCode(target["code"], at + ".to.code")
                transform.toReason = try transformString(target["reason"], at + ".to.reason")
            }
            return transform
        }
    }

    /// `<section>.connect_code_to_http_response.transforms`: `[{"code":3500,"to":{"status_code":401,"body":"…"}}]`,
    /// in env as the same JSON text.
    private static func httpResponseTransformsSetting(
        _ section: String, _ keyPath: WritableKeyPath<BrokerConfig, [ConnectCodeToHTTPResponse.Transform]>
    ) -> Setting {
        let path = section + ".connect_code_to_http_response.transforms"
        return Setting(
            path: path,
            applyJSON: { config, json, fullPath, _ throws(ConfigError) in
                config[keyPath: keyPath] = try decodeHTTPResponseTransforms(json, location: fullPath)
            },
            applyText: { config, text, envName, _ throws(ConfigError) in
                let json: JSONValue
                do {
                    json = try JSONParser.parse(text)
                } catch {
                    throw ConfigError(key: envName, message: "not a valid JSON array of transforms: \(error)")
                }
                do throws(ConfigError) {
                    config[keyPath: keyPath] = try decodeHTTPResponseTransforms(json, location: path)
                } catch {
                    throw ConfigError(key: envName, message: "\(error.key): \(error.message)")
                }
            }
        )
    }

    static func decodeHTTPResponseTransforms(
        _ json: JSONValue, location: String
    ) throws(ConfigError) -> [ConnectCodeToHTTPResponse.Transform] {
        try decodeTransforms(json, location: location) { object, at throws(ConfigError) in
            var transform = ConnectCodeToHTTPResponse.Transform(
                code: try transformCode(object["code"], at + ".code"), statusCode: 0, body: "")
            if let target = try transformTarget(object["to"], at + ".to") {
                transform.statusCode = Int(try transformCode(target["status_code"], at + ".to.status_code"))
                transform.body = try transformString(target["body"], at + ".to.body")
            }
            return transform
        }
    }

    private static func decodeTransforms<T>(
        _ json: JSONValue, location: String, _ decode: (JSONObject, String) throws(ConfigError) -> T
    ) throws(ConfigError) -> [T] {
        guard case .array(let items) = json else {
            throw ConfigError(key: location, message: "expected an array of objects, got \(ConfigMessage.describe(json))")
        }
        var result: [T] = []
        for (i, item) in items.enumerated() {
            let at = "\(location)[\(i)]"
            guard case .object(let object) = item else {
                throw ConfigError(key: at, message: "expected an object, got \(ConfigMessage.describe(item))")
            }
            result.append(try decode(object, at))
        }
        return result
    }

    private static func transformCode(_ value: JSONValue?, _ key: String) throws(ConfigError) -> UInt32 {
        guard let value, !value.isNull else { return 0 }
        guard let n = value.uint64Value, n <= UInt64(UInt32.max) else {
            throw ConfigError(key: key, message: "expected a non-negative integer, got \(ConfigMessage.describe(value))")
        }
        return UInt32(n)
    }

    private static func transformTarget(_ value: JSONValue?, _ key: String) throws(ConfigError) -> JSONObject? {
        guard let value, !value.isNull else { return nil }
        guard case .object(let target) = value else {
            throw ConfigError(key: key, message: "expected an object, got \(ConfigMessage.describe(value))")
        }
        return target
    }

    private static func transformString(_ value: JSONValue?, _ key: String) throws(ConfigError) -> String {
        guard let value, !value.isNull else { return "" }
        guard let text = value.stringValue else {
            throw ConfigError(key: key, message: "expected a string, got \(ConfigMessage.describe(value))")
        }
        return text
    }
}
