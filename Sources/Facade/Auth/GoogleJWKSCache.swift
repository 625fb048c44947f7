import AsyncHTTPClient
import JWTKit
import Logging
import NIOCore

/// Google's signing keys from a JWKS URL (`GOOGLE_JWKS_URL`, by default
/// https://www.googleapis.com/oauth2/v3/certs), fetched with AsyncHTTPClient and cached.
///
/// - **Lifetime**: the response's `Cache-Control: max-age`, bounded by ``Policy/minimumMaxAge`` and
///   ``Policy/maximumMaxAge``; ``Policy/defaultMaxAge`` when it gives none. A token arriving after that
///   refetches first.
/// - **Rotation**: a token naming a `kid` the cache does not hold refetches at once, since Google publishes a
///   new key before signing with it, but at most once per ``Policy/unknownKeyRefetchInterval``: a flood of
///   tokens with made-up `kid`s costs the URL one request per interval, not one per token.
/// - **Shared fetches**: however many tokens wait while a fetch is in flight, the URL sees one request.
/// - **Failures**: while the URL is down or answers garbage, cached keys keep working past their lifetime
///   (logged), the URL is asked again at most once per ``Policy/unknownKeyRefetchInterval``, and a token
///   whose key is not cached gets ``GoogleKeyError/unavailable(_:)``, a temporary error.
///
/// The clock is injected (`now`), so tests move time instead of sleeping.
actor GoogleJWKSCache: GoogleKeySource {
    struct Policy: Sendable {
        var defaultMaxAge: Duration = .seconds(3600)
        var minimumMaxAge: Duration = .seconds(60)
        var maximumMaxAge: Duration = .seconds(24 * 3600)
        var unknownKeyRefetchInterval: Duration = .seconds(5)
        var timeout: TimeAmount = .seconds(5)
        /// Larger documents are refused (Google's is about 2 KB).
        var maximumBytes = 1 << 20
    }

    static let googleURL = "https://www.googleapis.com/oauth2/v3/certs"

    let url: String
    private let policy: Policy
    private let httpClient: HTTPClient
    private let now: @Sendable () -> ContinuousClock.Instant
    private let logger: Logger

    private var document: JWKSDocument?
    private var expiresAt: ContinuousClock.Instant?
    /// When a token's unknown `kid` last caused a fetch.
    private var lastUnknownKeyFetch: ContinuousClock.Instant?
    /// When the last fetch failed, while it is the latest.
    private var lastFailure: ContinuousClock.Instant?
    private var inFlight: Task<Void, any Error>?

    init(
        url: String, policy: Policy = .init(), httpClient: HTTPClient = .shared,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }, logger: Logger
    ) {
        self.url = url
        self.policy = policy
        self.httpClient = httpClient
        self.now = now
        self.logger = logger
    }

    func keys(for kid: String) async throws(GoogleKeyError) -> JWTKeyCollection {
        let now = now()
        var fetchFailed = false
        if expiresAt.map({ now >= $0 }) ?? true {
            // After a failed fetch, the next waits out the refetch interval: a URL that is down is not
            // asked once per sign-in.
            if lastFailure.map({ now - $0 < policy.unknownKeyRefetchInterval }) ?? false {
                fetchFailed = true
            } else {
                fetchFailed = !(await refreshKeepingCache(reason: "cached keys expired"))
            }
        } else if !(document?.keyIDs.contains(kid) ?? false),
            lastUnknownKeyFetch.map({ now - $0 >= policy.unknownKeyRefetchInterval }) ?? true
        {
            lastUnknownKeyFetch = now
            fetchFailed = !(await refreshKeepingCache(reason: "unknown kid \(kid)"))
        }
        guard let document, document.keyIDs.contains(kid) else {
            // Unknown after a failed fetch: the key may well exist, the URL could not say.
            if fetchFailed { throw .unavailable("Google's signing keys could not be fetched from \(url)") }
            throw .unknownKey(kid)
        }
        return document.keys
    }

    /// Fetches; on failure logs, keeps what is cached and answers false.
    private func refreshKeepingCache(reason: String) async -> Bool {
        do {
            try await refresh()
            lastFailure = nil
            return true
        } catch {
            lastFailure = now()
            logger.warning(
                "Google JWKS fetch failed; keeping the cached keys",
                metadata: ["url": "\(url)", "reason": "\(reason)", "error": "\(error)"])
            return false
        }
    }

    /// Fetches the set once for all current callers.
    private func refresh() async throws {
        if let inFlight {
            try await inFlight.value
            return
        }
        let task = Task { [url, policy, httpClient] () throws -> Void in
            let (document, maxAge) = try await Self.fetch(url: url, policy: policy, httpClient: httpClient)
            self.install(document, maxAge: maxAge)
        }
        inFlight = task
        defer { inFlight = nil }
        try await task.value
    }

    private func install(_ document: JWKSDocument, maxAge: Duration?) {
        let lifetime = min(max(maxAge ?? policy.defaultMaxAge, policy.minimumMaxAge), policy.maximumMaxAge)
        self.document = document
        expiresAt = now() + lifetime
        logger.debug(
            "Google JWKS fetched",
            metadata: ["url": "\(url)", "kids": "\(document.keyIDs.sorted())", "lifetime": "\(lifetime)"])
    }

    static func fetch(url: String, policy: Policy, httpClient: HTTPClient) async throws -> (JWKSDocument, Duration?) {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        let response = try await httpClient.execute(request, timeout: policy.timeout)
        guard response.status == .ok else { throw JWKSDocument.ParseError(description: "HTTP \(response.status.code)") }
        let body = try await response.body.collect(upTo: policy.maximumBytes)
        let document = try await JWKSDocument.parse(Array(buffer: body))
        return (document, HTTPCacheLifetime.maxAge(cacheControl: response.headers.first(name: "Cache-Control")))
    }
}
