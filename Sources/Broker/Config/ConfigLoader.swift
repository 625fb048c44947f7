#if canImport(BrokerProtocol)
import BrokerProtocol
#endif

/// Builds a `BrokerConfig` from a Centrifugo v6 config file and `CENTRIFUGO_*` env vars.
///
/// Precedence: env > file > defaults. A zero value in the file (`0`, `""`, `false`, `"0s"`, `[]`) leaves
/// the default in place, as in Centrifugo. Keys that are not Centrifugo keys are collected in
/// `BrokerConfig.unknownKeys` (dotted paths, plus the names of unmatched `CENTRIFUGO_*` variables). Legal
/// Centrifugo keys that the broker does not implement (`UnsupportedKeys`) are refused when set, naming the key
/// and what to do instead, or are inert by design. The result is validated.
public enum ConfigLoader {
    /// Loads the file at `path` (nil: no file, defaults + env), applies `environment` and validates.
    public static func load(path: String?, environment: [String: String]) throws(ConfigError) -> BrokerConfig {
        guard let path else {
            return try build(document: nil, environment: environment)
        }
        let format = try ConfigFile.Format.forPath(path)
        let bytes = try ConfigFile.readBytes(atPath: path)
        let document = try format.parseWithLines(bytes, path: path)
        do throws(ConfigError) {
            return try build(document: document.value, environment: environment)
        } catch {
            // A bad value set in a YAML or TOML file: its line after the key.
            throw document.lines.locate(error, path: path, document: document.value)
        }
    }

    /// Parses JSON config text, applies `environment` and validates.
    public static func parse(json: [UInt8], environment: [String: String]) throws(ConfigError) -> BrokerConfig {
        let document = try ConfigFile.Format.json.parse(json, path: "config")
        return try build(document: document, environment: environment)
    }

    /// Defaults, then the document's keys, then env; then validation.
    static func build(document: JSONValue?, environment: [String: String]) throws(ConfigError) -> BrokerConfig {
        var config = BrokerConfig()
        var decoding = ConfigDecoding()
        if let document {
            guard case .object(let root) = document else {
                throw ConfigError(
                    key: "", message: "config must be an object at the top level, got \(ConfigMessage.describe(document))")
            }
            try BrokerConfigSchema.config.decode(root, into: &config, location: "", decoding: &decoding)
        }
        try EnvironmentOverrides.apply(environment, to: &config, decoding: &decoding)
        config.unknownKeys = decoding.unknownKeys
        try validate(config)
        return config
    }
}
