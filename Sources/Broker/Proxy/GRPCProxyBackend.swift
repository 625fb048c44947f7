import BrokerProtocol
import BrokerProxyGRPC
import Foundation
import NIOPosix

/// One gRPC proxy endpoint (`grpc://host:port`): Centrifugo's proxy service, the same calls as over HTTP, with
/// the request's headers as metadata.
final class GRPCProxyBackend: Sendable {
    let client: ProxyGRPCClient
    let timeout: Duration
    let binary: Bool
    /// `grpc.static_metadata` and the `grpc.credentials_key`/`_value` pair, sent with every call.
    let staticMetadata: [(String, String)]

    init(config: ProxyConfig, key: String) throws(TLSSetupError) {
        timeout = config.timeout
        binary = config.binaryEncoding
        var metadata = config.grpc.staticMetadata.sorted { $0.key < $1.key }.map { ($0.key.lowercased(), $0.value) }
        if !config.grpc.credentialsKey.isEmpty {
            metadata.append((config.grpc.credentialsKey.lowercased(), config.grpc.credentialsValue))
        }
        staticMetadata = metadata
        let tls: ProxyGRPCTLS?
        if config.grpc.tls.enabled {
            let t = config.grpc.tls
            let prefix = key + ".grpc.tls"
            tls = ProxyGRPCTLS(
                caPEM: try t.pemText(inline: t.serverCAPEM, file: t.serverCAPEMFile, key: prefix + ".server_ca_pem"),
                certificatePEM: try t.pemText(inline: t.certPEM, file: t.certPEMFile, key: prefix + ".cert_pem"),
                privateKeyPEM: try t.pemText(inline: t.keyPEM, file: t.keyPEMFile, key: prefix + ".key_pem"),
                serverName: t.serverName.isEmpty ? nil : t.serverName, insecureSkipVerify: t.insecureSkipVerify)
        } else {
            tls = nil
        }
        do {
            // NIO's shared group, not the clients' loops: proxy I/O never runs where connections are served.
            client = try ProxyGRPCClient(
                target: String(config.endpoint.dropFirst("grpc://".count)), tls: tls, compression: config.grpc.compression,
                eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        } catch {
            throw TLSSetupError(key: key + ".endpoint", message: error.description)
        }
    }

    func shutdown() async {
        await client.shutdown()
    }

    // MARK: Calls

    func connect(_ r: ProxyRequest) async throws(ProxyCallError) -> ProxyAnswer<ConnectProxyResult> {
        var m = Centrifugal_Centrifugo_Proxy_ConnectRequest()
        stamp(&m, r)
        setData(r.data, bytes: &m.data, b64: &m.b64Data)
        m.name = r.name ?? ""
        m.version = r.version ?? ""
        m.channels = r.channels
        let response = try await call { () async throws(ProxyGRPCError) in try await client.connect(m, metadata: metadata(r), timeout: timeout) }
        return try Self.answer(response, Self.connectResult)
    }

    /// The connect result in the shape of a connection token's claims.
    private static func connectResult(_ result: Centrifugal_Centrifugo_Proxy_ConnectResult) throws(ProxyCallError) -> ConnectProxyResult {
        var claims = ConnectionClaims()
        claims.user = result.user
        claims.expireAt = result.expireAt
        if let info = try Self.payload(result.info, result.b64Info) {
            claims.info = info.bytes
            claims.infoIsBinary = info.isBinary
        }
        claims.channels = result.channels
        for (channel, options) in result.subs.sorted(by: { $0.key < $1.key }) {
            var ts = TokenSubscription(channel: channel)
            if let info = try Self.payload(options.info, options.b64Info) {
                ts.info = info.bytes
                ts.infoIsBinary = info.isBinary
            }
            if let data = try Self.payload(options.data, options.b64Data) {
                ts.data = data.bytes
                ts.dataIsBinary = data.isBinary
            }
            if options.hasOverride { ts.override = Self.override(options.override) }
            claims.subs.append(ts)
        }
        claims.meta = result.meta.isEmpty ? nil : Array(result.meta)
        return ConnectProxyResult(claims: claims, data: try Self.payload(result.data, result.b64Data))
    }

    func refresh(_ r: ProxyRequest) async throws(ProxyCallError) -> ProxyAnswer<RefreshProxyResult> {
        var m = Centrifugal_Centrifugo_Proxy_RefreshRequest()
        stamp(&m, r)
        m.user = r.user ?? ""
        if let meta = r.meta { m.meta = Data(meta) }
        let response = try await call { () async throws(ProxyGRPCError) in try await client.refresh(m, metadata: metadata(r), timeout: timeout) }
        return try Self.answer(response) { result throws(ProxyCallError) in
            RefreshProxyResult(
                expired: result.expired, expireAt: result.expireAt, info: try Self.payload(result.info, result.b64Info),
                meta: result.meta.isEmpty ? nil : Array(result.meta))
        }
    }

    func subRefresh(_ r: ProxyRequest) async throws(ProxyCallError) -> ProxyAnswer<RefreshProxyResult> {
        var m = Centrifugal_Centrifugo_Proxy_SubRefreshRequest()
        stamp(&m, r)
        m.user = r.user ?? ""
        m.channel = r.channel ?? ""
        if let meta = r.meta { m.meta = Data(meta) }
        let response = try await call { () async throws(ProxyGRPCError) in try await client.subRefresh(m, metadata: metadata(r), timeout: timeout) }
        return try Self.answer(response) { result throws(ProxyCallError) in
            RefreshProxyResult(expired: result.expired, expireAt: result.expireAt, info: try Self.payload(result.info, result.b64Info))
        }
    }

    func subscribe(_ r: ProxyRequest) async throws(ProxyCallError) -> ProxyAnswer<SubscribeProxyResult> {
        let m = subscribeRequest(r)
        let response = try await call { () async throws(ProxyGRPCError) in try await client.subscribe(m, metadata: metadata(r), timeout: timeout) }
        return try Self.subscribeAnswer(response)
    }

    /// A subscribe stream: the backend's first message answers the subscription, the later ones are publications.
    func openStream(
        _ r: ProxyRequest, bidirectional: Bool
    ) async throws(ProxyCallError) -> (ProxyAnswer<SubscribeProxyResult>, ProxyGRPCSubscribeStream?) {
        let m = subscribeRequest(r)
        let stream = try await call { () async throws(ProxyGRPCError) in
            try await client.subscribeStream(m, bidirectional: bidirectional, metadata: metadata(r), firstMessageTimeout: timeout)
        }
        let answer: ProxyAnswer<SubscribeProxyResult>
        do {
            answer = try Self.subscribeAnswer(stream.response)
        } catch {
            stream.cancel()
            throw error
        }
        guard case .result = answer else {
            stream.cancel()
            return (answer, nil)
        }
        return (answer, stream)
    }

    private func subscribeRequest(_ r: ProxyRequest) -> Centrifugal_Centrifugo_Proxy_SubscribeRequest {
        var m = Centrifugal_Centrifugo_Proxy_SubscribeRequest()
        stamp(&m, r)
        m.user = r.user ?? ""
        m.channel = r.channel ?? ""
        m.token = r.token ?? ""
        if let meta = r.meta { m.meta = Data(meta) }
        setData(r.data, bytes: &m.data, b64: &m.b64Data)
        return m
    }

    private static func subscribeAnswer(
        _ response: Centrifugal_Centrifugo_Proxy_SubscribeResponse
    ) throws(ProxyCallError) -> ProxyAnswer<SubscribeProxyResult> {
        return try Self.answer(response) { result throws(ProxyCallError) in
            SubscribeProxyResult(
                expireAt: result.expireAt, info: try Self.payload(result.info, result.b64Info),
                data: try Self.payload(result.data, result.b64Data),
                override: result.hasOverride ? Self.override(result.override) : SubscriptionOverride())
        }
    }

    func publish(_ r: ProxyRequest) async throws(ProxyCallError) -> ProxyAnswer<PublishProxyResult> {
        var m = Centrifugal_Centrifugo_Proxy_PublishRequest()
        stamp(&m, r)
        m.user = r.user ?? ""
        m.channel = r.channel ?? ""
        if let meta = r.meta { m.meta = Data(meta) }
        setData(r.data, bytes: &m.data, b64: &m.b64Data)
        let response = try await call { () async throws(ProxyGRPCError) in try await client.publish(m, metadata: metadata(r), timeout: timeout) }
        return try Self.answer(response) { result throws(ProxyCallError) in
            PublishProxyResult(
                data: try Self.payload(result.data, result.b64Data), skipHistory: result.skipHistory, tags: result.tags,
                idempotencyKey: result.idempotencyKey)
        }
    }

    func rpc(_ r: ProxyRequest) async throws(ProxyCallError) -> ProxyAnswer<RPCProxyResult> {
        var m = Centrifugal_Centrifugo_Proxy_RPCRequest()
        stamp(&m, r)
        m.user = r.user ?? ""
        m.method = r.method ?? ""
        if let meta = r.meta { m.meta = Data(meta) }
        setData(r.data, bytes: &m.data, b64: &m.b64Data)
        let response = try await call { () async throws(ProxyGRPCError) in try await client.rpc(m, metadata: metadata(r), timeout: timeout) }
        return try Self.answer(response) { result throws(ProxyCallError) in
            RPCProxyResult(data: try Self.payload(result.data, result.b64Data))
        }
    }

    // MARK: Shared pieces

    private var encoding: String { binary ? "binary" : "json" }

    /// The static metadata, then the passed-on headers with lower-cased names (gRPC's rule for metadata keys).
    private func metadata(_ r: ProxyRequest) -> [(String, String)] {
        staticMetadata + r.headers.map { ($0.0.lowercased(), $0.1) }
    }

    private func setData(_ payload: Payload?, bytes: inout Data, b64: inout String) {
        guard let payload, !payload.bytes.isEmpty else { return }
        if binary {
            b64 = Data(payload.bytes).base64EncodedString()
        } else {
            bytes = Data(payload.bytes)
        }
    }

    private func call<T>(_ body: () async throws(ProxyGRPCError) -> T) async throws(ProxyCallError) -> T {
        do {
            return try await body()
        } catch {
            throw ProxyCallError(description: error.description)
        }
    }

    /// A response as an answer: its disconnect, else its error, else its result read by `read` (nil when absent).
    private static func answer<M: ProxyResponseMessage, R>(
        _ response: M, _ read: (M.ResultMessage) throws(ProxyCallError) -> R
    ) throws(ProxyCallError) -> ProxyAnswer<R> {
        if response.hasDisconnect {
            return .disconnect(Disconnect(code: UInt16(clamping: response.disconnect.code), reason: response.disconnect.reason))
        }
        if response.hasError {
            let e = response.error
            return .error(ClientError(code: e.code, message: e.message, temporary: e.temporary))
        }
        guard response.hasResult else { return .result(nil) }
        return .result(try read(response.result))
    }

    /// What every request says about the connection.
    private func stamp(_ m: inout some ProxyRequestMessage, _ r: ProxyRequest) {
        m.client = r.client
        m.transport = r.transport
        m.protocol = r.protocol
        m.encoding = encoding
    }

    /// `info`/`data` bytes (JSON) or their `b64` form (binary); nil when neither is set.
    private static func payload(_ bytes: Data, _ b64: String) throws(ProxyCallError) -> Payload? {
        if !b64.isEmpty {
            guard let decoded = Data(base64Encoded: b64) else { throw ProxyCallError(description: "a b64 field of the answer is not base64") }
            return Payload(bytes: Array(decoded), isBinary: true)
        }
        return bytes.isEmpty ? nil : Payload(bytes: Array(bytes))
    }

    private static func override(_ o: Centrifugal_Centrifugo_Proxy_SubscribeOptionOverride) -> SubscriptionOverride {
        var ov = SubscriptionOverride()
        if o.hasPresence { ov.presence = o.presence.value }
        if o.hasJoinLeave { ov.joinLeave = o.joinLeave.value }
        if o.hasForcePushJoinLeave { ov.forcePushJoinLeave = o.forcePushJoinLeave.value }
        if o.hasForcePositioning { ov.forcePositioning = o.forcePositioning.value }
        if o.hasForceRecovery { ov.forceRecovery = o.forceRecovery.value }
        return ov
    }
}

/// The fields every proxy request message starts with (the generated types share them, not a protocol).
protocol ProxyRequestMessage {
    var client: String { get set }
    var transport: String { get set }
    var `protocol`: String { get set }
    var encoding: String { get set }
}

/// A proxy response message: at most one of result, error or disconnect.
protocol ProxyResponseMessage {
    associatedtype ResultMessage
    var hasResult: Bool { get }
    var result: ResultMessage { get }
    var hasError: Bool { get }
    var error: Centrifugal_Centrifugo_Proxy_Error { get }
    var hasDisconnect: Bool { get }
    var disconnect: Centrifugal_Centrifugo_Proxy_Disconnect { get }
}

extension Centrifugal_Centrifugo_Proxy_ConnectRequest: ProxyRequestMessage {}
extension Centrifugal_Centrifugo_Proxy_RefreshRequest: ProxyRequestMessage {}
extension Centrifugal_Centrifugo_Proxy_SubRefreshRequest: ProxyRequestMessage {}
extension Centrifugal_Centrifugo_Proxy_SubscribeRequest: ProxyRequestMessage {}
extension Centrifugal_Centrifugo_Proxy_PublishRequest: ProxyRequestMessage {}
extension Centrifugal_Centrifugo_Proxy_RPCRequest: ProxyRequestMessage {}
extension Centrifugal_Centrifugo_Proxy_ConnectResponse: ProxyResponseMessage {}
extension Centrifugal_Centrifugo_Proxy_RefreshResponse: ProxyResponseMessage {}
extension Centrifugal_Centrifugo_Proxy_SubRefreshResponse: ProxyResponseMessage {}
extension Centrifugal_Centrifugo_Proxy_SubscribeResponse: ProxyResponseMessage {}
extension Centrifugal_Centrifugo_Proxy_PublishResponse: ProxyResponseMessage {}
extension Centrifugal_Centrifugo_Proxy_RPCResponse: ProxyResponseMessage {}

extension ProxyGRPCSubscribeStream: SubscriptionStream {
    func start(
        onPublication: @escaping @Sendable (_ data: [UInt8], _ tags: [String: String]) -> Void,
        onEnd: @escaping @Sendable (_ failed: Bool) -> Void
    ) {
        ready(onPublication: { p in onPublication(Array(p.data), p.tags) }, onEnd: { error in onEnd(error != nil) })
    }
}
