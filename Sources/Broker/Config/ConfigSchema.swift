#if canImport(BrokerProtocol)
import BrokerProtocol
#endif

/// State carried through one decode of a config document.
struct ConfigDecoding {
    /// Dotted paths of keys that are not Centrifugo keys (reported as warnings, not errors).
    var unknownKeys: [String] = []
}

/// One config key: its dotted path in Centrifugo's layout and how to store it from the file and from env.
///
/// The same table drives the file decoder, the env overrides and unknown-key detection, so a key is
/// spelled exactly once.
struct ConfigSetting<Root> {
    /// Dotted path relative to `Root`, e.g. `client.ping_interval`.
    let path: String
    /// Stores a (non-null) file value; `fullPath` is the key to name in errors.
    let applyJSON: (inout Root, JSONValue, _ fullPath: String, inout ConfigDecoding) throws(ConfigError) -> Void
    /// Stores a non-empty env value; `envName` is the variable to name in errors.
    let applyText: (inout Root, String, _ envName: String, inout ConfigDecoding) throws(ConfigError) -> Void

    init(
        path: String,
        applyJSON: @escaping (inout Root, JSONValue, String, inout ConfigDecoding) throws(ConfigError) -> Void,
        applyText: @escaping (inout Root, String, String, inout ConfigDecoding) throws(ConfigError) -> Void
    ) {
        self.path = path
        self.applyJSON = applyJSON
        self.applyText = applyText
    }

    /// A plain value stored at `keyPath`.
    ///
    /// A zero value in the file leaves the default in place, as in Centrifugo (which fills still-zero keys
    /// with their defaults after reading the file); a value from env is always stored.
    static func value<Value>(
        _ path: String, _ keyPath: WritableKeyPath<Root, Value>, _ type: ConfigValueType<Value>
    ) -> ConfigSetting<Root> {
        ConfigSetting(
            path: path,
            applyJSON: { root, json, fullPath, _ throws(ConfigError) in
                let value: Value
                do throws(ConfigValueError) {
                    value = try type.fromJSON(json)
                } catch {
                    throw ConfigError(key: fullPath, message: error.message)
                }
                if type.isZero(value) { return }
                root[keyPath: keyPath] = value
            },
            applyText: { root, text, envName, _ throws(ConfigError) in
                do throws(ConfigValueError) {
                    root[keyPath: keyPath] = try type.fromText(text)
                } catch {
                    throw ConfigError(key: envName, message: "\(error.message); the variable sets \(path)")
                }
            }
        )
    }

    /// This setting moved under `prefix` of an enclosing type.
    func nested<Outer>(under prefix: String, at keyPath: WritableKeyPath<Outer, Root>) -> ConfigSetting<Outer> {
        let inner = self
        return ConfigSetting<Outer>(
            path: prefix.isEmpty ? inner.path : prefix + "." + inner.path,
            applyJSON: { outer, json, fullPath, decoding throws(ConfigError) in
                try inner.applyJSON(&outer[keyPath: keyPath], json, fullPath, &decoding)
            },
            applyText: { outer, text, envName, decoding throws(ConfigError) in
                try inner.applyText(&outer[keyPath: keyPath], text, envName, &decoding)
            }
        )
    }
}

extension Array {
    /// Every setting of the list moved under `prefix` of an enclosing type.
    func nested<Root, Outer>(under prefix: String, at keyPath: WritableKeyPath<Outer, Root>) -> [ConfigSetting<Outer>]
    where Element == ConfigSetting<Root> {
        map { $0.nested(under: prefix, at: keyPath) }
    }
}

/// The keys of one object type (the whole config, or one namespace entry).
struct ConfigSchema<Root> {
    let settings: [ConfigSetting<Root>]
    /// Centrifugo keys that are inert by design (`UnsupportedKeys`); each covers its subtree, except the refused
    /// keys inside it (e.g. `grpc_api.enabled` under `grpc_api`), which are settings and are matched first.
    let inertPaths: Set<String>
    /// Paths that are objects holding settings (every proper prefix of a setting's path).
    let sectionPaths: Set<String>
    private let settingIndex: [String: Int]

    init(settings: [ConfigSetting<Root>], inertPaths: [String]) {
        self.settings = settings
        self.inertPaths = Set(inertPaths)
        var index: [String: Int] = [:]
        var sections: Set<String> = []
        for (i, setting) in settings.enumerated() {
            index[setting.path] = i
            var prefix = ""
            for part in setting.path.split(separator: ".").dropLast() {
                prefix = prefix.isEmpty ? String(part) : prefix + "." + part
                sections.insert(prefix)
            }
        }
        self.settingIndex = index
        self.sectionPaths = sections
    }

    func setting(at path: String) -> ConfigSetting<Root>? {
        settingIndex[path].map { settings[$0] }
    }

    /// Applies every member of `object` to `root`. `location` prefixes the reported key paths
    /// (e.g. `channel.namespaces[2]`); null values count as absent.
    func decode(
        _ object: JSONObject, into root: inout Root, location: String, decoding: inout ConfigDecoding
    ) throws(ConfigError) {
        try decode(object, relativePath: "", into: &root, location: location, decoding: &decoding)
    }

    private func decode(
        _ object: JSONObject, relativePath: String, into root: inout Root, location: String,
        decoding: inout ConfigDecoding
    ) throws(ConfigError) {
        for member in object.members {
            let path = relativePath.isEmpty ? member.key : relativePath + "." + member.key
            let fullPath = location.isEmpty ? path : location + "." + path
            if member.value.isNull { continue }
            if let setting = setting(at: path) {
                try setting.applyJSON(&root, member.value, fullPath, &decoding)
            } else if sectionPaths.contains(path) {
                guard case .object(let inner) = member.value else {
                    throw ConfigError(key: fullPath, message: "expected an object, got \(ConfigMessage.describe(member.value))")
                }
                try decode(inner, relativePath: path, into: &root, location: location, decoding: &decoding)
            } else if !isInert(path) {
                decoding.unknownKeys.append(fullPath)
            }
        }
    }

    /// Whether `path` is an inert key or lies under one.
    func isInert(_ path: String) -> Bool {
        var prefix = ""
        for part in path.split(separator: ".") {
            prefix = prefix.isEmpty ? String(part) : prefix + "." + part
            if inertPaths.contains(prefix) { return true }
        }
        return false
    }
}
