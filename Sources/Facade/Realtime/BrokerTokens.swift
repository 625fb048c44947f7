import Foundation
import JWTKit

/// Claims of a broker connection token: Centrifugo reads `sub` as the user id.
struct BrokerConnectionClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var iat: IssuedAtClaim

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}

/// Claims of a broker subscription token for one channel.
struct BrokerSubscriptionClaims: JWTPayload {
    var sub: SubjectClaim
    var channel: String
    var exp: ExpirationClaim
    var iat: IssuedAtClaim

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}

/// Mints HS256 JWTs signed with the broker's `client.token.hmac_secret_key`.
public struct BrokerTokens: Sendable {
    let keys: JWTKeyCollection
    let lifetime: TimeInterval

    public init(secret: String, lifetime: TimeInterval) async {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HS256Key.make(secret), digestAlgorithm: .sha256)
        self.keys = keys
        self.lifetime = lifetime
    }

    /// How long a token lives, in whole seconds (the `expires_in` of the token responses).
    var lifetimeSeconds: Int { Int(lifetime.rounded(.down)) }

    func connectionToken(userID: UUID, now: Date) async throws -> (token: String, expiresAt: Date) {
        let now = now.wholeSeconds
        let exp = now.addingTimeInterval(lifetime)
        let token = try await keys.sign(BrokerConnectionClaims(
            sub: .init(value: userID.uuidString.lowercased()), exp: .init(value: exp), iat: .init(value: now)))
        return (token, exp)
    }

    func subscriptionToken(userID: UUID, channel: String, now: Date) async throws -> (token: String, expiresAt: Date) {
        let now = now.wholeSeconds
        let exp = now.addingTimeInterval(lifetime)
        let token = try await keys.sign(BrokerSubscriptionClaims(
            sub: .init(value: userID.uuidString.lowercased()), channel: channel,
            exp: .init(value: exp), iat: .init(value: now)))
        return (token, exp)
    }
}

extension Date {
    /// JWT NumericDate values are integers for most verifiers (the broker included).
    var wholeSeconds: Date { Date(timeIntervalSince1970: timeIntervalSince1970.rounded(.down)) }
}
