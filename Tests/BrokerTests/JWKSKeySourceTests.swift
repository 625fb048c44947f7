import Testing

@testable import Broker

@Suite("JWKS key source")
struct JWKSKeySourceTests {
    @Test func onlySigningKeysWithKidAreKept() async throws {
        // An EC P-256 public key (RFC 7517 appendix A.1), once with a kid, once without, once for encryption,
        // plus a symmetric key that must never verify anything.
        let ec = #""kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM""#
        let doc = """
            {"keys":[{\(ec),"kid":"good","use":"sig"},{\(ec)},{\(ec),"kid":"enc","use":"enc"},
            {"kty":"oct","k":"c2VjcmV0","kid":"hmac"}]}
            """
        let (_, ids) = try await JWKSKeySource.parse(Array(doc.utf8))
        #expect(ids == ["good"])
    }

    @Test func notAKeySetIsAnError() async {
        await #expect(throws: JWKSFetchError.self) { _ = try await JWKSKeySource.parse(Array("{\"x\":1}".utf8)) }
        await #expect(throws: JWKSFetchError.self) { _ = try await JWKSKeySource.parse(Array("<html>".utf8)) }
    }

    @Test func unreachableEndpointIsUnavailableNotInvalid() async {
        let source = JWKSKeySource(endpoint: "http://127.0.0.1:1/jwks", timeout: .seconds(2))
        do {
            _ = try await source.verifier(kid: "k", algorithm: "RS256")
            Issue.record("must fail")
        } catch {
            if case .unavailable = error {} else { Issue.record("expected .unavailable, got \(error)") }
        }
        do {
            _ = try await source.verifier(kid: "", algorithm: "RS256")
            Issue.record("must fail")
        } catch {
            if case .invalid = error {} else { Issue.record("expected .invalid, got \(error)") }
        }
    }
}
