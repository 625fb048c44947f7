#if canImport(BrokerProtocol)
import BrokerProtocol
#endif

/// Why one value could not be read; the caller adds which key or env var it was.
struct ConfigValueError: Error {
    var message: String
}

/// How a config value of type `Value` is read from the config document and from an env var's text.
///
/// File values are typed JSON; env values are text parsed with Go's rules (Centrifugo's env layer):
/// `strconv.ParseBool`, `strconv.ParseInt(s, 0, 64)`, space-separated lists.
struct ConfigValueType<Value> {
    /// What is allowed, for messages: "an integer", "a boolean", ...
    let expected: String
    let fromJSON: (JSONValue) throws(ConfigValueError) -> Value
    let fromText: (String) throws(ConfigValueError) -> Value
    /// Go's zero value. Centrifugo fills a key that is still zero after reading the file with its
    /// default, so a zero in the file never replaces a default (an env var does).
    let isZero: (Value) -> Bool

    /// The error for a JSON value of the wrong kind.
    func mismatch(_ found: JSONValue) -> ConfigValueError {
        ConfigValueError(message: "expected \(expected), got \(ConfigMessage.describe(found))")
    }
}

/// Pieces of config error messages.
enum ConfigMessage {
    /// A short description of a JSON value for error messages: `string "x"`, `number 1.5`, `array`.
    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return "boolean \(b)"
        case .number(let n): return "number \(n)"
        case .string(let s): return "string \(ConfigMessage.quoted(s))"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// `s` in double quotes, shortened so that a long value (maybe a key) does not flood the log.
    static func quoted(_ s: String) -> String {
        let shown = s.count > 40 ? String(s.prefix(40)) + "…" : s
        var out = "\""
        for ch in shown.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out + "\""
    }
}

extension ConfigValueType where Value == Bool {
    static var bool: Self {
        Self(
            expected: "a boolean",
            fromJSON: { json throws(ConfigValueError) in
                guard case .bool(let b) = json else { throw ConfigValueType.bool.mismatch(json) }
                return b
            },
            fromText: { text throws(ConfigValueError) in
                guard let b = GoStrconv.parseBool(text) else {
                    throw ConfigValueError(message: "\(ConfigMessage.quoted(text)) is not a boolean (use true/false, 1/0, t/f)")
                }
                return b
            },
            isZero: { !$0 }
        )
    }
}

extension ConfigValueType where Value == Int {
    static var int: Self {
        Self(
            expected: "an integer",
            fromJSON: { json throws(ConfigValueError) in
                guard let v = json.int64Value, let i = Int(exactly: v) else { throw ConfigValueType.int.mismatch(json) }
                return i
            },
            fromText: { text throws(ConfigValueError) in
                guard let v = GoStrconv.parseInt(text), let i = Int(exactly: v) else {
                    throw ConfigValueError(message: "\(ConfigMessage.quoted(text)) is not an integer")
                }
                return i
            },
            isZero: { $0 == 0 }
        )
    }
}

extension ConfigValueType where Value == Int64 {
    static var int64: Self {
        Self(
            expected: "an integer",
            fromJSON: { json throws(ConfigValueError) in
                guard let v = json.int64Value else { throw ConfigValueType.int64.mismatch(json) }
                return v
            },
            fromText: { text throws(ConfigValueError) in
                guard let v = GoStrconv.parseInt(text) else {
                    throw ConfigValueError(message: "\(ConfigMessage.quoted(text)) is not an integer")
                }
                return v
            },
            isZero: { $0 == 0 }
        )
    }
}

extension ConfigValueType where Value == String {
    static var string: Self {
        Self(
            expected: "a string",
            fromJSON: { json throws(ConfigValueError) in
                guard case .string(let s) = json else { throw ConfigValueType.string.mismatch(json) }
                return s
            },
            fromText: { $0 },
            isZero: { $0.isEmpty }
        )
    }
}

extension ConfigValueType where Value == String? {
    /// A string where "" means "not set here" (nil), e.g. a namespace's `publication_data_format`.
    static var optionalString: Self {
        Self(
            expected: "a string",
            fromJSON: { json throws(ConfigValueError) in
                guard case .string(let s) = json else { throw ConfigValueType.optionalString.mismatch(json) }
                return s.isEmpty ? nil : s
            },
            fromText: { $0.isEmpty ? nil : $0 },
            isZero: { $0 == nil }
        )
    }
}

