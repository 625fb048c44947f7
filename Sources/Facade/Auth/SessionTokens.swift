import Foundation
import Hummingbird
import JWTKit

/// Claims of the facade's own session JWT (HS256).
struct SessionClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var iat: IssuedAtClaim

    /// Expiry is checked by `SessionTokens.authenticate` against the facade's clock.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Issues and verifies session tokens.
public struct SessionTokens: Sendable {
    let keys: JWTKeyCollection
    let lifetime: TimeInterval
    /// The facade's clock, for issuing and for expiry checks.
    let now: @Sendable () -> Date

    public init(secret: String, lifetime: TimeInterval, now: @escaping @Sendable () -> Date = { Date() }) async {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HS256Key.make(secret), digestAlgorithm: .sha256)
        self.keys = keys
        self.lifetime = lifetime
        self.now = now
    }

    func issue(userID: UUID) async throws -> String {
        let now = self.now().wholeSeconds
        return try await keys.sign(SessionClaims(
            sub: .init(value: userID.uuidString.lowercased()),
            exp: .init(value: now.addingTimeInterval(lifetime)),
            iat: .init(value: now)))
    }

    /// The user id of a valid `Authorization: Bearer <token>` header, else 401.
    func authenticate(_ request: Request) async throws -> UUID {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw APIError.unauthenticated
        }
        let token = String(header.dropFirst("bearer ".count)).trimmed
        do {
            let claims = try await keys.verify(token, as: SessionClaims.self)
            try claims.exp.verifyNotExpired(currentDate: now())
            guard let id = UUID(uuidString: claims.sub.value) else { throw APIError.unauthenticated }
            return id
        } catch {
            throw APIError.unauthenticated
        }
    }
}
