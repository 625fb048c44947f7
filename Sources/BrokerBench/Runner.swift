#if canImport(Glibc)
import Glibc
#endif
import Atomics
import Histogram
import NIOCore
import NIOPosix

/// Runs scenarios against servers on a fixed set of event loops (one by default). Subscribers are spread over
/// the loops; publishers live on the first. Between scenarios every connection is closed.
final class Runner: @unchecked Sendable {
    let loops: [EventLoop]
    let stats: [LoopStats]
    let deliveredTotal: ManagedAtomic<Int>
    let payload: PayloadTemplate
    let connectConcurrency: Int
    let verbose: Bool
    private var runCounter = 0

    init(group: MultiThreadedEventLoopGroup, payloadSize: Int, connectConcurrency: Int, verbose: Bool) {
        var loops: [EventLoop] = []
        var it = group.makeIterator()
        while let l = it.next() { loops.append(l) }
        self.loops = loops
        let total = ManagedAtomic<Int>(0)
        self.deliveredTotal = total
        self.stats = loops.map { LoopStats(loop: $0, deliveredTotal: total) }
        self.payload = PayloadTemplate(size: payloadSize)
        self.connectConcurrency = connectConcurrency
        self.verbose = verbose
    }

    func log(_ s: String) {
        if verbose { printErr(s) }
    }

    /// Channel names unique to this scenario run, so nothing from an earlier run can arrive.
    func channelNames(_ count: Int, tag: String) -> [String] {
        runCounter += 1
        let run = runCounter
        let pid = Int(getpid())
        return (0..<count).map { "bench\(pid)r\(run)\(tag)\($0)" }
    }

    func resetStats() async throws {
        for s in stats { try await s.loop.submit { s.reset() }.get() }
    }

    func run(_ spec: ScenarioSpec, on server: ServerSpec) async throws -> ScenarioResult {
        try await resetStats()
        var r = ScenarioResult(scenario: spec.name, kind: spec.kind.rawValue, server: server.name, target: server.target.rawValue)
        r.durationSeconds = spec.duration
        switch spec.kind {
        case .fanout, .channels: try await runDelivery(spec, server, &r)
        case .idle: try await runIdle(spec, server, &r)
        case .churn: try await runChurn(spec, server, &r)
        case .publish: try await runPublish(spec, server, &r)
        }
        return r
    }

    // MARK: - shared steps

