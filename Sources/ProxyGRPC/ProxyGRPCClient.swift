// A typed client for one gRPC proxy backend (Centrifugo's `CentrifugoProxy` service behind a
// `grpc://host:port` endpoint), on grpc-swift-2 with the NIO Posix HTTP/2 transport.
//
// One client holds one HTTP/2 channel to the backend. grpc-swift-2 keeps that channel alive in
// `GRPCClient.runConnections()`, which this type runs in a task of its own between `start()`
// (implicit on the first call) and `shutdown()`. While the backend is down the channel keeps
// reconnecting with backoff; a call that finds it failing fails at once with `.unavailable`, a
// call that finds it connecting waits for the outcome, never past its timeout.

import GRPCCore
import GRPCNIOTransportHTTP2Posix
import GRPCProtobuf
import NIOCore
import Synchronization

/// TLS to a proxy backend (Centrifugo's `grpc_tls` settings). PEM strings, not file paths.
public struct ProxyGRPCTLS: Sendable, Equatable {
    /// Trusted roots for the backend's certificate; nil trusts the system's roots.
    public var caPEM: String?
    /// Client certificate chain and its private key, for mutual TLS. Both or neither.
    public var certificatePEM: String?
    public var privateKeyPEM: String?
    /// The name the backend's certificate is checked against and sent as SNI and
    /// `:authority`, in place of the endpoint's host.
    public var serverName: String?
    /// Accept any certificate the backend presents. For tests only.
    public var insecureSkipVerify: Bool

    public init(
        caPEM: String? = nil,
        certificatePEM: String? = nil,
        privateKeyPEM: String? = nil,
        serverName: String? = nil,
        insecureSkipVerify: Bool = false
    ) {
        self.caPEM = caPEM
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
        self.serverName = serverName
        self.insecureSkipVerify = insecureSkipVerify
    }
}

/// Why a proxy call failed, in words for an operator's log.
public enum ProxyGRPCError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No answer within the call's timeout (this includes time spent waiting for a connection).
    case timeout(method: String, target: String, after: Duration)
    /// The backend could not be reached or dropped the connection: connection refused, name not
    /// resolved, TLS handshake failed, or the backend itself answered UNAVAILABLE.
    case unavailable(method: String, target: String, reason: String)
    /// The backend answered with another non-OK gRPC status.
    case status(method: String, target: String, code: Int, codeName: String, message: String)
    /// The calling task was cancelled.
    case cancelled(method: String, target: String)
    /// The client was shut down.
    case shutDown(target: String)
    /// The endpoint or TLS settings can't be used (bad PEM, bad port, ...).
    case invalidConfiguration(target: String, reason: String)
    /// Anything else grpc-swift reported.
    case failed(method: String, target: String, reason: String)

    public var description: String {
        switch self {
        case .timeout(let method, let target, let after):
            return "gRPC proxy \(method) to \(target) timed out after \(Self.format(after))"
        case .unavailable(let method, let target, let reason):
            return "gRPC proxy \(method) to \(target): backend unavailable: \(reason)"
        case .status(let method, let target, let code, let codeName, let message):
            let detail = message.isEmpty ? "" : ": \(message)"
            return "gRPC proxy \(method) to \(target) failed with status \(codeName) (\(code))\(detail)"
        case .cancelled(let method, let target):
            return "gRPC proxy \(method) to \(target) was cancelled"
        case .shutDown(let target):
            return "gRPC proxy client for \(target) is shut down"
        case .invalidConfiguration(let target, let reason):
            return "gRPC proxy endpoint \(target): invalid configuration: \(reason)"
        case .failed(let method, let target, let reason):
            return "gRPC proxy \(method) to \(target) failed: \(reason)"
        }
    }

    private static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let ms = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return ms % 1000 == 0 ? "\(ms / 1000)s" : "\(ms)ms"
    }
}

/// A client for one proxy backend. Create one per endpoint and share it; it is safe to call from
/// any task. Call `shutdown()` when the endpoint is no longer used.
public final class ProxyGRPCClient: Sendable {
    public typealias Service = Centrifugal_Centrifugo_Proxy_CentrifugoProxy
    typealias Transport = HTTP2ClientTransport.Posix

