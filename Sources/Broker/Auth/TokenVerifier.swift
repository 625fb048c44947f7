/// Verifies Centrifugo-style connection and subscription JWTs against one `TokenConfig`
/// (`client.token`, or `client.subscription_token` when that is enabled).
///
/// Steps, in Centrifugo's order (it decides which error a token with several faults gets):
/// 1. split and decode; every known claim must have its type → `.invalid`;
/// 2. signature, unless `skipSignatureVerify` → `.invalid`;
/// 3. `aud` / `iss` when configured → `.claimsMismatch`;
/// 4. connection tokens only: a `channel` claim → `.claimsMismatch`;
/// 5. `exp` reached or `nbf` in the future → `.expired`;
/// 6. subscription tokens only: `channel` missing → `.invalid`; bad `b64info`/`b64data` → `.invalid`.
///
/// HS* tokens are checked with the HMAC secrets only (swift-crypto), RS*/ES* with the configured
/// public keys only (jwt-kit), so no key ever serves two algorithm families.
public final class TokenVerifier: Sendable {
    private let signatureCheck: JWTSignatureCheck
    private let audience: TokenClaimMatcher?
    private let issuer: TokenClaimMatcher?
    /// "" = `sub`.
    private let userIDClaim: String
    private let skipSignatureVerify: Bool

    /// Throws ConfigError naming the key (e.g. "client.token.rsa_public_key") for unparsable PEM or bad regex.
    public init(config: TokenConfig, configKeyPrefix: String = "client.token", skipSignatureVerify: Bool = false) throws(ConfigError) {
        let prefix = configKeyPrefix
        if !config.userIDClaim.isEmpty, !config.userIDClaim.utf8.allSatisfy(Self.isClaimNameByte) {
            throw ConfigError(key: "\(prefix).user_id_claim", message: "\"\(config.userIDClaim)\" must match ^[a-zA-Z_]+$")
        }
        signatureCheck = try JWTSignatureCheck(config: config, keyPrefix: prefix)
        audience = try TokenClaimMatcher(
            exact: config.audience, regex: config.audienceRegex,
            exactKey: "\(prefix).audience", regexKey: "\(prefix).audience_regex"
        )
        issuer = try TokenClaimMatcher(
            exact: config.issuer, regex: config.issuerRegex,
            exactKey: "\(prefix).issuer", regexKey: "\(prefix).issuer_regex"
        )
        userIDClaim = config.userIDClaim
        self.skipSignatureVerify = skipSignatureVerify
    }

    /// true when at least one key (HMAC, including a previous HMAC key, RSA or ECDSA) is configured.
    public var hasKeys: Bool { signatureCheck.hasKeys }

    /// `now` = unix seconds. user from `sub` or config.userIDClaim.
    public func verifyConnectionToken(_ token: String, now: Int64) async throws(TokenError) -> ConnectionClaims {
        let jwt = try CompactJWT(token)
        let reader = TokenClaimReader(jwt.claims)
        let registered = try RegisteredTokenClaims(reader)
        let channel = try reader.string("channel") ?? ""
        let expireAt = try reader.integer("expire_at")
        let info = try reader.payload(json: "info", base64: "b64info")
        let channels = try reader.strings("channels") ?? []
        let subs = try reader.subscriptions()

        try await authenticate(jwt, registered, now: now)
        guard channel.isEmpty else {
            throw .claimsMismatch("connection token must not contain a channel claim, only subscription tokens can")
        }
        try registered.checkTime(now: now)

        var claims = ConnectionClaims()
        claims.user = user(reader, registered)
        claims.expiresAt = registered.expiresAtSeconds
        claims.expireAt = expireAt.map { max($0, 0) }
        claims.info = try info?.bytes()
        claims.infoIsBinary = info?.isBinary ?? false
        claims.channels = channels
        claims.subs = try subs.map { (pending) throws(TokenError) in try pending.decoded() }
        claims.meta = reader.rawJSON("meta")
        return claims
    }

    public func verifySubscriptionToken(_ token: String, now: Int64) async throws(TokenError) -> SubscriptionClaims {
        let jwt = try CompactJWT(token)
        let reader = TokenClaimReader(jwt.claims)
        let registered = try RegisteredTokenClaims(reader)
        let channel = try reader.string("channel") ?? ""
        let client = try reader.string("client") ?? ""
        let expireAt = try reader.integer("expire_at")
        let info = try reader.payload(json: "info", base64: "b64info")
        let data = try reader.payload(json: "data", base64: "b64data")
        let override = try reader.override()

        try await authenticate(jwt, registered, now: now)
        try registered.checkTime(now: now)
        guard !channel.isEmpty else { throw .invalid("channel claim is required for subscription tokens") }

        var claims = SubscriptionClaims()
        claims.user = user(reader, registered)
        claims.channel = channel
        claims.client = client
        claims.expiresAt = registered.expiresAtSeconds
        claims.expireAt = expireAt.map { max($0, 0) }
        claims.info = try info?.bytes()
        claims.infoIsBinary = info?.isBinary ?? false
        claims.data = try data?.bytes()
        claims.dataIsBinary = data?.isBinary ?? false
        claims.override = override
        return claims
    }

    /// Signature (unless skipped), then the configured `aud`/`iss` expectations.
    private func authenticate(_ jwt: CompactJWT, _ registered: RegisteredTokenClaims, now: Int64) async throws(TokenError) {
        if !skipSignatureVerify {
            try await signatureCheck.verify(
                algorithm: jwt.algorithm, keyID: jwt.keyID, signingInput: jwt.signingInput, signature: jwt.signature, now: now
            )
        }
        if let audience, !(registered.audience ?? []).contains(where: audience.matches) {
            throw .claimsMismatch("token audience does not match")
        }
        if let issuer, !issuer.matches(registered.issuer ?? "") {
            throw .claimsMismatch("token issuer does not match")
        }
    }

    private func user(_ reader: TokenClaimReader, _ registered: RegisteredTokenClaims) -> String {
        userIDClaim.isEmpty ? registered.subject : reader.userID(claim: userIDClaim)
    }

    private static func isClaimNameByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || byte == UInt8(ascii: "_")
    }
}