    /// Opens `count` subscribers (subscriber i on channel i % channels.count, node i % nodes) and waits until each
    /// is ready or failed.
    func connect(_ server: ServerSpec, count: Int, channels: [String], subscribe: SubscribeMode,
                 into r: inout ScenarioResult) async throws {
        let connector = WebSocketConnector(server: server, subscribe: subscribe)
        var perLoop: [[ConnectPump.Item]] = Array(repeating: [], count: loops.count)
        for i in 0..<count {
            let c = i % channels.count
            perLoop[i % loops.count].append(.init(index: i, channelIndex: c, channelName: channels[c], node: i % server.nodes.count))
        }
        let before = Usage(server)
        let t0 = before.time
        var pumps: [ConnectPump] = []
        for (k, items) in perLoop.enumerated() {
            let pump = ConnectPump(stats: stats[k], connector: connector, items: items,
                                   maxInFlight: max(1, connectConcurrency / loops.count))
            pumps.append(pump)
            try await loops[k].submit { pump.start() }.get()
        }
        var lastLog = t0
        while true {
            var settled = 0
            for (k, p) in pumps.enumerated() { settled += try await loops[k].submit { p.settled }.get() }
            if settled >= count { break }
            let now = monotonicNanos()
            if now - lastLog > 2_000_000_000 {
                log("  connecting: \(settled)/\(count)")
                lastLog = now
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        let after = Usage(server)
        let secs = Double(after.time - t0) / 1e9
        let snap = try await StatsSnapshot.take(stats, publishedPerChannel: nil)
        let serverCPU = after.server - before.server
        let generatorCPU = after.generator - before.generator
        let ready = snap.counters.ready
        r.connectServerCpuSeconds = round3(serverCPU.total)
        if serverCPU.total > 0 { r.connectsPerServerCpuSecond = (Double(ready) / serverCPU.total).rounded() }
        r.connectGeneratorCpuPercent = round1(100 * generatorCPU.total / max(secs, 1e-9))
        if ready > 0 {
            r.connectServerMicros = micros(serverCPU.total, per: ready)
            r.connectServerKernelMicros = micros(serverCPU.kernel, per: ready)
            r.connectGeneratorMicros = micros(generatorCPU.total, per: ready)
            r.connectGeneratorKernelMicros = micros(generatorCPU.kernel, per: ready)
        }
        r.connected = snap.counters.ready
        r.connectFailures = snap.counters.failed
        r.failureReasons = Dictionary(uniqueKeysWithValues: snap.counters.failureReasons.map { ($0.key, $0.value) })
        r.connectSeconds = round3(secs)
        r.connectsPerSecond = round1(Double(snap.counters.ready) / secs)
        log("  \(snap.counters.ready)/\(count) subscribers ready in \(String(format: "%.2f", secs)) s (\(snap.counters.failed) failed)")
    }

    /// Politely closes every subscriber and waits (≤ 15 s) until all are closed.
    func closeAll() async throws {
        for s in stats {
            try await s.loop.submit {
                for sub in s.subs {
                    switch sub.phase {
                    case .ready, .connectSent, .subscribeSent, .upgraded:
                        sub.channel?.pipeline.fireUserInboundEventTriggered(CloseRequest())
                    case .connecting:
                        sub.channel?.close(promise: nil)
                    default: break
                    }
                }
            }.get()
        }
        let deadline = monotonicNanos() + 15_000_000_000
        while monotonicNanos() < deadline {
            var open = 0
            for s in stats { open += try await s.loop.submit { s.subs.reduce(0) { $0 + ($1.phase == .closed ? 0 : 1) } }.get() }
            if open == 0 { break }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        for s in stats { try await s.loop.submit { s.subs = [] }.get() }
    }

    /// Resource snapshot: server CPU/RSS and the generator's (our own) CPU.
    struct Usage {
        var time = monotonicNanos()
        var server: ProcStats.CPUTime
        var generator = ProcStats.selfCPUTime()
        var rss: Int
        init(_ server: ServerSpec) {
            self.server = ProcStats.cpuTime(pids: server.pids)
            rss = ProcStats.rssKiB(pids: server.pids)
        }
    }

    func fillUsage(_ r: inout ScenarioResult, from a: Usage, to b: Usage, windowEnd: UInt64? = nil) {
        let window = Double((windowEnd ?? b.time) - a.time) / 1e9
        let wall = Double(b.time - a.time) / 1e9
        r.windowSeconds = round3(window)
        let server = b.server - a.server
        let generator = b.generator - a.generator
        r.serverCpuSeconds = round3(server.total)
        r.serverKernelCpuSeconds = round3(server.kernel)
        r.serverCpuPercent = round1(100 * server.total / max(wall, 1e-9))
        r.generatorCpuSeconds = round3(generator.total)
        r.generatorCpuPercent = round1(100 * generator.total / max(wall, 1e-9))
        r.serverRssAfterKiB = b.rss
        if r.generatorCpuPercent >= 90 {
            r.notes.append("generator CPU \(r.generatorCpuPercent)% of a core: the generator may be the bottleneck")
        }
    }

    /// The scenario's unit of work (deliveries, connect cycles, publications): how many the server carried per
    /// CPU-second, and what one cost the server (in all, and in the kernel) and the generator, in microseconds.
    func fillOps(_ r: inout ScenarioResult, count: Int, name: String) {
        r.opsName = name
        guard count > 0 else { return }
        if r.serverCpuSeconds > 0 { r.opsPerServerCpuSecond = (Double(count) / r.serverCpuSeconds).rounded() }
        r.serverMicrosPerOp = micros(r.serverCpuSeconds, per: count)
        r.serverKernelMicrosPerOp = micros(r.serverKernelCpuSeconds, per: count)
        r.generatorMicrosPerOp = micros(r.generatorCpuSeconds, per: count)
    }

    func fillLatency(_ r: inout ScenarioResult, _ h: Histogram<UInt64>) {
        guard h.totalCount > 0 else { return }
        r.latencyP50Ms = ms(h.valueAtPercentile(50))
        r.latencyP99Ms = ms(h.valueAtPercentile(99))
        r.latencyP999Ms = ms(h.valueAtPercentile(99.9))
        r.latencyMaxMs = ms(h.max)
    }

    func fillConnectionEnds(_ r: inout ScenarioResult, _ snap: StatsSnapshot) {
        r.unexpectedCloses = snap.counters.unexpectedCloses
        r.closeCodes = Dictionary(uniqueKeysWithValues: snap.counters.closeCodes.map { (String($0.key), $0.value) })
        for (k, v) in snap.counters.failureReasons { r.failureReasons[k] = v }
        if snap.counters.unexpectedCloses > 0 { r.notes.append("\(snap.counters.unexpectedCloses) connections closed by the server mid-run") }
    }
}

func ms(_ us: UInt64) -> Double { round3(Double(us) / 1000) }
func micros(_ seconds: Double, per count: Int) -> Double { (seconds * 1e8 / Double(count)).rounded() / 100 }
func round1(_ x: Double) -> Double { (x * 10).rounded() / 10 }
func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
