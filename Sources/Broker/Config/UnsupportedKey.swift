import Foundation

#if canImport(BrokerProtocol)
import BrokerProtocol
#endif

/// A legal Centrifugo v6 key that this broker does not implement, and what loading does with it.
///
/// There is no third way: a key is either refused when set, or inert by design (with the reason).
struct UnsupportedKey: Sendable, Equatable {
    enum Rule: Sendable, Equatable {
        /// Loading fails, naming the key, when it is set to anything but Centrifugo v6's default (`unset`).
        /// `message` says that the broker does not support it and what to do instead.
        case refused(unset: UnsetValue, message: String)
        /// Loads without a word and without effect, with the key's whole subtree; `reason` says why that is right.
        case inert(reason: String)
    }

    /// Dotted path from the root of its schema (the config, or one channel options object).
    let path: String
    let rule: Rule

    /// The same key under `prefix` (e.g. a channel option under `channel.without_namespace`).
    func moved(under prefix: String) -> UnsupportedKey {
        UnsupportedKey(path: prefix + "." + path, rule: rule)
    }
}

/// The values of a refused key that count as not set: Centrifugo v6's default for it, and Go's zero value
/// (which Centrifugo replaces with the default).
enum UnsetValue: Sendable, Equatable {
    /// A boolean, false by default (`enabled` switches): `true` is set.
    case off
    /// A string or a list, empty by default: any non-empty value is set.
    case empty
    /// A string whose default is this value (e.g. a proxy name's `"default"`): any other non-empty string is set.
    case string(String)
    /// An integer or a duration, 0 by default: any non-zero value is set.
    case zero

    /// Whether a (non-null) file value sets the key.
    func isSet(_ json: JSONValue) throws(ConfigValueError) -> Bool {
        switch self {
        case .off:
            return try ConfigValueType.bool.fromJSON(json)
        case .empty:
            switch json {
            case .string(let s): return !s.isEmpty
            case .array(let items): return !items.isEmpty
            case .object(let object): return !object.members.isEmpty
            default: throw ConfigValueError(message: "expected a string or an array, got \(ConfigMessage.describe(json))")
            }
        case .string(let defaultValue):
            let s = try ConfigValueType.string.fromJSON(json)
            return !s.isEmpty && s != defaultValue
        case .zero:
            switch json {
            case .number: return json.int64Value != 0
            case .string(let s): return try isSet(text: s)
            default: throw ConfigValueError(message: "expected a number or a duration, got \(ConfigMessage.describe(json))")
            }
        }
    }

    /// Whether a (non-empty) env value sets the key.
    func isSet(text: String) throws(ConfigValueError) -> Bool {
        switch self {
        case .off:
            return try ConfigValueType.bool.fromText(text)
        case .empty:
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            return !trimmed.isEmpty && trimmed != "[]" && trimmed != "{}"
        case .string(let defaultValue):
            return !text.isEmpty && text != defaultValue
        case .zero:
            if text.isEmpty || GoStrconv.parseInt(text) == 0 || parseGoDuration(text) == .zero { return false }
            return true
        }
    }
}

extension ConfigSetting {
    /// A refused key as a setting: a value that leaves it unset loads (and changes nothing); a value that sets
    /// it fails with the key (the dotted path in the file, the variable in env) and the key's message.
    static func refusal(_ path: String, unset: UnsetValue, message: String) -> ConfigSetting<Root> {
        ConfigSetting(
            path: path,
            applyJSON: { _, json, fullPath, _ throws(ConfigError) in
                let set: Bool
                do throws(ConfigValueError) {
                    set = try unset.isSet(json)
                } catch {
                    throw ConfigError(key: fullPath, message: error.message)
                }
                if set { throw ConfigError(key: fullPath, message: message) }
            },
            applyText: { _, text, envName, _ throws(ConfigError) in
                let set: Bool
                do throws(ConfigValueError) {
                    set = try unset.isSet(text: text)
                } catch {
                    throw ConfigError(key: envName, message: "\(error.message); the variable sets \(path)")
                }
                if set { throw ConfigError(key: envName, message: "\(message); the variable sets \(path)") }
            }
        )
    }
}

extension Array where Element == UnsupportedKey {
    /// The refused keys, as settings of `Root`.
    func refusals<Root>(of _: Root.Type) -> [ConfigSetting<Root>] {
        compactMap { key in
            guard case .refused(let unset, let message) = key.rule else { return nil }
            return ConfigSetting<Root>.refusal(key.path, unset: unset, message: message)
        }
    }

    /// The paths of the inert keys (each covers its subtree).
    var inertPaths: [String] {
        compactMap { key in
            guard case .inert = key.rule else { return nil }
            return key.path
        }
    }
}
