import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// One HTTP proxy endpoint: JSON POSTs over a keep-alive connection pool of its own.
///
/// The pool holds at most ``maxConnections`` connections; calls beyond that wait in it, within their timeout, so
/// a slow backend holds up only the clients waiting on it. Nothing here runs on a client's event loop.
final class HTTPProxyBackend: Sendable {
    static let maxConnections = 64
    /// Responses larger than this are refused (a proxy answers with a small JSON object).
    static let maxResponseBytes = 8 << 20

    let endpoint: String
    let timeout: TimeAmount
    let staticHeaders: [(String, String)]
    private let client: HTTPClient

    init(config: ProxyConfig, key: String) throws(TLSSetupError) {
        endpoint = config.endpoint
        timeout = .nanoseconds(Int64(clamping: config.timeout.components.seconds) * 1_000_000_000
            + config.timeout.components.attoseconds / 1_000_000_000)
        staticHeaders = config.http.staticHeaders.sorted { $0.key < $1.key }
        var c = HTTPClient.Configuration()
        if config.http.tls.enabled {
            c.tlsConfiguration = try config.http.tls.nioConfiguration(keyPrefix: key + ".http.tls")
        }
        c.timeout = HTTPClient.Configuration.Timeout(connect: timeout)
        c.connectionPool = HTTPClient.Configuration.ConnectionPool(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: Self.maxConnections)
        // A backend that refuses connections fails the call at once (as Centrifugo's does), instead of each call
        // waiting out its timeout while the pool retries.
        c.connectionPool.retryConnectionEstablishment = false
        c.redirectConfiguration = .disallow
        // NIO's shared group, not the clients' loops: proxy I/O never runs where connections are served.
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: c)
    }

    /// POSTs `body`; the response body when the status is 200, else the status in the error.
    func post(_ body: [UInt8], headers: [(String, String)]) async throws(ProxyCallError) -> [UInt8] {
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        for (name, value) in staticHeaders { request.headers.replaceOrAdd(name: name, value: value) }
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        request.headers.replaceOrAdd(name: "Content-Type", value: "application/json")
        request.body = .bytes(body)
        do {
            let response = try await client.execute(request, timeout: timeout)
            let bytes = try await response.body.collect(upTo: Self.maxResponseBytes)
            guard response.status == .ok else {
                throw ProxyCallError(description: "unexpected HTTP status \(response.status.code)", status: Int(response.status.code))
            }
            return Array(bytes.readableBytesView)
        } catch let error as ProxyCallError {
            throw error
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .connectTimeout {
            throw ProxyCallError(description: "no answer within the timeout (\(timeout.nanoseconds / 1_000_000) ms)")
        } catch {
            throw ProxyCallError(description: "\(error)")
        }
    }

    func shutdown() async {
        try? await client.shutdown()
    }
}
