import Crypto

/// HS256/384/512 signing and verification with swift-crypto.
///
/// Done here rather than through jwt-kit because jwt-kit asserts on HMAC keys shorter than
/// 32 bytes in debug builds, while Centrifugo accepts any non-empty secret (users often have
/// secrets such as "secret").
enum TokenHMAC {
    enum Hash: Sendable {
        case sha256, sha384, sha512

        /// The hash of an `HS*` JWS algorithm name; nil for anything else.
        init?(algorithm: String) {
            switch algorithm {
            case "HS256": self = .sha256
            case "HS384": self = .sha384
            case "HS512": self = .sha512
            default: return nil
            }
        }
    }

    static func signature(_ hash: Hash, of input: ArraySlice<UInt8>, secret: String) -> [UInt8] {
        let key = SymmetricKey(data: Array(secret.utf8))
        switch hash {
        case .sha256: return Array(HMAC<SHA256>.authenticationCode(for: input, using: key))
        case .sha384: return Array(HMAC<SHA384>.authenticationCode(for: input, using: key))
        case .sha512: return Array(HMAC<SHA512>.authenticationCode(for: input, using: key))
        }
    }

    /// Constant-time check of `signature` against the MAC of `input` (a wrong length is simply invalid).
    static func isValid(_ signature: [UInt8], _ hash: Hash, of input: ArraySlice<UInt8>, secret: String) -> Bool {
        let key = SymmetricKey(data: Array(secret.utf8))
        switch hash {
        case .sha256: return HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: input, using: key)
        case .sha384: return HMAC<SHA384>.isValidAuthenticationCode(signature, authenticating: input, using: key)
        case .sha512: return HMAC<SHA512>.isValidAuthenticationCode(signature, authenticating: input, using: key)
        }
    }
}
