#if canImport(BrokerProtocol)
import BrokerProtocol
#endif
import TOMLKit

/// A TOML config file as the same `JSONValue` document a JSON file gives, with the line of every key.
///
/// Integers and finite floats become JSON numbers, booleans and strings stay themselves, arrays of tables
/// (`[[channel.namespaces]]`) become arrays of objects, and dates, times and date-times become strings in their
/// RFC 3339 form (`1979-05-27T07:32:00Z`, `1979-05-27`, `07:32:00`). TOML has no null and its keys are
/// always strings. Members of a table come in key order (TOMLKit keeps no document order), which no setting
/// depends on.
enum TOMLDocument {
    /// The document in `text`. Syntax errors name the line and column (from toml++ through TOMLKit).
    static func parse(_ text: String, path: String) throws(ConfigError) -> ConfigDocument {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError(
                key: "",
                message: "\(path) is not valid TOML: \(error.description) at line \(error.source.begin.line), "
                    + "column \(error.source.begin.column)")
        } catch {
            throw ConfigError(key: "", message: "\(path) is not valid TOML: \(error)")
        }
        let value = try convert(table, at: "", path: path)
        return ConfigDocument(value: value, lines: TOMLLineScanner.scan(text))
    }

    private static func convert(_ table: TOMLTable, at location: String, path: String) throws(ConfigError) -> JSONValue {
        var members: [JSONObject.Member] = []
        for (key, value) in zip(table.keys, table.values) {
            members.append(.init(key: key, value: try convert(value, at: ConfigLineMap.child(location, key: key), path: path)))
        }
        return .object(JSONObject(members))
    }

    private static func convert(_ value: TOMLValue, at location: String, path: String) throws(ConfigError) -> JSONValue {
        switch value.type {
        case .table:
            guard let table = value.table else { break }
            return try convert(table, at: location, path: path)
        case .array:
            guard let array = value.array else { break }
            var items: [JSONValue] = []
            for (index, item) in array.enumerated() {
                items.append(try convert(item.tomlValue, at: ConfigLineMap.element(location, index: index), path: path))
            }
            return .array(items)
        case .string:
            if let string = value.string { return .string(string) }
        case .int:
            if let int = value.int { return .number(String(int)) }
        case .double:
            guard let double = value.double else { break }
            guard double.isFinite else {
                throw ConfigError(key: location, message: "\(double) is not a finite number (JSON has no inf or nan)")
            }
            return .number(String(double))
        case .bool:
            if let bool = value.bool { return .bool(bool) }
        case .date:
            if let date = value.date { return .string(date.debugDescription) }
        case .time:
            if let time = value.time { return .string(time.debugDescription) }
        case .dateTime:
            if let dateTime = value.dateTime { return .string(dateTime.debugDescription) }
        }
        throw ConfigError(key: location, message: "\(path): cannot read this TOML value")
    }
}