    /// The endpoint as given (`host:port`), for messages.
    public let target: String
    /// Whether request messages are gzip-compressed.
    public let compression: Bool

    private let grpc: GRPCClient<Transport>
    let stub: Service.Client<Transport>
    private let lifecycle = Mutex<Lifecycle>(.idle)

    private enum Lifecycle {
        case idle
        case running(Task<Void, Never>)
        case stopped
    }

    /// - Parameters:
    ///   - target: `host:port` from a `grpc://host:port` endpoint. The host may be an IPv4 or
    ///     IPv6 address (bracketed, `[::1]:port`) or a name resolved through DNS. Without a port,
    ///     443 (as Go's gRPC).
    ///   - tls: nil for plaintext (h2c).
    ///   - compression: gzip request messages (the backend must accept gzip, as Go's gRPC does
    ///     once its gzip codec is imported). Compressed responses are accepted either way.
    ///   - reconnectBackoff: first and longest wait between connection attempts while the backend
    ///     is down.
    ///   - eventLoopGroup: where the connection's I/O runs.
    public init(
        target: String,
        tls: ProxyGRPCTLS? = nil,
        compression: Bool = false,
        reconnectBackoff: (initial: Duration, max: Duration) = (.milliseconds(200), .seconds(5)),
        eventLoopGroup: any EventLoopGroup
    ) throws(ProxyGRPCError) {
        self.target = target
        self.compression = compression

        let resolvable: any ResolvableTarget
        do {
            resolvable = try Self.resolvableTarget(target)
        } catch {
            throw .invalidConfiguration(target: target, reason: error.reason)
        }

        let config = Transport.Config.defaults { config in
            config.compression = .init(
                algorithm: compression ? .gzip : .none,
                enabledAlgorithms: [.gzip, .deflate]
            )
            config.backoff = .init(
                initial: reconnectBackoff.initial,
                max: max(reconnectBackoff.max, reconnectBackoff.initial),
                multiplier: 1.6,
                jitter: 0.2
            )
            if let serverName = tls?.serverName, !serverName.isEmpty {
                config.http2.authority = serverName
            }
        }

        let security: Transport.TransportSecurity
        if let tls {
            security = .tls(Self.tlsConfig(tls))
        } else {
            security = .plaintext
        }

        let transport: Transport
        do {
            transport = try Transport(
                target: resolvable,
                transportSecurity: security,
                config: config,
                eventLoopGroup: eventLoopGroup
            )
        } catch {
            throw .invalidConfiguration(target: target, reason: Self.reason(of: error))
        }
        self.grpc = GRPCClient(transport: transport)
        self.stub = Service.Client(wrapping: self.grpc)
    }

    deinit {
        // A client dropped without shutdown(): stop its connection task rather than leak it.
        if case .running(let task) = self.lifecycle.withLock({ $0 }) {
            task.cancel()
        }
    }

    /// Starts keeping the connection to the backend (the first call does this by itself).
    /// Idempotent; does nothing after `shutdown()`.
    public func start() {
        self.lifecycle.withLock { state in
            guard case .idle = state else { return }
            let grpc = self.grpc
            state = .running(Task {
                // Returns after beginGracefulShutdown() once in-flight calls finished, or throws
                // if the transport failed for good; calls made after that fail with .shutDown.
                try? await grpc.runConnections()
            })
        }
    }

    /// Stops accepting calls, lets calls in flight finish (each within its own timeout) and
    /// closes the connection. Idempotent.
    public func shutdown() async {
        let task: Task<Void, Never>? = self.lifecycle.withLock { state in
            defer { state = .stopped }
            if case .running(let task) = state { return task }
            return nil
        }
        self.grpc.beginGracefulShutdown()
        await task?.value
    }

    // MARK: - Unary calls

    public func connect(
        _ request: Centrifugal_Centrifugo_Proxy_ConnectRequest,
        metadata: [(String, String)] = [],
        timeout: Duration
    ) async throws(ProxyGRPCError) -> Centrifugal_Centrifugo_Proxy_ConnectResponse {
        try await self.call("Connect", metadata, timeout) { stub, md, options in
            try await stub.connect(request, metadata: md, options: options)
        }
    }

