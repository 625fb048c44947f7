import Synchronization

/// The configured expectation for `aud` or `iss`: an exact value or a regular expression.
///
/// A regex matches anywhere in the value (unanchored, as Go's `FindStringSubmatch`), over Unicode
/// scalars rather than grapheme clusters to stay close to Go's RE2 semantics.
final class TokenClaimMatcher: Sendable {
    private let exact: String
    /// `Regex` is not `Sendable`, so matching goes through a lock. Only tokens of deployments that
    /// configure a regex pay for it, and a match is short.
    private let regex: Mutex<Regex<AnyRegexOutput>?>

    /// nil when neither is configured. Throws when both are, or when the regex does not compile.
    init?(exact: String, regex pattern: String, exactKey: String, regexKey: String) throws(ConfigError) {
        switch (exact.isEmpty, pattern.isEmpty) {
        case (true, true):
            return nil
        case (false, true):
            self.exact = exact
            regex = Mutex(nil)
        case (true, false):
            let compiled: Regex<AnyRegexOutput>
            do {
                compiled = try Regex(pattern).matchingSemantics(.unicodeScalar)
            } catch {
                throw ConfigError(key: regexKey, message: "invalid regular expression \"\(pattern)\": \(error)")
            }
            self.exact = ""
            regex = Mutex(compiled)
        case (false, false):
            throw ConfigError(key: regexKey, message: "can not be used together with \(exactKey), configure only one of them")
        }
    }

    func matches(_ value: String) -> Bool {
        regex.withLock { regex in
            guard let regex else { return value == exact }
            return (try? regex.firstMatch(in: value)) != nil
        }
    }
}
