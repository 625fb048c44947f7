import BrokerAPIGRPC
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// The gRPC server API's port (`grpc_api`): grpc-swift's HTTP/2 server on the broker's event loops, serving
/// ``GRPCAPIService`` (and ``GRPCReflectionService`` with `grpc_api.reflection`), with TLS from `grpc_api.tls` (re-read on SIGHUP like the HTTP listeners').
final class GRPCAPIListener: Sendable {
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let serving: Task<Void, Never>
    /// Where it listens (the configured port, or the one the system chose for port 0 in tests).
    let address: NIOCore.SocketAddress?

    private init(server: GRPCServer<HTTP2ServerTransport.Posix>, serving: Task<Void, Never>, address: NIOCore.SocketAddress?) {
        self.server = server
        self.serving = serving
        self.address = address
    }

    /// Binds `config.grpcAPIListener` and starts serving; a port that cannot be bound fails with `grpc_api.port` named.
    static func start(
        config: BrokerConfig, api: ServerAPI, tls: ServerTLS?, group: MultiThreadedEventLoopGroup, logger: Logger
    ) async throws -> GRPCAPIListener? {
        guard let listener = config.grpcAPIListener else { return nil }
        let grpc = config.grpcAPI
        let transportConfig = HTTP2ServerTransport.Posix.Config.defaults { c in
            if grpc.maxReceiveMessageSize > 0 { c.rpc.maxRequestPayloadSize = grpc.maxReceiveMessageSize }
        }
        // grpc-swift binds IP literals only: `localhost` (Centrifugo's configs use it) is 127.0.0.1.
        let host = listener.host == "localhost" ? "127.0.0.1" : listener.host
        let address: GRPCNIOTransportCore.SocketAddress =
            host.contains(":") ? .ipv6(host: host, port: listener.port) : .ipv4(host: host, port: listener.port)
        let transport = HTTP2ServerTransport.Posix(
            address: address, transportSecurity: try security(tls),
            config: transportConfig, eventLoopGroup: group)
        var services: [any RegistrableRPCService] = [GRPCAPIService(api: api, config: grpc)]
        if grpc.reflection { services.append(GRPCReflectionService()) }
        let server = GRPCServer(transport: transport, services: services)
        // grpc-swift runs each connection and call in child tasks of `serve()`. Preferring an event loop's executor
        // keeps them off Swift's global pool: a call no longer hops between the pool's threads and the loops
        // (measured with scripts/grpc_api_bench.py: broker CPU per publish 513–611 µs → 335–353 µs). The calls'
        // own work is small; the HTTP/2 framing stays on each connection's loop.
        let serving = Task(executorPreference: api.node.hub.loops[0].taskExecutor) {
            do {
                try await server.serve()
            } catch {
                logger.error("gRPC server API stopped", metadata: ["error": "\(error)"])
            }
        }
        do {
            let bound = try await transport.listeningAddress
            logger.info("serving the gRPC server API", metadata: ["address": "\(bound)", "tls": "\(tls != nil)"])
            let address = bound.ipv4.flatMap { try? NIOCore.SocketAddress(ipAddress: $0.host, port: $0.port) }
            return GRPCAPIListener(server: server, serving: serving, address: address)
        } catch {
            server.beginGracefulShutdown()
            await serving.value
            throw ConfigError(key: "grpc_api.port", message: "cannot listen on \(listener): \(error)")
        }
    }

    /// Plaintext, or TLS whose certificate and key come from `tls` at each handshake.
    private static func security(_ tls: ServerTLS?) throws -> HTTP2ServerTransport.Posix.TransportSecurity {
        guard let tls else { return .plaintext }
        let config = tls.config
        let clientCA = config.clientCAPEM.isEmpty ? nil : try PEMSource.bytes(config.clientCAPEM, key: tls.section + ".client_ca_pem")
        return try .tls(certificateReloader: tls) { c in
            if let clientCA {
                c.clientCertificateVerification = .noHostnameVerification
                c.trustRoots = .certificates([.bytes(clientCA, format: .pem)])
            }
        }
    }

    /// Stops accepting calls, lets the running ones finish, and waits for the server to stop.
    func shutdown() async {
        server.beginGracefulShutdown()
        await serving.value
    }
}
