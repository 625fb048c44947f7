import Crypto
import Foundation
import JWTKit
import Testing

@testable import Facade

/// The facade's start check (pure: no socket, no database) and the short-key HMAC it relies on.
@Suite("Start check")
struct StartCheckTests {
    static let strong = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    static let placeholder = "dev-only-session-secret-change-me-0123456789"

    static func configuration(host: String, session: String = strong, broker: String = strong) -> FacadeConfiguration {
        var configuration = FacadeConfiguration(
            databaseURL: "postgres://u@127.0.0.1/db", brokerTokenSecret: broker, sessionSecret: session)
        configuration.host = host
        return configuration
    }

    static func refusal(_ configuration: FacadeConfiguration) -> FacadeStartError? {
        do {
            _ = try FacadeStartCheck.check(configuration)
            return nil
        } catch {
            return error
        }
    }

    @Test("binds loopback by default")
    func defaultHost() {
        #expect(Self.configuration(host: "x").host == "x")
        #expect(FacadeConfiguration(databaseURL: "", brokerTokenSecret: "", sessionSecret: "").host == "127.0.0.1")
    }

    @Test("a weak secret on a non-loopback address stops the facade, naming the setting in one sentence", arguments: ["0.0.0.0", "::", "10.1.2.3"])
    func refusedWhenExposed(host: String) throws {
        let error = try #require(Self.refusal(Self.configuration(host: host, session: Self.placeholder)))
        #expect(error.reasons.count == 1)
        let reason = try #require(error.reasons.first)
        #expect(reason.hasPrefix("FACADE_JWT_SECRET is a placeholder (\"dev-only-"), "\(reason)")
        #expect(reason.contains("listens on \(host),"))
        #expect(reason.contains("`openssl rand -hex 32`"))
        #expect(reason.contains("--jwt-secret"))
        #expect(!reason.contains("\n") && reason.hasSuffix("."))
        #expect(error.description == "refusing to start: " + reason)

        let short = try #require(Self.refusal(Self.configuration(host: host, broker: "0123456789")))
        #expect(short.reasons.count == 1)
        #expect(short.reasons[0].hasPrefix("BROKER_TOKEN_SECRET has 10 characters; at least 32 are needed"))
        #expect(short.reasons[0].contains("client.token.hmac_secret_key"))

        let both = try #require(Self.refusal(Self.configuration(host: host, session: "secret", broker: "change-me")))
        #expect(both.reasons.count == 2)
    }

    @Test("on loopback a weak secret is a warning", arguments: ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
    func warnedOnLoopback(host: String) throws {
        let warnings = try FacadeStartCheck.check(Self.configuration(host: host, session: Self.placeholder, broker: "short"))
        #expect(warnings.count == 2)
        #expect(warnings[0].hasPrefix("FACADE_JWT_SECRET is a placeholder"))
        #expect(warnings[1].hasPrefix("BROKER_TOKEN_SECRET has 5 characters"))
        #expect(warnings.allSatisfy { $0.contains("loopback only") })
    }

    @Test("strong secrets: no warning on any address")
    func strongSecrets() throws {
        #expect(try FacadeStartCheck.check(Self.configuration(host: "0.0.0.0")).isEmpty)
        #expect(try FacadeStartCheck.check(Self.configuration(host: "127.0.0.1")).isEmpty)
    }

    @Test("an unset secret stops the facade on every address")
    func unsetSecret() throws {
        for host in ["127.0.0.1", "0.0.0.0"] {
            let error = try #require(Self.refusal(Self.configuration(host: host, broker: "")))
            #expect(error.reasons == [
                "BROKER_TOKEN_SECRET is not set: give BROKER_TOKEN_SECRET (or --broker-token-secret) and the broker's "
                    + "client.token.hmac_secret_key the same value of at least 32 random characters "
                    + "(`broker genconfig -c new.json` writes fresh ones, or `openssl rand -hex 32`).",
            ])
        }
    }

    @Test("Google sign-in: the client id alone turns it on (keys from Google's URL); a key setting without it, both key settings, or a non-https URL stop the facade")
    func googleSettings() throws {
        var configuration = Self.configuration(host: "127.0.0.1")
        configuration.googleClientID = "id"
        #expect(Self.refusal(configuration) == nil)
        configuration.googleJWKS = #"{"keys":[]}"#
        #expect(Self.refusal(configuration) == nil)
        configuration.googleJWKSURL = "https://keys.example.com/certs"
        #expect(Self.refusal(configuration)?.reasons == [
            "GOOGLE_JWKS_FILE and GOOGLE_JWKS_URL are both set: Google's keys come from one of them; unset one."
        ])
        configuration.googleJWKS = nil
        #expect(Self.refusal(configuration) == nil)
        configuration.googleJWKSURL = "http://127.0.0.1:9999/certs"
        #expect(Self.refusal(configuration) == nil)  // plain http to loopback: tests
        configuration.googleJWKSURL = "http://keys.example.com/certs"
        #expect(Self.refusal(configuration)?.reasons == [
            "GOOGLE_JWKS_URL http://keys.example.com/certs is plain http to keys.example.com: use https "
                + "(plain http is accepted for loopback hosts only)."
        ])
        configuration.googleJWKSURL = "certs.json"
        #expect(Self.refusal(configuration)?.reasons.first?.hasPrefix("GOOGLE_JWKS_URL certs.json is not an absolute URL") == true)
        configuration.googleJWKSURL = nil
        configuration.googleClientID = nil
        configuration.googleJWKS = #"{"keys":[]}"#
        #expect(Self.refusal(configuration)?.reasons.first?.hasPrefix("GOOGLE_JWKS_FILE is set but GOOGLE_CLIENT_ID is not") == true)
        configuration.googleJWKS = nil
        configuration.googleJWKSURL = "https://keys.example.com/certs"
        #expect(Self.refusal(configuration)?.reasons.first?.hasPrefix("GOOGLE_JWKS_URL is set but GOOGLE_CLIENT_ID is not") == true)
    }

    @Test("an unknown sslmode in DATABASE_URL stops the facade before it connects, naming the accepted modes")
    func unknownSSLMode() {
        var configuration = Self.configuration(host: "127.0.0.1")
        configuration.databaseURL = "postgres://u@127.0.0.1/db?sslmode=verify_full"
        #expect(Self.refusal(configuration)?.description
            == "refusing to start: DATABASE_URL sslmode=verify_full is not a known mode: use one of disable, prefer, require, verify-ca, verify-full.")
    }

    @Test("a short secret accepted on loopback signs exactly as the broker computes HMAC with it")
    func shortKeyInteroperates() async throws {
        let secret = "short"
        let tokens = await BrokerTokens(secret: secret, connectionLifetime: 60, subscriptionLifetime: 60)
        let (token, _, _) = try await tokens.connectionToken(userID: UUID(), now: Date())
        let parts = token.split(separator: ".").map(String.init)
        try #require(parts.count == 3)
        // What any verifier holding the raw 5-byte secret computes (RFC 7515: HMAC over "header.payload").
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data((parts[0] + "." + parts[1]).utf8), using: SymmetricKey(data: Data(secret.utf8)))
        #expect(Data(base64URL: parts[2]) == Data(mac))
        #expect(HS256Key.bytes(secret).count == 32)
        #expect(HS256Key.bytes(Self.strong) == Array(Self.strong.utf8))
    }
}