extension ConfigValueType where Value == Int? {
    /// A port that may be absent. Centrifugo types `http_server.internal_port` as a string, so both
    /// `9000` and `"9000"` are accepted; `""` and `0` mean not set.
    static var optionalPort: Self {
        Self(
            expected: "a port number (integer or numeric string)",
            fromJSON: { json throws(ConfigValueError) in
                switch json {
                case .string(let s) where s.isEmpty: return nil
                case .string(let s):
                    guard let v = Int(s) else { throw ConfigValueType.optionalPort.mismatch(json) }
                    return v == 0 ? nil : v
                default:
                    guard let v = json.int64Value, let i = Int(exactly: v) else { throw ConfigValueType.optionalPort.mismatch(json) }
                    return i == 0 ? nil : i
                }
            },
            fromText: { text throws(ConfigValueError) in
                guard let v = GoStrconv.parseInt(text), let i = Int(exactly: v) else {
                    throw ConfigValueError(message: "\(ConfigMessage.quoted(text)) is not a port number")
                }
                return i == 0 ? nil : i
            },
            isZero: { $0 == nil }
        )
    }
}

extension ConfigValueType where Value == [String] {
    /// A JSON array of strings; in env, space-separated words.
    static var stringList: Self {
        Self(
            expected: "an array of strings",
            fromJSON: { json throws(ConfigValueError) in
                guard case .array(let items) = json else { throw ConfigValueType.stringList.mismatch(json) }
                return try stringItems(items, expected: "an array of strings")
            },
            fromText: EnvironmentOverrides.splitList,
            isZero: { $0.isEmpty }
        )
    }

    /// A single string or an array of strings (`engine.redis.address`); in env, space-separated words.
    static var stringOrList: Self {
        Self(
            expected: "a string or an array of strings",
            fromJSON: { json throws(ConfigValueError) in
                switch json {
                case .string(let s): return s.isEmpty ? [] : [s]
                case .array(let items): return try stringItems(items, expected: "a string or an array of strings")
                default: throw ConfigValueType.stringOrList.mismatch(json)
                }
            },
            fromText: EnvironmentOverrides.splitList,
            isZero: { $0.isEmpty }
        )
    }

    private static func stringItems(_ items: [JSONValue], expected: String) throws(ConfigValueError) -> [String] {
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item else {
                throw ConfigValueError(message: "expected \(expected), got \(ConfigMessage.describe(item)) at index \(i)")
            }
            out.append(s)
        }
        return out
    }
}

extension ConfigValueType where Value == Duration {
    /// A Go duration string (`"25s"`, `"1m30s"`) or whole seconds (`25` or `"25"`).
    static var duration: Self {
        Self(
            expected: "a duration (e.g. \"25s\", \"1m30s\", \"720h\") or integer seconds",
            fromJSON: { json throws(ConfigValueError) in
                switch json {
                case .string(let s): return try durationFromText(s)
                case .number:
                    guard let seconds = json.int64Value, let d = secondsDuration(seconds) else {
                        throw ConfigValueType.duration.mismatch(json)
                    }
                    return d
                default: throw ConfigValueType.duration.mismatch(json)
                }
            },
            fromText: durationFromText,
            isZero: { $0 == .zero }
        )
    }

    private static func durationFromText(_ text: String) throws(ConfigValueError) -> Duration {
        if let d = parseGoDuration(text) { return d }
        if let seconds = Int64(text), let d = secondsDuration(seconds) { return d }
        throw ConfigValueError(message: "\(ConfigMessage.quoted(text)) is not a duration (use e.g. \"25s\", \"1m30s\", \"720h\")")
    }

    /// Whole seconds as a Duration, within Go's range (so it can be formatted back).
    private static func secondsDuration(_ seconds: Int64) -> Duration? {
        let maxSeconds = Int64.max / 1_000_000_000
        guard seconds.magnitude <= maxSeconds.magnitude else { return nil }
        return .seconds(seconds)
    }
}
