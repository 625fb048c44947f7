import Crypto
import JWTKit

/// The RSA and ECDSA public keys of a token config, parsed by jwt-kit.
///
/// Each key is bound to the JWS algorithms it may verify: the RSA key to RS256/384/512, the
/// ECDSA key to the one ES algorithm of its curve (P-256 → ES256, P-384 → ES384, P-521 → ES512),
/// as Centrifugo's verifier does. An HMAC algorithm is never bound to these keys, which rules out
/// the RS/HS algorithm-confusion attack by construction.
struct TokenPublicKeys: Sendable {
    enum ECDSAKey: Sendable {
        case p256(ES256PublicKey)
        case p384(ES384PublicKey)
        case p521(ES512PublicKey)
    }

    let rsa: JWTKit.Insecure.RSA.PublicKey?
    let ecdsa: ECDSAKey?

    /// Parses the PEM texts ("" = not configured). Accepts a `PUBLIC KEY` block or a certificate,
    /// like Centrifugo. RSA keys below 2048 bits are refused by jwt-kit.
    init(rsaPEM: String, ecdsaPEM: String, keyPrefix: String) throws(ConfigError) {
        rsa = try Self.parseRSA(rsaPEM, key: "\(keyPrefix).rsa_public_key")
        ecdsa = try Self.parseECDSA(ecdsaPEM, key: "\(keyPrefix).ecdsa_public_key")
    }

    var isEmpty: Bool { rsa == nil && ecdsa == nil }

    /// jwt-kit verifiers keyed by JWS algorithm name.
    ///
    /// jwt-kit hands out its verifiers only through the `JWTKeyCollection` actor, hence async.
    /// Every algorithm is registered under its own `kid` and read back by that `kid`, so a
    /// collection's fallback to its default key can never pair an algorithm with the wrong key.
    func makeVerifiers() async -> [String: any JWTAlgorithm] {
        let collection = JWTKeyCollection()
        var verifiers: [String: any JWTAlgorithm] = [:]
        if let rsa {
            let digests: [(String, DigestAlgorithm)] = [("RS256", .sha256), ("RS384", .sha384), ("RS512", .sha512)]
            for (name, digest) in digests {
                let kid = JWKIdentifier(string: name)
                await collection.add(rsa: rsa, digestAlgorithm: digest, kid: kid)
                verifiers[name] = try? await collection.getKey(for: kid)
            }
        }
        if let ecdsa {
            let name: String
            switch ecdsa {
            case .p256(let key):
                name = "ES256"
                await collection.add(ecdsa: key, kid: JWKIdentifier(string: name))
            case .p384(let key):
                name = "ES384"
                await collection.add(ecdsa: key, kid: JWKIdentifier(string: name))
            case .p521(let key):
                name = "ES512"
                await collection.add(ecdsa: key, kid: JWKIdentifier(string: name))
            }
            verifiers[name] = try? await collection.getKey(for: JWKIdentifier(string: name))
        }
        return verifiers
    }

    private static func parseRSA(_ pem: String, key: String) throws(ConfigError) -> JWTKit.Insecure.RSA.PublicKey? {
        let pem = trimmed(pem)
        guard !pem.isEmpty else { return nil }
        if let parsed = try? JWTKit.Insecure.RSA.PublicKey(pem: pem) { return parsed }
        if let parsed = try? JWTKit.Insecure.RSA.PublicKey(certificatePEM: pem) { return parsed }
        throw ConfigError(
            key: key,
            message: "not a PEM encoded RSA public key or certificate of at least 2048 bits"
        )
    }

    private static func parseECDSA(_ pem: String, key: String) throws(ConfigError) -> ECDSAKey? {
        let pem = trimmed(pem)
        guard !pem.isEmpty else { return nil }
        if let parsed = try? ES256PublicKey(pem: pem) { return .p256(parsed) }
        if let parsed = try? ES384PublicKey(pem: pem) { return .p384(parsed) }
        if let parsed = try? ES512PublicKey(pem: pem) { return .p521(parsed) }
        if let parsed = try? ES256PublicKey(certificate: pem) { return .p256(parsed) }
        if let parsed = try? ES384PublicKey(certificate: pem) { return .p384(parsed) }
        if let parsed = try? ES512PublicKey(certificate: pem) { return .p521(parsed) }
        throw ConfigError(
            key: key,
            message: "not a PEM encoded ECDSA (P-256, P-384 or P-521) public key or certificate"
        )
    }

    private static func trimmed(_ text: String) -> String {
        String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
