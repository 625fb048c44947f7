/// Whether a secret is fit to guard a listener that other machines can reach.
///
/// Both executables apply the same rule at start: on a loopback-only address a weak secret is a warning
/// (a developer's machine), on any other address it stops the process with the key named and how to make a
/// good one. Pure: no I/O, so the rule is tested without starting anything.
public enum SecretPolicy {
    /// What a secret protects, which sets its minimum length.
    public enum Kind: Sendable {
        /// A key that signs or verifies tokens, or authenticates API calls (HMAC keys, API keys, session
        /// secrets): at least 32 characters, the 256 bits RFC 7518 §3.2 asks of an HS256 key.
        case key
        /// A password a person types (the admin console's): at least 12 characters.
        case password

        public var minimumLength: Int {
            switch self {
            case .key: return 32
            case .password: return 12
            }
        }
    }

    /// Why `value` is weak, in a few words ("is empty", "is a placeholder", "has 9 characters; at least 32
    /// are needed"), or nil when it is fit.
    public static func weakness(of value: String, kind: Kind) -> String? {
        if value.isEmpty { return "is empty" }
        if isPlaceholder(value) { return "is a placeholder (\(quoted(value)))" }
        let length = value.count
        if length < kind.minimumLength {
            return "has \(length) characters; at least \(kind.minimumLength) are needed"
        }
        return nil
    }

    /// Values copied from examples and documentation: anything saying "change me", and the usual
    /// one-word stand-ins. Matched case-insensitively, ignoring `-`, `_` and spaces.
    public static func isPlaceholder(_ value: String) -> Bool {
        let folded = String(value.lowercased().unicodeScalars.filter { $0 != "-" && $0 != "_" && $0 != " " })
        if folded.contains("changeme") || folded.contains("replaceme") || folded.contains("<") { return true }
        return placeholders.contains(folded)
    }

    static let placeholders: Set<String> = [
        "secret", "mysecret", "supersecret", "topsecret", "password", "passw0rd", "admin", "key", "apikey", "mykey",
        "token", "test", "example", "default", "changeit", "123456", "12345678", "qwerty", "xxx", "todo",
    ]

    /// True when `host` (as given to bind) accepts connections from this machine only: `localhost`,
    /// 127.0.0.0/8 and `::1`. An empty host or `0.0.0.0`/`::` binds every interface.
    public static func isLoopback(host: String) -> Bool {
        let h = host.lowercased().trimmingPrefixAndSuffix("[", "]")
        if h == "localhost" || h == "::1" || h == "0:0:0:0:0:0:0:1" { return true }
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// The way to make a good secret, for messages.
    public static let howToGenerate = "`broker genconfig -c new.json` writes fresh ones, or `openssl rand -hex 32`"

    static func quoted(_ s: String) -> String {
        s.count > 40 ? "\"\(s.prefix(37))...\"" : "\"\(s)\""
    }
}

extension String {
    fileprivate func trimmingPrefixAndSuffix(_ prefix: Character, _ suffix: Character) -> String {
        guard first == prefix, last == suffix, count >= 2 else { return self }
        return String(dropFirst().dropLast())
    }
}
