import BrokerProtocol
import NIOCore

/// The subscribers, sessions and timers of one event loop. Every member is touched only on `eventLoop`.
public final class LoopHub: @unchecked Sendable {
    public let eventLoop: any EventLoop
    /// Where this loop's sessions and HTTP requests run their engine work (see ``EventLoopTaskExecutor``).
    let taskExecutor: EventLoopTaskExecutor
    let index: Int
    unowned(unsafe) var hub: Hub!

    private var channels: [String: [Subscription]] = [:]
    private var sessions: [ObjectIdentifier: ClientSession] = [:]
    private var sessionsByUser: [String: [ClientSession]] = [:]
    private var needingFlush: [ClientSession] = []
    private var flushScheduled = false
    private var ticker: RepeatedTask?

    init(eventLoop: any EventLoop, index: Int) {
        self.eventLoop = eventLoop
        self.taskExecutor = EventLoopTaskExecutor(eventLoop: eventLoop)
        self.index = index
    }

    // MARK: Subscribers

    // The lists are changed in place in the map: a copy taken out and put back would share its storage
    // with the map while it changes, so every subscribe and unsubscribe would copy the channel's whole
    // list (quadratic for 10,000 subscribers joining one channel).

    func add(_ sub: Subscription) {
        eventLoop.assertInEventLoop()
        let count = channels[sub.channel]?.count ?? 0
        sub.hubIndex = count
        channels[sub.channel, default: []].append(sub)
        if sub.delta { hub.deltaBases.subscriberAdded(sub.channel) }
        if count == 0 { hub.loopAdded(index, channel: sub.channel) }
    }

    func remove(_ sub: Subscription) {
        eventLoop.assertInEventLoop()
        let i = sub.hubIndex
        guard let count = channels[sub.channel]?.count, i >= 0, i < count, channels[sub.channel]?[i] === sub else { return }
        // Swap-remove: the last subscriber takes this one's place.
        if let last = channels[sub.channel]?.removeLast(), i < count - 1 {
            channels[sub.channel]?[i] = last
            last.hubIndex = i
        }
        sub.hubIndex = -1
        if sub.delta { hub.deltaBases.subscriberRemoved(sub.channel) }
        if count == 1 {
            channels[sub.channel] = nil
            hub.loopRemoved(index, channel: sub.channel)
        }
    }

    func subscriberCount(_ channel: String) -> Int {
        channels[channel]?.count ?? 0
    }

    /// Subscriber counts of this loop's channels.
    func channelCounts() -> [String: Int] {
        channels.mapValues(\.count)
    }

    /// The engine could not deliver everything published to `channel` (e.g. Redis lost its fan-out stream):
    /// positioned subscribers must recover from history, others cannot tell and keep going.
    func positionLost(channel: String) {
        guard let subs = channels[channel] else { return }
        for sub in subs where sub.positioned {
            sub.session.lostPosition(sub)
        }
        scheduleFlush()
    }

    func deliver(_ push: PreparedPush) {
        guard let subs = channels[push.channel] else { return }
        // Iterate a snapshot: a delivery may close a session, which mutates the list.
        for sub in subs {
            sub.session.deliver(push, to: sub)
        }
        hub.metrics.sent(subs.count)
        scheduleFlush()
    }

    // MARK: Sessions

    func register(_ session: ClientSession) {
        sessions[ObjectIdentifier(session)] = session
    }

    func registerUser(_ session: ClientSession) {
        sessionsByUser[session.user, default: []].append(session)
    }

    func unregister(_ session: ClientSession) {
        sessions[ObjectIdentifier(session)] = nil
        if var list = sessionsByUser[session.user] {
            list.removeAll { $0 === session }
            sessionsByUser[session.user] = list.isEmpty ? nil : list
        }
    }

    func sessions(ofUser user: String) -> [ClientSession] {
        sessionsByUser[user] ?? []
    }

    var allSessions: Dictionary<ObjectIdentifier, ClientSession>.Values { sessions.values }
    var connectedUserCount: Int { sessionsByUser.count }

    // MARK: Flushing and timers

    /// Flushes the session at the end of this loop tick, together with every other one written to.
    func needsFlush(_ session: ClientSession) {
        if session.flushPending { return }
        session.flushPending = true
        needingFlush.append(session)
        scheduleFlush()
    }

    private func scheduleFlush() {
        if flushScheduled || needingFlush.isEmpty { return }
        flushScheduled = true
        eventLoop.execute { self.flushAll() }
    }

    private func flushAll() {
        flushScheduled = false
        let list = needingFlush
        needingFlush.removeAll(keepingCapacity: true)
        for s in list {
            s.flushPending = false
            s.flushNow()
        }
    }

    /// One loop-wide timer drives pings, pong and connect deadlines and expiries of every session here.
    func startTicker(interval: TimeAmount, now: @escaping @Sendable () -> Int64) {
        ticker = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [unowned self] _ in
            let t = now()
            for s in Array(self.sessions.values) { s.tick(now: t) }
        }
    }

    func stopTicker() {
        ticker?.cancel()
        ticker = nil
    }
}
