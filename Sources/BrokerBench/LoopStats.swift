import Atomics
import Histogram
import NIOCore

/// What a loop counts, and what a snapshot adds up over all loops.
struct LoopCounters: Sendable {
    /// End-to-end latency of deliveries, in microseconds.
    var latency = LoopCounters.newHistogram()
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

    static func newHistogram() -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
    }

    mutating func add(_ other: LoopCounters) {
        latency.add(other.latency)
        delivered += other.delivered
        duplicates += other.duplicates
        pongs += other.pongs
        if other.firstRx != 0 { firstRx = firstRx == 0 ? other.firstRx : min(firstRx, other.firstRx) }
        lastRx = max(lastRx, other.lastRx)
        ready += other.ready
        failed += other.failed
        closed += other.closed
        unexpectedCloses += other.unexpectedCloses
        closeCodes.merge(other.closeCodes, uniquingKeysWith: +)
        failureReasons.merge(other.failureReasons, uniquingKeysWith: +)
    }
}

/// Counters of one event loop, touched only on that loop (hence `@unchecked Sendable`: it is handed to
/// `@Sendable` NIO closures, but every access happens on `loop`). The runner reads it with `loop.submit`.
final class LoopStats: @unchecked Sendable {
    let loop: EventLoop
    /// Deliveries over all loops, for the `rate=max` publisher's flow control (the only cross-loop value).
    let deliveredTotal: ManagedAtomic<Int>
    var counters = LoopCounters()
    var subs: [SubState] = []
    /// Connections this loop started, for picking the next source address round robin.
    var connectsStarted = 0

    init(loop: EventLoop, deliveredTotal: ManagedAtomic<Int>) {
        self.loop = loop
        self.deliveredTotal = deliveredTotal
    }

    func noteFailure(_ reason: String) {
        counters.failed += 1
        counters.failureReasons[String(reason.prefix(120)), default: 0] += 1
    }

    func reset() {
        counters = LoopCounters()
        subs = []
    }
}

/// All loops' counters added up (each taken on its own loop), and the publications subscribers never got.
struct StatsSnapshot: Sendable {
    var counters = LoopCounters()
    var lost = 0

    /// `publishedPerChannel[c]`: publications accepted for channel c; when given, a subscriber that got fewer than
    /// its channel's count lost the rest (gaps inside the sequence are counted as they are seen).
    static func take(_ loops: [LoopStats], publishedPerChannel: [Int]?) async throws -> StatsSnapshot {
        var s = StatsSnapshot()
        for l in loops {
            let (counters, lost) = try await l.loop.submit { () -> (LoopCounters, Int) in
                var lost = 0
                if let published = publishedPerChannel {
                    for sub in l.subs where sub.channelIndex < published.count && sub.readyAt != 0 {
                        lost += max(0, published[sub.channelIndex] - sub.received)
                    }
                }
                return (l.counters, lost)
            }.get()
            s.counters.add(counters)
            s.lost += lost
        }
        return s
    }
}
