import Crypto
import Foundation

/// The console's session: `adm1.<session id>.<expiry, unix seconds>.<HMAC-SHA256, base64url>`, signed
/// with `admin.secret`.
///
/// Its own format (not a JWT), so no client token — signed with another secret, or with none — can
/// ever pass for it. The session ID is random per sign-in and names the operator in the action log.
struct AdminSessionToken: Sendable, Equatable {
    /// A session lasts a working day; signing in again is cheap.
    static let lifetime: Int64 = 12 * 3600
    static let prefix = "adm1"

    var sessionID: String
    /// Unix seconds.
    var expiresAt: Int64

    static func issue(secret: String, now: Int64) -> (token: String, session: AdminSessionToken) {
        var random = SystemRandomNumberGenerator()
        let id = (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &random)) }.joined()
        let session = AdminSessionToken(sessionID: id, expiresAt: now + lifetime)
        return (session.signed(secret: secret), session)
    }

    func signed(secret: String) -> String {
        let body = "\(AdminSessionToken.prefix).\(sessionID).\(expiresAt)"
        return body + "." + TokenBase64.encodeURL(AdminSessionToken.mac(body, secret: secret))
    }

    /// The session in `token` if its signature is right and it has not expired.
    static func verify(_ token: String, secret: String, now: Int64) -> AdminSessionToken? {
        guard !secret.isEmpty else { return nil }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == prefix, parts[1].count == 16, parts[1].allSatisfy(\.isHexDigit),
            let expiry = Int64(parts[2]), let mac = TokenBase64.decodeURL(parts[3].utf8)
        else { return nil }
        let body = parts[0..<3].joined(separator: ".")
        let key = SymmetricKey(data: Array(secret.utf8))
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Array(body.utf8), using: key) else { return nil }
        guard expiry > now else { return nil }
        return AdminSessionToken(sessionID: String(parts[1]), expiresAt: expiry)
    }

    private static func mac(_ body: String, secret: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(body.utf8), using: SymmetricKey(data: Array(secret.utf8))))
    }
}