/// The line of each key of a TOML file, found by scanning its text, because TOMLKit exposes no source
/// positions for values (only for parse errors).
///
/// How: lines are read in order, tracking the current table. `[a.b]` makes `a.b` the current table and
/// records its line; `[[a.b]]` starts element *n* of the array `a.b` (counted per header, and reset for
/// nested arrays when their parent gets a new element), recorded as `a.b[n]`, with `a.b` at its first
/// header; `key = value` and dotted `x.y = value` record `<table>.key` (bare, "quoted" and 'literal' keys).
/// Values that span lines (multi-line strings and arrays, inline tables) are skipped up to their end, so
/// text inside them is never taken for a key.
///
/// Limits: the members of inline tables (`{ name = "a", history_ttl = "x" }`), also in arrays, get no line of
/// their own; `ConfigLineMap.line(for:in:)` then gives the line of the key that holds them. The scan runs
/// only on text that TOMLKit has parsed, so it need not handle invalid TOML.
enum TOMLLineScanner {
    static func scan(_ text: String) -> ConfigLineMap {
        var map = ConfigLineMap()
        var table: [String] = []  // resolved components of the current table, indices included: ["channel", "namespaces[1]"]
        var arrayCounts: [String: Int] = [:]  // dotted header path → elements so far
        var skipper = ValueSkipper()
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = Array(rawLine.unicodeScalars)
            if skipper.isOpen {
                skipper.consume(line[...])
                continue
            }
            var rest = line[...].drop(while: { $0 == " " || $0 == "\t" })
            guard let first = rest.first, first != "#", first != "\r" else { continue }
            if first == "[" {
                let isArray = rest.dropFirst().first == "["
                rest = rest.dropFirst(isArray ? 2 : 1)
                guard let (keys, _) = parseKey(rest) else { continue }
                let resolved = resolve(keys, arrayCounts: arrayCounts)
                if isArray {
                    let dotted = keys.joined(separator: ".")
                    let index = arrayCounts[dotted, default: 0]
                    arrayCounts[dotted] = index + 1
                    for nested in arrayCounts.keys where nested.hasPrefix(dotted + ".") { arrayCounts[nested] = 0 }
                    recordPrefixes(resolved, line: lineNumber, in: &map)
                    table = resolved
                    table[table.count - 1] += "[\(index)]"
                    map.record(table.joined(separator: "."), line: lineNumber)
                } else {
                    table = resolved
                    recordPrefixes(table, line: lineNumber, in: &map)
                }
                continue
            }
            guard let (keys, afterKey) = parseKey(rest) else { continue }
            var value = afterKey.drop(while: { $0 == " " || $0 == "\t" })
            guard value.first == "=" else { continue }
            value = value.dropFirst()
            recordPrefixes(table + keys, line: lineNumber, in: &map)
            skipper.consume(value)
        }
        return map
    }

    /// Records `components` and each of its prefixes (implicitly created tables) that has no line yet.
    private static func recordPrefixes(_ components: [String], line: Int, in map: inout ConfigLineMap) {
        var path = ""
        for component in components {
            path = path.isEmpty ? component : path + "." + component
            map.record(path, line: line)
        }
    }

    /// A header's keys with the current element index after each prefix that is an array of tables.
    private static func resolve(_ keys: [String], arrayCounts: [String: Int]) -> [String] {
        var resolved: [String] = []
        var dotted = ""
        for (position, key) in keys.enumerated() {
            dotted = dotted.isEmpty ? key : dotted + "." + key
            let isLast = position == keys.count - 1
            if !isLast, let count = arrayCounts[dotted], count > 0 {
                resolved.append(key + "[\(count - 1)]")
            } else {
                resolved.append(key)
            }
        }
        return resolved
    }

    /// A dotted key (`a`, `a.b`, `"x.y".z`, `'lit'`) and the text after it; nil when the line starts with none.
    private static func parseKey(_ text: ArraySlice<Unicode.Scalar>) -> ([String], ArraySlice<Unicode.Scalar>)? {
        var keys: [String] = []
        var rest = text
        while true {
            rest = rest.drop(while: { $0 == " " || $0 == "\t" })
            guard let first = rest.first else { return nil }
            var key = String.UnicodeScalarView()
            if first == "\"" || first == "'" {
                rest = rest.dropFirst()
                while let scalar = rest.first, scalar != first {
                    rest = rest.dropFirst()
                    if first == "\"", scalar == "\\", let escaped = rest.first {
                        rest = rest.dropFirst()
                        key.append(unescape(escaped))
                    } else {
                        key.append(scalar)
                    }
                }
                guard rest.first == first else { return nil }
                rest = rest.dropFirst()
            } else {
                while let scalar = rest.first, isBareKeyScalar(scalar) {
                    key.append(scalar)
                    rest = rest.dropFirst()
                }
                guard !key.isEmpty else { return nil }
            }
            keys.append(String(key))
            rest = rest.drop(while: { $0 == " " || $0 == "\t" })
            guard rest.first == "." else { return (keys, rest) }
            rest = rest.dropFirst()
        }
    }

    private static func isBareKeyScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "-": return true
        default: return false
        }
    }

    private static func unescape(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        switch scalar {
        case "n": return "\n"
        case "t": return "\t"
        case "r": return "\r"
        default: return scalar  // \" and \\; \u escapes in keys are too rare to decode here
        }
    }

    /// Follows a value across lines: open brackets and braces, and multi-line strings.
    private struct ValueSkipper {
        private var depth = 0
        private var multiline: Unicode.Scalar?  // the quote of an open """ or ''' string

        var isOpen: Bool { depth > 0 || multiline != nil }

        mutating func consume(_ text: ArraySlice<Unicode.Scalar>) {
            var rest = text
            while let scalar = rest.first {
                if let quote = multiline {
                    if scalar == "\\", quote == "\"" {
                        rest = rest.dropFirst(2)
                    } else if rest.starts(with: [quote, quote, quote]) {
                        rest = rest.dropFirst(3)
                        while rest.first == quote { rest = rest.dropFirst() }  // up to two quotes may end the content
                        multiline = nil
                    } else {
                        rest = rest.dropFirst()
                    }
                    continue
                }
                switch scalar {
                case "#":
                    return
                case "\"", "'":
                    if rest.starts(with: [scalar, scalar, scalar]) {
                        multiline = scalar
                        rest = rest.dropFirst(3)
                        continue
                    }
                    rest = rest.dropFirst()
                    while let inner = rest.first, inner != scalar {
                        rest = rest.dropFirst(inner == "\\" && scalar == "\"" ? 2 : 1)
                    }
                    rest = rest.dropFirst()
                case "[", "{":
                    depth += 1
                    rest = rest.dropFirst()
                case "]", "}":
                    depth = max(0, depth - 1)
                    rest = rest.dropFirst()
                default:
                    rest = rest.dropFirst()
                }
            }
        }
    }
}
