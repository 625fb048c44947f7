import BrokerProtocol
import Foundation
import Testing

@testable import Broker

// MARK: - Helpers

/// A fresh file in a fresh temporary directory.
private func writeFile(named name: String, _ contents: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cfgformats-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let url = dir.appendingPathComponent(name)
    try Data(contents.utf8).write(to: url)
    return url.path
}

private func load(named name: String, _ contents: String, env: [String: String] = [:]) throws -> BrokerConfig {
    try ConfigLoader.load(path: try writeFile(named: name, contents), environment: env)
}

/// The error loading the file throws (nil when it loads) and the file's path.
private func loadError(named name: String, _ contents: String, env: [String: String] = [:]) throws -> (ConfigError?, String) {
    let path = try writeFile(named: name, contents)
    do {
        _ = try ConfigLoader.load(path: path, environment: env)
        return (nil, path)
    } catch {
        return (error, path)
    }
}

// MARK: - One config in three formats

private let configJSON = """
    {
      "http_server": {"address": "127.0.0.1", "port": 9000},
      "log": {"level": "debug"},
      "client": {
        "token": {"hmac_secret_key": "secret-key"},
        "allowed_origins": ["http://localhost:3000", "https://*.example.com"],
        "ping_interval": "20s",
        "pong_timeout": 5,
        "insecure": false,
        "channel_limit": 64
      },
      "channel": {
        "without_namespace": {"presence": true, "history_size": 10, "history_ttl": "300s"},
        "namespaces": [
          {"name": "personal", "presence": true},
          {"name": "chat", "history_size": 100, "history_ttl": "5m", "force_recovery": true}
        ]
      },
      "http_api": {"key": "apikey"},
      "admin": {"enabled": true, "password": "apw", "secret": "asec"},
      "shutdown": {"timeout": 10},
      "node": {"name": "on"}
    }
    """

private let configYAML = """
    # The same settings as configJSON.
    http_server:
      address: 127.0.0.1
      port: 9000
    log:
      level: debug
    client:
      token:
        hmac_secret_key: secret-key
      allowed_origins:
        - http://localhost:3000
        - "https://*.example.com"
      ping_interval: 20s
      pong_timeout: 5
      insecure: false
      channel_limit: 64
    channel:
      without_namespace:
        presence: true
        history_size: 10
        history_ttl: "300s"
      namespaces:
        - name: personal
          presence: true
        - name: chat
          history_size: 100
          history_ttl: 5m
          force_recovery: true
    http_api:
      key: apikey
    admin:
      enabled: true
      password: apw
      secret: asec
    shutdown:
      timeout: 10
    node:
      name: on  # YAML 1.1 would make this a boolean; the core schema keeps the string

    """

private let configTOML = """
    # The same settings as configJSON.
    [http_server]
    address = "127.0.0.1"
    port = 9000

    [log]
    level = "debug"

    [client]
    allowed_origins = [
      "http://localhost:3000",  # a comment [with brackets
      "https://*.example.com",
    ]
    ping_interval = "20s"
    pong_timeout = 5
    insecure = false
    channel_limit = 64

    [client.token]
    hmac_secret_key = "secret-key"

    [channel.without_namespace]
    presence = true
    history_size = 10
    history_ttl = "300s"

    [[channel.namespaces]]
    name = "personal"
    presence = true

    [[channel.namespaces]]
    name = "chat"
    history_size = 100
    history_ttl = "5m"
    force_recovery = true

    [http_api]
    key = "apikey"

    [admin]
    enabled = true
    password = "apw"
    secret = "asec"

    [shutdown]
    timeout = 10

    [node]
    name = "on"

    """

@Suite struct ConfigFormatsTests {
    private let env = ["CENTRIFUGO_LOG_LEVEL": "error", "CENTRIFUGO_CLIENT_PONG_TIMEOUT": "7s"]

    @Test func theSameConfigLoadsEquallyFromJSONYAMLAndTOML() throws {
        let fromJSON = try load(named: "config.json", configJSON, env: env)
        let fromYAML = try load(named: "config.yaml", configYAML, env: env)
        let fromYML = try load(named: "config.yml", configYAML, env: env)
        let fromTOML = try load(named: "config.toml", configTOML, env: env)
        #expect(fromYAML == fromJSON)
        #expect(fromYML == fromJSON)
        #expect(fromTOML == fromJSON)
        // The file's values and the env override on top, as read.
        #expect(fromJSON.log.level == "error")
        #expect(fromJSON.client.pongTimeout == .seconds(7))
        #expect(fromJSON.client.pingInterval == .seconds(20))
        #expect(fromJSON.shutdown.timeout == .seconds(10))
        #expect(fromJSON.client.allowedOrigins == ["http://localhost:3000", "https://*.example.com"])
        #expect(fromJSON.channel.namespaces.map(\.name) == ["personal", "chat"])
        #expect(fromJSON.channel.namespaces[1].options.historyTTL == .seconds(300))
        #expect(fromJSON.node.name == "on")
        #expect(fromJSON.unknownKeys == [])
    }

