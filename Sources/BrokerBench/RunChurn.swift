import NIOCore

/// `churn` loops on one event loop: each of `concurrency` workers connects, subscribes to its own channel,
/// publishes one message to it through the API, waits for it, closes, and starts over.
final class ChurnDriver: @unchecked Sendable {
    let stats: LoopStats
    let connector: WebSocketConnector
    let pool: HTTPPool
    let builder: RequestBuilder
    let concurrency: Int
    let duration: Double
    private var seqs: [UInt64]
    private var stopping = false
    private var active = 0
    private var done: EventLoopPromise<Void>?
    private(set) var cycles = 0
    private(set) var failures = 0
    /// Connect → publication received, microseconds.
    private(set) var cycleTime = LoopCounters.newHistogram()
    private(set) var startedAt: UInt64 = 0
    private(set) var stoppedAt: UInt64 = 0

    init(stats: LoopStats, connector: WebSocketConnector, pool: HTTPPool, builder: RequestBuilder, concurrency: Int, duration: Double) {
        self.stats = stats
        self.connector = connector
        self.pool = pool
        self.builder = builder
        self.concurrency = concurrency
        self.duration = duration
        self.seqs = Array(repeating: 0, count: concurrency)
    }

    func run() -> EventLoopFuture<Void> {
        let p = stats.loop.makePromise(of: Void.self)
        done = p
        startedAt = monotonicNanos()
        active = concurrency
        for w in 0..<concurrency { cycle(w) }
        stats.loop.scheduleTask(in: .nanoseconds(Int64(duration * 1e9))) {
            self.stopping = true
            self.stoppedAt = monotonicNanos()
        }
        // Workers stuck in a cycle don't hold the run up for long.
        stats.loop.scheduleTask(in: .nanoseconds(Int64((duration + 10) * 1e9))) { self.finish() }
        return p.futureResult
    }

    private func finish() {
        done?.succeed(())
        done = nil
    }

    private func cycle(_ w: Int) {
        if stopping {
            active -= 1
            if active == 0 { finish() }
            return
        }
        let s = SubState(stats: stats, index: w, channelIndex: w, channelName: builder.channels[w], user: "churn-\(w)")
        let seq = seqs[w]
        s.nextSeq = seq
        var completed = false
        s.onReady = { [unowned self] s in
            let (buf, ts) = builder.single(channel: w, seq: seq, allocator: s.channel?.allocator ?? ByteBufferAllocator())
            pool.submit(HTTPPool.Request(bytes: buf, tsOffsets: ts) { result in
                if !result.ok { s.fail("publish: HTTP \(result.status)") }
            })
        }
        s.onPublication = { [unowned self] s in
            guard !completed else { return }
            completed = true
            cycles += 1
            cycleTime.record(max(1, (monotonicNanos() - s.startedAt) / 1000))
            seqs[w] = seq + 1
            s.channel?.pipeline.fireUserInboundEventTriggered(CloseRequest())
            stats.loop.execute { self.cycle(w) }
        }
        s.onEnd = { [unowned self] _ in
            guard !completed else { return }
            completed = true
            failures += 1
            seqs[w] = seq + 1
            stats.loop.execute { self.cycle(w) }
        }
        connector.open(s, node: w)
    }
}

extension Runner {
    func runChurn(_ spec: ScenarioSpec, _ server: ServerSpec, _ r: inout ScenarioResult) async throws {
        let channels = channelNames(spec.concurrency, tag: "w")
        r.channels = channels.count
        r.serverRssBeforeKiB = ProcStats.rssKiB(pids: server.pids)
        let pool = HTTPPool(loop: loops[0], endpoint: server.api)
        try await loops[0].submit { pool.open(count: min(spec.concurrency, 16)) }.get().get()
        var connector = WebSocketConnector(server: server, subscribe: spec.subscribe)
        connector.setupTimeout = .seconds(5)
        let driver = ChurnDriver(stats: stats[0], connector: connector, pool: pool,
                                 builder: RequestBuilder(server: server, payload: payload, channels: channels),
                                 concurrency: spec.concurrency, duration: spec.duration)
        log("  churn with \(spec.concurrency) workers for \(spec.duration) s")
        let before = Usage(server)
        try await loops[0].submit { driver.run() }.get().get()
        let after = Usage(server)
        let (cycles, failures, hist, start, stop) = try await loops[0].submit {
            (driver.cycles, driver.failures, driver.cycleTime, driver.startedAt, driver.stoppedAt)
        }.get()
        let snap = try await StatsSnapshot.take(stats, publishedPerChannel: nil)
        let secs = Double((stop > start ? stop : after.time) - start) / 1e9
        r.cycles = cycles
        r.connected = cycles
        r.connectFailures = failures
        r.cyclesPerSecond = round1(Double(cycles) / secs)
        r.connectsPerSecond = r.cyclesPerSecond
        if hist.totalCount > 0 {
            r.cycleP50Ms = ms(hist.valueAtPercentile(50))
            r.cycleP99Ms = ms(hist.valueAtPercentile(99))
        }
        r.delivered = snap.counters.delivered
        r.duplicated = snap.counters.duplicates
        fillLatency(&r, snap.counters.latency)
        fillUsage(&r, from: before, to: after)
        r.serverRssConnectedKiB = after.rss
        fillOps(&r, count: cycles, name: "connect cycles")
        for (k, v) in snap.counters.failureReasons { r.failureReasons[k] = v }
        try await loops[0].submit { pool.close() }.get()
        try await Task.sleep(nanoseconds: 2_500_000_000)  // let the last closes finish
    }
}
