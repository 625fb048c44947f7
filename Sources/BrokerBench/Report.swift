import Foundation

func printErr(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}

/// Human tables, Markdown and JSON from the results.
enum Report {
    /// A metric shown in tables: label, value, and whether a higher value is better (for the reader; the ratio is
    /// always first server / second server).
    struct Metric: Sendable {
        var label: String
        var value: @Sendable (ScenarioResult) -> Double?
        var format: String = "%.1f"
    }

    static let metrics: [Metric] = [
        Metric(label: "connected", value: { Double($0.connected) }, format: "%.0f"),
        Metric(label: "connect failures", value: { Double($0.connectFailures) }, format: "%.0f"),
        Metric(label: "connects/s", value: { $0.connectsPerSecond }),
        Metric(label: "connects per server CPU-s", value: { $0.connectsPerServerCpuSecond }, format: "%.0f"),
        Metric(label: "generator CPU % (connecting)", value: { $0.connectGeneratorCpuPercent }),
        Metric(label: "server µs per connect", value: { $0.connectServerMicros }, format: "%.1f"),
        Metric(label: "server kernel µs per connect", value: { $0.connectServerKernelMicros }, format: "%.1f"),
        Metric(label: "generator µs per connect", value: { $0.connectGeneratorMicros }, format: "%.1f"),
        Metric(label: "generator kernel µs per connect", value: { $0.connectGeneratorKernelMicros }, format: "%.1f"),
        Metric(label: "publications/s", value: { $0.publicationsPerSecond }),
        Metric(label: "publish errors", value: { $0.publishErrors.map(Double.init) }, format: "%.0f"),
        Metric(label: "publish RTT p99 ms", value: { $0.publishRttP99Ms }, format: "%.3f"),
        Metric(label: "expected deliveries", value: { $0.expectedDeliveries.map(Double.init) }, format: "%.0f"),
        Metric(label: "delivered", value: { $0.delivered.map(Double.init) }, format: "%.0f"),
        Metric(label: "lost", value: { $0.lost.map(Double.init) }, format: "%.0f"),
        Metric(label: "duplicated", value: { $0.duplicated.map(Double.init) }, format: "%.0f"),
        Metric(label: "delivered msgs/s", value: { $0.deliveredPerSecond }),
        Metric(label: "latency p50 ms", value: { $0.latencyP50Ms }, format: "%.3f"),
        Metric(label: "latency p99 ms", value: { $0.latencyP99Ms }, format: "%.3f"),
        Metric(label: "latency p999 ms", value: { $0.latencyP999Ms }, format: "%.3f"),
        Metric(label: "latency max ms", value: { $0.latencyMaxMs }, format: "%.3f"),
        Metric(label: "churn cycles/s", value: { $0.cyclesPerSecond }),
        Metric(label: "churn cycle p99 ms", value: { $0.cycleP99Ms }, format: "%.3f"),
        Metric(label: "server CPU s", value: { $0.serverCpuSeconds }, format: "%.2f"),
        Metric(label: "server CPU %", value: { $0.serverCpuPercent }),
        Metric(label: "ops per server CPU-s", value: { $0.opsPerServerCpuSecond }, format: "%.0f"),
        Metric(label: "server µs per op", value: { $0.serverMicrosPerOp }, format: "%.2f"),
        Metric(label: "server kernel µs per op", value: { $0.serverKernelMicrosPerOp }, format: "%.2f"),
        Metric(label: "generator µs per op", value: { $0.generatorMicrosPerOp }, format: "%.2f"),
        Metric(label: "server RSS before KiB", value: { Double($0.serverRssBeforeKiB) }, format: "%.0f"),
        Metric(label: "server RSS connected KiB", value: { Double($0.serverRssConnectedKiB) }, format: "%.0f"),
        Metric(label: "RSS per connection KiB", value: { $0.rssPerConnectionKiB }),
        Metric(label: "generator CPU %", value: { $0.generatorCpuPercent }),
    ]

    /// The metrics of the comparison summary (and results.md).
    static let keyMetrics: Set<String> = [
        "delivered msgs/s", "ops per server CPU-s", "latency p50 ms", "latency p99 ms", "latency p999 ms", "lost",
        "duplicated", "server CPU %", "RSS per connection KiB", "connects/s", "connects per server CPU-s",
        "generator CPU % (connecting)", "publications/s", "churn cycles/s",
        "publish RTT p99 ms", "generator CPU %", "server µs per op", "server kernel µs per op",
        "server µs per connect", "server kernel µs per connect", "generator µs per connect",
    ]

    static func fmt(_ v: Double?, _ f: String) -> String {
        guard let v else { return "-" }
        return String(format: f, v)
    }

    static func ratio(_ a: Double?, _ b: Double?) -> String {
        guard let a, let b, b != 0 else { return "-" }
        return String(format: "%.2f", a / b)
    }

    static func pad(_ s: String, _ w: Int, left: Bool = false) -> String {
        let n = max(0, w - s.count)
        return left ? s + String(repeating: " ", count: n) : String(repeating: " ", count: n) + s
    }