    @Test func yamlScalarsFollowTheCoreSchema() throws {
        let document = try YAMLDocument.parse(
            """
            a: yes
            b: on
            c: True
            d: 0x1F
            e: 0o17
            f: 017
            g: 1.5
            h: ~
            i: "25s"
            j: 2001-12-14
            k: 1:30
            l: -12
            m: 1e3
            n:

            """, path: "t.yaml"
        ).value
        let expected: [(String, JSONValue)] = [
            ("a", .string("yes")), ("b", .string("on")), ("c", .bool(true)), ("d", .number("31")), ("e", .number("15")),
            ("f", .number("17")), ("g", .number("1.5")), ("h", .null), ("i", .string("25s")),
            ("j", .string("2001-12-14")), ("k", .string("1:30")), ("l", .number("-12")), ("m", .number("1000.0")),
            ("n", .null),
        ]
        #expect(document == .object(JSONObject(expected)))
    }

    @Test func tomlValuesMapToJSON() throws {
        let document = try TOMLDocument.parse(
            """
            a = 1979-05-27T07:32:00Z
            b = 1979-05-27
            c = 07:32:00
            d = 0x1F
            e = 2.5
            f = [1, "x", true]
            g = { h = "i" }

            """, path: "t.toml"
        ).value
        #expect(document["a"] == .string("1979-05-27T07:32:00Z"))
        #expect(document["b"] == .string("1979-05-27"))
        #expect(document["c"] == .string("07:32:00"))
        #expect(document["d"] == .number("31"))
        #expect(document["e"] == .number("2.5"))
        #expect(document["f"] == .array([.number("1"), .string("x"), .bool(true)]))
        #expect(document["g"]?["h"] == .string("i"))
    }

    // MARK: - Lines of bad values

