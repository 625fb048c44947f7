import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

/// `broker-bench`: load generator for Centrifugo-compatible servers and nchan. See `scripts/bench.sh` for a full
/// comparison run; a single server can be driven with `--target/--url/--api-url/...`.
@main
struct BrokerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker-bench",
        abstract: "WebSocket fan-out / churn / idle / publish load generator (Centrifugo protocol or nchan).",
        discussion: """
            Scenarios (--scenarios, comma-separated): presets \(ScenarioSpec.presetNames.joined(separator: ", ")), or
            KIND[:k=v,...] with KIND in fanout, channels, idle, churn, publish and keys subs, channels, rate (n|max),
            dur, batch, pubconns, mode (rr|broadcast), conc, ahead, settle, sub (command|token: subscribe with a
            command, or through the connection token's channels claim). E.g. fanout:subs=5000,rate=max,batch=10.

            Servers: --server centrifugo=ws://127.0.0.1:8000,key=K,secret=S,pid=123,name=ours
                     --server nchan=http://127.0.0.1:8090,pid=456,pid=457
            (more keys: ws=URL for more nodes, api=URL). With --compare (two or more --server) each scenario runs on
            every server in turn and a comparison with ratios (first/second) is printed.
            """
    )

    @Option(name: .customLong("server"), help: "A server under test (repeatable), see above.")
    var servers: [String] = []

    @Flag(help: "Run every scenario on each --server in turn and print a comparison.")
    var compare = false

    @Option(help: "Target of the single server given by --url (centrifugo|nchan).")
    var target: String = "centrifugo"

    @Option(help: "Single server: WebSocket URL (centrifugo) or base URL (nchan).")
    var url: String?

    @Option(help: "Single server: HTTP API base URL (default: same host:port as --url).")
    var apiURL: String?

    @Option(help: "Single server: server API key (X-API-Key).")
    var apiKey: String = ""

    @Option(help: "Single server: HS256 secret for connection tokens.")
    var secret: String = ""

    @Option(name: .customLong("server-pid"), help: "Single server: process whose CPU/RSS is measured (repeatable).")
    var serverPids: [Int32] = []

    @Option(help: "Scenario list (comma-separated presets or KIND:k=v,...).")
    var scenarios: String?

    @Option(help: "Single ad-hoc scenario kind when --scenarios is not given (fanout|channels|idle|churn|publish).")
    var scenario: String = "fanout"

    @Option(help: "Ad-hoc scenario: subscribers.") var subscribers: Int?
    @Option(help: "Ad-hoc scenario: channels.") var channels: Int?
    @Option(help: "Ad-hoc scenario: publications (or broadcast rounds) per second, or 'max'.") var rate: String?
    @Option(help: "Ad-hoc scenario: publications per /api/batch request (Centrifugo).") var batch: Int?
    @Option(help: "Ad-hoc scenario: concurrency for churn/publish.") var concurrency: Int?
    @Option(help: "Ad-hoc scenario: channels mode rr|broadcast.") var mode: String?

    @Option(help: "Seconds of load per scenario.")
    var duration: Double = 10

    @Option(help: "Bytes of each publication's JSON data (seq + ts + padding).")
    var payloadSize: Int = 128

    @Option(help: "Event loops (threads) of the generator.")
    var loops: Int = 1

    @Option(help: "Handshakes in flight while opening subscribers.")
    var connectConcurrency: Int = 200

    @Option(help: "Seconds to pause between runs (lets the server settle).")
    var pause: Double = 2

    @Option(help: "Write all results as a JSON array (one object per scenario run).")
    var json: String?

    @Option(help: "Write a Markdown report (comparison table + all metrics).")
    var markdown: String?

    @Flag(help: "Less progress output on stderr.")
    var quiet = false

    func buildServers() throws -> [ServerSpec] {
        if !servers.isEmpty { return try servers.map(ServerSpec.parse) }
        guard let url else { throw BenchError.usage("give --server ... or --url") }
        guard let t = Target(rawValue: target) else { throw BenchError.usage("--target centrifugo|nchan") }
        return [try ServerSpec.make(name: t.rawValue, target: t, urls: [url], api: apiURL, key: apiKey, secret: secret, pids: serverPids)]
    }

    func buildScenarios() throws -> [ScenarioSpec] {
        if let scenarios {
            // Split on commas, but keep `k=v` parts with the scenario they belong to.
            var tokens: [String] = []
            for part in scenarios.split(separator: ",").map(String.init) {
                if part.contains("=") && !part.contains(":"), !tokens.isEmpty { tokens[tokens.count - 1] += "," + part }
                else { tokens.append(part) }
            }
            return try tokens.map { try ScenarioSpec.parse($0, duration: duration) }
        }
        var s = try ScenarioSpec.parse(scenario, duration: duration)
        if let subscribers { s.subscribers = subscribers; if s.kind == .idle { s.channels = subscribers } }
        if let channels { s.channels = channels }
        if let rate { s.rate = rate == "max" ? nil : Double(rate) }
        if let batch { s.batch = batch }
        if let concurrency { s.concurrency = concurrency }
        if let mode { s.mode = ChannelsMode(rawValue: mode) ?? .rr }
        return [s]
    }

    func run() async throws {
        let servers = try buildServers()
        let specs = try buildScenarios()
        if compare && servers.count < 2 { throw BenchError.usage("--compare needs two or more --server") }
        let fdLimit = raiseFileLimit()
        let biggest = specs.map(\.subscribers).max() ?? 0
        if fdLimit < biggest + 100 { printErr("warning: open-files limit \(fdLimit) < \(biggest) subscribers + 100") }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, loops))
        let runner = Runner(group: group, payloadSize: payloadSize, connectConcurrency: connectConcurrency, verbose: !quiet)
        var results: [ScenarioResult] = []
        for spec in specs {
            for server in servers {
                if !quiet { printErr("==> \(spec.name) on \(server.name)") }
                do {
                    let r = try await runner.run(spec, on: server)
                    results.append(r)
                    if !quiet {
                        printErr("    delivered/s \(r.deliveredPerSecond.map { String($0) } ?? "-"), p99 \(r.latencyP99Ms.map { String($0) } ?? "-") ms, server CPU \(r.serverCpuPercent)%, generator CPU \(r.generatorCpuPercent)%")
                    }
                } catch {
                    printErr("    FAILED: \(error)")
                    var r = ScenarioResult(scenario: spec.name, kind: spec.kind.rawValue, server: server.name, target: server.target.rawValue)
                    r.notes.append("run failed: \(error)")
                    results.append(r)
                    try? await runner.closeAll()
                }
                if let json { try Report.writeJSON(results, to: json) }  // keep partial results
                try await Task.sleep(nanoseconds: UInt64(pause * 1e9))
            }
        }
        print(Report.table(results))
        if servers.count >= 2 { print(Report.comparison(results, markdown: false)) }
        if let json { try Report.writeJSON(results, to: json) }
        if let markdown {
            let header = "Servers: " + servers.map { "\($0.name) (\($0.target.rawValue), pids \($0.pids.map(String.init).joined(separator: "+")))" }.joined(separator: ", ")
                + ". Payload \(payloadSize) bytes, \(loops) generator loop(s). Ratio = \(servers[0].name) / \(servers.count > 1 ? servers[1].name : "-")."
            try Report.writeMarkdown(results, to: markdown, header: header)
        }
        try await group.shutdownGracefully()
    }
}
