#if canImport(BrokerProtocol)
import BrokerProtocol
#endif
import Yams

/// A YAML config file as the same `JSONValue` document a JSON file gives, with the line of every value.
///
/// Plain scalars are typed by the YAML 1.2 core schema, not by YAML 1.1 (Yams' default): only
/// `true`/`false` (any of their three casings) are booleans, so `on`, `yes`, `no`, `off` stay strings, and
/// timestamps, `=`, sexagesimal (`1:30`) and leading-zero octal (`017`) numbers stay strings too. Integers
/// (`12`, `0x1f`, `0o17`) and finite floats become JSON numbers, `null`/`~`/empty become null, and quoted
/// scalars are always strings (`"25s"`, `"8000"`). Aliases are expanded. Map keys must be strings: a key that
/// the core schema reads as a number, boolean or null (`1:`, `true:`), a merge key (`<<:`) or a collection is
/// refused with its line.
enum YAMLDocument {
    /// YAML 1.2's core schema rules (https://yaml.org/spec/1.2.2/#1032-tag-resolution), plus Yams' merge key.
    static let coreResolver: Resolver = {
        let rules: [(Tag.Name, String)] = [
            (.bool, "^(?:true|True|TRUE|false|False|FALSE)$"),
            (.int, "^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
            (.float, "^(?:[-+]?(?:\\.[0-9]+|[0-9]+(?:\\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\\.(?:inf|Inf|INF)|\\.(?:nan|NaN|NAN))$"),
            (.null, "^(?:~|null|Null|NULL|)$"),
            (.merge, "^(?:<<)$"),
        ]
        var resolver = Resolver.basic
        for (tag, pattern) in rules {
            // The patterns are constants; a failure here would show at once in the tests of this file.
            if let next = try? resolver.appending(tag, pattern) { resolver = next }
        }
        return resolver
    }()

    /// The document in `text`; an empty file is an empty object. Syntax errors name the line and column.
    static func parse(_ text: String, path: String) throws(ConfigError) -> ConfigDocument {
        let root: Yams.Node?
        do {
            root = try Yams.compose(yaml: text, coreResolver)
        } catch let error as YamlError {
            throw ConfigError(key: "", message: "\(path) is not valid YAML: \(describe(error, text: text))")
        } catch {
            throw ConfigError(key: "", message: "\(path) is not valid YAML: \(error)")
        }
        guard let root else { return ConfigDocument(value: .object(JSONObject()), lines: ConfigLineMap()) }
        var lines = ConfigLineMap()
        let value = try convert(root, at: "", lines: &lines, path: path)
        return ConfigDocument(value: value, lines: lines)
    }

    private static func convert(
        _ node: Yams.Node, at location: String, lines: inout ConfigLineMap, path: String
    ) throws(ConfigError) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            return try convert(scalar, tag: node.tagName, at: location, path: path)
        case .mapping(let mapping):
            var members: [JSONObject.Member] = []
            for (keyNode, valueNode) in mapping {
                guard case .scalar(let keyScalar) = keyNode, keyNode.tagName == .str else {
                    throw ConfigError(
                        key: "",
                        message: "\(path) line \(keyNode.mark?.line ?? 0): map keys must be strings, got "
                            + "\(describeKey(keyNode)) under \(location.isEmpty ? "the top level" : location)")
                }
                let childPath = ConfigLineMap.child(location, key: keyScalar.string)
                if let line = keyNode.mark?.line { lines.record(childPath, line: line) }
                members.append(.init(key: keyScalar.string, value: try convert(valueNode, at: childPath, lines: &lines, path: path)))
            }
            return .object(JSONObject(members))
        case .sequence(let sequence):
            var items: [JSONValue] = []
            for (index, item) in sequence.enumerated() {
                let itemPath = ConfigLineMap.element(location, index: index)
                if let line = item.mark?.line { lines.record(itemPath, line: line) }
                items.append(try convert(item, at: itemPath, lines: &lines, path: path))
            }
            return .array(items)
        case .alias(let alias):
            throw ConfigError(
                key: location, message: "\(path) line \(alias.mark?.line ?? 0): unresolved YAML alias")
        }
    }

    private static func convert(
        _ scalar: Yams.Node.Scalar, tag: Tag.Name, at location: String, path: String
    ) throws(ConfigError) -> JSONValue {
        let text = scalar.string
        let line = scalar.mark?.line ?? 0
        switch tag {
        case .str:
            return .string(text)
        case .null:
            return .null
        case .bool:
            switch text.lowercased() {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: throw ConfigError(key: location, message: "\(path) line \(line): \(quoted(text)) is not a boolean")
            }
        case .int:
            guard let number = integerText(text) else {
                throw ConfigError(key: location, message: "\(path) line \(line): \(quoted(text)) is not an integer")
            }
            return .number(number)
        case .float:
            guard let double = Double(text), double.isFinite else {
                throw ConfigError(
                    key: location, message: "\(path) line \(line): \(quoted(text)) is not a finite number (JSON has no inf or nan)")
            }
            return .number(String(double))
        default:
            throw ConfigError(
                key: location, message: "\(path) line \(line): YAML tag \(tag.rawValue) is not supported in the config")
        }
    }

    /// Decimal text of a core-schema integer (`+12`, `007`, `0x1f`, `0o17`); digits beyond 64 bits are kept.
    private static func integerText(_ text: String) -> String? {
        if text.hasPrefix("0x"), let value = UInt64(text.dropFirst(2), radix: 16) { return String(value) }
        if text.hasPrefix("0o"), let value = UInt64(text.dropFirst(2), radix: 8) { return String(value) }
        var digits = Substring(text)
        var negative = false
        if let sign = digits.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let trimmed = digits.drop(while: { $0 == "0" })
        if trimmed.isEmpty { return "0" }
        return (negative ? "-" : "") + trimmed
    }

    private static func describeKey(_ node: Yams.Node) -> String {
        switch node {
        case .scalar(let scalar):
            let kind: String
            switch node.tagName {
            case .int: kind = "integer"
            case .float: kind = "number"
            case .bool: kind = "boolean"
            case .null: kind = "null"
            case .merge: return "merge key << (merge keys are not supported; write the keys out)"
            default: kind = node.tagName.rawValue
            }
            return "\(kind) \(scalar.string.isEmpty ? "(empty)" : scalar.string) (quote it to make it a string)"
        case .mapping: return "a map"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    private static func quoted(_ text: String) -> String {
        JSONValue.string(text).serializedString
    }

    /// Yams' error as one sentence: the problem, then `at line L, column C`.
    private static func describe(_ error: YamlError, text: String) -> String {
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let contextText = context.map { " \($0.text)" } ?? ""
            return "\(problem)\(contextText) at line \(mark.line), column \(mark.column)"
        case .reader(let problem, let offset, _, _):
            guard let offset else { return problem }
            var line = 1
            var column = 1
            for character in text.unicodeScalars.prefix(offset) {
                if character == "\n" {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
            }
            return "\(problem) at line \(line), column \(column)"
        default:
            return "\(error)"
        }
    }
}

extension Yams.Node {
    /// The resolved tag (Yams keeps `Tag.name` internal; its description is the name).
    fileprivate var tagName: Tag.Name { Tag.Name(rawValue: tag.description) }
}
