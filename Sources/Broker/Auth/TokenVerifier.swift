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
        let read = try ReadConnectionToken(token)
        try await checkSignature(read.jwt, now: now)
        return try connectionClaims(read, now: now)
    }

    /// ``verifyConnectionToken(_:now:)`` without suspending, for the tokens whose signature can be checked on
    /// the spot (HS*, or any when signatures are not checked); nil for one that needs public keys, which are
    /// built or fetched in the background. Lets a connect be answered on its event loop without a task.
    public func verifyConnectionTokenImmediately(_ token: String, now: Int64) -> Result<ConnectionClaims, TokenError>? {
        immediately(token, now: now, read: ReadConnectionToken.init, jwt: \.jwt, claims: connectionClaims(_:now:))
    }

    public func verifySubscriptionToken(_ token: String, now: Int64) async throws(TokenError) -> SubscriptionClaims {
        let read = try ReadSubscriptionToken(token)
        try await checkSignature(read.jwt, now: now)
        return try subscriptionClaims(read, now: now)
    }

    /// ``verifySubscriptionToken(_:now:)`` without suspending; nil when it needs to (see
    /// ``verifyConnectionTokenImmediately(_:now:)``).
    public func verifySubscriptionTokenImmediately(_ token: String, now: Int64) -> Result<SubscriptionClaims, TokenError>? {
        immediately(token, now: now, read: ReadSubscriptionToken.init, jwt: \.jwt, claims: subscriptionClaims(_:now:))
    }

    /// Step 1, step 2 when it needs no suspension (else nil), then the rest, for either kind of token.
    private func immediately<Read, Claims>(
        _ token: String, now: Int64, read: (String) throws(TokenError) -> Read, jwt: KeyPath<Read, CompactJWT>,
        claims: (Read, Int64) throws(TokenError) -> Claims
    ) -> Result<Claims, TokenError>? {
        do throws(TokenError) {
            let read = try read(token)
            guard try checkSignatureImmediately(read[keyPath: jwt], now: now) else { return nil }
            return .success(try claims(read, now))
        } catch {
            return .failure(error)
        }
    }

    /// Step 1 for connection tokens: every claim read and type-checked.
    private struct ReadConnectionToken {
        let jwt: CompactJWT
        let reader: TokenClaimReader
        let registered: RegisteredTokenClaims
        let channel: String
        let expireAt: Int64?
        let info: PayloadClaim?
        let channels: [String]
        let subs: [PendingTokenSubscription]

        init(_ token: String) throws(TokenError) {
            jwt = try CompactJWT(token)
            reader = TokenClaimReader(jwt.claims)
            registered = try RegisteredTokenClaims(reader)
            channel = try reader.string("channel") ?? ""
            expireAt = try reader.integer("expire_at")
            info = try reader.payload(json: "info", base64: "b64info")
            channels = try reader.strings("channels") ?? []
            subs = try reader.subscriptions()
        }
    }

    /// Steps 3–5 for a connection token whose signature passed.
    private func connectionClaims(_ read: ReadConnectionToken, now: Int64) throws(TokenError) -> ConnectionClaims {
        try checkAudienceAndIssuer(read.registered)
        guard read.channel.isEmpty else {
            throw .claimsMismatch("connection token must not contain a channel claim, only subscription tokens can")
        }
        try read.registered.checkTime(now: now)

        var claims = ConnectionClaims()
        claims.user = user(read.reader, read.registered)
        claims.expiresAt = read.registered.expiresAtSeconds
        claims.expireAt = read.expireAt.map { max($0, 0) }
        claims.info = try read.info?.bytes()
        claims.infoIsBinary = read.info?.isBinary ?? false
        claims.channels = read.channels
        claims.subs = try read.subs.map { (pending) throws(TokenError) in try pending.decoded() }
        claims.meta = read.reader.rawJSON("meta")
        return claims
    }

    /// Step 1 for subscription tokens.
    private struct ReadSubscriptionToken {
        let jwt: CompactJWT
        let reader: TokenClaimReader
        let registered: RegisteredTokenClaims
        let channel: String
        let client: String
        let expireAt: Int64?
        let info: PayloadClaim?
        let data: PayloadClaim?
        let override: SubscriptionOverride

        init(_ token: String) throws(TokenError) {
            jwt = try CompactJWT(token)
            reader = TokenClaimReader(jwt.claims)
            registered = try RegisteredTokenClaims(reader)
            channel = try reader.string("channel") ?? ""
            client = try reader.string("client") ?? ""
            expireAt = try reader.integer("expire_at")
            info = try reader.payload(json: "info", base64: "b64info")
            data = try reader.payload(json: "data", base64: "b64data")
            override = try reader.override()
        }
    }

    /// Steps 3, 5 and 6 for a subscription token whose signature passed.
    private func subscriptionClaims(_ read: ReadSubscriptionToken, now: Int64) throws(TokenError) -> SubscriptionClaims {
        try checkAudienceAndIssuer(read.registered)
        try read.registered.checkTime(now: now)
        guard !read.channel.isEmpty else { throw .invalid("channel claim is required for subscription tokens") }

        var claims = SubscriptionClaims()
        claims.user = user(read.reader, read.registered)
        claims.channel = read.channel
        claims.client = read.client
        claims.expiresAt = read.registered.expiresAtSeconds
        claims.expireAt = read.expireAt.map { max($0, 0) }
        claims.info = try read.info?.bytes()
        claims.infoIsBinary = read.info?.isBinary ?? false
        claims.data = try read.data?.bytes()
        claims.dataIsBinary = read.data?.isBinary ?? false
        claims.override = read.override
        return claims
    }

    /// Step 2, unless signatures are not checked.
    private func checkSignature(_ jwt: CompactJWT, now: Int64) async throws(TokenError) {
        if skipSignatureVerify { return }
        try await signatureCheck.verify(
            algorithm: jwt.algorithm, keyID: jwt.keyID, signingInput: jwt.signingInput, signature: jwt.signature, now: now
        )
    }

    /// Step 2 when it can be done without suspending: false when it cannot (public keys).
    private func checkSignatureImmediately(_ jwt: CompactJWT, now: Int64) throws(TokenError) -> Bool {
        if skipSignatureVerify { return true }
        return try signatureCheck.verifyImmediately(
            algorithm: jwt.algorithm, signingInput: jwt.signingInput, signature: jwt.signature, now: now
        )
    }

    /// Step 3: the configured `aud`/`iss` expectations.
    private func checkAudienceAndIssuer(_ registered: RegisteredTokenClaims) throws(TokenError) {
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
