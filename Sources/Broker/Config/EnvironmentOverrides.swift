import Foundation

/// Centrifugo's env layer: every key can be set by `CENTRIFUGO_` + its upper-cased dotted path with
/// `.` → `_` (`client.token.hmac_secret_key` → `CENTRIFUGO_CLIENT_TOKEN_HMAC_SECRET_KEY`). Env wins over
/// the file. Values are text: bools as Go's ParseBool, integers as Go's ParseInt (base prefixes allowed),
/// lists space-separated, durations as Go duration strings (or whole seconds); an empty value counts as unset.
///
/// `CENTRIFUGO_CHANNEL_NAMESPACES` takes a JSON array of namespace objects (replacing the file's list), or
/// space-separated names that are appended. After that, each namespace can be configured with
/// `CENTRIFUGO_CHANNEL_NAMESPACES_<NAME>_<OPTION>`, where `<NAME>` is the namespace name with `.` and `-`
/// turned into `_`, upper-cased (so `CENTRIFUGO_CHANNEL_NAMESPACES=smallhistory` plus
/// `CENTRIFUGO_CHANNEL_NAMESPACES_SMALLHISTORY_HISTORY_SIZE=2`).
enum EnvironmentOverrides {
    static let prefix = "CENTRIFUGO_"

    /// `client.token.hmac_secret_key` → `CENTRIFUGO_CLIENT_TOKEN_HMAC_SECRET_KEY`.
    static func variableName(forPath path: String) -> String {
        prefix + path.replacingOccurrences(of: ".", with: "_").uppercased()
    }

    /// The prefix of a namespace's own variables: `my-ns.v2` → `CENTRIFUGO_CHANNEL_NAMESPACES_MY_NS_V2_`.
    static func namespaceVariablePrefix(_ name: String) -> String {
        let envName = name.replacingOccurrences(of: ".", with: "_").replacingOccurrences(of: "-", with: "_")
        return variableName(forPath: "channel.namespaces") + "_" + envName.uppercased() + "_"
    }

    /// Applies every `CENTRIFUGO_*` variable of `environment` to `config`. A variable that sets a refused key
    /// (`UnsupportedKeys`) fails like the file would; one of an inert key is known and ignored. Variables that
    /// name no Centrifugo key are not errors; their names are added to `decoding.unknownKeys` to be logged as warnings.
    static func apply(
        _ environment: [String: String], to config: inout BrokerConfig, decoding: inout ConfigDecoding
    ) throws(ConfigError) {
        let schema = BrokerConfigSchema.config
        var knownNames: Set<String> = []
        // Inert keys cover their subtrees, so their variables and every variable below them are known.
        var inertPrefixes: [String] = []

        for setting in schema.settings {
            let name = variableName(forPath: setting.path)
            knownNames.insert(name)
            guard let value = environment[name], !value.isEmpty else { continue }
            try setting.applyText(&config, value, name, &decoding)
        }
        for path in schema.inertPaths {
            knownNames.insert(variableName(forPath: path))
            inertPrefixes.append(variableName(forPath: path) + "_")
        }

        // Per-namespace variables, for the namespaces known after the file and CENTRIFUGO_CHANNEL_NAMESPACES.
        let namespaceSchema = BrokerConfigSchema.namespace
        for index in config.channel.namespaces.indices {
            let namespacePrefix = namespaceVariablePrefix(config.channel.namespaces[index].name)
            for setting in namespaceSchema.settings {
                let name = namespacePrefix + setting.path.uppercased()
                knownNames.insert(name)
                guard let value = environment[name], !value.isEmpty else { continue }
                try setting.applyText(&config.channel.namespaces[index], value, name, &decoding)
            }
            for path in namespaceSchema.inertPaths {
                let name = namespacePrefix + path.replacingOccurrences(of: ".", with: "_").uppercased()
                knownNames.insert(name)
                inertPrefixes.append(name + "_")
            }
        }

        let unknown = environment.keys.filter { name in
            name.hasPrefix(prefix)
                && !knownNames.contains(name)
                && !inertPrefixes.contains(where: { name.hasPrefix($0) })
                && !isIgnoredVariable(name)
        }
        decoding.unknownKeys += unknown.sorted()
    }

    /// Centrifugo splits list values on spaces; empty words (from repeated spaces) are dropped.
    static func splitList(_ text: String) -> [String] {
        text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
    }

    /// Variables with the prefix that are not config keys: `CENTRIFUGO_VAR_*` (values Centrifugo substitutes
    /// into some options) and the `<SERVICE>_PORT*` / `<SERVICE>_SERVICE_*` variables that Kubernetes injects
    /// for a service named `centrifugo…`.
    private static func isIgnoredVariable(_ name: String) -> Bool {
        if name.hasPrefix(prefix + "VAR_") { return true }
        let pattern = "^CENTRIFUGO(?:_[A-Z0-9_]+)?_(PORT|SERVICE_)"
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return false }
        let range = NSRange(name.startIndex..<name.endIndex, in: name)
        return regex.firstMatch(in: name, range: range) != nil
    }
}
