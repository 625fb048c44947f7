import BrokerProtocol

/// The admin API's fuller answer to error 102 ("unknown channel"): which namespace was missing and
/// which ones exist, so an operator sees what to type instead. The public server API keeps
/// Centrifugo's bare `{"error":{"code":102,"message":"unknown channel"}}`.
enum UnknownChannelDetail {
    /// `{"error":{"code":102,"message":…,"namespaces":[…]}}` for `channel` under `config`.
    static func reply(channel: String, config: ChannelConfig) -> [UInt8] {
        var w = JSONWriter()
        w.raw("{\"error\":{\"code\":102,\"message\":")
        w.string(message(channel: channel, config: config))
        w.raw(",\"namespaces\":[")
        for (i, name) in config.namespaces.map(\.name).sorted().enumerated() {
            if i > 0 { w.raw(UInt8(ascii: ",")) }
            w.string(name)
        }
        w.raw("]}}")
        return w.bytes
    }

    /// E.g. `unknown channel "foo:bar": namespace "foo" does not exist. Namespaces: chat, personal
    /// (channels without ":" use channel.without_namespace)`.
    static func message(channel: String, config: ChannelConfig) -> String {
        if channel.isEmpty { return "unknown channel: the channel name is empty" }
        var name = Substring(channel)
        if !config.privatePrefix.isEmpty, name.hasPrefix(config.privatePrefix) { name = name.dropFirst(config.privatePrefix.count) }
        let names = config.namespaces.map(\.name).sorted()
        let list = names.isEmpty ? "none are configured" : names.joined(separator: ", ")
        let boundary = config.namespaceBoundary
        let without = boundary.isEmpty ? "" : " (channels without \"\(boundary)\" use channel.without_namespace)"
        guard !boundary.isEmpty, let r = name.firstRange(of: boundary) else {
            return "unknown channel \"\(channel)\". Namespaces: \(list)\(without)"
        }
        let namespace = name[..<r.lowerBound]
        return "unknown channel \"\(channel)\": namespace \"\(namespace)\" does not exist. Namespaces: \(list)\(without)"
    }
}
