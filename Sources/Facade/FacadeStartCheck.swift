import Foundation
import SecretPolicy

/// What the facade checks before it opens anything: its secrets, by the broker's rule (``SecretPolicy``), and
/// that an optional feature is configured whole or not at all.
///
/// - `FACADE_JWT_SECRET` signs session tokens, `BROKER_TOKEN_SECRET` the broker tokens the facade hands out.
///   A placeholder or a short one is a warning when the facade listens on loopback only (a developer's
///   machine) and stops it on any other address, where anyone who knows the placeholder could mint tokens.
/// - An empty one stops it on every address: nothing can be signed without it.
/// - Google sign-in is on with `GOOGLE_CLIENT_ID`; its keys come from `GOOGLE_JWKS_URL` (default Google's) or
///   `GOOGLE_JWKS_FILE`. Either key setting without the client id, both at once, or a URL that is not https
///   (plain http is allowed on loopback only, for tests) stops it: a mistake, not a choice.
///
/// - `DATABASE_URL` must parse (``PostgresURL``): an unknown `sslmode` or parameter stops it.
///
/// Pure: tests call it with a configuration, no socket, no database.
public enum FacadeStartCheck {
    /// One secret the check judges.
    struct Secret {
        var variable: String
        var value: String
        /// What to do, as a clause: "set FACADE_JWT_SECRET (or --jwt-secret) to …".
        var remedy: String
    }

    static func secrets(of configuration: FacadeConfiguration) -> [Secret] {
        let minimum = SecretPolicy.Kind.key.minimumLength
        return [
            Secret(
                variable: "FACADE_JWT_SECRET", value: configuration.sessionSecret,
                remedy: "set FACADE_JWT_SECRET (or --jwt-secret) to at least \(minimum) random characters, "
                    + "e.g. from `openssl rand -hex 32`"),
            Secret(
                variable: "BROKER_TOKEN_SECRET", value: configuration.brokerTokenSecret,
                remedy: "give BROKER_TOKEN_SECRET (or --broker-token-secret) and the broker's "
                    + "client.token.hmac_secret_key the same value of at least \(minimum) random characters "
                    + "(\(SecretPolicy.howToGenerate))"),
        ]
    }

    /// Returns the warnings to log, or throws the reasons not to start, one sentence each.
    public static func check(_ configuration: FacadeConfiguration) throws(FacadeStartError) -> [String] {
        let host = configuration.host
        let exposed = !SecretPolicy.isLoopback(host: host)
        var refusals: [String] = []
        var warnings: [String] = []
        for secret in secrets(of: configuration) {
            guard let weakness = SecretPolicy.weakness(of: secret.value, kind: .key) else { continue }
            if secret.value.isEmpty {
                refusals.append("\(secret.variable) is not set: \(secret.remedy).")
            } else if exposed {
                refusals.append(
                    "\(secret.variable) \(weakness), and the facade listens on \(host), reachable from other machines: "
                        + "\(secret.remedy), or bind FACADE_HOST=127.0.0.1 for local development.")
            } else {
                warnings.append(
                    "\(secret.variable) \(weakness): accepted because the facade listens on \(host) (loopback only); "
                        + "it refuses it on any other address")
            }
        }
        do {
            _ = try PostgresURL.parse(configuration.databaseURL)
        } catch {
            refusals.append(error.description)
        }
        refusals += googleRefusals(configuration)
        if !refusals.isEmpty { throw FacadeStartError(reasons: refusals) }
        return warnings
    }
}

extension FacadeStartCheck {
    static let googleFlags = "GOOGLE_CLIENT_ID (--google-client-id)"

    static func googleRefusals(_ configuration: FacadeConfiguration) -> [String] {
        var refusals: [String] = []
        if configuration.googleClientID == nil {
            for (variable, value) in [("GOOGLE_JWKS_FILE", configuration.googleJWKS), ("GOOGLE_JWKS_URL", configuration.googleJWKSURL)]
            where value != nil {
                refusals.append(
                    "\(variable) is set but GOOGLE_CLIENT_ID is not: set \(googleFlags) to turn Google sign-in on, "
                        + "or unset \(variable) to leave it off.")
            }
        }
        if configuration.googleJWKS != nil, configuration.googleJWKSURL != nil {
            refusals.append(
                "GOOGLE_JWKS_FILE and GOOGLE_JWKS_URL are both set: Google's keys come from one of them; unset one.")
        }
        if let url = configuration.googleJWKSURL, let problem = jwksURLProblem(url) {
            refusals.append("GOOGLE_JWKS_URL \(url) \(problem).")
        }
        return refusals
    }

    /// Why `url` cannot serve Google's keys, or nil. Plain http only to a loopback host: keys fetched in clear
    /// text over a network could be replaced on the way.
    static func jwksURLProblem(_ url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else { return "is not an absolute URL (https://host/path)" }
        switch scheme {
        case "https":
            return nil
        case "http" where SecretPolicy.isLoopback(host: host):
            return nil
        case "http":
            return "is plain http to \(host): use https (plain http is accepted for loopback hosts only)"
        default:
            return "must be an https URL"
        }
    }
}

/// The facade will not start; each reason names the setting and what to do.
public struct FacadeStartError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reasons: [String]

    public var description: String {
        reasons.map { "refusing to start: " + $0 }.joined(separator: "\n")
    }
}
