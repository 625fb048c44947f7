import NIOCore

/// One subscriber connection's state, shared by its handlers on its event loop (never touched elsewhere, hence
/// `@unchecked Sendable`). Counts its channel's publications by sequence number with a 64-wide window, since
/// publications sent on different keep-alive connections may be processed out of order: a number seen before is a
/// duplicate; what never arrived is lost (published − received, at the end). Numbers that leave the window
/// unreceived are remembered, so one that arrives later still counts as late, not as a duplicate.
final class SubState: @unchecked Sendable {
    enum Phase { case connecting, upgraded, connectSent, subscribeSent, ready, closing, closed, failed }

    let stats: LoopStats
    let index: Int
    let channelIndex: Int
    let channelName: String
    let user: String
    var phase = Phase.connecting
    /// Lowest sequence number not received yet; bit i of `window` = `nextSeq + i` received.
    var nextSeq: UInt64 = 0
    private var window: UInt64 = 0
    /// Numbers that slid out of the window before they arrived.
    private var holes: Set<UInt64> = []
    /// Distinct publications received.
    var received = 0
    var channel: Channel?
    let startedAt: UInt64
    var readyAt: UInt64 = 0
    var deadline: Scheduled<Void>?

    /// Called once when the subscription is confirmed (nchan: when the upgrade completes).
    var onReady: ((SubState) -> Void)?
    /// Called once when the connection ends, whatever the reason (after `onReady` or instead of it).
    var onEnd: ((SubState) -> Void)?
    /// Called for each in-order publication after it was counted (churn closes the connection here).
    var onPublication: ((SubState) -> Void)?

    init(stats: LoopStats, index: Int, channelIndex: Int, channelName: String, user: String) {
        self.stats = stats
        self.index = index
        self.channelIndex = channelIndex
        self.channelName = channelName
        self.user = user
        self.startedAt = monotonicNanos()
    }

    /// One publication from the frame scan; `now` is read once per frame.
    @inline(__always)
    func publication(seq: UInt64, ts: UInt64, now: UInt64) {
        if seq < nextSeq {
            if holes.remove(seq) == nil {
                stats.counters.duplicates += 1
                return
            }
            count(ts: ts, now: now)
            return
        }
        var d = seq - nextSeq
        if d >= 64 {
            // Slide the window; the slots that fall out unreceived become holes (lost unless they still come).
            let shift = d - 63
            for i in 0..<min(shift, 64) where window & (1 << i) == 0 { holes.insert(nextSeq + i) }
            if shift > 64 { for s in (nextSeq + 64)..<(nextSeq + shift) { holes.insert(s) } }
            window = shift >= 64 ? 0 : window >> shift
            nextSeq += shift
            d = 63
        }
        let bit: UInt64 = 1 << d
        if window & bit != 0 {
            stats.counters.duplicates += 1
            return
        }
        window |= bit
        while window & 1 != 0 {
            window >>= 1
            nextSeq &+= 1
        }
        count(ts: ts, now: now)
    }

    @inline(__always)
    private func count(ts: UInt64, now: UInt64) {
        received += 1
        stats.counters.delivered += 1
        stats.deliveredTotal.wrappingIncrement(ordering: .relaxed)
        if stats.counters.firstRx == 0 { stats.counters.firstRx = now }
        stats.counters.lastRx = now
        let us = now > ts ? (now - ts) / 1000 : 0
        stats.counters.latency.record(max(us, 1))
        onPublication?(self)
    }

    func becameReady() {
        guard phase != .ready else { return }
        phase = .ready
        readyAt = monotonicNanos()
        deadline?.cancel()
        deadline = nil
        stats.counters.ready += 1
        onReady?(self)
    }

    /// A setup failure (connect refused, upgrade refused, error reply, timeout).
    func fail(_ reason: String) {
        switch phase {
        case .failed, .closed, .closing: return
        case .ready: stats.counters.unexpectedCloses += 1
        default: stats.noteFailure(reason)
        }
        phase = .failed
        deadline?.cancel()
        deadline = nil
        channel?.close(promise: nil)
        if channel == nil { finish() }
    }

    /// The channel went inactive (or never became active).
    func finish() {
        guard phase != .closed else { return }
        if phase == .ready { stats.counters.unexpectedCloses += 1 }
        else if phase != .closing && phase != .failed { stats.noteFailure("closed during setup") }
        phase = .closed
        stats.counters.closed += 1
        deadline?.cancel()
        deadline = nil
        let end = onEnd
        onEnd = nil
        onReady = nil
        onPublication = nil
        end?(self)
    }
}
