import NIOCore

/// Opens many subscribers on one event loop with at most `maxInFlight` handshakes at a time (a burst of 19,000
/// SYNs would overflow the listen backlog and turn into retransmit stalls, which measure the kernel, not the server).
final class ConnectPump: @unchecked Sendable {
    struct Item: Sendable {
        var index: Int
        var channelIndex: Int
        var channelName: String
        var node: Int
    }

    let stats: LoopStats
    let connector: WebSocketConnector
    let items: [Item]
    let maxInFlight: Int
    private var next = 0
    private var inFlight = 0
    /// Subscribers that became ready or failed.
    private(set) var settled = 0

    init(stats: LoopStats, connector: WebSocketConnector, items: [Item], maxInFlight: Int) {
        self.stats = stats
        self.connector = connector
        self.items = items
        self.maxInFlight = maxInFlight
    }

    func start() {
        while inFlight < maxInFlight && next < items.count {
            let item = items[next]
            next += 1
            inFlight += 1
            let s = SubState(stats: stats, index: item.index, channelIndex: item.channelIndex, channelName: item.channelName,
                             user: "bench-\(item.index)")
            stats.subs.append(s)
            s.onReady = { [unowned self] _ in self.settle() }
            s.onEnd = { [unowned self] s in if s.readyAt == 0 { self.settle() } }
            connector.open(s, node: item.node)
        }
    }

    private func settle() {
        inFlight -= 1
        settled += 1
        stats.loop.execute { self.start() }
    }
}
