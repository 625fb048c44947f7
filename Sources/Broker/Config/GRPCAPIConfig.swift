/// `grpc_api`: the server API over gRPC (Centrifugo's `CentrifugoApi` service), on a port of its own.
public struct GRPCAPIConfig: Sendable, Equatable {
    public var enabled = false
    /// "" or "transport": with "transport" an error is the call's gRPC status instead of the response's `error`.
    public var errorMode: String = ""
    /// Interface to bind; "" means all interfaces, as in Centrifugo.
    public var address: String = ""
    public var port: Int = 10000
    /// Callers send `authorization: apikey <key>` metadata. Empty: no check, which the start-up rule for secrets
    /// accepts on loopback only.
    public var key: String = ""
    public var tls = TLSServerConfig()
    /// Bytes; 0 keeps gRPC's default of 4 MiB.
    public var maxReceiveMessageSize: Int = 0
    /// Serves gRPC server reflection (v1 and v1alpha) for grpcurl and Postman.
    public var reflection = false
    public init() {}
}

extension BrokerConfig {
    /// Where the gRPC server API listens; nil when it is off.
    public var grpcAPIListener: ListenAddress? {
        guard grpcAPI.enabled else { return nil }
        return ListenAddress(host: grpcAPI.address.isEmpty ? "0.0.0.0" : grpcAPI.address, port: grpcAPI.port)
    }
}
