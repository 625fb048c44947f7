import AsyncHTTPClient
import BrokerProtocol
import Foundation
import JWTKit
import NIOCore

/// RSA and EC public keys from a JWKS endpoint (`client.token.jwks_public_endpoint`), fetched over HTTP(S)
/// with AsyncHTTPClient, cached, and fetched again when a token names a key the cache does not have (the
/// issuer rotated its keys) or when the cache is older than `maxAge`.
///
/// Fetches are shared: however many tokens arrive while one is in flight, the endpoint sees one request.
/// Nothing here blocks an event loop; a token waits for the fetch, other work goes on. When the endpoint
/// cannot be reached and no cached key fits, the token gets ``TokenError/unavailable(_:)`` (the client
/// retries) rather than being called invalid.
actor JWKSKeySource {
    let endpoint: String
    private let maxAge: Duration
    /// A token with an unknown `kid` triggers at most one fetch per this interval (no fetch storm from
    /// tokens made up with random key IDs).
    private let unknownKeyRefetchInterval: Duration
    private let timeout: Duration
    private let clock = ContinuousClock()

    private var keys = JWTKeyCollection()
    /// The `kid`s present in `keys`: jwt-kit falls back to a default key for an unknown `kid`, we must not.
    private var keyIDs: Set<String> = []
    private var fetchedAt: ContinuousClock.Instant?
    /// When a token's unknown `kid` last caused a fetch.
    private var lastUnknownKeyFetch: ContinuousClock.Instant?
    private var inFlight: Task<Void, any Error>?

    init(endpoint: String, maxAge: Duration = .seconds(3600), unknownKeyRefetchInterval: Duration = .seconds(1),
         timeout: Duration = .seconds(5)) {
        self.endpoint = endpoint
        self.maxAge = maxAge
        self.unknownKeyRefetchInterval = unknownKeyRefetchInterval
        self.timeout = timeout
    }

    /// The verifier for key `kid` and algorithm `algorithm` (RS*/ES* only).
    func verifier(kid: String, algorithm: String) async throws(TokenError) -> any JWTAlgorithm {
        guard !kid.isEmpty else { throw .invalid("token has no kid header: JWKS keys are chosen by kid") }
        let now = clock.now
        let stale = fetchedAt.map { now - $0 > maxAge } ?? true
        let unknown = !keyIDs.contains(kid)
        let mayRefetch = lastUnknownKeyFetch.map { now - $0 >= unknownKeyRefetchInterval } ?? true
        if stale || (unknown && mayRefetch) {
            if unknown && !stale { lastUnknownKeyFetch = now }
            do {
                try await refresh()
            } catch {
                // A stale cache that has the key is better than refusing every token while the endpoint is down.
                if !keyIDs.contains(kid) {
                    throw .unavailable("JWKS endpoint \(endpoint): \(error)")
                }
            }
        }
        guard keyIDs.contains(kid) else { throw .invalid("no JWKS key with kid \"\(kid)\"") }
        do {
            return try await keys.getKey(for: JWKIdentifier(string: kid), alg: algorithm)
        } catch {
            throw .invalid("JWKS key \"\(kid)\" cannot verify \(algorithm): \(error)")
        }
    }

    /// Fetches the set once for all current callers.
    private func refresh() async throws {
        if let inFlight {
            try await inFlight.value
            return
        }
        let endpoint = self.endpoint
        let timeout = self.timeout
        let task = Task { () throws -> Void in
            let (collection, ids) = try await Self.fetch(endpoint: endpoint, timeout: timeout)
            self.install(collection, ids)
        }
        inFlight = task
        defer { inFlight = nil }
        try await task.value
    }

    private func install(_ collection: JWTKeyCollection, _ ids: Set<String>) {
        keys = collection
        keyIDs = ids
        fetchedAt = clock.now
    }

    /// GETs and parses the set; only RSA and EC keys with a `kid` are kept (a symmetric `oct` key in a JWKS
    /// must never verify anything: HS* tokens are checked against the configured secrets only).
    static func fetch(endpoint: String, timeout: Duration) async throws -> (JWTKeyCollection, Set<String>) {
        var request = HTTPClientRequest(url: endpoint)
        request.headers.add(name: "Accept", value: "application/json")
        let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(timeout.milliseconds))
        guard response.status == .ok else { throw JWKSFetchError("HTTP \(response.status.code)") }
        let body = try await response.body.collect(upTo: 1 << 20)
        return try await parse(Array(buffer: body))
    }

    static func parse(_ bytes: [UInt8]) async throws -> (JWTKeyCollection, Set<String>) {
        guard let root = try? JSONParser.parse(bytes), let list = root.objectValue?["keys"]?.arrayValue else {
            throw JWKSFetchError("not a JWKS document (no \"keys\" array)")
        }
        let collection = JWTKeyCollection()
        var ids: Set<String> = []
        for key in list {
            guard let o = key.objectValue, let kid = o["kid"]?.stringValue, !kid.isEmpty,
                let kty = o["kty"]?.stringValue, kty == "RSA" || kty == "EC"
            else { continue }
            if let use = o["use"]?.stringValue, use != "sig" { continue }
            do {
                let jwk = try JSONDecoder().decode(JWK.self, from: Data(key.serialized))
                try await collection.add(jwk: jwk)
                ids.insert(kid)
            } catch {
                continue  // one malformed key does not spoil the others
            }
        }
        return (collection, ids)
    }
}

struct JWKSFetchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
