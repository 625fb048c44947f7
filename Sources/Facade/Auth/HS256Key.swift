import JWTKit

/// The HS256 key for a secret, as the broker (and any JWT library) computes it.
///
/// JWTKit asserts that an HMAC key is at least as long as the hash (32 bytes). The start check refuses shorter
/// secrets on any address other machines can reach; on loopback it only warns, and then the secret is padded
/// with zero bytes to 32. HMAC pads every key shorter than its 64-byte block with zeros (RFC 2104 §2), so the
/// padded key signs exactly as the secret itself does: tokens still verify with the broker's
/// `client.token.hmac_secret_key`.
enum HS256Key {
    static let minimumBytes = 32

    static func bytes(_ secret: String) -> [UInt8] {
        let raw = Array(secret.utf8)
        return raw.count >= minimumBytes ? raw : raw + [UInt8](repeating: 0, count: minimumBytes - raw.count)
    }

    static func make(_ secret: String) -> HMACKey {
        HMACKey(from: bytes(secret))
    }
}
