import JWTKit

/// Checks a JWS signature against the keys of one token config.
///
/// The header's `alg` picks the key family; an algorithm whose family has no configured key,
/// and any algorithm outside HS/RS/ES 256/384/512 (`none`, PS*, EdDSA...), is refused.
struct JWTSignatureCheck: Sendable {
    /// The current HMAC secret and the previous one (rotation); nil when not configured.
    private let hmacKey: TokenHMAC.Key?
    private let previousHMACKey: TokenHMAC.Key?
    /// Unix seconds after which the previous secret stops being accepted; 0 = no limit.
    private let previousHMACSecretValidUntil: Int64
    /// jwt-kit's RS/ES verifiers, built once in the background (jwt-kit's key collection is an actor).
    private let publicKeyVerifiers: Task<[String: any JWTAlgorithm], Never>?
    /// When configured, RS*/ES* tokens are checked against this endpoint's keys instead of static ones.
    private let jwks: JWKSKeySource?

    let hasKeys: Bool

    init(config: TokenConfig, keyPrefix: String) throws(ConfigError) {
        hmacKey = config.hmacSecretKey.isEmpty ? nil : TokenHMAC.Key(secret: config.hmacSecretKey)
        previousHMACKey = config.hmacPreviousSecretKey.isEmpty ? nil : TokenHMAC.Key(secret: config.hmacPreviousSecretKey)
        previousHMACSecretValidUntil = config.hmacPreviousSecretKeyValidUntil
        let publicKeys = try TokenPublicKeys(rsaPEM: config.rsaPublicKey, ecdsaPEM: config.ecdsaPublicKey, keyPrefix: keyPrefix)
        publicKeyVerifiers = publicKeys.isEmpty ? nil : Task { await publicKeys.makeVerifiers() }
        let endpoint = config.jwksPublicEndpoint
        if endpoint.isEmpty {
            jwks = nil
        } else {
            guard ConfigLoader.isHTTPURL(endpoint) else {
                throw ConfigError(key: "\(keyPrefix).jwks_public_endpoint", message: "\"\(endpoint)\" is not an http(s) URL")
            }
            jwks = JWKSKeySource(endpoint: endpoint)
        }
        hasKeys = hmacKey != nil || previousHMACKey != nil || !publicKeys.isEmpty || jwks != nil
    }

    /// Throws `.invalid` unless `signature` is a valid `algorithm` signature of `signingInput`.
    func verify(
        algorithm: String, keyID: String, signingInput: ArraySlice<UInt8>, signature: [UInt8], now: Int64
    ) async throws(TokenError) {
        if let hash = TokenHMAC.Hash(algorithm: algorithm) {
            try verifyHMAC(hash, algorithm: algorithm, signingInput: signingInput, signature: signature, now: now)
            return
        }
        switch algorithm {
        case "RS256", "RS384", "RS512", "ES256", "ES384", "ES512":
            if let jwks {
                let verifier = try await jwks.verifier(kid: keyID, algorithm: algorithm)
                guard (try? verifier.verify(signature, signs: signingInput)) == true else {
                    throw .invalid("invalid token signature")
                }
                return
            }
            guard let verifier = await publicKeyVerifiers?.value[algorithm] else {
                throw .invalid("no key configured for JWT algorithm \(algorithm)")
            }
            guard (try? verifier.verify(signature, signs: signingInput)) == true else {
                throw .invalid("invalid token signature")
            }
        default:
            throw .invalid("unsupported JWT algorithm \"\(algorithm)\"")
        }
    }

    /// ``verify(algorithm:keyID:signingInput:signature:now:)`` for what needs no suspension: HS* tokens and
    /// refused algorithms. false (nothing checked) for RS*/ES*, whose keys are built or fetched in the background.
    func verifyImmediately(algorithm: String, signingInput: ArraySlice<UInt8>, signature: [UInt8], now: Int64) throws(TokenError) -> Bool {
        if let hash = TokenHMAC.Hash(algorithm: algorithm) {
            try verifyHMAC(hash, algorithm: algorithm, signingInput: signingInput, signature: signature, now: now)
            return true
        }
        switch algorithm {
        case "RS256", "RS384", "RS512", "ES256", "ES384", "ES512":
            return false
        default:
            throw .invalid("unsupported JWT algorithm \"\(algorithm)\"")
        }
    }

    /// The current secret first; the previous one (rotation) only while it is still valid.
    private func verifyHMAC(
        _ hash: TokenHMAC.Hash, algorithm: String, signingInput: ArraySlice<UInt8>, signature: [UInt8], now: Int64
    ) throws(TokenError) {
        let previous = previousHMACSecretValidUntil <= 0 || now <= previousHMACSecretValidUntil ? previousHMACKey : nil
        guard hmacKey != nil || previous != nil else {
            throw .invalid("no key configured for JWT algorithm \(algorithm)")
        }
        if let hmacKey, hmacKey.isValid(signature, hash, of: signingInput) {
            return
        }
        if let previous, previous.isValid(signature, hash, of: signingInput) {
            return
        }
        throw .invalid("invalid token signature")
    }
}
