import ArgumentParser
import Facade
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// `facade serve` and `facade migrate`. Every option also reads its environment variable.
@main
struct FacadeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facade",
        abstract: "The Scrumble facade: REST API and real-time relay.",
        subcommands: [Serve.self, Migrate.self],
        defaultSubcommand: Serve.self)
}

/// Reads an option from the command line, else from the environment.
func env(_ name: String) -> String? {
    ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
}

func required(_ value: String?, _ name: String) throws -> String {
    guard let value else { throw ValidationError("\(name) is required (flag or environment variable).") }
    return value
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply migrations, then serve the API and run the outbox relay.")

    @Option(help: "PostgreSQL URL (env DATABASE_URL).") var databaseURL: String?
    @Option(help: "Address to bind (env FACADE_HOST, default 127.0.0.1; on any other address the secrets must be strong).")
    var host: String?
    @Option(help: "Port (env FACADE_PORT, default 8080).") var port: Int?
    @Option(name: .customLong("broker-api-url"), help: "Broker HTTP API base (env BROKER_API_URL, default http://127.0.0.1:8000/api).")
    var brokerAPIURL: String?
    @Option(name: .customLong("broker-api-key"), help: "Broker API key (env BROKER_API_KEY).") var brokerAPIKey: String?
    @Option(help: "Broker client token HMAC secret (env BROKER_TOKEN_SECRET).") var brokerTokenSecret: String?
    @Option(help: "Session token secret (env FACADE_JWT_SECRET).") var jwtSecret: String?
    @Option(name: .customLong("google-client-id"), help: "Google OAuth client id (env GOOGLE_CLIENT_ID).") var googleClientID: String?
    @Option(
        name: .customLong("google-jwks-url"),
        help: "Where Google's signing keys are fetched (env GOOGLE_JWKS_URL, default https://www.googleapis.com/oauth2/v3/certs).")
    var googleJWKSURL: String?
    @Option(
        name: .customLong("google-jwks-file"),
        help: "Path to a fixed JWKS JSON with Google's keys, instead of fetching them (env GOOGLE_JWKS_FILE).")
    var googleJWKSFile: String?
    @Option(
        name: .customLong("broker-subscription-token-ttl"),
        help: "Seconds a broker subscription token lives (env BROKER_SUBSCRIPTION_TOKEN_TTL, default 300).")
    var subscriptionTokenTTL: Int?
    @Flag(help: "Do not run the outbox relay in this process (env FACADE_NO_RELAY=1).") var noRelay = false

    func run() async throws {
        // A missing secret reaches the start check as empty, which refuses it with what to do.
        var configuration = FacadeConfiguration(
            databaseURL: try required(databaseURL ?? env("DATABASE_URL"), "DATABASE_URL"),
            brokerTokenSecret: brokerTokenSecret ?? env("BROKER_TOKEN_SECRET") ?? "",
            sessionSecret: jwtSecret ?? env("FACADE_JWT_SECRET") ?? "")
        configuration.host = host ?? env("FACADE_HOST") ?? "127.0.0.1"
        configuration.port = port ?? env("FACADE_PORT").flatMap(Int.init) ?? 8080
        configuration.brokerAPIURL = brokerAPIURL ?? env("BROKER_API_URL") ?? "http://127.0.0.1:8000/api"
        configuration.brokerAPIKey = brokerAPIKey ?? env("BROKER_API_KEY") ?? ""
        configuration.googleClientID = googleClientID ?? env("GOOGLE_CLIENT_ID")
        configuration.googleJWKSURL = googleJWKSURL ?? env("GOOGLE_JWKS_URL")
        if let path = googleJWKSFile ?? env("GOOGLE_JWKS_FILE") {
            do {
                configuration.googleJWKS = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                fail("GOOGLE_JWKS_FILE \(path) cannot be read (\(error.localizedDescription)).")
            }
        }
        if let raw = subscriptionTokenTTL.map(String.init) ?? env("BROKER_SUBSCRIPTION_TOKEN_TTL") {
            guard let seconds = Int(raw), (1...86_400).contains(seconds) else {
                fail("BROKER_SUBSCRIPTION_TOKEN_TTL must be a number of seconds from 1 to 86400, not \(raw).")
            }
            configuration.subscriptionTokenLifetime = TimeInterval(seconds)
        }
        configuration.runRelay = !(noRelay || env("FACADE_NO_RELAY") == "1")
        if let cost = env("FACADE_BCRYPT_COST").flatMap(UInt8.init) { configuration.bcryptCost = cost }

        var logger = Logger(label: "facade")
        logger.logLevel = env("LOG_LEVEL").flatMap(Logger.Level.init(rawValue:)) ?? .info
        let app: any ApplicationProtocol
        do {
            app = try await FacadeApplication.build(configuration: configuration, logger: logger)
        } catch let error as FacadeStartError {
            fail(error.description)
        } catch let error as ConfigurationError {
            fail(error.description)
        }
        do {
            try await app.runService()
        } catch let error as DatabaseConnectError {
            fail(error.description)
        }
    }
}

/// Writes `message` to stderr and exits with status 1 (a configuration the facade refuses).
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    Foundation.exit(1)
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations and exit.")

    @Option(help: "PostgreSQL URL (env DATABASE_URL).") var databaseURL: String?

    func run() async throws {
        var configuration = FacadeConfiguration(
            databaseURL: try required(databaseURL ?? env("DATABASE_URL"), "DATABASE_URL"),
            brokerTokenSecret: "", sessionSecret: "")
        configuration.maxDatabaseConnections = 2
        let logger = Logger(label: "facade.migrate")
        let postgresConfiguration: PostgresClient.Configuration
        do {
            postgresConfiguration = try configuration.postgresConfiguration()
            try await DatabaseProbe.check(configuration, logger: logger)
        } catch let error as ConfigurationError {
            fail(error.description)
        } catch let error as DatabaseConnectError {
            fail(error.description)
        }
        let client = PostgresClient(configuration: postgresConfiguration, backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            let applied = try await Migrator.bundled().migrate(client: client, logger: logger)
            print(applied.isEmpty ? "Database is up to date." : "Applied migrations: \(applied.map(String.init).joined(separator: ", "))")
            group.cancelAll()
        }
    }
}
