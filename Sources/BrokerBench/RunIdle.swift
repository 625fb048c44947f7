extension Runner {
    /// `idle`: N connections, one subscription each on its own channel; RSS before and after (after a settle time),
    /// then the server's CPU over `duration` seconds of idleness (pings only).
    func runIdle(_ spec: ScenarioSpec, _ server: ServerSpec, _ r: inout ScenarioResult) async throws {
        let channels = channelNames(max(1, spec.channels), tag: "i")
        r.subscribers = spec.subscribers
        r.channels = channels.count
        r.serverRssBeforeKiB = ProcStats.rssKiB(pids: server.pids)
        try await connect(server, count: spec.subscribers, channels: channels, subscribe: spec.subscribe, into: &r)
        try await Task.sleep(nanoseconds: UInt64(spec.settle * 1e9))
        r.serverRssConnectedKiB = ProcStats.rssKiB(pids: server.pids)
        if r.connected > 0 {
            r.rssPerConnectionKiB = round1(Double(r.serverRssConnectedKiB - r.serverRssBeforeKiB) / Double(r.connected))
        }
        log("  \(r.connected) idle connections; RSS \(r.serverRssBeforeKiB) -> \(r.serverRssConnectedKiB) KiB; idling \(spec.duration) s")
        let before = Usage(server)
        try await Task.sleep(nanoseconds: UInt64(spec.duration * 1e9))
        let after = Usage(server)
        fillUsage(&r, from: before, to: after)
        let snap = try await StatsSnapshot.take(stats, publishedPerChannel: nil)
        fillConnectionEnds(&r, snap)
        r.opsName = "idle connections"
        try await closeAll()
    }
}
