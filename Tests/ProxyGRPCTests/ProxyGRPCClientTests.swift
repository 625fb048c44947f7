import BrokerProxyGRPC
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import NIOCore
import NIOPosix
import Synchronization
import Testing

typealias Proxy = Centrifugal_Centrifugo_Proxy_CentrifugoProxy
typealias ServerTransport = HTTP2ServerTransport.Posix

// MARK: - An in-process backend

/// The proxy service with a handler per unary method the tests use; the others answer
/// UNIMPLEMENTED. Each request (message and metadata) is recorded before its handler runs.
struct FakeBackend: Proxy.ServiceProtocol {
    typealias Handler<Request, Response> = @Sendable (ServerRequest<Request>) async throws -> Response

    var onConnect: Handler<Centrifugal_Centrifugo_Proxy_ConnectRequest, Centrifugal_Centrifugo_Proxy_ConnectResponse>?
    var onRPC: Handler<Centrifugal_Centrifugo_Proxy_RPCRequest, Centrifugal_Centrifugo_Proxy_RPCResponse>?
    let seen = Recorder()

    final class Recorder: Sendable {
        struct Call: Sendable {
            var method: String
            var metadata: Metadata
            var message: any Sendable
        }

        private let calls = Mutex<[Call]>([])

        func add(_ method: String, _ metadata: Metadata, _ message: any Sendable) {
            self.calls.withLock { $0.append(Call(method: method, metadata: metadata, message: message)) }
        }

        var all: [Call] { self.calls.withLock { $0 } }
    }

    private func handle<Request: Sendable, Response>(
        _ method: String,
        _ request: ServerRequest<Request>,
        _ handler: Handler<Request, Response>?
    ) async throws -> ServerResponse<Response> {
        self.seen.add(method, request.metadata, request.message)
        guard let handler else {
            throw RPCError(code: .unimplemented, message: "\(method) is not served by this test")
        }
        return ServerResponse(message: try await handler(request))
    }

    func connect(
        request: ServerRequest<Centrifugal_Centrifugo_Proxy_ConnectRequest>,
        context: ServerContext
    ) async throws -> ServerResponse<Centrifugal_Centrifugo_Proxy_ConnectResponse> {
        try await self.handle("Connect", request, self.onConnect)
    }

    func rpc(
        request: ServerRequest<Centrifugal_Centrifugo_Proxy_RPCRequest>,
        context: ServerContext
    ) async throws -> ServerResponse<Centrifugal_Centrifugo_Proxy_RPCResponse> {
        try await self.handle("RPC", request, self.onRPC)
    }

    func refresh(
        request: ServerRequest<Centrifugal_Centrifugo_Proxy_RefreshRequest>,
        context: ServerContext
    ) async throws -> ServerResponse<Centrifugal_Centrifugo_Proxy_RefreshResponse> {
        try await self.handle("Refresh", request, nil)
    }

    func subscribe(
        request: ServerRequest<Centrifugal_Centrifugo_Proxy_SubscribeRequest>,
        context: ServerContext
    ) async throws -> ServerResponse<Centrifugal_Centrifugo_Proxy_SubscribeResponse> {
        try await self.handle("Subscribe", request, nil)
    }

    func publish(
        request: ServerRequest<Centrifugal_Centrifugo_Proxy_PublishRequest>,
        context: ServerContext
    ) async throws -> ServerResponse<Centrifugal_Centrifugo_Proxy_PublishResponse> {
        try await self.handle("Publish", request, nil)
    }

    func subRefresh(
        request: ServerRequest<Centrifugal_Centrifugo_Proxy_SubRefreshRequest>,
        context: ServerContext
    ) async throws -> ServerResponse<Centrifugal_Centrifugo_Proxy_SubRefreshResponse> {
        try await self.handle("SubRefresh", request, nil)
    }

    func subscribeUnidirectional(
        request: ServerRequest<Centrifugal_Centrifugo_Proxy_SubscribeRequest>,
        context: ServerContext
    ) async throws -> StreamingServerResponse<Centrifugal_Centrifugo_Proxy_StreamSubscribeResponse> {
        throw RPCError(code: .unimplemented, message: "not served by this test")
    }

