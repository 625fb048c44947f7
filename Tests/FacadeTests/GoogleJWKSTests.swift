import Foundation
import Testing

@testable import Facade

/// Google sign-in with keys from a JWKS URL: a real HTTP server on loopback plays Google's key endpoint
/// (``LocalJWKSServer``), tokens are signed with test RSA keys, and the cache's clock is moved by hand.
@Suite("Google sign-in from a JWKS URL")
struct GoogleJWKSTests {
    /// Runs `body` against a facade whose Google keys come from `server`.
    static func withGoogleFacade(
        _ server: LocalJWKSServer, clock: TestMonotonicClock = TestMonotonicClock(),
        refetchInterval: Duration = .seconds(5),
        _ body: @Sendable @escaping (API) async throws -> Void
    ) async throws {
        try await server.run { url in
            try await withFacade(configure: { configuration in
                configuration.googleClientID = FakeGoogle.clientID
                configuration.googleJWKSURL = url
                configuration.googleKeysPolicy.unknownKeyRefetchInterval = refetchInterval
                configuration.monotonicNow = { clock.now }
            }) { api, _ in try await body(api) }
        }
    }

    static func signIn(_ api: API, _ token: String) async throws -> Reply {
        try await api.call(.post, "/v1/auth/google", json: ["id_token": token])
    }

    /// The facade's error shape, with `invalid_google_token`.
    static func expectRefused(_ reply: Reply, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(reply.status == .unauthorized, "\(reply.raw)", sourceLocation: sourceLocation)
        #expect(reply.errorCode == "invalid_google_token", sourceLocation: sourceLocation)
        let error = reply.object["error"] as? [String: Any]
        #expect(error?["message"] is String && (error?["fields"] as? [Any])?.isEmpty == true, sourceLocation: sourceLocation)
    }

    @Test("a token signed by a key of the URL's JWKS signs in; wrong audience, wrong issuer, expired or an unknown key are 401 invalid_google_token; one fetch serves them all")
    func verifiesAgainstFetchedKeys() async throws {
        let google = try await FakeGoogle.make(kid: "key-1")
        let server = LocalJWKSServer()
        server.update { $0.jwks = google.jwksJSON }
        try await Self.withGoogleFacade(server) { api in
            #expect(server.requests == 0)  // fetched on first use, not at start
            let valid = try await Self.signIn(api, try await google.idToken())
            #expect(valid.status == .ok, "\(valid.raw)")
            #expect(valid.string("token") != nil)
            Self.expectRefused(try await Self.signIn(api, try await google.idToken(audience: "someone-else")))
            Self.expectRefused(try await Self.signIn(api, try await google.idToken(issuer: "https://evil.example.com")))
            Self.expectRefused(try await Self.signIn(api, try await google.idToken(expires: Date().addingTimeInterval(-60))))
            let impostor = try await FakeGoogle.make(kid: "key-1")  // same kid, another key: the signature fails
            Self.expectRefused(try await Self.signIn(api, try await impostor.idToken()))
            Self.expectRefused(try await Self.signIn(api, "not.a.jwt"))
            #expect(server.requests == 1)
        }
    }

    @Test("key rotation: a token naming a new kid refetches the JWKS once and signs in; later tokens use the cache")
    func rotation() async throws {
        let old = try await FakeGoogle.make(kid: "old")
        let new = try await FakeGoogle.make(kid: "new")
        let server = LocalJWKSServer()
        server.update { $0.jwks = old.jwksJSON }
        try await Self.withGoogleFacade(server) { api in
            #expect(try await Self.signIn(api, try await old.idToken()).status == .ok)
            #expect(server.requests == 1)
            server.update { $0.jwks = FakeGoogle.jwks(old, new) }  // Google publishes the next key
            let rotated = try await Self.signIn(api, try await new.idToken())
            #expect(rotated.status == .ok, "\(rotated.raw)")
            #expect(server.requests == 2)
            #expect(try await Self.signIn(api, try await new.idToken()).status == .ok)
            #expect(try await Self.signIn(api, try await old.idToken()).status == .ok)
            #expect(server.requests == 2)
        }
    }

