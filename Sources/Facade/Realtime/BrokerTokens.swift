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
///
/// Connection tokens and subscription tokens have their own lifetimes. Subscription tokens are the short ones
/// (``FacadeConfiguration/subscriptionTokenLifetime``, 300 s by default): the SDK renews them through its
/// `getToken`/`get_token` callback, which asks the facade again, and the facade refuses anyone who is no longer
/// an active member, so a subscription whose revocation (`unsubscribe`) never reached the broker ends at most one
/// lifetime later.
public struct BrokerTokens: Sendable {
    let keys: JWTKeyCollection
    let connectionLifetime: TimeInterval
    let subscriptionLifetime: TimeInterval

    public init(secret: String, connectionLifetime: TimeInterval, subscriptionLifetime: TimeInterval) async {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HS256Key.make(secret), digestAlgorithm: .sha256)
        self.keys = keys
        self.connectionLifetime = connectionLifetime
        self.subscriptionLifetime = subscriptionLifetime
    }

    func connectionToken(userID: UUID, now: Date) async throws -> (token: String, expiresAt: Date, expiresIn: Int) {
        let now = now.wholeSeconds
        let exp = now.addingTimeInterval(connectionLifetime.rounded(.down))
        let token = try await keys.sign(BrokerConnectionClaims(
            sub: .init(value: userID.uuidString.lowercased()), exp: .init(value: exp), iat: .init(value: now)))
        return (token, exp, Int(connectionLifetime.rounded(.down)))
    }

    func subscriptionToken(userID: UUID, channel: String, now: Date) async throws -> (token: String, expiresAt: Date, expiresIn: Int) {
        let now = now.wholeSeconds
        let exp = now.addingTimeInterval(subscriptionLifetime.rounded(.down))
        let token = try await keys.sign(BrokerSubscriptionClaims(
            sub: .init(value: userID.uuidString.lowercased()), channel: channel,
            exp: .init(value: exp), iat: .init(value: now)))
        return (token, exp, Int(subscriptionLifetime.rounded(.down)))
    }
}

extension Date {
    /// JWT NumericDate values are integers for most verifiers (the broker included).
    var wholeSeconds: Date { Date(timeIntervalSince1970: timeIntervalSince1970.rounded(.down)) }
}