    public func refresh(
        _ request: Centrifugal_Centrifugo_Proxy_RefreshRequest,
        metadata: [(String, String)] = [],
        timeout: Duration
    ) async throws(ProxyGRPCError) -> Centrifugal_Centrifugo_Proxy_RefreshResponse {
        try await self.call("Refresh", metadata, timeout) { stub, md, options in
            try await stub.refresh(request, metadata: md, options: options)
        }
    }

    public func subscribe(
        _ request: Centrifugal_Centrifugo_Proxy_SubscribeRequest,
        metadata: [(String, String)] = [],
        timeout: Duration
    ) async throws(ProxyGRPCError) -> Centrifugal_Centrifugo_Proxy_SubscribeResponse {
        try await self.call("Subscribe", metadata, timeout) { stub, md, options in
            try await stub.subscribe(request, metadata: md, options: options)
        }
    }

    public func publish(
        _ request: Centrifugal_Centrifugo_Proxy_PublishRequest,
        metadata: [(String, String)] = [],
        timeout: Duration
    ) async throws(ProxyGRPCError) -> Centrifugal_Centrifugo_Proxy_PublishResponse {
        try await self.call("Publish", metadata, timeout) { stub, md, options in
            try await stub.publish(request, metadata: md, options: options)
        }
    }

    public func rpc(
        _ request: Centrifugal_Centrifugo_Proxy_RPCRequest,
        metadata: [(String, String)] = [],
        timeout: Duration
    ) async throws(ProxyGRPCError) -> Centrifugal_Centrifugo_Proxy_RPCResponse {
        try await self.call("RPC", metadata, timeout) { stub, md, options in
            try await stub.rpc(request, metadata: md, options: options)
        }
    }

    public func subRefresh(
        _ request: Centrifugal_Centrifugo_Proxy_SubRefreshRequest,
        metadata: [(String, String)] = [],
        timeout: Duration
    ) async throws(ProxyGRPCError) -> Centrifugal_Centrifugo_Proxy_SubRefreshResponse {
        try await self.call("SubRefresh", metadata, timeout) { stub, md, options in
            try await stub.subRefresh(request, metadata: md, options: options)
        }
    }

    // MARK: - Internals

    private func call<Response: Sendable>(
        _ method: String,
        _ metadata: [(String, String)],
        _ timeout: Duration,
        _ body: (Service.Client<Transport>, Metadata, CallOptions) async throws -> Response
    ) async throws(ProxyGRPCError) -> Response {
        self.start()
        var md = Metadata()
        for (key, value) in metadata {
            md.addString(value, forKey: key.lowercased())
        }
        var options = CallOptions.defaults
        options.timeout = timeout
        options.waitForReady = false  // fail at once while the backend is known to be down
        options.compression = self.compression ? .gzip : CompressionAlgorithm.none
        do {
            return try await body(self.stub, md, options)
        } catch {
            throw self.mapError(error, method: method, timeout: timeout)
        }
    }

    func mapError(_ error: any Error, method: String, timeout: Duration) -> ProxyGRPCError {
        if let rpc = error as? RPCError {
            switch rpc.code {
            case .deadlineExceeded:
                return .timeout(method: method, target: self.target, after: timeout)
            case .unavailable:
                return .unavailable(method: method, target: self.target, reason: Self.reason(of: rpc))
            case .cancelled where Task.isCancelled:
                return .cancelled(method: method, target: self.target)
            default:
                return .status(
                    method: method,
                    target: self.target,
                    code: rpc.code.rawValue,
                    codeName: Self.codeName(rpc.code),
                    message: rpc.message
                )
            }
        }
        if let runtime = error as? RuntimeError, runtime.code == .clientIsStopped {
            return .shutDown(target: self.target)
        }
        if error is CancellationError {
            return .cancelled(method: method, target: self.target)
        }
        return .failed(method: method, target: self.target, reason: Self.reason(of: error))
    }