    func subscribeBidirectional(
        request: StreamingServerRequest<Centrifugal_Centrifugo_Proxy_StreamSubscribeRequest>,
        context: ServerContext
    ) async throws -> StreamingServerResponse<Centrifugal_Centrifugo_Proxy_StreamSubscribeResponse> {
        throw RPCError(code: .unimplemented, message: "not served by this test")
    }
}

/// Serves `backend` on 127.0.0.1 (`port` 0: any free port) for the duration of `body`, which
/// gets the bound port; then shuts the server down and waits for it.
func withBackend<T: Sendable>(
    _ backend: FakeBackend,
    port: Int = 0,
    security: ServerTransport.TransportSecurity = .plaintext,
    acceptGzip: Bool = true,
    _ body: (Int) async throws -> T
) async throws -> T {
    let config = ServerTransport.Config.defaults { config in
        config.compression = .init(enabledAlgorithms: acceptGzip ? [.gzip, .deflate] : .none)
    }
    let server = GRPCServer(
        transport: .http2NIOPosix(
            address: .ipv4(host: "127.0.0.1", port: port),
            transportSecurity: security,
            config: config
        ),
        services: [backend]
    )
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.serve() }
        let result: Result<T, any Error>
        do {
            guard let address = try await server.listeningAddress?.ipv4 else {
                throw RPCError(code: .internalError, message: "server is not listening on IPv4")
            }
            result = .success(try await body(address.port))
        } catch {
            result = .failure(error)
        }
        server.beginGracefulShutdown()
        try await group.waitForAll()
        return try result.get()
    }
}

/// A client for `port` on 127.0.0.1, shut down after `body`.
func withClient<T: Sendable>(
    port: Int,
    tls: ProxyGRPCTLS? = nil,
    compression: Bool = false,
    host: String = "127.0.0.1",
    _ body: (ProxyGRPCClient) async throws -> T
) async throws -> T {
    let client = try ProxyGRPCClient(
        target: "\(host):\(port)",
        tls: tls,
        compression: compression,
        reconnectBackoff: (.milliseconds(20), .milliseconds(200)),
        eventLoopGroup: MultiThreadedEventLoopGroup.singleton
    )
    client.start()
    do {
        let result = try await body(client)
        await client.shutdown()
        return result
    } catch {
        await client.shutdown()
        throw error
    }
}

/// A TCP port on 127.0.0.1 with nothing listening on it (bound once by a server, then closed).
func closedPort() async throws -> Int {
    try await withBackend(FakeBackend()) { port in port }
}

/// The error a call failed with, nil if it succeeded.
func failure<T>(_ call: () async throws -> T) async -> ProxyGRPCError? {
    do {
        _ = try await call()
        return nil
    } catch let error as ProxyGRPCError {
        return error
    } catch {
        Issue.record("not a ProxyGRPCError: \(error)")
        return nil
    }
}

extension Duration {
    var ms: Int64 {
        let (s, atto) = self.components
        return s * 1000 + atto / 1_000_000_000_000_000
    }
}

// MARK: - Tests

