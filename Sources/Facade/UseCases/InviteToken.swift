import Crypto
import Foundation

/// The secret in an invite's link.
enum InviteToken {
    /// 32 random bytes, base64url: unguessable and URL-safe.
    static func make() -> String {
        let key = SymmetricKey(size: .bits256)
        let data = key.withUnsafeBytes { Data($0) }
        return data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
