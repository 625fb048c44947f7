#if canImport(BrokerProtocol)
import BrokerProtocol
#endif

/// The proxy keys of Centrifugo v6: `client.proxy.*`, `channel.proxy.*`, `rpc.*`, `proxies` and each namespace's
/// `*_proxy_enabled` / `*_proxy_name`.
extension BrokerConfigSchema {
    static var proxySettings: [Setting] {
        var s: [Setting] = [.value("client.proxy.connect.enabled", \.client.proxy.connect.enabled, .bool)]
        s += proxyKeys.nested(under: "client.proxy.connect", at: \BrokerConfig.client.proxy.connect.proxy)
        s.append(.value("client.proxy.refresh.enabled", \.client.proxy.refresh.enabled, .bool))
        s += proxyKeys.nested(under: "client.proxy.refresh", at: \BrokerConfig.client.proxy.refresh.proxy)
        s += proxyKeys.nested(under: "channel.proxy.subscribe", at: \BrokerConfig.channel.proxy.subscribe)
        s += proxyKeys.nested(under: "channel.proxy.publish", at: \BrokerConfig.channel.proxy.publish)
        s += proxyKeys.nested(under: "channel.proxy.sub_refresh", at: \BrokerConfig.channel.proxy.subRefresh)
        s += proxyKeys.nested(under: "channel.proxy.subscribe_stream", at: \BrokerConfig.channel.proxy.subscribeStream)
        s += proxyKeys.nested(under: "rpc.proxy", at: \BrokerConfig.rpc.proxy)
        s += rpcOptionKeys.nested(under: "rpc.without_namespace", at: \BrokerConfig.rpc.withoutNamespace)
        s += [
            .value("rpc.namespace_boundary", \.rpc.namespaceBoundary, .string),
            .value("rpc.ping.enabled", \.rpc.ping.enabled, .bool),
            .value("rpc.ping.method", \.rpc.ping.method, .string),
            objectList("rpc.namespaces", \.rpc.namespaces, schema: rpcNamespace) { RPCNamespace(name: $0) },
            objectList("proxies", \.proxies, schema: namedProxy) { NamedProxy(name: $0) },
        ]
        return s
    }

    /// The proxy keys of one channel options object (`channel.without_namespace`, each namespace).
    static var channelProxyOptionSettings: [ConfigSetting<ChannelOptions>] {
        [
            .value("subscribe_proxy_enabled", \.subscribeProxyEnabled, .bool),
            .value("subscribe_proxy_name", \.subscribeProxyName, .string),
            .value("publish_proxy_enabled", \.publishProxyEnabled, .bool),
            .value("publish_proxy_name", \.publishProxyName, .string),
            .value("sub_refresh_proxy_enabled", \.subRefreshProxyEnabled, .bool),
            .value("sub_refresh_proxy_name", \.subRefreshProxyName, .string),
            .value("subscribe_stream_proxy_enabled", \.subscribeStreamProxyEnabled, .bool),
            .value("subscribe_stream_proxy_name", \.subscribeStreamProxyName, .string),
            .value("subscribe_stream_proxy_bidirectional", \.subscribeStreamProxyBidirectional, .bool),
        ]
    }

    /// Keys of Centrifugo's TLS object, client side (Redis, proxies).
    static var tlsClientKeys: [ConfigSetting<TLSClientConfig>] {
        [
            .value("enabled", \.enabled, .bool),
            .value("cert_pem", \.certPEM, .string),
            .value("key_pem", \.keyPEM, .string),
            .value("cert_pem_file", \.certPEMFile, .string),
            .value("key_pem_file", \.keyPEMFile, .string),
            .value("server_ca_pem", \.serverCAPEM, .string),
            .value("server_ca_pem_file", \.serverCAPEMFile, .string),
            .value("server_name", \.serverName, .string),
            .value("insecure_skip_verify", \.insecureSkipVerify, .bool),
        ]
    }

    /// Keys of one proxy object.
    private static var proxyKeys: [ConfigSetting<ProxyConfig>] {
        var s: [ConfigSetting<ProxyConfig>] = [
            .value("endpoint", \.endpoint, .string),
            .value("timeout", \.timeout, .duration),
            .value("http_headers", \.httpHeaders, .stringList),
            .value("grpc_metadata", \.grpcMetadata, .stringList),
            .value("emulated_headers", \.emulatedHeaders, .stringList),
            .value("binary_encoding", \.binaryEncoding, .bool),
            .value("include_connection_meta", \.includeConnectionMeta, .bool),
            .value("http.static_headers", \.http.staticHeaders, .stringMap),
            .value("http.status_to_code_transforms", \.http.statusToCodeTransforms, .proxyStatusTransforms),
            .value("grpc.credentials_key", \.grpc.credentialsKey, .string),
            .value("grpc.credentials_value", \.grpc.credentialsValue, .string),
            .value("grpc.compression", \.grpc.compression, .bool),
            .value("grpc.static_metadata", \.grpc.staticMetadata, .stringMap),
        ]
        s += tlsClientKeys.nested(under: "http.tls", at: \ProxyConfig.http.tls)
        s += tlsClientKeys.nested(under: "grpc.tls", at: \ProxyConfig.grpc.tls)
        return s
    }

    private static var rpcOptionKeys: [ConfigSetting<RPCOptions>] {
        [.value("proxy_enabled", \.proxyEnabled, .bool), .value("proxy_name", \.proxyName, .string)]
    }

    private static var rpcNamespace: ConfigSchema<RPCNamespace> {
        ConfigSchema(
            settings: [.value("name", \RPCNamespace.name, .string)] + rpcOptionKeys.nested(under: "", at: \RPCNamespace.options),
            inertPaths: [])
    }

