import BrokerProtocol
import Crypto
import CryptoExtras
import Testing

@testable import Broker

// MARK: - Helpers

private let now: Int64 = 1_700_000_000

/// A JWS over `payload` (JSON text) with `header` (JSON text), signed by `sign`.
private func jws(header: String, payload: String, sign: ([UInt8]) -> [UInt8]) -> String {
    let input = TokenBase64.encodeURL(Array(header.utf8)) + "." + TokenBase64.encodeURL(Array(payload.utf8))
    return input + "." + TokenBase64.encodeURL(sign(Array(input.utf8)))
}

private func header(_ alg: String) -> String { #"{"alg":"\#(alg)","typ":"JWT"}"# }

/// Signs with swift-crypto's HMAC directly, independently of the code under test.
private func hs(_ alg: String, _ payload: String, secret: String) -> String {
    let key = SymmetricKey(data: Array(secret.utf8))
    return jws(header: header(alg), payload: payload) { input in
        switch alg {
        case "HS384": return Array(HMAC<SHA384>.authenticationCode(for: input, using: key))
        case "HS512": return Array(HMAC<SHA512>.authenticationCode(for: input, using: key))
        default: return Array(HMAC<SHA256>.authenticationCode(for: input, using: key))
        }
    }
}

private func rs(_ alg: String, _ payload: String, key: _RSA.Signing.PrivateKey) -> String {
    jws(header: header(alg), payload: payload) { input in
        let signature: _RSA.Signing.RSASignature
        switch alg {
        case "RS384": signature = try! key.signature(for: SHA384.hash(data: input), padding: .insecurePKCS1v1_5)
        case "RS512": signature = try! key.signature(for: SHA512.hash(data: input), padding: .insecurePKCS1v1_5)
        default: signature = try! key.signature(for: SHA256.hash(data: input), padding: .insecurePKCS1v1_5)
        }
        return Array(signature.rawRepresentation)
    }
}

/// Test keys, generated once per run.
private enum Keys {
    static let rsa = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    static let otherRSA = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    static let p256 = P256.Signing.PrivateKey()
    static let p384 = P384.Signing.PrivateKey()
    static let p521 = P521.Signing.PrivateKey()
}

private func config(
    hmac: String = "", rsa: String = "", ecdsa: String = "",
    _ adjust: (inout TokenConfig) -> Void = { _ in }
) -> TokenConfig {
    var config = TokenConfig()
    config.hmacSecretKey = hmac
    config.rsaPublicKey = rsa
    config.ecdsaPublicKey = ecdsa
    adjust(&config)
    return config
}

private func verifier(_ config: TokenConfig, skip: Bool = false) throws -> TokenVerifier {
    try TokenVerifier(config: config, skipSignatureVerify: skip)
}

private func hmacVerifier(_ adjust: (inout TokenConfig) -> Void = { _ in }) throws -> TokenVerifier {
    try verifier(config(hmac: "secret", adjust))
}

/// What a verification ended in, without the human-readable messages.
private enum Outcome: Equatable {
    case ok, expired, invalid, mismatch, unavailable
}

private func outcome<T>(_ result: Result<T, TokenError>) -> Outcome {
    switch result {
    case .success: return .ok
    case .failure(.expired): return .expired
    case .failure(.invalid): return .invalid
    case .failure(.claimsMismatch): return .mismatch
    case .failure(.unavailable): return .unavailable
    }
}

/// Verifies with the suspending call and, where it answers, checks that the immediate one agrees (so every
/// test through these helpers covers both paths).
private func connect(_ verifier: TokenVerifier, _ token: String, at time: Int64 = now) async -> Result<ConnectionClaims, TokenError> {
    let result: Result<ConnectionClaims, TokenError>
    do {
        result = .success(try await verifier.verifyConnectionToken(token, now: time))
    } catch {
        result = .failure(error)
    }
    if let immediate = verifier.verifyConnectionTokenImmediately(token, now: time) {
        #expect(immediate == result, "the immediate and the suspending verification disagree")
    }
    return result
}

private func subscribe(_ verifier: TokenVerifier, _ token: String, at time: Int64 = now) async -> Result<SubscriptionClaims, TokenError> {
    let result: Result<SubscriptionClaims, TokenError>
    do {
        result = .success(try await verifier.verifySubscriptionToken(token, now: time))
    } catch {
        result = .failure(error)
    }
    if let immediate = verifier.verifySubscriptionTokenImmediately(token, now: time) {
        #expect(immediate == result, "the immediate and the suspending verification disagree")
    }
    return result
}

private func configError(_ config: TokenConfig, prefix: String = "client.token") -> ConfigError? {
    do {
        _ = try TokenVerifier(config: config, configKeyPrefix: prefix)
        return nil
    } catch {
        return error
    }
}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

// MARK: - Without suspending

@Suite struct TokenVerifierImmediateTests {
    @Test("HS* tokens are verified without suspending, with the same claims", arguments: ["HS256", "HS384", "HS512"])
    func hmacImmediately(alg: String) async throws {
        let verifier = try hmacVerifier()
        let token = hs(alg, #"{"sub":"42","exp":1700000100,"info":{"a":1}}"#, secret: "secret")
        let immediate = try #require(verifier.verifyConnectionTokenImmediately(token, now: now))
        #expect(immediate == .success(try await verifier.verifyConnectionToken(token, now: now)))
        let sub = hs(alg, #"{"sub":"42","channel":"news"}"#, secret: "secret")
        #expect(try #require(verifier.verifySubscriptionTokenImmediately(sub, now: now)).map(\.channel) == .success("news"))
    }

    @Test("Failures are decided without suspending too: bad signature, expiry, unsupported algorithm")
    func hmacFailuresImmediately() throws {
        let verifier = try hmacVerifier()
        let forged = hs("HS256", #"{"sub":"42"}"#, secret: "other")
        #expect(try outcome(#require(verifier.verifyConnectionTokenImmediately(forged, now: now))) == .invalid)
        let expired = hs("HS256", #"{"sub":"42","exp":1600000000}"#, secret: "secret")
        #expect(try outcome(#require(verifier.verifyConnectionTokenImmediately(expired, now: now))) == .expired)
        let none = jws(header: header("none"), payload: #"{"sub":"42"}"#) { _ in [] }
        #expect(try outcome(#require(verifier.verifyConnectionTokenImmediately(none, now: now))) == .invalid)
    }

    @Test("RS*/ES* tokens need the suspending call (keys are built or fetched in the background)")
    func publicKeysNeedSuspension() async throws {
        let verifier = try verifier(config(rsa: Keys.rsa.publicKey.pemRepresentation))
        let token = rs("RS256", #"{"sub":"rsa-user"}"#, key: Keys.rsa)
        #expect(verifier.verifyConnectionTokenImmediately(token, now: now) == nil)
        #expect(try await verifier.verifyConnectionToken(token, now: now).user == "rsa-user")
    }

    @Test("With signatures not checked, any token is read without suspending")
    func skippedSignatureImmediately() throws {
        let verifier = try verifier(config(rsa: Keys.rsa.publicKey.pemRepresentation), skip: true)
        let token = rs("RS256", #"{"sub":"7"}"#, key: Keys.otherRSA)
        #expect(try #require(verifier.verifyConnectionTokenImmediately(token, now: now)).map(\.user) == .success("7"))
    }
}

// MARK: - HMAC

@Suite struct TokenVerifierHMACTests {
    @Test("HS256/384/512 tokens signed with a 6-byte secret verify and yield the user and exp", arguments: ["HS256", "HS384", "HS512"])
    func hmacAlgorithms(alg: String) async throws {
        let token = hs(alg, #"{"sub":"42","exp":1700000100}"#, secret: "secret")
        let claims = try await hmacVerifier().verifyConnectionToken(token, now: now)
        #expect(claims.user == "42")
        #expect(claims.expiresAt == 1_700_000_100)
        #expect(claims.expireAt == nil)
    }

    @Test("A token signed with another secret is invalid", arguments: ["HS256", "HS384", "HS512"])
    func wrongSecret(alg: String) async throws {
        let token = hs(alg, #"{"sub":"42"}"#, secret: "other")
        #expect(outcome(await connect(try hmacVerifier(), token)) == .invalid)
    }

    @Test("One verifier checks a run of different tokens, a forged one between them changing nothing", arguments: ["HS256", "HS384", "HS512"])
    func preparedKeyIsReused(alg: String) async throws {
        // The secret is prepared once and its hash state copied per token: a check must leave it untouched.
        let shared = try hmacVerifier()
        for user in ["1", "2", "3"] {
            let forged = hs(alg, #"{"sub":"\#(user)"}"#, secret: "other")
            #expect(outcome(await connect(shared, forged)) == .invalid)
            let claims = try await shared.verifyConnectionToken(hs(alg, #"{"sub":"\#(user)"}"#, secret: "secret"), now: now)
            #expect(claims.user == user)
        }
    }

    @Test("A token whose signature was cut short is invalid", arguments: ["HS256", "HS384", "HS512"])
    func truncatedSignature(alg: String) async throws {
        let token = hs(alg, #"{"sub":"42"}"#, secret: "secret")
        // 22 base64url characters = the first 16 bytes of the MAC.
        let cut = String(token[..<token.index(after: token.lastIndex(of: ".")!)]) + token.split(separator: ".")[2].prefix(22)
        #expect(outcome(await connect(try hmacVerifier(), cut)) == .invalid)
    }

    @Test("TokenMinter.hs256 produces a token the verifier accepts, with the standard header")
    func minterRoundTrip() async throws {
        let claims = JSONObject([("sub", .string("alice")), ("exp", .number("1700000500")), ("info", .object(JSONObject([("a", .number("1.50"))])))])
        let token = TokenMinter.hs256(claims: claims, secret: "secret")
        let verified = try await hmacVerifier().verifyConnectionToken(token, now: now)
        #expect(verified.user == "alice")
        #expect(verified.expiresAt == 1_700_000_500)
        #expect(verified.info == bytes(#"{"a":1.50}"#))
        let headerSegment = token.split(separator: ".")[0]
        #expect(TokenBase64.decodeURL(headerSegment.utf8) == bytes(#"{"alg":"HS256","typ":"JWT"}"#))
        #expect(outcome(await connect(try verifier(config(hmac: "other")), token)) == .invalid)
    }

    @Test("The previous HMAC key is accepted until hmac_previous_secret_key_valid_until, the current one always")
    func previousKeyRotation() async throws {
        let rotating = try verifier(config(hmac: "new-secret") {
            $0.hmacPreviousSecretKey = "old-secret"
            $0.hmacPreviousSecretKeyValidUntil = now + 60
        })
        let old = hs("HS256", #"{"sub":"1"}"#, secret: "old-secret")
        let new = hs("HS384", #"{"sub":"1"}"#, secret: "new-secret")
        let unknown = hs("HS256", #"{"sub":"1"}"#, secret: "unknown")
        #expect(outcome(await connect(rotating, old, at: now)) == .ok)
        #expect(outcome(await connect(rotating, old, at: now + 60)) == .ok)
        #expect(outcome(await connect(rotating, old, at: now + 61)) == .invalid)
        #expect(outcome(await connect(rotating, new, at: now + 61)) == .ok)
        #expect(outcome(await connect(rotating, unknown, at: now)) == .invalid)

        let unlimited = try verifier(config(hmac: "new-secret") { $0.hmacPreviousSecretKey = "old-secret" })
        #expect(outcome(await connect(unlimited, old, at: now + 1_000_000)) == .ok)
    }

    @Test("HS tokens are invalid when no HMAC secret is configured")
    func hmacWithoutSecret() async throws {
        let rsaOnly = try verifier(config(rsa: Keys.rsa.publicKey.pemRepresentation))
        #expect(outcome(await connect(rsaOnly, hs("HS256", #"{"sub":"1"}"#, secret: "secret"))) == .invalid)
    }
}

// MARK: - RSA / ECDSA

@Suite struct TokenVerifierPublicKeyTests {
    @Test("RS256/384/512 tokens verify with the configured RSA public key", arguments: ["RS256", "RS384", "RS512"])
    func rsaAlgorithms(alg: String) async throws {
        let verifier = try verifier(config(rsa: Keys.rsa.publicKey.pemRepresentation))
        let claims = try await verifier.verifyConnectionToken(rs(alg, #"{"sub":"rsa-user"}"#, key: Keys.rsa), now: now)
        #expect(claims.user == "rsa-user")
        #expect(outcome(await connect(verifier, rs(alg, #"{"sub":"x"}"#, key: Keys.otherRSA))) == .invalid)
    }

    @Test("ES256/384/512 tokens verify with a key of the matching curve", arguments: ["ES256", "ES384", "ES512"])
    func ecdsaAlgorithms(alg: String) async throws {
        let payload = #"{"sub":"ec-user"}"#
        let pem: String
        let token: String
        switch alg {
        case "ES256":
            pem = Keys.p256.publicKey.pemRepresentation
            token = jws(header: header(alg), payload: payload) { Array(try! Keys.p256.signature(for: $0).rawRepresentation) }
        case "ES384":
            pem = Keys.p384.publicKey.pemRepresentation
            token = jws(header: header(alg), payload: payload) { Array(try! Keys.p384.signature(for: $0).rawRepresentation) }
        default:
            pem = Keys.p521.publicKey.pemRepresentation
            token = jws(header: header(alg), payload: payload) { Array(try! Keys.p521.signature(for: $0).rawRepresentation) }
        }
        let verifier = try verifier(config(ecdsa: pem))
        #expect(try await verifier.verifyConnectionToken(token, now: now).user == "ec-user")

        var tamperedSignature = Array(token.utf8)
        tamperedSignature[tamperedSignature.count - 3] = tamperedSignature[tamperedSignature.count - 3] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(outcome(await connect(verifier, String(decoding: tamperedSignature, as: UTF8.self))) == .invalid)
    }

    @Test("An ES algorithm that does not match the key's curve is invalid")
    func ecdsaCurveMismatch() async throws {
        let verifier = try verifier(config(ecdsa: Keys.p256.publicKey.pemRepresentation))
        // P-256 signature labelled ES384.
        let token = jws(header: header("ES384"), payload: #"{"sub":"1"}"#) { Array(try! Keys.p256.signature(for: $0).rawRepresentation) }
        #expect(outcome(await connect(verifier, token)) == .invalid)
    }

    @Test("RS and ES tokens are invalid when their key family is not configured")
    func unconfiguredFamily() async throws {
        let hmacOnly = try hmacVerifier()
        #expect(outcome(await connect(hmacOnly, rs("RS256", #"{"sub":"1"}"#, key: Keys.rsa))) == .invalid)
        let rsaOnly = try verifier(config(rsa: Keys.rsa.publicKey.pemRepresentation))
        let es = jws(header: header("ES256"), payload: #"{"sub":"1"}"#) { Array(try! Keys.p256.signature(for: $0).rawRepresentation) }
        #expect(outcome(await connect(rsaOnly, es)) == .invalid)
    }

    @Test("HS256 signed with the RSA or ECDSA public key PEM as the secret is refused (algorithm confusion)")
    func algorithmConfusion() async throws {
        let rsaPEM = Keys.rsa.publicKey.pemRepresentation
        let ecPEM = Keys.p256.publicKey.pemRepresentation
        let forged = hs("HS256", #"{"sub":"admin"}"#, secret: rsaPEM)
        #expect(outcome(await connect(try verifier(config(rsa: rsaPEM)), forged)) == .invalid)
        #expect(outcome(await connect(try verifier(config(hmac: "secret", rsa: rsaPEM)), forged)) == .invalid)
        let forgedEC = hs("HS256", #"{"sub":"admin"}"#, secret: ecPEM)
        #expect(outcome(await connect(try verifier(config(ecdsa: ecPEM)), forgedEC)) == .invalid)
    }

    @Test("Unparsable PEM keys are config errors naming the key under the given prefix")
    func badPEM() {
        #expect(configError(config(rsa: "not a key"))?.key == "client.token.rsa_public_key")
        #expect(configError(config(ecdsa: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"))?.key == "client.token.ecdsa_public_key")
        // An EC key where an RSA key is expected, and the other way round.
        #expect(configError(config(rsa: Keys.p256.publicKey.pemRepresentation))?.key == "client.token.rsa_public_key")
        #expect(configError(config(ecdsa: Keys.rsa.publicKey.pemRepresentation), prefix: "client.subscription_token")?.key
            == "client.subscription_token.ecdsa_public_key")
        #expect(configError(config(rsa: Keys.rsa.publicKey.pemRepresentation, ecdsa: Keys.p384.publicKey.pemRepresentation)) == nil)
    }

    @Test("hasKeys is true when an HMAC, previous HMAC, RSA or ECDSA key is configured")
    func hasKeys() throws {
        #expect(try verifier(config()).hasKeys == false)
        #expect(try verifier(config(hmac: "s")).hasKeys)
        #expect(try verifier(config { $0.hmacPreviousSecretKey = "s" }).hasKeys)
        #expect(try verifier(config(rsa: Keys.rsa.publicKey.pemRepresentation)).hasKeys)
        #expect(try verifier(config(ecdsa: Keys.p521.publicKey.pemRepresentation)).hasKeys)
    }
}

// MARK: - Token structure and algorithms

@Suite struct TokenVerifierStructureTests {
    @Test("alg none, PS256, EdDSA, unknown or missing alg are invalid", arguments: ["none", "PS256", "EdDSA", "HS257", "hs256"])
    func unsupportedAlgorithms(alg: String) async throws {
        let unsigned = jws(header: header(alg), payload: #"{"sub":"1"}"#) { _ in [] }
        #expect(outcome(await connect(try hmacVerifier(), unsigned)) == .invalid)
        // Even with a valid HMAC over the content, a wrong alg label is refused.
        let key = SymmetricKey(data: bytes("secret"))
        let signed = jws(header: header(alg), payload: #"{"sub":"1"}"#) { Array(HMAC<SHA256>.authenticationCode(for: $0, using: key)) }
        #expect(outcome(await connect(try hmacVerifier(), signed)) == .invalid)
    }

    @Test("A header without alg is invalid")
    func missingAlg() async throws {
        let token = jws(header: #"{"typ":"JWT"}"#, payload: #"{"sub":"1"}"#) { _ in [] }
        #expect(outcome(await connect(try hmacVerifier(), token)) == .invalid)
    }

    @Test("A tampered payload or signature is invalid")
    func tampered() async throws {
        let verifier = try hmacVerifier()
        let token = hs("HS256", #"{"sub":"user"}"#, secret: "secret")
        #expect(outcome(await connect(verifier, token)) == .ok)
        let parts = token.split(separator: ".").map(String.init)
        let forgedPayload = TokenBase64.encodeURL(bytes(#"{"sub":"admin"}"#))
        #expect(outcome(await connect(verifier, [parts[0], forgedPayload, parts[2]].joined(separator: "."))) == .invalid)
        let otherSignature = TokenBase64.encodeURL([UInt8](repeating: 7, count: 32))
        #expect(outcome(await connect(verifier, [parts[0], parts[1], otherSignature].joined(separator: "."))) == .invalid)
    }

    @Test("Malformed tokens are invalid")
    func malformed() async throws {
        let verifier = try hmacVerifier()
        let good = hs("HS256", #"{"sub":"1"}"#, secret: "secret")
        let parts = good.split(separator: ".").map(String.init)
        let cases = [
            "",
            "garbage",
            parts[0] + "." + parts[1],                                   // two segments
            good + "." + parts[2],                                       // four segments
            parts[0] + "." + parts[1] + "*" + "." + parts[2],            // not base64url
            parts[0] + "." + parts[1] + "." + parts[2] + "=",            // padding
            " " + good,                                                  // does not start with eyJ
            hs("HS256", "not json", secret: "secret"),
            hs("HS256", "[1,2]", secret: "secret"),
            hs("HS256", #"{"sub":"1"} x"#, secret: "secret"),
            jws(header: #"["HS256"]"#, payload: #"{"sub":"1"}"#) { _ in [] },
        ]
        for token in cases {
            #expect(outcome(await connect(verifier, token)) == .invalid, "token: \(token)")
        }
    }

    @Test("Claims of the wrong type make the token invalid")
    func wrongTypes() async throws {
        let verifier = try hmacVerifier()
        let payloads = [
            #"{"sub":42}"#,
            #"{"exp":"soon"}"#,
            #"{"exp":true}"#,
            #"{"nbf":[1]}"#,
            #"{"iat":{}}"#,
            #"{"jti":1}"#,
            #"{"aud":5}"#,
            #"{"aud":["a",5]}"#,
            #"{"iss":false}"#,
            #"{"channels":"news"}"#,
            #"{"channels":["news",1]}"#,
            #"{"subs":["news"]}"#,
            #"{"subs":{"news":"x"}}"#,
            #"{"subs":{"news":{"override":{"presence":{"value":"yes"}}}}}"#,
            #"{"b64info":123}"#,
            #"{"expire_at":"1700000000"}"#,
            #"{"expire_at":1700000000.5}"#,
            #"{"channel":7}"#,
        ]
        for payload in payloads {
            #expect(outcome(await connect(verifier, hs("HS256", payload, secret: "secret"))) == .invalid, "payload: \(payload)")
        }
    }

    @Test("skipSignatureVerify accepts any signature and alg but still checks expiry and claims")
    func skipSignature() async throws {
        let skipping = try verifier(config(), skip: true)
        #expect(outcome(await connect(skipping, hs("HS256", #"{"sub":"1"}"#, secret: "whatever"))) == .ok)
        let unsigned = jws(header: header("none"), payload: #"{"sub":"2"}"#) { _ in [] }
        #expect(try await skipping.verifyConnectionToken(unsigned, now: now).user == "2")
        #expect(outcome(await connect(skipping, hs("HS256", #"{"exp":1600000000}"#, secret: "x"))) == .expired)
        #expect(outcome(await connect(skipping, hs("HS256", #"{"channel":"a"}"#, secret: "x"))) == .mismatch)
        #expect(outcome(await connect(skipping, "not.a.jwt")) == .invalid)
    }
}

// MARK: - Time claims

@Suite struct TokenVerifierTimeTests {
    @Test("exp in the past or equal to now is expired; exp after now is valid")
    func expiry() async throws {
        let verifier = try hmacVerifier()
        #expect(outcome(await connect(verifier, hs("HS256", #"{"exp":1699999999}"#, secret: "secret"))) == .expired)
        #expect(outcome(await connect(verifier, hs("HS256", #"{"exp":1700000000}"#, secret: "secret"))) == .expired)
        #expect(outcome(await connect(verifier, hs("HS256", #"{"exp":1700000001}"#, secret: "secret"))) == .ok)
        #expect(outcome(await subscribe(verifier, hs("HS256", #"{"channel":"a","exp":1699999000}"#, secret: "secret"))) == .expired)
    }

    @Test("nbf in the future is expired; nbf now or earlier is valid")
    func notBefore() async throws {
        let verifier = try hmacVerifier()
        #expect(outcome(await connect(verifier, hs("HS256", #"{"nbf":1700000001}"#, secret: "secret"))) == .expired)
        #expect(outcome(await connect(verifier, hs("HS256", #"{"nbf":1700000000}"#, secret: "secret"))) == .ok)
        #expect(outcome(await subscribe(verifier, hs("HS256", #"{"channel":"a","nbf":1800000000}"#, secret: "secret"))) == .expired)
    }

    @Test("Numeric dates may be floats, exponent notation or numeric strings")
    func floatDates() async throws {
        let verifier = try hmacVerifier()
        #expect(try await verifier.verifyConnectionToken(hs("HS256", #"{"exp":1.8e9}"#, secret: "secret"), now: now).expiresAt == 1_800_000_000)
        #expect(try await verifier.verifyConnectionToken(hs("HS256", #"{"exp":1700000100.75}"#, secret: "secret"), now: now).expiresAt == 1_700_000_100)
        #expect(try await verifier.verifyConnectionToken(hs("HS256", #"{"exp":"1700000200"}"#, secret: "secret"), now: now).expiresAt == 1_700_000_200)
        #expect(try await verifier.verifyConnectionToken(hs("HS256", #"{"exp":null}"#, secret: "secret"), now: now).expiresAt == nil)
        #expect(outcome(await connect(verifier, hs("HS256", #"{"exp":1.6e9}"#, secret: "secret"))) == .expired)
    }

    @Test("expire_at: absent → nil, 0 → never, integral floats accepted; exp still bounds validity")
    func expireAt() async throws {
        let verifier = try hmacVerifier()
        #expect(try await verifier.verifyConnectionToken(hs("HS256", #"{"exp":1700000100}"#, secret: "secret"), now: now).expireAt == nil)
        let never = try await verifier.verifyConnectionToken(hs("HS256", #"{"exp":1700000100,"expire_at":0}"#, secret: "secret"), now: now)
        #expect(never.expireAt == 0)
        #expect(never.expiresAt == 1_700_000_100)
        #expect(try await verifier.verifyConnectionToken(hs("HS256", #"{"expire_at":1.9e9}"#, secret: "secret"), now: now).expireAt == 1_900_000_000)
        #expect(outcome(await connect(verifier, hs("HS256", #"{"exp":1600000000,"expire_at":1900000000}"#, secret: "secret"))) == .expired)
    }
}

// MARK: - aud / iss

@Suite struct TokenVerifierAudienceIssuerTests {
    @Test("audience: string or array member must equal the configured value")
    func exactAudience() async throws {
        let verifier = try hmacVerifier { $0.audience = "app" }
        #expect(outcome(await connect(verifier, hs("HS256", #"{"aud":"app"}"#, secret: "secret"))) == .ok)
        #expect(outcome(await connect(verifier, hs("HS256", #"{"aud":["web","app"]}"#, secret: "secret"))) == .ok)
        #expect(outcome(await connect(verifier, hs("HS256", #"{"aud":"application"}"#, secret: "secret"))) == .mismatch)
        #expect(outcome(await connect(verifier, hs("HS256", #"{"aud":["web"]}"#, secret: "secret"))) == .mismatch)
        #expect(outcome(await connect(verifier, hs("HS256", #"{"sub":"1"}"#, secret: "secret"))) == .mismatch)
        #expect(outcome(await subscribe(verifier, hs("HS256", #"{"channel":"c","aud":"x"}"#, secret: "secret"))) == .mismatch)
    }

    @Test("audience_regex matches any audience member")
    func audienceRegex() async throws {
        let verifier = try hmacVerifier { $0.audienceRegex = "^app-(?P<tenant>[a-z]+)$" }
        #expect(outcome(await connect(verifier, hs("HS256", #"{"aud":"app-acme"}"#, secret: "secret"))) == .ok)
        #expect(outcome(await connect(verifier, hs("HS256", #"{"aud":["x","app-acme"]}"#, secret: "secret"))) == .ok)
        #expect(outcome(await connect(verifier, hs("HS256", #"{"aud":"app-123"}"#, secret: "secret"))) == .mismatch)
    }

    @Test("issuer must equal the configured value or match issuer_regex")
    func issuer() async throws {
        let exact = try hmacVerifier { $0.issuer = "https://auth.example.com" }
        #expect(outcome(await connect(exact, hs("HS256", #"{"iss":"https://auth.example.com"}"#, secret: "secret"))) == .ok)
        #expect(outcome(await connect(exact, hs("HS256", #"{"iss":"https://evil.example.com"}"#, secret: "secret"))) == .mismatch)
        #expect(outcome(await connect(exact, hs("HS256", #"{"sub":"1"}"#, secret: "secret"))) == .mismatch)

        let pattern = try hmacVerifier { $0.issuerRegex = #"\.example\.com$"# }
        #expect(outcome(await connect(pattern, hs("HS256", #"{"iss":"https://a.example.com"}"#, secret: "secret"))) == .ok)
        #expect(outcome(await connect(pattern, hs("HS256", #"{"iss":"https://example.org"}"#, secret: "secret"))) == .mismatch)
    }

    @Test("aud and iss are ignored when not configured")
    func unconfigured() async throws {
        let verifier = try hmacVerifier()
        #expect(outcome(await connect(verifier, hs("HS256", #"{"aud":["x"],"iss":"anyone"}"#, secret: "secret"))) == .ok)
    }

    @Test("A bad regex, or both exact and regex, is a config error naming the key")
    func configErrors() {
        #expect(configError(config(hmac: "s") { $0.audienceRegex = "(" })?.key == "client.token.audience_regex")
        #expect(configError(config(hmac: "s") { $0.issuerRegex = "[a-" }, prefix: "client.subscription_token")?.key
            == "client.subscription_token.issuer_regex")
        #expect(configError(config(hmac: "s") { $0.audience = "a"; $0.audienceRegex = "a" })?.key == "client.token.audience_regex")
        #expect(configError(config(hmac: "s") { $0.userIDClaim = "user.id" })?.key == "client.token.user_id_claim")
        #expect(configError(config(hmac: "s") { $0.audienceRegex = "^a$"; $0.issuer = "i"; $0.userIDClaim = "user_id" }) == nil)
    }
}

// MARK: - Connection claims

@Suite struct TokenVerifierConnectionClaimsTests {
    @Test("A channel claim in a connection token is a claims mismatch; an empty one is ignored")
    func channelClaim() async throws {
        let verifier = try hmacVerifier()
        #expect(outcome(await connect(verifier, hs("HS256", #"{"sub":"1","channel":"news"}"#, secret: "secret"))) == .mismatch)
        #expect(outcome(await connect(verifier, hs("HS256", #"{"sub":"1","channel":""}"#, secret: "secret"))) == .ok)
    }

    @Test("info is kept as raw JSON; b64info is decoded, marked binary and wins over info")
    func info() async throws {
        let verifier = try hmacVerifier()
        let json = try await verifier.verifyConnectionToken(
            hs("HS256", #"{"info": {"name" : "Alice", "n": 1.50, "big": 12345678901234567890}}"#, secret: "secret"), now: now)
        #expect(json.info == bytes(#"{"name":"Alice","n":1.50,"big":12345678901234567890}"#))
        #expect(json.infoIsBinary == false)

        let binary = try await verifier.verifyConnectionToken(
            hs("HS256", #"{"info":{"x":1},"b64info":"AAEC/w=="}"#, secret: "secret"), now: now)
        #expect(binary.info == [0, 1, 2, 255])
        #expect(binary.infoIsBinary)

        let none = try await verifier.verifyConnectionToken(hs("HS256", #"{"sub":"1"}"#, secret: "secret"), now: now)
        #expect(none.info == nil)
        #expect(none.meta == nil)
    }

    @Test("An undecodable b64info is invalid, but an expired token reports expiry first")
    func badBase64Info() async throws {
        let verifier = try hmacVerifier()
        #expect(outcome(await connect(verifier, hs("HS256", #"{"b64info":"!!!"}"#, secret: "secret"))) == .invalid)
        #expect(outcome(await connect(verifier, hs("HS256", #"{"b64info":"AAE"}"#, secret: "secret"))) == .invalid)
        #expect(outcome(await connect(verifier, hs("HS256", #"{"b64info":"!!!","exp":1}"#, secret: "secret"))) == .expired)
    }

    @Test("channels, subs (with info, data and override, in token order) and meta are returned")
    func channelsAndSubs() async throws {
        let payload = #"""
        {"sub":"u","channels":["news","chat:1"],"meta":{"plan":"pro"},
         "subs":{
           "chat:2":{"info":{"role":"mod"},"b64data":"aGk=","override":{"presence":{"value":true},"join_leave":{"value":false},
                     "force_push_join_leave":{"value":true},"force_positioning":{},"force_recovery":null}},
           "alerts":{"b64info":"AQ==","data":[1,2]},
           "empty":null
         }}
        """#
        let claims = try await hmacVerifier().verifyConnectionToken(hs("HS256", payload, secret: "secret"), now: now)
        #expect(claims.channels == ["news", "chat:1"])
        #expect(claims.meta == bytes(#"{"plan":"pro"}"#))
        #expect(claims.subs.map(\.channel) == ["chat:2", "alerts", "empty"])

        let chat = claims.subs[0]
        #expect(chat.info == bytes(#"{"role":"mod"}"#))
        #expect(chat.infoIsBinary == false)
        #expect(chat.data == bytes("hi"))
        #expect(chat.dataIsBinary)
        #expect(chat.override.presence == true)
        #expect(chat.override.joinLeave == false)
        #expect(chat.override.forcePushJoinLeave == true)
        #expect(chat.override.forcePositioning == false)
        #expect(chat.override.forceRecovery == nil)

        let alerts = claims.subs[1]
        #expect(alerts.info == [1])
        #expect(alerts.infoIsBinary)
        #expect(alerts.data == bytes("[1,2]"))
        #expect(alerts.dataIsBinary == false)
        #expect(alerts.override == SubscriptionOverride())

        #expect(claims.subs[2] == TokenSubscription(channel: "empty"))
    }

    @Test("user_id_claim reads the user from another claim instead of sub")
    func userIDClaim() async throws {
        let verifier = try hmacVerifier { $0.userIDClaim = "user_id" }
        #expect(try await verifier.verifyConnectionToken(hs("HS256", #"{"sub":"ignored","user_id":"u-7"}"#, secret: "secret"), now: now).user == "u-7")
        #expect(try await verifier.verifyConnectionToken(hs("HS256", #"{"user_id":12345678901234567890}"#, secret: "secret"), now: now).user == "12345678901234567890")
        #expect(try await verifier.verifyConnectionToken(hs("HS256", #"{"sub":"ignored"}"#, secret: "secret"), now: now).user == "")
        let subscription = try await verifier.verifySubscriptionToken(hs("HS256", #"{"channel":"c","user_id":"u-8"}"#, secret: "secret"), now: now)
        #expect(subscription.user == "u-8")
    }

    @Test("A token without sub is anonymous")
    func anonymous() async throws {
        #expect(try await hmacVerifier().verifyConnectionToken(hs("HS256", "{}", secret: "secret"), now: now).user == "")
    }
}

// MARK: - Subscription claims

@Suite struct TokenVerifierSubscriptionClaimsTests {
    @Test("A subscription token yields channel, client, user, info, data, override, exp and expire_at")
    func fields() async throws {
        let payload = #"""
        {"sub":"42","channel":"$private:1","client":"c-1","exp":1700000300,"expire_at":1700000200,
         "info":{"a":true},"b64data":"AP8=","override":{"force_recovery":{"value":true}}}
        """#
        let claims = try await hmacVerifier().verifySubscriptionToken(hs("HS512", payload, secret: "secret"), now: now)
        #expect(claims.user == "42")
        #expect(claims.channel == "$private:1")
        #expect(claims.client == "c-1")
        #expect(claims.expiresAt == 1_700_000_300)
        #expect(claims.expireAt == 1_700_000_200)
        #expect(claims.info == bytes(#"{"a":true}"#))
        #expect(claims.infoIsBinary == false)
        #expect(claims.data == [0, 255])
        #expect(claims.dataIsBinary)
        #expect(claims.override.forceRecovery == true)
        #expect(claims.override.presence == nil)
    }

    @Test("Subscription token defaults: no client, no payloads, no expiry")
    func defaults() async throws {
        let claims = try await hmacVerifier().verifySubscriptionToken(hs("HS256", #"{"channel":"news","data":{"k":"v"}}"#, secret: "secret"), now: now)
        #expect(claims.user == "")
        #expect(claims.client == "")
        #expect(claims.info == nil)
        #expect(claims.data == bytes(#"{"k":"v"}"#))
        #expect(claims.dataIsBinary == false)
        #expect(claims.expiresAt == nil)
        #expect(claims.expireAt == nil)
    }

    @Test("A subscription token without a channel is invalid")
    func missingChannel() async throws {
        let verifier = try hmacVerifier()
        #expect(outcome(await subscribe(verifier, hs("HS256", #"{"sub":"1"}"#, secret: "secret"))) == .invalid)
        #expect(outcome(await subscribe(verifier, hs("HS256", #"{"sub":"1","channel":""}"#, secret: "secret"))) == .invalid)
        #expect(outcome(await subscribe(verifier, hs("HS256", #"{"sub":"1","b64data":"%%"}"#, secret: "secret"))) == .invalid)
    }

    @Test("Subscription tokens are signature-checked like connection tokens")
    func signature() async throws {
        let verifier = try verifier(config(rsa: Keys.rsa.publicKey.pemRepresentation))
        #expect(outcome(await subscribe(verifier, rs("RS256", #"{"channel":"c"}"#, key: Keys.rsa))) == .ok)
        #expect(outcome(await subscribe(verifier, rs("RS256", #"{"channel":"c"}"#, key: Keys.otherRSA))) == .invalid)
        #expect(outcome(await subscribe(verifier, hs("HS256", #"{"channel":"c"}"#, secret: Keys.rsa.publicKey.pemRepresentation))) == .invalid)
    }
}

// MARK: - Base64

@Suite struct TokenBase64Tests {
    @Test("Standard base64 requires correct padding, skips CR/LF and refuses foreign characters")
    func standard() {
        #expect(TokenBase64.decodeStandard("aGVsbG8=") == bytes("hello"))
        #expect(TokenBase64.decodeStandard("aGVs\r\nbG8=") == bytes("hello"))
        #expect(TokenBase64.decodeStandard("aGVsbA==") == bytes("hell"))
        #expect(TokenBase64.decodeStandard("") == [])
        #expect(TokenBase64.decodeStandard("aGVsbG8") == nil)
        #expect(TokenBase64.decodeStandard("aGVsbA=") == nil)
        #expect(TokenBase64.decodeStandard("aGVsbG8=aGVs") == nil)
        #expect(TokenBase64.decodeStandard("aGV-bG8=") == nil)
        #expect(TokenBase64.decodeStandard("a===") == nil)
    }

    @Test("base64url segments are unpadded and round-trip")
    func url() {
        for length in 0..<10 {
            let data = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ 250) }
            let encoded = TokenBase64.encodeURL(data)
            #expect(!encoded.contains("="))
            #expect(TokenBase64.decodeURL(encoded.utf8) == data)
        }
        #expect(TokenBase64.decodeURL("-_8".utf8) == [0xFB, 0xFF])
        #expect(TokenBase64.decodeURL("+/8".utf8) == nil)
        #expect(TokenBase64.decodeURL("abcde".utf8) == nil)
    }
}
