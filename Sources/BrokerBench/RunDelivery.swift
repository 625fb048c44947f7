import NIOCore

extension Runner {
    /// `fanout` and `channels`: subscribers first, then publications for the scenario's duration, then a drain
    /// until every expected delivery arrived (or nothing arrived for 3 s). The window runs from the first
    /// publication to the last delivery.
    func runDelivery(_ spec: ScenarioSpec, _ server: ServerSpec, _ r: inout ScenarioResult) async throws {
        let m = spec.kind == .fanout ? 1 : max(1, spec.channels)
        let channels = channelNames(m, tag: "c")
        r.subscribers = spec.subscribers
        r.channels = m
        r.rate = spec.rate.map { String($0) } ?? "max"
        r.serverRssBeforeKiB = ProcStats.rssKiB(pids: server.pids)
        try await connect(server, count: spec.subscribers, channels: channels, subscribe: spec.subscribe, into: &r)
        r.serverRssConnectedKiB = ProcStats.rssKiB(pids: server.pids)
        if r.connected > 0 {
            r.rssPerConnectionKiB = round1(Double(r.serverRssConnectedKiB - r.serverRssBeforeKiB) / Double(r.connected))
        }
        // Subscribers per channel, for the expected count.
        var subsOn = Array(repeating: 0, count: m)
        for s in stats {
            let counts = try await s.loop.submit { s.subs.filter { $0.phase == .ready }.map(\.channelIndex) }.get()
            for c in counts { subsOn[c] += 1 }
        }
        try await Task.sleep(nanoseconds: 500_000_000)

        let pool = HTTPPool(loop: loops[0], endpoint: server.api)
        try await loops[0].submit { pool.open(count: spec.pubConns) }.get().get()
        let builder = RequestBuilder(server: server, payload: payload, channels: channels)
        let pattern: Publisher.Pattern = spec.kind == .fanout ? .single : (spec.mode == .broadcast ? .broadcast : .roundRobin)
        let perUnit = pattern == .roundRobin ? max(1, r.connected / m) : r.connected
        let config = Publisher.Config(pattern: pattern, rate: spec.rate, duration: spec.duration,
                                      batch: builder.canBatch ? max(1, spec.batch) : 1, ahead: spec.ahead, deliveriesPerUnit: perUnit)
        let publisher = Publisher(pool: pool, builder: builder, config: config, deliveredTotal: deliveredTotal)

        let before = Usage(server)
        log("  publishing \(r.rate)/s for \(spec.duration) s")
        try await loops[0].submit { publisher.run() }.get().get()
        let sent = try await loops[0].submit { publisher.sentPerChannel }.get()
        let expected = zip(sent, subsOn).reduce(0) { $0 + $1.0 * $1.1 }

        // Drain.
        var last = -1
        var lastChange = monotonicNanos()
        let hardDeadline = monotonicNanos() + 60_000_000_000
        while true {
            var delivered = 0
            for s in stats { delivered += try await s.loop.submit { s.counters.delivered + s.counters.duplicates }.get() }
            let now = monotonicNanos()
            if delivered >= expected || now > hardDeadline || now - lastChange > 3_000_000_000 { break }
            if delivered != last { last = delivered; lastChange = now }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        let after = Usage(server)
        let snap = try await StatsSnapshot.take(stats, publishedPerChannel: sent)
        let pub = try await loops[0].submit { () -> (Int, Int, Int, Int, UInt64, UInt64, Double, Double) in
            (publisher.requests, publisher.publications, publisher.failedPublications, publisher.failedRequests,
             publisher.startedAt, publisher.stoppedAt,
             Double(publisher.rtt.valueAtPercentile(50)), Double(publisher.rtt.valueAtPercentile(99)))
        }.get()

        r.publishRequests = pub.0
        r.publications = pub.1
        r.publishErrors = pub.2 + (pub.3 > 0 && pub.2 == 0 ? pub.3 : 0)
        r.publicationsPerSecond = round1(Double(pub.1) / max(1e-9, Double(pub.5 - pub.4) / 1e9))
        r.publishRttP50Ms = round3(pub.6 / 1000)
        r.publishRttP99Ms = round3(pub.7 / 1000)
        r.expectedDeliveries = expected
        r.delivered = snap.counters.delivered
        r.lost = snap.lost
        r.duplicated = snap.counters.duplicates
        let windowEnd = snap.counters.lastRx > before.time ? snap.counters.lastRx : after.time
        r.deliveredPerSecond = round1(Double(snap.counters.delivered) / max(1e-9, Double(windowEnd - before.time) / 1e9))
        fillLatency(&r, snap.counters.latency)
        fillUsage(&r, from: before, to: after, windowEnd: windowEnd)
        fillOps(&r, count: snap.counters.delivered, name: "deliveries")
        fillConnectionEnds(&r, snap)
        if let rate = spec.rate, let pps = r.publicationsPerSecond {
            let target = pattern == .broadcast && !builder.canBroadcast ? rate * Double(m) : rate * (pattern == .broadcast ? Double(m) : 1)
            if pps < 0.95 * target { r.notes.append("publication rate fell behind: \(pps)/s of \(target)/s") }
        }
        try await loops[0].submit { pool.close() }.get()
        try await closeAll()
    }
}