    private static var namedProxy: ConfigSchema<NamedProxy> {
        ConfigSchema(
            settings: [.value("name", \NamedProxy.name, .string)] + proxyKeys.nested(under: "", at: \NamedProxy.proxy),
            inertPaths: UnsupportedKeys.proxyTLSInertPaths)
    }

    /// A list of objects with a `name` (`channel.namespaces`, `rpc.namespaces`, `proxies`): an array in the file;
    /// in env either JSON text (replaces the list) or space-separated names (appended, as Centrifugo does).
    static func objectList<Item>(
        _ path: String, _ keyPath: WritableKeyPath<BrokerConfig, [Item]>, schema: ConfigSchema<Item>,
        named: @escaping (String) -> Item
    ) -> Setting {
        Setting(
            path: path,
            applyJSON: { config, json, fullPath, decoding throws(ConfigError) in
                config[keyPath: keyPath] = try decodeObjects(json, location: fullPath, schema: schema, named: named, decoding: &decoding)
            },
            applyText: { config, text, envName, decoding throws(ConfigError) in
                guard text.hasPrefix("["), text.hasSuffix("]") else {
                    config[keyPath: keyPath] += EnvironmentOverrides.splitList(text).map(named)
                    return
                }
                let json: JSONValue
                do {
                    json = try JSONParser.parse(text)
                } catch {
                    throw ConfigError(key: envName, message: "not a valid JSON array of objects: \(error)")
                }
                do throws(ConfigError) {
                    config[keyPath: keyPath] = try decodeObjects(json, location: path, schema: schema, named: named, decoding: &decoding)
                } catch {
                    throw ConfigError(key: envName, message: "\(error.key): \(error.message)")
                }
            }
        )
    }

    static func decodeObjects<Item>(
        _ json: JSONValue, location: String, schema: ConfigSchema<Item>, named: (String) -> Item, decoding: inout ConfigDecoding
    ) throws(ConfigError) -> [Item] {
        guard case .array(let items) = json else {
            throw ConfigError(key: location, message: "expected an array of objects, got \(ConfigMessage.describe(json))")
        }
        var result: [Item] = []
        for (i, item) in items.enumerated() {
            let itemLocation = "\(location)[\(i)]"
            guard case .object(let object) = item else {
                throw ConfigError(key: itemLocation, message: "expected an object, got \(ConfigMessage.describe(item))")
            }
            var decoded = named("")
            try schema.decode(object, into: &decoded, location: itemLocation, decoding: &decoding)
            result.append(decoded)
        }
        return result
    }
}

extension ConfigValueType where Value == [String: String] {
    /// A JSON object of strings; in env, the same JSON text.
    static var stringMap: Self {
        Self(
            expected: "an object of strings",
            fromJSON: { json throws(ConfigValueError) in try strings(json) },
            fromText: { text throws(ConfigValueError) in
                guard let json = try? JSONParser.parse(text) else {
                    throw ConfigValueError(message: "expected a JSON object of strings, got \(ConfigMessage.quoted(text))")
                }
                return try strings(json)
            },
            isZero: { $0.isEmpty }
        )
    }

    private static func strings(_ json: JSONValue) throws(ConfigValueError) -> [String: String] {
        guard case .object(let object) = json else { throw ConfigValueType.stringMap.mismatch(json) }
        var map: [String: String] = [:]
        for member in object.members {
            guard let text = member.value.stringValue else {
                throw ConfigValueError(message: "expected a string for \(member.key), got \(ConfigMessage.describe(member.value))")
            }
            map[member.key] = text
        }
        return map
    }
}

extension ConfigValueType where Value == [ProxyStatusTransform] {
    /// `[{"status_code": 404, "to_error": {"code": 404, "message": "…", "temporary": false}}, {… "to_disconnect":
    /// {"code": 4501, "reason": "…"}}]`; in env, the same JSON text.
    static var proxyStatusTransforms: Self {
        Self(
            expected: "an array of status transforms",
            fromJSON: { json throws(ConfigValueError) in try transforms(json) },
            fromText: { text throws(ConfigValueError) in
                guard let json = try? JSONParser.parse(text) else {
                    throw ConfigValueError(message: "expected a JSON array of status transforms, got \(ConfigMessage.quoted(text))")
                }
                return try transforms(json)
            },
            isZero: { $0.isEmpty }
        )
    }

    private static func transforms(_ json: JSONValue) throws(ConfigValueError) -> [ProxyStatusTransform] {
        guard case .array(let items) = json else { throw ConfigValueType.proxyStatusTransforms.mismatch(json) }
        var result: [ProxyStatusTransform] = []
        for (i, item) in items.enumerated() {
            guard case .object(let o) = item, let status = o["status_code"]?.uint64Value, status > 0, status < 600 else {
                throw ConfigValueError(message: "item \(i): expected {\"status_code\": 100…599, \"to_error\" or \"to_disconnect\": {…}}")
            }
            var t = ProxyStatusTransform(statusCode: Int(status))
            if case .object(let e) = o["to_error"] ?? .null, let code = e["code"]?.uint64Value, code > 0, code <= UInt64(UInt32.max) {
                t.toError = ClientError(
                    code: UInt32(code), message: e["message"]?.stringValue ?? "", temporary: e["temporary"]?.boolValue ?? false)
            } else if case .object(let d) = o["to_disconnect"] ?? .null, let code = d["code"]?.uint64Value, code > 0, code < 65536 {
                t.toDisconnect = Disconnect(code: UInt16(code), reason: d["reason"]?.stringValue ?? "")
            } else {
                throw ConfigValueError(message: "item \(i): to_error.code or to_disconnect.code (1…65535) must be set")
            }
            result.append(t)
        }
        return result
    }
}
