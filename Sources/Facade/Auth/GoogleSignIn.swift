import Foundation
import JWTKit

/// Verifies Google ID tokens: an RS256 signature by a key of Google's (``GoogleKeySource``, chosen by the
/// token's `kid`), issuer `accounts.google.com` or `https://accounts.google.com`, audience our client id
/// (`GOOGLE_CLIENT_ID`; any other audience in `aud` refuses the token), not expired.
public struct GoogleSignIn: Sendable {
    let clientID: String
    let keySource: any GoogleKeySource

    init(clientID: String, keySource: any GoogleKeySource) {
        self.clientID = clientID
        self.keySource = keySource
    }

    struct Identity: Sendable {
        var subject: String
        var email: String?
        var emailVerified: Bool
    }

    static let invalidToken = APIError(.unauthorized, code: "invalid_google_token", message: "The Google ID token is invalid.")

    /// 401 `invalid_google_token` for a token that is not Google's for us; 503 `google_keys_unavailable` when
    /// the key it names could not be fetched (the client may retry).
    func verify(_ idToken: String) async throws(APIError) -> Identity {
        guard let header = JWTHeaderPeek(token: idToken), header.alg == "RS256", let kid = header.kid, !kid.isEmpty else {
            throw Self.invalidToken
        }
        let keys: JWTKeyCollection
        do throws(GoogleKeyError) {
            keys = try await keySource.keys(for: kid)
        } catch {
            switch error {
            case .unknownKey: throw Self.invalidToken
            case .unavailable: throw APIError.googleKeysUnavailable
            }
        }
        do {
            let token = try await keys.verify(idToken, as: GoogleIdentityToken.self, expectedAudience: clientID)
            return Identity(
                subject: token.subject.value, email: token.email, emailVerified: token.emailVerified?.value ?? false)
        } catch {
            throw Self.invalidToken
        }
    }
}
