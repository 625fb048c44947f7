extension Runner {
    /// `publish`: server API publishes back to back on `concurrency` keep-alive connections, round robin over 100
    /// channels nobody subscribes to.
    func runPublish(_ spec: ScenarioSpec, _ server: ServerSpec, _ r: inout ScenarioResult) async throws {
        let channels = channelNames(100, tag: "p")
        r.channels = channels.count
        r.rate = "max"
        r.serverRssBeforeKiB = ProcStats.rssKiB(pids: server.pids)
        let pool = HTTPPool(loop: loops[0], endpoint: server.api)
        try await loops[0].submit { pool.open(count: spec.concurrency) }.get().get()
        let builder = RequestBuilder(server: server, payload: payload, channels: channels)
        let config = Publisher.Config(pattern: .roundRobin, rate: nil, duration: spec.duration,
                                      batch: builder.canBatch ? max(1, spec.batch) : 1, ahead: 0, deliveriesPerUnit: 0)
        let publisher = Publisher(pool: pool, builder: builder, config: config, deliveredTotal: deliveredTotal)
        log("  publishing on \(spec.concurrency) connections for \(spec.duration) s")
        let before = Usage(server)
        try await loops[0].submit { publisher.run() }.get().get()
        let after = Usage(server)
        let pub = try await loops[0].submit { () -> (Int, Int, Int, Double, Double, [Int: Int]) in
            (publisher.requests, publisher.publications, publisher.failedPublications,
             Double(publisher.rtt.valueAtPercentile(50)), Double(publisher.rtt.valueAtPercentile(99)), publisher.statusCounts)
        }.get()
        r.publishRequests = pub.0
        r.publications = pub.1
        r.publishErrors = pub.2
        r.publicationsPerSecond = round1(Double(pub.1 - pub.2) / (Double(after.time - before.time) / 1e9))
        r.publishRttP50Ms = round3(pub.3 / 1000)
        r.publishRttP99Ms = round3(pub.4 / 1000)
        fillUsage(&r, from: before, to: after)
        r.serverRssConnectedKiB = after.rss
        fillOps(&r, count: pub.1 - pub.2, name: "publications")
        if pub.2 > 0 { r.notes.append("HTTP statuses: \(pub.5)") }
        try await loops[0].submit { pool.close() }.get()
    }
}
