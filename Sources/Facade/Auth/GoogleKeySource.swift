import JWTKit

/// Where ``GoogleSignIn`` gets the public key that signed an ID token, chosen by the token's `kid`.
///
/// Two sources: ``GoogleJWKSCache`` (Google's JWKS URL, fetched, cached and refetched when a new `kid`
/// appears; the default) and ``StaticGoogleKeys`` (a JWKS document read once at start, `GOOGLE_JWKS_FILE`).
protocol GoogleKeySource: Sendable {
    /// A key collection that holds key `kid`. It never answers with another key for an unknown `kid`
    /// (jwt-kit alone would fall back to a default key).
    func keys(for kid: String) async throws(GoogleKeyError) -> JWTKeyCollection
}

/// Why no key could be found for a token.
enum GoogleKeyError: Error, Sendable, Equatable {
    /// No key with this `kid` (after refetching, when the source fetches): the token is invalid.
    case unknownKey(String)
    /// The JWKS URL could not be read and no cached key fits: a temporary failure, not an invalid token.
    case unavailable(String)
}

/// A fixed JWKS document (`GOOGLE_JWKS_FILE`), for deployments that distribute Google's keys themselves.
struct StaticGoogleKeys: GoogleKeySource {
    let document: JWKSDocument

    init(jwksJSON: String) async throws(JWKSDocument.ParseError) {
        document = try await JWKSDocument.parse(Array(jwksJSON.utf8))
    }

    func keys(for kid: String) async throws(GoogleKeyError) -> JWTKeyCollection {
        guard document.keyIDs.contains(kid) else { throw .unknownKey(kid) }
        return document.keys
    }
}
