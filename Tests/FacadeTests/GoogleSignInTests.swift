import Foundation
import JWTKit
import Testing
import CryptoExtras

@testable import Facade

/// Google's keys are replaced by a locally generated RSA key pair (no network).
struct FakeGoogle: Sendable {
    static let clientID = "test-client.apps.googleusercontent.com"
    let signer: JWTKeyCollection
    let kid: String
    /// This key as one JWKS entry.
    let jwkJSON: String
    /// A JWKS document holding this key alone.
    var jwksJSON: String { "{\"keys\":[\(jwkJSON)]}" }

    static func make(kid: String = "test-key") async throws -> FakeGoogle {
        let privateKey = try Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        let signer = JWTKeyCollection()
        await signer.add(rsa: privateKey, digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
        let (modulus, exponent) = try privateKey.publicKey.getKeyPrimitives()
        let jwk = """
            {"kty":"RSA","alg":"RS256","use":"sig","kid":"\(kid)",\
            "n":"\(base64URL(modulus))","e":"\(base64URL(exponent))"}
            """
        return FakeGoogle(signer: signer, kid: kid, jwkJSON: jwk)
    }

    /// A JWKS document holding each key.
    static func jwks(_ keys: FakeGoogle...) -> String {
        "{\"keys\":[" + keys.map(\.jwkJSON).joined(separator: ",") + "]}"
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    func idToken(
        subject: String = "google-123", email: String = "grace@example.com", audience: String = FakeGoogle.clientID,
        issuer: String = "https://accounts.google.com", expires: Date = Date().addingTimeInterval(600)
    ) async throws -> String {
        let token = GoogleIdentityToken(
            issuer: .init(value: issuer), subject: .init(value: subject), audience: .init(value: [audience]),
            authorizedPresenter: audience, issuedAt: .init(value: Date().addingTimeInterval(-60)),
            expires: .init(value: expires), email: email, emailVerified: .init(value: true))
        return try await signer.sign(token, kid: JWKIdentifier(string: kid))
    }
}

@Suite("Google sign-in")
struct GoogleSignInTests {
    @Test("valid, expired, wrong audience, wrong issuer")
    func googleTokens() async throws {
        let google = try await FakeGoogle.make()
        try await withFacade(configure: { configuration in
            configuration.googleClientID = FakeGoogle.clientID
            configuration.googleJWKS = google.jwksJSON
        }) { api, _ in
            let valid = try await api.call(.post, "/v1/auth/google", json: ["id_token": try await google.idToken()])
            #expect(valid.status == .ok, "\(valid.raw)")
            let userID = (valid["user"] as? [String: Any])?["id"] as? String
            #expect(userID != nil)

            // Same Google subject signs in to the same user.
            let again = try await api.call(.post, "/v1/auth/google", json: ["id_token": try await google.idToken()])
            #expect((again["user"] as? [String: Any])?["id"] as? String == userID)

            let expired = try await api.call(
                .post, "/v1/auth/google", json: ["id_token": try await google.idToken(expires: Date().addingTimeInterval(-60))])
            #expect(expired.status == .unauthorized)
            #expect(expired.errorCode == "invalid_google_token")

            let wrongAudience = try await api.call(
                .post, "/v1/auth/google", json: ["id_token": try await google.idToken(audience: "someone-else")])
            #expect(wrongAudience.status == .unauthorized)

            let wrongIssuer = try await api.call(
                .post, "/v1/auth/google", json: ["id_token": try await google.idToken(issuer: "https://evil.example.com")])
            #expect(wrongIssuer.status == .unauthorized)

            let otherKey = try await FakeGoogle.make()
            let forged = try await api.call(.post, "/v1/auth/google", json: ["id_token": try await otherKey.idToken()])
            #expect(forged.status == .unauthorized)
        }
    }

    @Test("links to an existing account with the same email")
    func linksExistingAccount() async throws {
        let google = try await FakeGoogle.make()
        try await withFacade(configure: { configuration in
            configuration.googleClientID = FakeGoogle.clientID
            configuration.googleJWKS = google.jwksJSON
        }) { api, _ in
            let session = try await api.signUp("grace@example.com")
            let reply = try await api.call(.post, "/v1/auth/google", json: ["id_token": try await google.idToken()])
            #expect((reply["user"] as? [String: Any])?["id"] as? String == session.userID)
        }
    }

    @Test("off when not configured: 501 google_sign_in_disabled naming the settings, documented")
    func disabled() async throws {
        try await withFacade { api, _ in
            for body: [String: any Sendable] in [["id_token": "x"], [:]] {
                let reply = try await api.call(.post, "/v1/auth/google", json: body)
                #expect(reply.status == .notImplemented, "\(reply.raw)")
                #expect(reply.errorCode == "google_sign_in_disabled")
                let message = try #require((reply["error"] as? [String: Any])?["message"] as? String)
                for setting in ["GOOGLE_CLIENT_ID", "GOOGLE_JWKS_FILE", "--google-client-id", "--google-jwks-file"] {
                    #expect(message.contains(setting), "\(message)")
                }
            }
            let document = try await api.call(.get, "/openapi.json")
            let responses = ((((document["paths"] as? [String: Any])?["/v1/auth/google"] as? [String: Any])?["post"]
                as? [String: Any])?["responses"] as? [String: Any]) ?? [:]
            #expect(responses["501"] != nil)
            #expect(responses["404"] == nil)
        }
    }
}
