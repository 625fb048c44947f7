/// Start-up checks of the proxy keys: every endpoint usable, every `*_proxy_name` naming a configured proxy.
extension ConfigLoader {
    static func validateProxies(_ c: BrokerConfig) throws(ConfigError) {
        for (key, proxy) in c.configuredProxies { try validateProxy(proxy, at: key) }
        let stream = c.channel.proxy.subscribeStream
        if !stream.endpoint.isEmpty && !stream.isGRPC {
            throw ConfigError(
                key: "channel.proxy.subscribe_stream.endpoint",
                message: "the subscribe stream proxy works over gRPC only: set a grpc://host:port endpoint")
        }
        for (key, switched) in [("client.proxy.connect", c.client.proxy.connect), ("client.proxy.refresh", c.client.proxy.refresh)]
        where switched.enabled && switched.proxy.endpoint.isEmpty {
            throw ConfigError(key: key + ".endpoint", message: "must be set when \(key).enabled is true")
        }
        var names: [String: Int] = [:]
        for (i, named) in c.proxies.enumerated() {
            let key = "proxies[\(i)].name"
            guard isValidNamespaceName(named.name) else {
                throw ConfigError(
                    key: key, message: "\(ConfigMessage.quoted(named.name)) is not a valid proxy name "
                        + "(at least 2 characters of a-z, A-Z, 0-9, '-', '_', '.')")
            }
            if named.name == "default" {
                throw ConfigError(
                    key: key, message: "\"default\" names the proxies of channel.proxy and rpc.proxy; choose another name")
            }
            if let first = names[named.name] {
                throw ConfigError(key: key, message: "duplicate proxy name \(ConfigMessage.quoted(named.name)) (also proxies[\(first)])")
            }
            names[named.name] = i
        }
        try channelProxyNames(c, c.channel.withoutNamespace, at: "channel.without_namespace")
        for (i, ns) in c.channel.namespaces.enumerated() {
            try channelProxyNames(c, ns.options, at: "channel.namespaces[\(i)]")
        }
        try rpcProxyName(c, c.rpc.withoutNamespace, at: "rpc.without_namespace")
        var rpcNames: [String: Int] = [:]
        for (i, ns) in c.rpc.namespaces.enumerated() {
            let key = "rpc.namespaces[\(i)].name"
            guard isValidNamespaceName(ns.name) else {
                throw ConfigError(
                    key: key, message: "\(ConfigMessage.quoted(ns.name)) is not a valid RPC namespace name "
                        + "(at least 2 characters of a-z, A-Z, 0-9, '-', '_', '.')")
            }
            if let first = rpcNames[ns.name] {
                throw ConfigError(key: key, message: "duplicate RPC namespace \(ConfigMessage.quoted(ns.name)) (also rpc.namespaces[\(first)])")
            }
            rpcNames[ns.name] = i
            try rpcProxyName(c, ns.options, at: "rpc.namespaces[\(i)]")
        }
        if c.rpc.ping.enabled && c.rpc.ping.method.isEmpty {
            throw ConfigError(key: "rpc.ping.method", message: "must be set when rpc.ping.enabled is true")
        }
    }

    private static func validateProxy(_ proxy: ProxyConfig, at section: String) throws(ConfigError) {
        let endpoint = proxy.endpoint
        if proxy.isGRPC {
            guard endpoint.count > "grpc://".count, !endpoint.dropFirst("grpc://".count).contains("/") else {
                throw ConfigError(
                    key: section + ".endpoint", message: "\(ConfigMessage.quoted(endpoint)) must be grpc://host:port")
            }
        } else if !isHTTPURL(endpoint) {
            throw ConfigError(
                key: section + ".endpoint",
                message: "\(ConfigMessage.quoted(endpoint)) is not an http://, https:// or grpc:// endpoint")
        }
        guard proxy.timeout > .zero else {
            throw ConfigError(key: section + ".timeout", message: "must be greater than 0, got \(formatGoDuration(proxy.timeout))")
        }
    }

