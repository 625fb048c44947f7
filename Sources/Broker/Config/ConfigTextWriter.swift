#if canImport(BrokerProtocol)
import BrokerProtocol
#endif

/// Writes a config document (`JSONValue`) as YAML or TOML text that `YAMLDocument` and `TOMLDocument` read
/// back to the same document: for `genconfig -c config.yaml` / `config.toml`.
///
/// YAML: block mappings and sequences with two-space indents; strings always double-quoted (JSON's string
/// syntax is valid YAML), so no value is retyped (`"on"`, `"25s"`, `"8000"` stay strings); empty collections as
/// `[]` and `{}`. TOML: a table's plain keys first, then its sub-tables as `[a.b]` and arrays of objects as
/// `[[a.b]]`; other arrays inline; TOML has no null, so null members are left out.
enum ConfigTextWriter {
    static func yaml(_ document: JSONValue, into out: inout String) {
        switch document {
        case .object(let object) where !object.isEmpty:
            yamlMembers(object, indent: 0, firstPrefix: nil, into: &out)
        default:
            out += yamlScalar(document) + "\n"
        }
    }

    static func toml(_ document: JSONValue, into out: inout String) {
        guard case .object(let object) = document else { return }
        tomlTable(object, path: [], into: &out)
    }

    // MARK: - YAML

    /// Each member on its own line at `indent`; the first line starts with `firstPrefix` (a list's `- `) when given.
    private static func yamlMembers(_ object: JSONObject, indent: Int, firstPrefix: String?, into out: inout String) {
        let pad = String(repeating: "  ", count: indent)
        for (position, member) in object.members.enumerated() {
            out += (position == 0 ? firstPrefix ?? pad : pad) + yamlKey(member.key) + ":"
            yamlValue(member.value, indent: indent + 1, into: &out)
        }
    }

    /// After `key:` (or `-`): a scalar on the same line, or a block collection on the next lines.
    private static func yamlValue(_ value: JSONValue, indent: Int, into out: inout String) {
        let pad = String(repeating: "  ", count: indent)
        switch value {
        case .object(let object) where !object.isEmpty:
            out += "\n"
            yamlMembers(object, indent: indent, firstPrefix: nil, into: &out)
        case .array(let items) where !items.isEmpty:
            out += "\n"
            for item in items {
                if case .object(let object) = item, !object.isEmpty {
                    yamlMembers(object, indent: indent + 1, firstPrefix: pad + "- ", into: &out)
                } else {
                    out += pad + "-"
                    yamlValue(item, indent: indent + 1, into: &out)
                }
            }
        default:
            out += " " + yamlScalar(value) + "\n"
        }
    }

    private static func yamlScalar(_ value: JSONValue) -> String {
        switch value {
        case .array: return "[]"
        case .object: return "{}"
        default: return value.serializedString  // null, true/false, numbers, double-quoted strings
        }
    }

    private static func yamlKey(_ key: String) -> String {
        let plain = !key.isEmpty && key.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "A"..."Z", "a"..."z", "0"..."9", "_": return true
            default: return false
            }
        }
        // A plain key must also not read as something else than a string under the core schema.
        let retyped = ["true", "false", "null", "~"].contains(key.lowercased()) || key.first?.isNumber == true
        return plain && !retyped ? key : JSONValue.string(key).serializedString
    }

    // MARK: - TOML

    private static func tomlTable(_ object: JSONObject, path: [String], into out: inout String) {
        var tables: [(String, JSONObject)] = []
        var arraysOfTables: [(String, [JSONObject])] = []
        for member in object.members {
            switch member.value {
            case .null:
                continue
            case .object(let child):
                tables.append((member.key, child))
            case .array(let items) where !items.isEmpty && items.allSatisfy({ $0.objectValue != nil }):
                arraysOfTables.append((member.key, items.compactMap(\.objectValue)))
            default:
                out += tomlKey(member.key) + " = " + tomlInline(member.value) + "\n"
            }
        }
        for (key, child) in tables {
            let childPath = path + [key]
            out += (out.isEmpty ? "" : "\n") + "[" + childPath.map(tomlKey).joined(separator: ".") + "]\n"
            tomlTable(child, path: childPath, into: &out)
        }
        for (key, items) in arraysOfTables {
            let childPath = path + [key]
            for item in items {
                out += (out.isEmpty ? "" : "\n") + "[[" + childPath.map(tomlKey).joined(separator: ".") + "]]\n"
                tomlTable(item, path: childPath, into: &out)
            }
        }
    }

    private static func tomlInline(_ value: JSONValue) -> String {
        switch value {
        case .null: return "\"\""  // only inside arrays: TOML has no null
        case .bool(let bool): return bool ? "true" : "false"
        case .number(let text): return text
        case .string(let string): return tomlString(string)
        case .array(let items): return "[" + items.map(tomlInline).joined(separator: ", ") + "]"
        case .object(let object):
            let members = object.members.filter { !$0.value.isNull }.map { tomlKey($0.key) + " = " + tomlInline($0.value) }
            return members.isEmpty ? "{}" : "{ " + members.joined(separator: ", ") + " }"
        }
    }

    private static func tomlKey(_ key: String) -> String {
        let bare = !key.isEmpty && key.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "A"..."Z", "a"..."z", "0"..."9", "_", "-": return true
            default: return false
            }
        }
        return bare ? key : tomlString(key)
    }

    /// A TOML basic string: `"` and `\` escaped, control characters as `\uXXXX` (or their short escapes).
    private static func tomlString(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
