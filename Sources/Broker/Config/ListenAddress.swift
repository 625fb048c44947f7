import SecretPolicy

/// A `host:port` the broker binds, as `http_server` sets it. One place for which listener serves what:
/// the server and the start-up rules for secrets read it from here.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// The host to bind: `0.0.0.0` when the config leaves the address empty (every interface).
    public var host: String
    public var port: Int

    /// Whether only this machine can connect (`localhost`, 127.0.0.0/8, `::1`).
    public var isLoopback: Bool { SecretPolicy.isLoopback(host: host) }

    public var description: String { host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

extension BrokerConfig {
    /// The client port: WebSocket and the uni transports (and everything else when there is no internal port).
    public var clientListener: ListenAddress {
        ListenAddress(host: httpServer.address.isEmpty ? "0.0.0.0" : httpServer.address, port: httpServer.port)
    }

    /// The internal port (`http_server.internal_port`) for the server API, health, metrics and the console, on
    /// `internal_address` or else the client port's address; nil when there is none.
    public var internalListener: ListenAddress? {
        guard let port = httpServer.internalPort else { return nil }
        let address = httpServer.internalAddress.isEmpty ? clientListener.host : httpServer.internalAddress
        return ListenAddress(host: address, port: port)
    }

    /// Where a feature of the internal port is served (the server API, the console): the internal port when
    /// there is one, plus the client port when the feature is `external`; else the client port.
    public func listeners(ofInternalFeatureExternal external: Bool) -> [ListenAddress] {
        guard let internalListener else { return [clientListener] }
        return external ? [internalListener, clientListener] : [internalListener]
    }

    /// Whether `listener` serves TLS: the client port with `http_server.tls`; the internal port with
    /// `internal_tls`, or with `tls` unless `tls_external`.
    public func servesTLS(_ listener: ListenAddress) -> Bool {
        guard let internalListener, listener == internalListener, listener != clientListener else { return httpServer.tls.enabled }
        return httpServer.internalTLS.enabled || (httpServer.tls.enabled && !httpServer.tlsExternal)
    }
}
