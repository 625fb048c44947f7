import ArgumentParser
import Broker
import BrokerProtocol
import Foundation

/// `broker inspect`: what a running broker (all its nodes) holds, through its server API.
struct Inspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show nodes, channels, presence, history or a user's connections of a running broker.",
        discussion: "Asks the server API of any node; with the Redis engine the answer covers every node.",
        subcommands: [Nodes.self, Channels.self, Presence.self, History.self, Connections.self])

    struct Target: ParsableArguments {
        @Option(name: [.short, .long], help: "Config file to take the API address and key from.")
        var config: String?
        @Option(help: "Server API URL, e.g. http://127.0.0.1:8000/api (default: from the config).")
        var api: String?
        @Option(help: "Server API key (default: http_api.key from the config).")
        var apiKey: String?
        @Flag(help: "Print the server API's JSON result instead of a table.")
        var json = false

        func client() throws -> InspectClient {
            var url = api
            var key = apiKey
            var origin = "--api"
            if url == nil || key == nil {
                let path = config ?? (FileManager.default.fileExists(atPath: "config.json") ? "config.json" : nil)
                let loaded: BrokerConfig
                do {
                    loaded = try ConfigLoader.load(path: path, environment: ProcessInfo.processInfo.environment)
                } catch {
                    FileHandle.standardError.write(Data((error.description + "\n").utf8))
                    throw ExitCode(1)
                }
                if url == nil { origin = InspectClient.apiURLOrigin(for: loaded, file: path) }
                url = url ?? InspectClient.apiURL(for: loaded)
                key = key ?? loaded.httpAPI.key
            }
            return InspectClient(apiURL: url!, apiKey: key!, origin: origin)
        }

        /// Runs the calls and prints the table (or the first result's JSON); failures go to stderr, exit 1.
        func show(_ calls: [(String, JSONObject)], table: ([JSONValue]) -> String) async throws {
            let client = try client()
            var results: [JSONValue] = []
            do {
                for (method, params) in calls { results.append(try await client.call(method, params)) }
            } catch {
                FileHandle.standardError.write(Data(("broker inspect: " + error.description + "\n").utf8))
                throw ExitCode(1)
            }
            print(json ? results[0].serializedString : table(results), terminator: json ? "\n" : "")
        }
    }

    struct Nodes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every live node with its counters.")
        @OptionGroup var target: Target
        func run() async throws {
            try await target.show([("info", JSONObject())]) { InspectReport.nodes($0[0]) }
        }
    }

    struct Channels: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Channels with subscribers, over all nodes.")
        @OptionGroup var target: Target
        @Argument(help: "Only channels matching this pattern (glob, e.g. 'chat:*').") var pattern: String?
        func run() async throws {
            let params = pattern.map { JSONObject([("pattern", JSONValue.string($0))]) } ?? JSONObject()
            try await target.show([("channels", params)]) { InspectReport.channels($0[0]) }
        }
    }

    struct Presence: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Who is present in a channel.")
        @OptionGroup var target: Target
        @Argument(help: "Channel.") var channel: String
        func run() async throws {
            let params = JSONObject([("channel", JSONValue.string(channel))])
            try await target.show([("presence", params), ("presence_stats", params)]) { InspectReport.presence($0[0], stats: $0[1]) }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The newest publications in a channel's history.")
        @OptionGroup var target: Target
        @Argument(help: "Channel.") var channel: String
        @Option(help: "How many publications, newest first.") var limit = 10
        func run() async throws {
            let params = JSONObject([
                ("channel", JSONValue.string(channel)), ("limit", .number(String(limit))), ("reverse", .bool(true)),
            ])
            try await target.show([("history", params)]) { InspectReport.history($0[0]) }
        }
    }

    struct Connections: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A user's connections on every node, with their channels.")
        @OptionGroup var target: Target
        @Argument(help: "User ID (\"\" for anonymous connections).") var user: String
        func run() async throws {
            try await target.show([("connections", JSONObject([("user", JSONValue.string(user))]))]) { InspectReport.connections($0[0]) }
        }
    }
}
