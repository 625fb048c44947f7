import Atomics
import Histogram
import NIOCore

/// Drives a scenario's publications on one event loop through an `HTTPPool`, at a fixed rate or as fast as the
/// server takes them, and counts what it sent per channel (the subscribers' loss accounting needs it).
///
/// A "unit" is one publication (fan-out, round robin, the publish scenario) or one round to every channel
/// (broadcast). With `rate == nil` units are sent whenever a connection is free, but never more than `ahead`
/// units beyond what subscribers have received (`deliveriesPerUnit`; 0 disables that check): otherwise a server
/// that accepts publications faster than it can deliver them would queue without bound and latency would only
/// measure that queue.
final class Publisher: @unchecked Sendable {
    enum Pattern: Sendable {
        case single
        case roundRobin
        case broadcast
    }

    struct Config: Sendable {
        var pattern: Pattern
        var rate: Double?
        var duration: Double
        var batch: Int
        var ahead: Int
        var deliveriesPerUnit: Int
    }

    let pool: HTTPPool
    let builder: RequestBuilder
    let config: Config
    let deliveredTotal: ManagedAtomic<Int>
    let deliveredAtStart: Int

    private(set) var sentPerChannel: [Int]
    private(set) var units = 0
    private(set) var requests = 0
    private(set) var okRequests = 0
    private(set) var failedRequests = 0
    private(set) var publications = 0
    private(set) var failedPublications = 0
    private(set) var statusCounts: [Int: Int] = [:]
    /// Request round trips, microseconds.
    private(set) var rtt = LoopCounters.newHistogram()
    private(set) var startedAt: UInt64 = 0
    private(set) var stoppedAt: UInt64 = 0
    private var inFlight = 0
    private var timer: RepeatedTask?
    private var finished: EventLoopPromise<Void>?
    private var sendingDone = false

    init(pool: HTTPPool, builder: RequestBuilder, config: Config, deliveredTotal: ManagedAtomic<Int>) {
        self.pool = pool
        self.builder = builder
        self.config = config
        self.deliveredTotal = deliveredTotal
        self.deliveredAtStart = deliveredTotal.load(ordering: .relaxed)
        self.sentPerChannel = Array(repeating: 0, count: builder.channels.count)
    }

    /// Publishes for `config.duration` seconds; the future completes when the last response is in.
    func run() -> EventLoopFuture<Void> {
        let promise = pool.loop.makePromise(of: Void.self)
        finished = promise
        startedAt = monotonicNanos()
        timer = pool.loop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(1)) { [weak self] _ in self?.tick() }
        return promise.futureResult
    }

    private func tick() {
        let now = monotonicNanos()
        if now >= startedAt + UInt64(config.duration * 1e9) {
            sendingDone = true
            timer?.cancel()
            timer = nil
            if inFlight == 0 { complete() }
            return
        }
        if let rate = config.rate {
            let due = Int(Double(now - startedAt) / 1e9 * rate) + 1
            while units < due { issue(count: min(config.batch, due - units)) }
        } else {
            fill()
        }
    }

    /// `rate == nil`: keep every connection busy, within the delivery window.
    private func fill() {
        guard !sendingDone, config.rate == nil else { return }
        while pool.queued == 0 && inFlight < pool.connections.count {
            if config.deliveriesPerUnit > 0 {
                let delivered = deliveredTotal.load(ordering: .relaxed) - deliveredAtStart
                if units >= delivered / config.deliveriesPerUnit + config.ahead { return }
            }
            issue(count: config.batch)
        }
    }

    private func nextSeq(_ channel: Int) -> UInt64 {
        let s = sentPerChannel[channel]
        sentPerChannel[channel] = s + 1
        return UInt64(s)
    }

    /// Queues the requests for `count` units (one batch request where the target allows it).
    private func issue(count: Int) {
        let allocator = ByteBufferAllocator()
        let channelCount = builder.channels.count
        switch config.pattern {
        case .single, .roundRobin:
            var items: [(channel: Int, seq: UInt64)] = []
            for _ in 0..<count {
                let c = config.pattern == .single ? 0 : units % channelCount
                items.append((c, nextSeq(c)))
                units += 1
            }
            if items.count > 1 && builder.canBatch {
                let (buf, ts) = builder.batch(items, allocator: allocator)
                send(buf, ts, publications: items.count)
            } else {
                for it in items {
                    let (buf, ts) = builder.single(channel: it.channel, seq: it.seq, allocator: allocator)
                    send(buf, ts, publications: 1)
                }
            }
        case .broadcast:
            for _ in 0..<count {
                let seq = UInt64(units)
                units += 1
                for c in 0..<channelCount { sentPerChannel[c] = Int(seq) + 1 }
                if builder.canBroadcast {
                    let (buf, ts) = builder.broadcast(seq: seq, allocator: allocator)
                    send(buf, ts, publications: channelCount)
                } else {
                    for c in 0..<channelCount {
                        let (buf, ts) = builder.single(channel: c, seq: seq, allocator: allocator)
                        send(buf, ts, publications: 1)
                    }
                }
            }
        }
    }

    private func send(_ buf: ByteBuffer, _ ts: [Int], publications n: Int) {
        requests += 1
        publications += n
        inFlight += 1
        let queuedAt = monotonicNanos()
        pool.submit(HTTPPool.Request(bytes: buf, tsOffsets: ts) { [self] result in
            inFlight -= 1
            rtt.record(max(1, (monotonicNanos() - queuedAt) / 1000))
            statusCounts[result.status, default: 0] += 1
            if result.ok {
                okRequests += 1
            } else {
                failedRequests += 1
                failedPublications += result.errors > 0 ? min(n, result.errors) : n
            }
            if sendingDone {
                if inFlight == 0 { complete() }
            } else {
                fill()
            }
        })
    }

    private func complete() {
        guard let p = finished else { return }
        finished = nil
        stoppedAt = monotonicNanos()
        p.succeed(())
    }
}
