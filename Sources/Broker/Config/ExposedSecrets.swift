import SecretPolicy

/// The start-up rule for secrets: a secret that guards a listener other machines can reach must be strong.
///
/// Each secret is judged by the listener that serves what it guards: the HMAC token keys by the client
/// port, the API key and the console's password and secret by the port that serves the API and the console
/// (the internal port when `http_server.internal_port` is set, plus the client port with `*.external`).
/// A weak secret on a listener bound to loopback only is a warning (a developer's machine); on any other
/// address the broker refuses to start, naming each key, its environment variable and how to make one.
public enum ExposedSecrets {
    /// One secret that failed ``SecretPolicy``.
    public struct Finding: Sendable, Equatable {
        /// Dotted config key, e.g. `http_api.key`.
        public var key: String
        /// Why it is weak ("is empty", "is a placeholder (…)", "has 9 characters; …").
        public var weakness: String
        /// What the secret guards, for the message ("the server API").
        public var guards: String
        /// The non-loopback `host:port` listeners that serve it; empty when every one is loopback.
        public var exposedOn: [String]
        /// The least number of characters a good value has.
        public var minimumLength: Int

        public var isExposed: Bool { !exposedOn.isEmpty }

        /// The environment variable that sets `key` (`CENTRIFUGO_` + the upper-cased path).
        public var environmentVariable: String {
            "CENTRIFUGO_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
        }

        /// The refusal, in one sentence that says what to do.
        public var refusal: String {
            "\(key) \(weakness), and \(guards) listens on \(exposedOn.joined(separator: " and ")), reachable from other "
                + "machines: set a random value of at least \(minimumLength) characters in the config or in "
                + "\(environmentVariable) (\(SecretPolicy.howToGenerate)), or bind to 127.0.0.1 for local development."
        }

        /// The warning logged when every listener serving it is loopback.
        public var warning: String {
            "\(key) \(weakness): accepted because \(guards) listens on loopback only; "
                + "the broker refuses it on any other address"
        }
    }

    /// Every weak secret in use, in config order.
    public static func findings(in config: BrokerConfig) -> [Finding] {
        let clients = [config.clientListener]
        var candidates: [(key: String, value: String, kind: SecretPolicy.Kind, guards: String, listeners: [ListenAddress], emptyIsFine: Bool)] = []

        let token = config.client.token
        candidates.append(("client.token.hmac_secret_key", token.hmacSecretKey, .key, "the client endpoint", clients, true))
        candidates.append(
            ("client.token.hmac_previous_secret_key", token.hmacPreviousSecretKey, .key, "the client endpoint", clients, true))
        if config.client.subscriptionToken.enabled {
            let sub = config.client.subscriptionToken.token
            candidates.append(
                ("client.subscription_token.hmac_secret_key", sub.hmacSecretKey, .key, "the client endpoint", clients, true))
            candidates.append(
                ("client.subscription_token.hmac_previous_secret_key", sub.hmacPreviousSecretKey, .key, "the client endpoint",
                 clients, true))
        }
        let api = config.httpAPI
        if !api.disabled && !api.insecure {
            // An empty key makes the API refuse every call: not open, but never what the operator meant.
            candidates.append(
                ("http_api.key", api.key, .key, "the server API", config.listeners(ofInternalFeatureExternal: api.external), false))
        }
        if let grpc = config.grpcAPIListener {
            // Centrifugo checks no key when it is empty: an open API, acceptable on loopback only.
            candidates.append(("grpc_api.key", config.grpcAPI.key, .key, "the gRPC server API", [grpc], false))
        }
        let admin = config.admin
        if admin.enabled && !admin.insecure {
            let listeners = config.listeners(ofInternalFeatureExternal: admin.external)
            candidates.append(("admin.password", admin.password, .password, "the admin console", listeners, false))
            candidates.append(("admin.secret", admin.secret, .key, "the admin console", listeners, false))
        }

        return candidates.compactMap { c in
            if c.emptyIsFine && c.value.isEmpty { return nil }
            guard let weakness = SecretPolicy.weakness(of: c.value, kind: c.kind) else { return nil }
            return Finding(
                key: c.key, weakness: weakness, guards: c.guards,
                exposedOn: c.listeners.filter { !$0.isLoopback }.map(\.description), minimumLength: c.kind.minimumLength)
        }
    }

    /// Throws when a weak secret guards a non-loopback listener; returns the warnings for the rest.
    public static func check(_ config: BrokerConfig) throws(UnsafeSecretsError) -> [String] {
        let all = findings(in: config)
        let refused = all.filter(\.isExposed)
        if !refused.isEmpty { throw UnsafeSecretsError(findings: refused) }
        return all.map(\.warning)
    }
}

/// The broker will not start: weak secrets guard listeners other machines can reach.
public struct UnsafeSecretsError: Error, Sendable, Equatable, CustomStringConvertible {
    public var findings: [ExposedSecrets.Finding]

    public var description: String {
        "refusing to start: " + findings.map(\.refusal).joined(separator: "\nrefusing to start: ")
    }
}
