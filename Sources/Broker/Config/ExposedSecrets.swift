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

        var minimumLength: Int { key == "admin.password" ? SecretPolicy.Kind.password.minimumLength : SecretPolicy.Kind.key.minimumLength }
    }

    /// Every weak secret in use, in config order.
    public static func findings(in config: BrokerConfig) -> [Finding] {
        let clientListeners = [listener(config.httpServer.address, config.httpServer.port)]
        var candidates: [(key: String, value: String, kind: SecretPolicy.Kind, guards: String, listeners: [String], emptyIsFine: Bool)] = []

        let token = config.client.token
        candidates.append(("client.token.hmac_secret_key", token.hmacSecretKey, .key, "the client endpoint", clientListeners, true))
        candidates.append(
            ("client.token.hmac_previous_secret_key", token.hmacPreviousSecretKey, .key, "the client endpoint", clientListeners, true))
        if config.client.subscriptionToken.enabled {
            let sub = config.client.subscriptionToken.token
            candidates.append(
                ("client.subscription_token.hmac_secret_key", sub.hmacSecretKey, .key, "the client endpoint", clientListeners, true))
            candidates.append(
                ("client.subscription_token.hmac_previous_secret_key", sub.hmacPreviousSecretKey, .key, "the client endpoint",
                 clientListeners, true))
        }
        let api = config.httpAPI
        if !api.disabled && !api.insecure {
            // An empty key makes the API refuse every call: not open, but never what the operator meant.
            candidates.append(("http_api.key", api.key, .key, "the server API", internalListeners(config, external: api.external), false))
        }
        let admin = config.admin
        if admin.enabled && !admin.insecure {
            let listeners = internalListeners(config, external: admin.external)
            candidates.append(("admin.password", admin.password, .password, "the admin console", listeners, false))
            candidates.append(("admin.secret", admin.secret, .key, "the admin console", listeners, false))
        }

        return candidates.compactMap { c in
            if c.emptyIsFine && c.value.isEmpty { return nil }
            guard let weakness = SecretPolicy.weakness(of: c.value, kind: c.kind) else { return nil }
            let exposed = c.listeners.filter { !SecretPolicy.isLoopback(host: host(of: $0)) }
            return Finding(key: c.key, weakness: weakness, guards: c.guards, exposedOn: exposed)
        }
    }

    /// Throws when a weak secret guards a non-loopback listener; returns the warnings for the rest.
    public static func check(_ config: BrokerConfig) throws(UnsafeSecretsError) -> [String] {
        let all = findings(in: config)
        let refused = all.filter(\.isExposed)
        if !refused.isEmpty { throw UnsafeSecretsError(findings: refused) }
        return all.map(\.warning)
    }

    /// The listeners serving the API or the console: the internal port when there is one (and the client
    /// port too with `external`), else the client port.
    static func internalListeners(_ config: BrokerConfig, external: Bool) -> [String] {
        let server = config.httpServer
        let client = listener(server.address, server.port)
        guard let internalPort = server.internalPort else { return [client] }
        let internalListener = listener(server.internalAddress.isEmpty ? server.address : server.internalAddress, internalPort)
        return external ? [internalListener, client] : [internalListener]
    }

    static func listener(_ address: String, _ port: Int) -> String {
        let host = address.isEmpty ? "0.0.0.0" : address
        return host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    static func host(of listener: String) -> String {
        guard let colon = listener.lastIndex(of: ":") else { return listener }
        return String(listener[..<colon])
    }
}

/// The broker will not start: weak secrets guard listeners other machines can reach.
public struct UnsafeSecretsError: Error, Sendable, Equatable, CustomStringConvertible {
    public var findings: [ExposedSecrets.Finding]

    public var description: String {
        "refusing to start: " + findings.map(\.refusal).joined(separator: "\nrefusing to start: ")
    }
}