    private static func channelProxyNames(_ c: BrokerConfig, _ o: ChannelOptions, at location: String) throws(ConfigError) {
        let uses: [(Bool, String, String, ProxyConfig)] = [
            (o.subscribeProxyEnabled, "subscribe_proxy", o.subscribeProxyName, c.channel.proxy.subscribe),
            (o.publishProxyEnabled, "publish_proxy", o.publishProxyName, c.channel.proxy.publish),
            (o.subRefreshProxyEnabled, "sub_refresh_proxy", o.subRefreshProxyName, c.channel.proxy.subRefresh),
        ]
        if o.subscribeStreamProxyEnabled {
            if o.subscribeProxyEnabled || o.publishProxyEnabled || o.subRefreshProxyEnabled {
                throw ConfigError(
                    key: "\(location).subscribe_stream_proxy_enabled",
                    message: "cannot be combined with the subscribe, publish or sub_refresh proxy in the same namespace")
            }
            guard let proxy = c.proxy(named: o.subscribeStreamProxyName, default: c.channel.proxy.subscribeStream) else {
                throw ConfigError(
                    key: "\(location).subscribe_stream_proxy_name",
                    message: o.subscribeStreamProxyName == "default"
                        ? "\(location).subscribe_stream_proxy_enabled needs channel.proxy.subscribe_stream.endpoint"
                        : "no proxy named \(ConfigMessage.quoted(o.subscribeStreamProxyName)) in proxies")
            }
            guard proxy.isGRPC else {
                throw ConfigError(
                    key: "\(location).subscribe_stream_proxy_name",
                    message: "the subscribe stream proxy works over gRPC only: \(ConfigMessage.quoted(o.subscribeStreamProxyName)) "
                        + "has an HTTP endpoint")
            }
        }
        for (enabled, key, name, section) in uses where enabled && c.proxy(named: name, default: section) == nil {
            let kind = key.replacingOccurrences(of: "_proxy", with: "")
            throw ConfigError(
                key: "\(location).\(key)_name",
                message: name == "default"
                    ? "\(location).\(key)_enabled needs channel.proxy.\(kind).endpoint (the proxy named \"default\")"
                    : "no proxy named \(ConfigMessage.quoted(name)) in proxies")
        }
    }

    private static func rpcProxyName(_ c: BrokerConfig, _ o: RPCOptions, at location: String) throws(ConfigError) {
        guard o.proxyEnabled, c.proxy(named: o.proxyName, default: c.rpc.proxy) == nil else { return }
        throw ConfigError(
            key: "\(location).proxy_name",
            message: o.proxyName == "default"
                ? "\(location).proxy_enabled needs rpc.proxy.endpoint (the proxy named \"default\")"
                : "no proxy named \(ConfigMessage.quoted(o.proxyName)) in proxies")
    }
}

extension BrokerConfig {
    /// The proxy a namespace selects by name: `"default"` is its section's own (`channel.proxy.subscribe`,
    /// `rpc.proxy`, …), any other name an entry of `proxies`; nil when that has no endpoint.
    func proxy(named name: String, default section: ProxyConfig) -> ProxyConfig? {
        let proxy = name == "default" ? section : proxies.first { $0.name == name }?.proxy
        guard let proxy, !proxy.endpoint.isEmpty else { return nil }
        return proxy
    }

    /// Every proxy with an endpoint, by the config key that holds it.
    var configuredProxies: [(key: String, proxy: ProxyConfig)] {
        var all: [(String, ProxyConfig)] = [
            ("client.proxy.connect", client.proxy.connect.proxy), ("client.proxy.refresh", client.proxy.refresh.proxy),
            ("channel.proxy.subscribe", channel.proxy.subscribe), ("channel.proxy.publish", channel.proxy.publish),
            ("channel.proxy.sub_refresh", channel.proxy.subRefresh),
            ("channel.proxy.subscribe_stream", channel.proxy.subscribeStream), ("rpc.proxy", rpc.proxy),
        ]
        all += proxies.enumerated().map { ("proxies[\($0.offset)]", $0.element.proxy) }
        return all.filter { !$0.1.endpoint.isEmpty }
    }
}