    /// The most specific words in an error's cause chain: grpc-swift wraps the socket error
    /// ("Connection refused") in one or two generic RPCErrors.
    static func reason(of error: any Error) -> String {
        var messages: [String] = []
        var next: (any Error)? = error
        var depth = 0
        while let current = next, depth < 8 {
            depth += 1
            switch current {
            case let rpc as RPCError:
                messages.append(rpc.message)
                next = rpc.cause
            case let runtime as RuntimeError:
                messages.append(runtime.message)
                next = runtime.cause
            default:
                messages.append(String(describing: current))
                next = nil
            }
        }
        // The innermost cause names the real problem; keep one wrapper for context.
        let useful = messages.map { $0.hasSuffix(".") ? String($0.dropLast()) : $0 }.filter { !$0.isEmpty }
        guard let last = useful.last else { return "unknown error" }
        if useful.count >= 2 {
            return "\(useful[useful.count - 2]): \(last)"
        }
        return last
    }

    /// The canonical name (as Go's gRPC prints it) of a status code.
    static func codeName(_ code: RPCError.Code) -> String {
        switch code {
        case .cancelled: return "CANCELLED"
        case .unknown: return "UNKNOWN"
        case .invalidArgument: return "INVALID_ARGUMENT"
        case .deadlineExceeded: return "DEADLINE_EXCEEDED"
        case .notFound: return "NOT_FOUND"
        case .alreadyExists: return "ALREADY_EXISTS"
        case .permissionDenied: return "PERMISSION_DENIED"
        case .resourceExhausted: return "RESOURCE_EXHAUSTED"
        case .failedPrecondition: return "FAILED_PRECONDITION"
        case .aborted: return "ABORTED"
        case .outOfRange: return "OUT_OF_RANGE"
        case .unimplemented: return "UNIMPLEMENTED"
        case .internalError: return "INTERNAL"
        case .unavailable: return "UNAVAILABLE"
        case .dataLoss: return "DATA_LOSS"
        case .unauthenticated: return "UNAUTHENTICATED"
        default: return "CODE_\(code.rawValue)"
        }
    }

    struct TargetError: Error {
        var reason: String
    }

    /// `host:port` → an IPv4, IPv6 or DNS target. Brackets are required around an IPv6 host
    /// with a port.
    static func resolvableTarget(_ target: String) throws(TargetError) -> any ResolvableTarget {
        var host = Substring(target)
        var port = 443
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else {
                throw TargetError(reason: "unbalanced '[' in \"\(target)\"")
            }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let p = Int(rest.dropFirst()) else {
                    throw TargetError(reason: "expected [host]:port, got \"\(target)\"")
                }
                port = p
            }
        } else if let colon = host.lastIndex(of: ":") {
            if host[..<colon].contains(":") {
                // A bare IPv6 address without a port.
            } else {
                guard let p = Int(host[host.index(after: colon)...]) else {
                    throw TargetError(reason: "port of \"\(target)\" is not a number")
                }
                port = p
                host = host[..<colon]
            }
        }
        guard !host.isEmpty else {
            throw TargetError(reason: "no host in \"\(target)\"")
        }
        guard (1...65535).contains(port) else {
            throw TargetError(reason: "port \(port) out of range")
        }
        let hostString = String(host)
        if let address = try? NIOCore.SocketAddress(ipAddress: hostString, port: port) {
            switch address {
            case .v6:
                return .ipv6(address: hostString, port: port)
            default:
                return .ipv4(address: hostString, port: port)
            }
        }
        if hostString.contains(":") {
            throw TargetError(reason: "\"\(hostString)\" is not a valid IPv6 address")
        }
        return .dns(host: hostString, port: port)
    }

    static func tlsConfig(_ tls: ProxyGRPCTLS) -> Transport.TransportSecurity.TLS {
        .defaults { config in
            if let ca = tls.caPEM, !ca.isEmpty {
                config.trustRoots = .certificates([.bytes(Array(ca.utf8), format: .pem)])
            }
            if let cert = tls.certificatePEM, !cert.isEmpty {
                config.certificateChain = [.bytes(Array(cert.utf8), format: .pem)]
            }
            if let key = tls.privateKeyPEM, !key.isEmpty {
                config.privateKey = .bytes(Array(key.utf8), format: .pem)
            }
            if tls.insecureSkipVerify {
                config.serverCertificateVerification = .noVerification
            }
        }
    }
}
