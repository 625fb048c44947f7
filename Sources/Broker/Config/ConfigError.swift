/// An invalid configuration value: which key, what was wrong, what is allowed.
///
/// The broker refuses to start on any of these and prints `description`.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Dotted path of the offending key in Centrifugo's layout, e.g. `client.ping_interval`
    /// or `channel.namespaces[2].history_ttl`; "" for file-level problems.
    public var key: String
    /// What was wrong and what is allowed, e.g. `"abc" is not a duration (use e.g. "25s", "1m30s", "720h")`.
    public var message: String

    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }

    public var description: String {
        key.isEmpty ? "invalid config: \(message)" : "invalid config: \(key): \(message)"
    }
}
