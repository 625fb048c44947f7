/// An invalid configuration value: which key, what was wrong, what is allowed.
///
/// The broker refuses to start on any of these and prints `description`.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Dotted path of the offending key in Centrifugo's layout, e.g. `client.ping_interval`
    /// or `channel.namespaces[2].history_ttl`; "" for file-level problems.
    public var key: String
    /// What was wrong and what is allowed, e.g. `"abc" is not a duration (use e.g. "25s", "1m30s", "720h")`.
    public var message: String
    /// Where the file sets `key`, when it is a YAML or TOML file: `config.yaml line 7`; "" otherwise.
    public var location: String = ""

    public init(key: String, message: String, location: String = "") {
        self.key = key
        self.message = message
        self.location = location
    }

    public var description: String {
        let subject = location.isEmpty ? key : "\(key) (\(location))"
        return subject.isEmpty ? "invalid config: \(message)" : "invalid config: \(subject): \(message)"
    }
}
