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

    /// A secret prepared once for verification: the keyed hash states of each SHA-2 size, copied for every token
    /// instead of building a `SymmetricKey` and hashing the padded key again (that was most of a token check's cost
    /// when clients connect at a high rate).
    struct Key: Sendable {
        private let sha256: HMAC<SHA256>
        private let sha384: HMAC<SHA384>
        private let sha512: HMAC<SHA512>

        init(secret: String) {
            let key = SymmetricKey(data: Array(secret.utf8))
            sha256 = HMAC(key: key)
            sha384 = HMAC(key: key)
            sha512 = HMAC(key: key)
        }

        /// Constant-time check of `signature` against the MAC of `input` (a wrong length is simply invalid).
        func isValid(_ signature: [UInt8], _ hash: Hash, of input: ArraySlice<UInt8>) -> Bool {
            switch hash {
            case .sha256: return Self.isValid(signature, sha256, input)
            case .sha384: return Self.isValid(signature, sha384, input)
            case .sha512: return Self.isValid(signature, sha512, input)
            }
        }

        private static func isValid<H: HashFunction>(_ signature: [UInt8], _ prepared: HMAC<H>, _ input: ArraySlice<UInt8>) -> Bool {
            var mac = prepared
            input.withUnsafeBytes { mac.update(data: $0) }
            // `==` against bytes is swift-crypto's constant-time comparison.
            return mac.finalize() == signature
        }
    }
}