@Suite("gRPC proxy client")
struct ProxyGRPCClientTests {
    @Test func connectRoundTripsEveryFieldAndTheMetadata() async throws {
        let request = Centrifugal_Centrifugo_Proxy_ConnectRequest.with {
            $0.client = "9f1c0c8e-client"
            $0.transport = "websocket"
            $0.protocol = "json"
            $0.encoding = "json"
            $0.data = Data(#"{"hello":"world"}"#.utf8)
            $0.b64Data = "aGVsbG8="
            $0.name = "js"
            $0.version = "5.0.0"
            $0.channels = ["news", "chat:index"]
        }
        let result = Centrifugal_Centrifugo_Proxy_ConnectResult.with {
            $0.user = "user-42"
            $0.expireAt = 1_900_000_000
            $0.info = Data(#"{"name":"Ann"}"#.utf8)
            $0.b64Info = "aW5mbw=="
            $0.data = Data(#"{"welcome":true}"#.utf8)
            $0.b64Data = "ZGF0YQ=="
            $0.channels = ["personal:42"]
            $0.subs = [
                "notifications:42": .with {
                    $0.expireAt = 1_900_000_100
                    $0.info = Data([1, 2, 3])
                    $0.b64Info = "AQID"
                    $0.data = Data([4, 5])
                    $0.b64Data = "BAU="
                    $0.override = .with {
                        $0.presence = .with { $0.value = true }
                        $0.joinLeave = .with { $0.value = false }
                        $0.forceRecovery = .with { $0.value = true }
                        $0.forcePositioning = .with { $0.value = false }
                        $0.forcePushJoinLeave = .with { $0.value = true }
                    }
                    $0.serverTagsFilter = .with {
                        $0.op = "and"
                        $0.nodes = [
                            .with { $0.key = "kind"; $0.cmp = "eq"; $0.val = "alert" },
                            .with { $0.key = "level"; $0.cmp = "in"; $0.vals = ["1", "2"] },
                        ]
                    }
                    $0.cacheRecover = true
                }
            ]
            $0.meta = Data(#"{"tenant":"t1"}"#.utf8)
            $0.caps = [.with { $0.channels = ["news"]; $0.allow = ["sub", "hst"]; $0.match = "wildcard" }]
            $0.labels = ["region": "eu"]
        }
        let backend = FakeBackend(onConnect: { _ in .with { $0.result = result } })

        let response = try await withBackend(backend) { port in
            try await withClient(port: port) { client in
                try await client.connect(
                    request,
                    metadata: [("authorization", "Bearer abc"), ("X-Real-IP", "10.0.0.7")],
                    timeout: .seconds(5)
                )
            }
        }

        #expect(response.result == result)
        #expect(!response.hasError && !response.hasDisconnect)
        let calls = backend.seen.all
        try #require(calls.count == 1)
        #expect(calls[0].method == "Connect")
        #expect(calls[0].message as? Centrifugal_Centrifugo_Proxy_ConnectRequest == request)
        #expect(Array(calls[0].metadata[stringValues: "authorization"]) == ["Bearer abc"])
        #expect(Array(calls[0].metadata[stringValues: "x-real-ip"]) == ["10.0.0.7"])
    }

    @Test func errorAndDisconnectAnswersComeBackAsSuch() async throws {
        let backend = FakeBackend(onConnect: { request in
            if request.message.client == "refuse" {
                return .with { $0.error = .with { $0.code = 1000; $0.message = "custom"; $0.temporary = true } }
            }
            return .with { $0.disconnect = .with { $0.code = 4500; $0.reason = "go away" } }
        })
        let (refused, disconnected) = try await withBackend(backend) { port in
            try await withClient(port: port) { client in
                let refused = try await client.connect(.with { $0.client = "refuse" }, timeout: .seconds(5))
                let disconnected = try await client.connect(.with { $0.client = "drop" }, timeout: .seconds(5))
                return (refused, disconnected)
            }
        }
        #expect(refused.error == .with { $0.code = 1000; $0.message = "custom"; $0.temporary = true })
        #expect(!refused.hasResult && !refused.hasDisconnect)
        #expect(disconnected.disconnect == .with { $0.code = 4500; $0.reason = "go away" })
        #expect(!disconnected.hasResult && !disconnected.hasError)
    }

    @Test func aGRPCStatusFromTheBackendIsReportedWithItsCode() async throws {
        let backend = FakeBackend(onRPC: { _ in
            throw RPCError(code: .permissionDenied, message: "not for you")
        })
        let (port, error) = try await withBackend(backend) { port in
            try await withClient(port: port) { client in
                (port, await failure { try await client.rpc(.with { $0.method = "m" }, timeout: .seconds(5)) })
            }
        }
        let expected = ProxyGRPCError.status(
            method: "RPC",
            target: "127.0.0.1:\(port)",
            code: 7,
            codeName: "PERMISSION_DENIED",
            message: "not for you"
        )
        #expect(error == expected)
        #expect(error?.description.contains("PERMISSION_DENIED (7): not for you") == true)
        // A method the backend doesn't serve is a status too, not an outage.
        let unserved = try await withBackend(FakeBackend()) { port in
            try await withClient(port: port) { client in
                return await failure { try await client.subRefresh(.init(), timeout: .seconds(5)) }
            }
        }
        guard case .status(_, _, 12, "UNIMPLEMENTED", _)? = unserved else {
            Issue.record("expected UNIMPLEMENTED, got \(String(describing: unserved))")
            return
        }
    }

    @Test func aSlowBackendGivesTheTimeoutError() async throws {
        let (gate, open) = AsyncStream<Void>.makeStream()
        let backend = FakeBackend(onRPC: { _ in
            for await _ in gate {}  // until the test opens the gate
            return .init()
        })
        let (error, elapsed) = try await withBackend(backend) { port in
            try await withClient(port: port) { client in
                let clock = ContinuousClock()
                let start = clock.now
                let caught = await failure {
                    try await client.rpc(.with { $0.method = "slow" }, timeout: .milliseconds(300))
                }
                let elapsed = clock.now - start
                open.finish()
                return (caught, elapsed)
            }
        }
        guard case .timeout(let method, _, let after)? = error else {
            Issue.record("expected a timeout, got \(String(describing: error))")
            return
        }
        #expect(method == "RPC")
        #expect(after == .milliseconds(300))
        #expect(elapsed >= .milliseconds(300))
        #expect(elapsed < .seconds(3), "took \(elapsed.ms) ms")
        #expect(error?.description.hasSuffix("timed out after 300ms") == true)
    }

    @Test func aClosedPortIsUnavailableAtOnceAndTheClientRecoversWhenTheBackendComesUp() async throws {
        let port = try await closedPort()
        let backend = FakeBackend(onConnect: { request in .with { $0.result.user = request.message.client } })
        try await withClient(port: port) { client in
            let clock = ContinuousClock()
            let start = clock.now
            let caught = await failure {
                try await client.connect(.with { $0.client = "early" }, timeout: .seconds(10))
            }
            let elapsed = clock.now - start
            guard case .unavailable(let method, let target, let reason)? = caught else {
                Issue.record("expected unavailable, got \(String(describing: caught))")
                return
            }
            #expect(method == "Connect")
            #expect(target == "127.0.0.1:\(port)")
            #expect(reason.lowercased().contains("refused"), "reason: \(reason)")
            #expect(elapsed < .seconds(2), "took \(elapsed.ms) ms")

            // Up on the same port: the client reconnects by itself (backoff ≤ 200 ms here).
            // Calls made while it is still backing off fail fast, so retry until one gets through.
            try await withBackend(backend, port: port) { _ in
                let deadline = clock.now + .seconds(10)
                var attempts = 0
                while true {
                    attempts += 1
                    do {
                        let response = try await client.connect(.with { $0.client = "late" }, timeout: .seconds(2))
                        #expect(response.result.user == "late")
                        break
                    } catch ProxyGRPCError.unavailable {
                        try #require(clock.now < deadline, "no recovery after \(attempts) attempts")
                        try await Task.sleep(for: .milliseconds(20))
                    }
                }
            }
        }
    }

    @Test func gzipIsSentWhenEnabled() async throws {
        let backend = FakeBackend(onRPC: { request in .with { $0.result.data = request.message.data } })
        let payload = Data(String(repeating: "compress me ", count: 200).utf8)
        // A backend that accepts gzip answers a compressed request...
        let echoed = try await withBackend(backend, acceptGzip: true) { port in
            try await withClient(port: port, compression: true) { client in
                try await client.rpc(.with { $0.data = payload }, timeout: .seconds(5))
            }
        }
        #expect(echoed.result.data == payload)
        // ...and one that doesn't rejects it: proof that the request was compressed.
        let rejected = try await withBackend(backend, acceptGzip: false) { port in
            try await withClient(port: port, compression: true) { client in
                return await failure { try await client.rpc(.with { $0.data = payload }, timeout: .seconds(5)) }
            }
        }
        guard case .status(_, _, _, "UNIMPLEMENTED", let message)? = rejected else {
            Issue.record("expected UNIMPLEMENTED, got \(String(describing: rejected))")
            return
        }
        #expect(message.contains("gzip"))
        // Without compression the same backend is fine.
        let plain = try await withBackend(backend, acceptGzip: false) { port in
            try await withClient(port: port, compression: false) { client in
                try await client.rpc(.with { $0.data = payload }, timeout: .seconds(5))
            }
        }
        #expect(plain.result.data == payload)
    }

    @Test func tlsWithTheBackendsCAAndServerName() async throws {
        let security = ServerTransport.TransportSecurity.tls(
            certificateChain: [.bytes(Array(TestPKI.serverCertificate.utf8), format: .pem)],
            privateKey: .bytes(Array(TestPKI.serverKey.utf8), format: .pem)
        )
        let backend = FakeBackend(onConnect: { _ in .with { $0.result.user = "tls" } })
        try await withBackend(backend, security: security) { port in
            // The certificate names localhost and proxy.test; the client connects to 127.0.0.1.
            let byName = try await withClient(
                port: port,
                tls: ProxyGRPCTLS(caPEM: TestPKI.ca, serverName: "proxy.test")
            ) { client in
                try await client.connect(.init(), timeout: .seconds(5))
            }
            #expect(byName.result.user == "tls")
            let skipping = try await withClient(port: port, tls: ProxyGRPCTLS(insecureSkipVerify: true)) { client in
                try await client.connect(.init(), timeout: .seconds(5))
            }
            #expect(skipping.result.user == "tls")

            // No name the certificate carries, a wrong one, or roots without its CA: unavailable.
            for tls in [
                ProxyGRPCTLS(caPEM: TestPKI.ca),
                ProxyGRPCTLS(caPEM: TestPKI.ca, serverName: "other.test"),
                ProxyGRPCTLS(serverName: "proxy.test"),
            ] {
                let refused = try await withClient(port: port, tls: tls) { client in
                    await failure { try await client.connect(.init(), timeout: .seconds(5)) }
                }
                guard case .unavailable(_, _, let reason)? = refused else {
                    Issue.record("expected unavailable for \(tls.serverName ?? "no name"), got \(String(describing: refused))")
                    continue
                }
                #expect(!reason.isEmpty)
            }
        }
    }

    @Test func mutualTLS() async throws {
        let security = ServerTransport.TransportSecurity.mTLS(
            certificateChain: [.bytes(Array(TestPKI.serverCertificate.utf8), format: .pem)],
            privateKey: .bytes(Array(TestPKI.serverKey.utf8), format: .pem)
        ) { config in
            config.trustRoots = .certificates([.bytes(Array(TestPKI.ca.utf8), format: .pem)])
        }
        let backend = FakeBackend(onConnect: { _ in .with { $0.result.user = "mtls" } })
        try await withBackend(backend, security: security) { port in
            let withCert = ProxyGRPCTLS(
                caPEM: TestPKI.ca,
                certificatePEM: TestPKI.clientCertificate,
                privateKeyPEM: TestPKI.clientKey,
                serverName: "proxy.test"
            )
            let ok = try await withClient(port: port, tls: withCert) { client in
                try await client.connect(.init(), timeout: .seconds(5))
            }
            #expect(ok.result.user == "mtls")
            let without = try await withClient(
                port: port,
                tls: ProxyGRPCTLS(caPEM: TestPKI.ca, serverName: "proxy.test")
            ) { client in
                return await failure { try await client.connect(.init(), timeout: .seconds(5)) }
            }
            #expect(without != nil)
        }
    }

    @Test func badEndpointsAndPEMsAreConfigurationErrors() {
        let group = MultiThreadedEventLoopGroup.singleton
        for target in ["127.0.0.1:notaport", "host:70000", ":5000", "[::1:5000", "1:2:3:zz"] {
            #expect(throws: ProxyGRPCError.self, "\(target)") {
                _ = try ProxyGRPCClient(target: target, eventLoopGroup: group)
            }
        }
        #expect(throws: ProxyGRPCError.self) {
            _ = try ProxyGRPCClient(
                target: "127.0.0.1:5000",
                tls: ProxyGRPCTLS(caPEM: "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n"),
                eventLoopGroup: group
            )
        }
        for target in ["127.0.0.1:5000", "[::1]:5000", "backend.internal:5000", "backend", "::1"] {
            #expect(throws: Never.self, "\(target)") {
                _ = try ProxyGRPCClient(target: target, eventLoopGroup: group)
            }
        }
    }

    @Test func callsAfterShutdownFailAsShutDown() async throws {
        let client = try ProxyGRPCClient(target: "127.0.0.1:1", eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        client.start()
        await client.shutdown()
        await client.shutdown()  // idempotent
        await #expect(throws: ProxyGRPCError.shutDown(target: "127.0.0.1:1")) {
            _ = try await client.connect(.init(), timeout: .seconds(1))
        }
    }
}
