import Foundation
import JWTKit

/// Verifies Google ID tokens (RS256) against configured public keys.
///
/// Keys come from a JWKS document (Google publishes it at
/// https://www.googleapis.com/oauth2/v3/certs); the facade does not fetch it itself, so
/// deployments refresh the file and tests use a locally generated key pair.
public struct GoogleSignIn: Sendable {
    let clientID: String
    let keys: JWTKeyCollection

    public init(clientID: String, jwksJSON: String) async throws {
        let keys = JWTKeyCollection()
        try await keys.add(jwksJSON: jwksJSON)
        self.clientID = clientID
        self.keys = keys
    }

    struct Identity: Sendable {
        var subject: String
        var email: String?
        var emailVerified: Bool
    }

    /// Checks signature, issuer (`accounts.google.com` or `https://accounts.google.com`),
    /// audience (our client id) and expiry.
    func verify(_ idToken: String) async throws -> Identity {
        do {
            let token = try await keys.verify(idToken, as: GoogleIdentityToken.self, expectedAudience: clientID)
            return Identity(
                subject: token.subject.value, email: token.email, emailVerified: token.emailVerified?.value ?? false)
        } catch {
            throw APIError(.unauthorized, code: "invalid_google_token", message: "The Google ID token is invalid.")
        }
    }
}