    /// One block per scenario: a column per server, and a ratio column (first/second) when there are two or more.
    static func table(_ results: [ScenarioResult]) -> String {
        var out = ""
        var order: [String] = []
        for r in results where !order.contains(r.scenario) { order.append(r.scenario) }
        for scenario in order {
            let rs = results.filter { $0.scenario == scenario }
            guard let first = rs.first else { continue }
            out += "\n== \(scenario) (\(first.kind): \(first.subscribers) subs, \(first.channels) channels, rate \(first.rate), \(first.durationSeconds) s; ops = \(first.opsName))\n"
            var header = pad("metric", 32, left: true)
            for r in rs { header += pad(r.server, 16) }
            if rs.count >= 2 { header += pad("ratio", 9) }
            out += header + "\n"
            for m in metrics {
                let vals = rs.map { m.value($0) }
                if vals.allSatisfy({ $0 == nil }) { continue }
                var line = pad(m.label, 32, left: true)
                for v in vals { line += pad(fmt(v, m.format), 16) }
                if rs.count >= 2 { line += pad(ratio(vals[0], vals[1]), 9) }
                out += line + "\n"
            }
            for r in rs where !r.notes.isEmpty || !r.failureReasons.isEmpty || !r.closeCodes.isEmpty {
                for n in r.notes { out += "  note [\(r.server)]: \(n)\n" }
                if !r.failureReasons.isEmpty { out += "  failures [\(r.server)]: \(r.failureReasons)\n" }
                if !r.closeCodes.isEmpty { out += "  close codes from server [\(r.server)]: \(r.closeCodes)\n" }
            }
        }
        return out
    }

    /// Comparison summary: scenario | metric | server A | server B | ratio (A/B), key metrics only.
    static func comparison(_ results: [ScenarioResult], markdown: Bool) -> String {
        var servers: [String] = []
        for r in results where !servers.contains(r.server) { servers.append(r.server) }
        guard servers.count >= 2 else { return "" }
        let (a, b) = (servers[0], servers[1])
        var scenarios: [String] = []
        for r in results where !scenarios.contains(r.scenario) { scenarios.append(r.scenario) }
        var rows: [[String]] = []
        for s in scenarios {
            guard let ra = results.first(where: { $0.scenario == s && $0.server == a }),
                  let rb = results.first(where: { $0.scenario == s && $0.server == b }) else { continue }
            for m in metrics where keyMetrics.contains(m.label) {
                let va = m.value(ra), vb = m.value(rb)
                if va == nil && vb == nil { continue }
                let label = m.label == "ops per server CPU-s" ? "\(ra.opsName) per server CPU-s" : m.label
                rows.append([s, label, fmt(va, m.format), fmt(vb, m.format), ratio(va, vb)])
            }
            rows += ceilings(ra, rb).map { [s, $0.label, "", "", String(format: "%.2f", $0.value)] }
        }
        let head = ["scenario", "metric", a, b, "ratio \(a)/\(b)"]
        if markdown {
            var out = "| " + head.joined(separator: " | ") + " |\n|" + String(repeating: "---|", count: head.count) + "\n"
            for r in rows { out += "| " + r.joined(separator: " | ") + " |\n" }
            return out
        }
        var widths = [10, 34, 14, 14, 14]
        for r in rows + [head] { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count + 2) } }
        var out = "\nComparison (ratio = \(a) / \(b)):\n"
        out += zip(head, widths).enumerated().map { pad($0.element.0, $0.element.1, left: $0.offset < 2) }.joined() + "\n"
        for r in rows { out += zip(r, widths).enumerated().map { pad($0.element.0, $0.element.1, left: $0.offset < 2) }.joined() + "\n" }
        return out
    }

    /// The highest per-CPU-second ratio the first server could reach against the second if its own code cost
    /// nothing: the second's CPU per op over the first's kernel CPU per op. Kernel time is mostly the sockets'
    /// work, which any server pays alike, so a target above this ceiling cannot be met by changing the server.
    static func ceilings(_ a: ScenarioResult, _ b: ScenarioResult) -> [(label: String, value: Double)] {
        var out: [(label: String, value: Double)] = []
        if let ka = a.serverKernelMicrosPerOp, ka > 0, let tb = b.serverMicrosPerOp {
            out.append(("\(a.opsName) ratio ceiling (kernel)", tb / ka))
        }
        if let ka = a.connectServerKernelMicros, ka > 0, let tb = b.connectServerMicros {
            out.append(("connects ratio ceiling (kernel)", tb / ka))
        }
        return out
    }

    static func writeJSON(_ results: [ScenarioResult], to path: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try enc.encode(results).write(to: URL(fileURLWithPath: path))
    }

    static func writeMarkdown(_ results: [ScenarioResult], to path: String, header: String) throws {
        var md = "# broker-bench results\n\n\(header)\n\n"
        let cmp = comparison(results, markdown: true)
        if !cmp.isEmpty { md += cmp + "\n" }
        md += "## All metrics\n\n```\n" + table(results) + "```\n"
        try md.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