    @Test("a flood of tokens with made-up kids costs the URL one fetch per refetch interval, and each is refused")
    func unknownKidFlood() async throws {
        let google = try await FakeGoogle.make(kid: "real")
        let server = LocalJWKSServer()
        server.update { $0.jwks = google.jwksJSON }
        let clock = TestMonotonicClock()
        try await Self.withGoogleFacade(server, clock: clock, refetchInterval: .seconds(10)) { api in
            #expect(try await Self.signIn(api, try await google.idToken()).status == .ok)
            #expect(server.requests == 1)
            var forged: [String] = []
            for index in 0..<40 {
                forged.append(try await FakeGoogle.make(kid: "bogus-\(index)").idToken())
            }
            let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
                for token in forged { group.addTask { try await Self.signIn(api, token) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for reply in replies { Self.expectRefused(reply) }
            #expect(server.requests == 2)  // the first unknown kid refetched; the other 39 did not
            clock.advance(.seconds(11))
            Self.expectRefused(try await Self.signIn(api, forged[0]))
            #expect(server.requests == 3)  // one more after the interval
            Self.expectRefused(try await Self.signIn(api, forged[1]))
            #expect(server.requests == 3)
            #expect(try await Self.signIn(api, try await google.idToken()).status == .ok)
            #expect(server.requests == 3)
        }
    }

    @Test("Cache-Control max-age sets how long the keys are cached: no fetch before it runs out, one after")
    func honoursMaxAge() async throws {
        let google = try await FakeGoogle.make(kid: "k")
        let server = LocalJWKSServer()
        server.update {
            $0.jwks = google.jwksJSON
            $0.cacheControl = "public, max-age=120, must-revalidate, no-transform"
        }
        let clock = TestMonotonicClock()
        try await Self.withGoogleFacade(server, clock: clock) { api in
            let first = try await Self.signIn(api, try await google.idToken())
            #expect(first.status == .ok, "\(first.raw)")
            clock.advance(.seconds(100))
            #expect(try await Self.signIn(api, try await google.idToken()).status == .ok)
            #expect(server.requests == 1)
            clock.advance(.seconds(30))
            #expect(try await Self.signIn(api, try await google.idToken()).status == .ok)
            #expect(server.requests == 2)
        }
    }

    @Test("while the URL fails, cached keys keep working past their lifetime, and a token whose key is not cached is 503 google_keys_unavailable")
    func urlDown() async throws {
        let google = try await FakeGoogle.make(kid: "cached")
        let next = try await FakeGoogle.make(kid: "next")
        let server = LocalJWKSServer()
        server.update { $0.jwks = google.jwksJSON }
        let clock = TestMonotonicClock()
        try await Self.withGoogleFacade(server, clock: clock) { api in
            #expect(try await Self.signIn(api, try await google.idToken()).status == .ok)
            server.update { $0.failing = true }
            clock.advance(.seconds(2 * 3600))
            let stale = try await Self.signIn(api, try await google.idToken())
            #expect(stale.status == .ok, "\(stale.raw)")
            clock.advance(.seconds(10))
            let unavailable = try await Self.signIn(api, try await next.idToken())
            #expect(unavailable.status == .serviceUnavailable, "\(unavailable.raw)")
            #expect(unavailable.errorCode == "google_keys_unavailable")
            server.update {
                $0.failing = false
                $0.jwks = FakeGoogle.jwks(google, next)
            }
            clock.advance(.seconds(10))
            #expect(try await Self.signIn(api, try await next.idToken()).status == .ok)
        }
    }

    @Test("the JWKS parser keeps RSA signing keys with a kid and drops the rest; Cache-Control max-age is read")
    func parsing() async throws {
        let google = try await FakeGoogle.make(kid: "rsa")
        let document = try await JWKSDocument.parse(Array("""
            {"keys":[\(google.jwkJSON),
              {"kty":"oct","kid":"hmac","k":"c2VjcmV0"},
              {"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"},
              {"kty":"RSA","n":"AQAB","e":"AQAB"}]}
            """.utf8))
        #expect(document.keyIDs == ["rsa"])
        await #expect(throws: JWKSDocument.ParseError.self) { try await JWKSDocument.parse(Array(#"{"keys":[]}"#.utf8)) }
        await #expect(throws: JWKSDocument.ParseError.self) { try await JWKSDocument.parse(Array("<html>".utf8)) }
        #expect(HTTPCacheLifetime.maxAge(cacheControl: "public, max-age=20538, must-revalidate, no-transform") == .seconds(20538))
        #expect(HTTPCacheLifetime.maxAge(cacheControl: "no-store") == .zero)
        #expect(HTTPCacheLifetime.maxAge(cacheControl: "public") == nil)
        #expect(HTTPCacheLifetime.maxAge(cacheControl: nil) == nil)
        #expect(JWTHeaderPeek(token: try await google.idToken()) == JWTHeaderPeek(kid: "rsa", alg: "RS256"))
    }
}
