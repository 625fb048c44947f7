#if canImport(BrokerProtocol)
import BrokerProtocol
#endif

/// Where the values of a config file are: dotted path in `ConfigError.key`'s form (`client.ping_interval`,
/// `channel.namespaces[1].history_ttl`) → 1-based line in the file. Built while a YAML or TOML file is turned
/// into its `JSONValue` document, so that an invalid value's message can name its line.
struct ConfigLineMap: Sendable, Equatable {
    private(set) var lines: [String: Int] = [:]

    /// Records `line` for `path` unless the path already has one (the first mention wins).
    mutating func record(_ path: String, line: Int) {
        if lines[path] == nil { lines[path] = line }
    }

    static func child(_ parent: String, key: String) -> String {
        parent.isEmpty ? key : parent + "." + key
    }

    static func element(_ parent: String, index: Int) -> String {
        parent + "[\(index)]"
    }

    /// The line of `key`, when `key` is a path that `document` holds: its own line, or else the line of its
    /// nearest ancestor that has one (a TOML inline table's members have the line of the key that holds it).
    /// Nil for keys the file does not set (defaults, env variables), so that no line is blamed wrongly.
    func line(for key: String, in document: JSONValue) -> Int? {
        guard !key.isEmpty, let components = Self.components(of: key), Self.holds(document, components) else {
            return nil
        }
        var prefix = components
        while !prefix.isEmpty {
            if let line = lines[Self.path(of: prefix)] { return line }
            prefix.removeLast()
        }
        return nil
    }

    /// `error` with the file's line as its location (`config.yaml line 7`), so that its
    /// description reads `invalid config: client.ping_interval (config.yaml line 7): "abc" is not a duration …`.
    /// Errors whose key the file does not hold come back unchanged.
    func locate(_ error: ConfigError, path: String, document: JSONValue) -> ConfigError {
        guard let line = line(for: error.key, in: document) else { return error }
        return ConfigError(key: error.key, message: error.message, location: "\(path) line \(line)")
    }

    private enum Component: Equatable {
        case key(String)
        case index(Int)
    }

    /// `a.b[1].c` → key a, key b, index 1, key c; nil when the text is not such a path.
    private static func components(of key: String) -> [Component]? {
        var result: [Component] = []
        for part in key.split(separator: ".", omittingEmptySubsequences: false) {
            var rest = Substring(part)
            if let bracket = rest.firstIndex(of: "[") {
                result.append(.key(String(rest[..<bracket])))
                rest = rest[bracket...]
                while rest.first == "[" {
                    guard let close = rest.firstIndex(of: "]"), let index = Int(rest[rest.index(after: rest.startIndex)..<close])
                    else { return nil }
                    result.append(.index(index))
                    rest = rest[rest.index(after: close)...]
                }
                guard rest.isEmpty else { return nil }
            } else {
                result.append(.key(String(rest)))
            }
        }
        return result
    }

    private static func path(of components: [Component]) -> String {
        var path = ""
        for component in components {
            switch component {
            case .key(let key): path = child(path, key: key)
            case .index(let index): path = element(path, index: index)
            }
        }
        return path
    }

    private static func holds(_ document: JSONValue, _ components: [Component]) -> Bool {
        var node = document
        for component in components {
            switch (component, node) {
            case (.key(let key), .object(let object)):
                guard let next = object[key] else { return false }
                node = next
            case (.index(let index), .array(let items)):
                guard items.indices.contains(index) else { return false }
                node = items[index]
            default:
                return false
            }
        }
        return true
    }
}

/// A config file's document and where its values are (empty for JSON, which has no line map).
struct ConfigDocument: Sendable {
    var value: JSONValue
    var lines: ConfigLineMap
}
