import SecretPolicy

/// What the facade checks before it opens anything: its secrets, by the broker's rule (``SecretPolicy``), and
/// that an optional feature is configured whole or not at all.
///
/// - `FACADE_JWT_SECRET` signs session tokens, `BROKER_TOKEN_SECRET` the broker tokens the facade hands out.
///   A placeholder or a short one is a warning when the facade listens on loopback only (a developer's
///   machine) and stops it on any other address, where anyone who knows the placeholder could mint tokens.
/// - An empty one stops it on every address: nothing can be signed without it.
/// - `GOOGLE_CLIENT_ID` without `GOOGLE_JWKS_FILE` (or the reverse) stops it: half a setting is a mistake,
///   not a choice to leave Google sign-in off.
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
        switch (configuration.googleClientID, configuration.googleJWKS) {
        case (.some, nil):
            refusals.append(
                "GOOGLE_CLIENT_ID is set but GOOGLE_JWKS_FILE is not: set both (or --google-client-id and "
                    + "--google-jwks-file) to turn Google sign-in on, or neither to leave it off.")
        case (nil, .some):
            refusals.append(
                "GOOGLE_JWKS_FILE is set but GOOGLE_CLIENT_ID is not: set both (or --google-client-id and "
                    + "--google-jwks-file) to turn Google sign-in on, or neither to leave it off.")
        default:
            break
        }
        if !refusals.isEmpty { throw FacadeStartError(reasons: refusals) }
        return warnings
    }
}

/// The facade will not start; each reason names the setting and what to do.
public struct FacadeStartError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reasons: [String]

    public var description: String {
        reasons.map { "refusing to start: " + $0 }.joined(separator: "\n")
    }
}
