import ArgumentParser
import Broker
import BrokerProtocol
import Foundation

/// `broker`: a Centrifugo v6 compatible real-time messaging server.
@main
struct BrokerMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Real-time messaging server speaking Centrifugo v6's client protocol and server API.",
        subcommands: [Serve.self, CheckConfig.self, GenConfigCommand.self, GenToken.self, GenSubToken.self, Inspect.self, Version.self],
        defaultSubcommand: Serve.self)
}

struct ConfigOption: ParsableArguments {
    @Option(name: [.short, .long], help: "Path to the config file (Centrifugo v6 layout, JSON, YAML or TOML by extension).")
    var config: String?

    func load() throws -> BrokerConfig {
        do {
            let path = config ?? (FileManager.default.fileExists(atPath: "config.json") ? "config.json" : nil)
            return try ConfigLoader.load(path: path, environment: ProcessInfo.processInfo.environment)
        } catch {
            // The message names the key, what was wrong and what is allowed; no usage text after it.
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(1)
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the broker (the default).")
    @OptionGroup var options: ConfigOption
    @Option(help: "Port to listen on (overrides http_server.port).") var port: Int?
    @Option(help: "Address to bind (overrides http_server.address).") var address: String?

    func run() async throws {
        var config = try options.load()
        if let port { config.httpServer.port = port }
        if let address { config.httpServer.address = address }
        do {
            try await BrokerLauncher.serve(config: config)
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(1)
        } catch let error as UnsafeSecretsError {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(1)
        }
    }
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "checkconfig", abstract: "Validate a config file; exit 1 with the reason if invalid.")
    @OptionGroup var options: ConfigOption

    func run() throws {
        do {
            let path = options.config ?? "config.json"
            let config = try ConfigLoader.load(path: path, environment: ProcessInfo.processInfo.environment)
            try BrokerServer.checkTLS(config)
            // `serve` refuses weak secrets on exposed listeners: so does the check.
            for warning in try ExposedSecrets.check(config) {
                FileHandle.standardError.write(Data(("warning: weak secret (development mode): " + warning + "\n").utf8))
            }
            print("config is valid")
        } catch {
            // A ConfigError or an UnsafeSecretsError: either names the key and what to do.
            FileHandle.standardError.write(Data(("\(error)" + "\n").utf8))
            throw ExitCode(1)
        }
    }
}

struct GenConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "genconfig", abstract: "Write a minimal config with random secrets.")
    @Option(name: [.short, .long], help: "Where to write it; .json, .yaml/.yml or .toml chooses the format.")
    var config: String = "config.json"

    func run() throws {
        if FileManager.default.fileExists(atPath: config) {
            FileHandle.standardError.write(Data("\(config) already exists; not overwriting\n".utf8))
            throw ExitCode(1)
        }
        let text: String
        do {
            text = try GenConfig.generate(forPath: config)
        } catch {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(1)
        }
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        print("wrote \(config)")
    }
}

struct GenToken: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gentoken", abstract: "Make an HS256 connection token.")
    @OptionGroup var options: ConfigOption
    @Option(name: [.short, .long], help: "User ID.") var user: String = ""
    @Option(name: [.short, .customLong("ttl")], help: "Lifetime in seconds (0 = no expiry).") var ttl: Int = 7 * 24 * 3600

    func run() throws {
        let config = try options.load()
        let secret = config.client.token.hmacSecretKey
        guard !secret.isEmpty else { throw ValidationError("client.token.hmac_secret_key is not set in the config") }
        var claims = JSONObject([("sub", JSONValue.string(user))])
        if ttl > 0 { claims["exp"] = .number(String(Int(Date().timeIntervalSince1970) + ttl)) }
        print(TokenMinter.hs256(claims: claims, secret: secret))
    }
}

struct GenSubToken: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gensubtoken", abstract: "Make an HS256 subscription token.")
    @OptionGroup var options: ConfigOption
    @Option(name: [.short, .long], help: "User ID.") var user: String = ""
    @Option(name: [.customShort("s"), .long], help: "Channel.") var channel: String
    @Option(name: [.short, .customLong("ttl")], help: "Lifetime in seconds (0 = no expiry).") var ttl: Int = 7 * 24 * 3600

    func run() throws {
        let config = try options.load()
        let tokenConfig = config.client.subscriptionToken.enabled ? config.client.subscriptionToken.token : config.client.token
        guard !tokenConfig.hmacSecretKey.isEmpty else { throw ValidationError("no HMAC secret key in the config") }
        var claims = JSONObject([("sub", JSONValue.string(user)), ("channel", .string(channel))])
        if ttl > 0 { claims["exp"] = .number(String(Int(Date().timeIntervalSince1970) + ttl)) }
        print(TokenMinter.hs256(claims: claims, secret: tokenConfig.hmacSecretKey))
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version.")
    func run() throws {
        print("broker \(Node.version)")
    }
}