    @Test func aBadYAMLValueNamesItsLine() throws {
        let yaml = configYAML.replacingOccurrences(of: "ping_interval: 20s", with: "ping_interval: abc")
        let (error, path) = try loadError(named: "config.yaml", yaml)
        #expect(error?.description.hasPrefix("invalid config: client.ping_interval (\(path) line 13): \"abc\"") == true,
                "got \(error?.description ?? "no error")")
    }

    @Test func aBadYAMLNamespaceValueNamesItsLine() throws {
        let yaml = configYAML.replacingOccurrences(of: "history_ttl: 5m", with: "history_ttl: 5 minutes")
        let (error, path) = try loadError(named: "config.yaml", yaml)
        #expect(error?.description.hasPrefix("invalid config: channel.namespaces[1].history_ttl (\(path) line 27): ") == true,
                "got \(error?.description ?? "no error")")
    }

    @Test func aBadTOMLValueNamesItsLine() throws {
        let toml = configTOML.replacingOccurrences(of: "ping_interval = \"20s\"", with: "ping_interval = \"abc\"")
        let (error, path) = try loadError(named: "config.toml", toml)
        #expect(error?.description.hasPrefix("invalid config: client.ping_interval (\(path) line 14): \"abc\"") == true,
                "got \(error?.description ?? "no error")")
    }

    @Test func aBadTOMLNamespaceValueNamesItsLine() throws {
        let toml = configTOML.replacingOccurrences(of: "history_ttl = \"5m\"", with: "history_ttl = \"5 minutes\"")
        let (error, path) = try loadError(named: "config.toml", toml)
        #expect(error?.description.hasPrefix("invalid config: channel.namespaces[1].history_ttl (\(path) line 34): ") == true,
                "got \(error?.description ?? "no error")")
    }

    @Test func aTOMLInlineTableMemberHasTheLineOfItsKey() throws {
        let toml = """
            [channel]
            namespaces = [
              { name = "a" },
              { name = "b", history_ttl = "x" },
            ]

            """
        let (error, path) = try loadError(named: "config.toml", toml)
        #expect(error?.key == "channel.namespaces[1].history_ttl", "got \(error?.description ?? "no error")")
        #expect(error?.location == "\(path) line 2")
    }

    @Test func tomlScanSkipsMultilineValuesAndFollowsDottedKeys() {
        let map = TOMLLineScanner.scan(
            """
            title = \"\"\"
            fake = 1
            \"\"\"
            client.ping_interval = "1s"
            [a."b.c"]
            d = 1
            [[x.y]]
            [[x.y]]
            z = 2

            """)
        #expect(map.lines["fake"] == nil)
        #expect(map.lines["client.ping_interval"] == 4)
        #expect(map.lines["a.b.c.d"] == 6)
        #expect(map.lines["x.y[1]"] == 8)
        #expect(map.lines["x.y[1].z"] == 9)
    }

    @Test func errorsOnKeysTheFileDoesNotSetHaveNoLine() throws {
        let (envError, _) = try loadError(named: "config.yaml", configYAML, env: ["CENTRIFUGO_CLIENT_PING_INTERVAL": "abc"])
        #expect(envError?.key == "CENTRIFUGO_CLIENT_PING_INTERVAL")
        #expect(envError?.description.contains(" line ") == false)
    }

    // MARK: - Syntax errors and keys

    @Test func aYAMLSyntaxErrorNamesItsLineAndColumn() throws {
        let (error, path) = try loadError(named: "config.yaml", "client:\n  ping_interval: 20s\n   bad: [1, 2\n")
        #expect(error?.key == "")
        #expect(error?.message.hasPrefix("\(path) is not valid YAML: ") == true)
        #expect(error?.message.contains("at line 3, column ") == true, "got \(error?.description ?? "no error")")
    }

    @Test func aTOMLSyntaxErrorNamesItsLineAndColumn() throws {
        let (error, path) = try loadError(named: "config.toml", "[client]\nping_interval = \"20s\"\ninsecure = tru\n")
        #expect(error?.key == "")
        #expect(error?.message.hasPrefix("\(path) is not valid TOML: ") == true)
        #expect(error?.message.contains("at line 3, column ") == true, "got \(error?.description ?? "no error")")
    }

    @Test func nonStringYAMLKeysAreRefusedWithTheirLine() throws {
        for (yaml, what) in [
            ("client:\n  insecure: false\n  1: x\n", "integer 1"),
            ("client:\n  insecure: false\n  true: x\n", "boolean true"),
            ("client:\n  insecure: false\n  [a]: x\n", "a list"),
        ] {
            let (error, path) = try loadError(named: "config.yaml", yaml)
            #expect(error?.message.hasPrefix("\(path) line 3: map keys must be strings, got \(what)") == true,
                    "got \(error?.description ?? "no error")")
        }
        // A quoted number is a string key (and an unknown one, kept as such).
        let config = try load(named: "config.yaml", "client:\n  \"1\": x\n")
        #expect(config.unknownKeys == ["client.1"])
    }

    @Test func anEmptyYAMLFileIsAnEmptyConfig() throws {
        #expect(try load(named: "config.yaml", "# nothing yet\n") == (try ConfigLoader.load(path: nil, environment: [:])))
    }

    @Test func otherExtensionsAreRefused() throws {
        let (error, _) = try loadError(named: "config.ini", "x=1\n")
        #expect(error?.message.contains("unsupported extension .ini; use a .json, .yaml, .yml or .toml file") == true)
    }

    // MARK: - genconfig

    @Test func genconfigRoundTripsInEachFormat() throws {
        let document = GenConfig.document()
        var loaded: [BrokerConfig] = []
        for (format, name) in [(ConfigFile.Format.json, "config.json"), (.yaml, "config.yaml"), (.toml, "config.toml")] {
            let text = GenConfig.render(document, as: format)
            let config = try load(named: name, text)
            #expect(config.client.token.hmacSecretKey == document["client"]?["token"]?["hmac_secret_key"]?.stringValue)
            #expect(config.admin.enabled == false)
            loaded.append(config)
        }
        #expect(loaded[1] == loaded[0])
        #expect(loaded[2] == loaded[0])
    }

    @Test func genconfigChoosesTheFormatByExtension() throws {
        let yaml = try GenConfig.generate(forPath: "/tmp/x/config.yml")
        #expect(yaml.hasPrefix("client:\n  token:\n    hmac_secret_key: \""))
        let toml = try GenConfig.generate(forPath: "config.toml")
        #expect(toml.hasPrefix("[client]\nallowed_origins = []\n"))
        let json = try GenConfig.generate(forPath: "config.json")
        #expect(json.hasPrefix("{\n  \"client\": {"))
        for (name, text) in [("config.yaml", yaml), ("config.toml", toml), ("config.json", json)] {
            #expect(try load(named: name, text).httpAPI.key.count == 86, "\(name)")
        }
        #expect(throws: ConfigError.self) { try GenConfig.generate(forPath: "config.ini") }
    }

    @Test func theWritersRoundTripARicherConfig() throws {
        let document = try JSONParser.parse(Array(configJSON.utf8))
        let fromJSON = try load(named: "config.json", configJSON)
        #expect(try load(named: "config.yaml", GenConfig.render(document, as: .yaml)) == fromJSON)
        #expect(try load(named: "config.toml", GenConfig.render(document, as: .toml)) == fromJSON)
        // Strings that YAML or TOML would otherwise retype or break on stay strings.
        let tricky = JSONValue.object(JSONObject([
            ("a", .string("on")), ("b", .string("8000")), ("c", .string("quote \" back\\slash\nnew line")),
            ("true", .string("# not a comment")), ("e", .array([.string("x"), .number("2")])),
        ]))
        let yaml = try YAMLDocument.parse(GenConfig.render(tricky, as: .yaml), path: "t.yaml").value
        #expect(yaml == tricky)
        let toml = try TOMLDocument.parse(GenConfig.render(tricky, as: .toml), path: "t.toml").value
        for key in ["a", "b", "c", "true", "e"] { #expect(toml[key] == tricky[key], "\(key)") }
    }
}
