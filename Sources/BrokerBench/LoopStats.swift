import Atomics
import Histogram
import NIOCore

/// Counters of one event loop, touched only on that loop (hence `@unchecked Sendable`: it is handed to
/// `@Sendable` NIO closures, but every access happens on `loop`). The runner reads it with `loop.submit`.
final class LoopStats: @unchecked Sendable {
    let loop: EventLoop
    /// Deliveries over all loops, for the `rate=max` publisher's flow control (the only cross-loop value).
    let deliveredTotal: ManagedAtomic<Int>

    /// End-to-end latency of deliveries, in microseconds.
    var latency = LoopStats.newHistogram()
    var delivered = 0
    var duplicates = 0
    var pongs = 0
    var firstRx: UInt64 = 0
    var lastRx: UInt64 = 0

    var ready = 0
    var failed = 0
    var closed = 0
    /// Connections the server closed (or that broke) while they were meant to stay open.
    var unexpectedCloses = 0
    var closeCodes: [UInt16: Int] = [:]
    var failureReasons: [String: Int] = [:]
    var subs: [SubState] = []

    init(loop: EventLoop, deliveredTotal: ManagedAtomic<Int>) {
        self.loop = loop
        self.deliveredTotal = deliveredTotal
    }

    static func newHistogram() -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
    }

    func noteFailure(_ reason: String) {
        failed += 1
        failureReasons[String(reason.prefix(120)), default: 0] += 1
    }

    func reset() {
        latency = LoopStats.newHistogram()
        delivered = 0; duplicates = 0; pongs = 0; firstRx = 0; lastRx = 0
        ready = 0; failed = 0; closed = 0; unexpectedCloses = 0
        closeCodes = [:]; failureReasons = [:]; subs = []
    }
}

/// A snapshot of all loops' `LoopStats`, merged (taken on each loop in turn).
struct StatsSnapshot: Sendable {
    var latency = LoopStats.newHistogram()
    var delivered = 0
    var duplicates = 0
    var lost = 0
    var pongs = 0
    var firstRx: UInt64 = 0
    var lastRx: UInt64 = 0
    var ready = 0
    var failed = 0
    var closed = 0
    var unexpectedCloses = 0
    var closeCodes: [UInt16: Int] = [:]
    var failureReasons: [String: Int] = [:]

    /// `publishedPerChannel[c]`: publications accepted for channel c; when given, a subscriber that got fewer than
    /// its channel's count lost the rest (gaps inside the sequence are counted as they are seen).
    static func take(_ loops: [LoopStats], publishedPerChannel: [Int]?) async throws -> StatsSnapshot {
        var s = StatsSnapshot()
        for l in loops {
            let part = try await l.loop.submit { () -> StatsSnapshot in
                var p = StatsSnapshot()
                p.latency = l.latency
                p.delivered = l.delivered
                p.duplicates = l.duplicates
                p.pongs = l.pongs
                p.firstRx = l.firstRx
                p.lastRx = l.lastRx
                p.ready = l.ready
                p.failed = l.failed
                p.closed = l.closed
                p.unexpectedCloses = l.unexpectedCloses
                p.closeCodes = l.closeCodes
                p.failureReasons = l.failureReasons
                var lost = 0
                if let published = publishedPerChannel {
                    for sub in l.subs where sub.channelIndex < published.count && sub.readyAt != 0 {
                        lost += max(0, published[sub.channelIndex] - sub.received)
                    }
                }
                p.lost = lost
                return p
            }.get()
            s.latency.add(part.latency)
            s.delivered += part.delivered
            s.duplicates += part.duplicates
            s.lost += part.lost
            s.pongs += part.pongs
            if part.firstRx != 0 { s.firstRx = s.firstRx == 0 ? part.firstRx : min(s.firstRx, part.firstRx) }
            s.lastRx = max(s.lastRx, part.lastRx)
            s.ready += part.ready
            s.failed += part.failed
            s.closed += part.closed
            s.unexpectedCloses += part.unexpectedCloses
            s.closeCodes.merge(part.closeCodes, uniquingKeysWith: +)
            s.failureReasons.merge(part.failureReasons, uniquingKeysWith: +)
        }
        return s
    }
}
