import Synchronization
import Testing

@testable import Broker
@testable import BrokerProtocol

// Shared helpers for MemoryEngineTests, HistoryStreamTests (and, later, a Redis engine's contract run).
// Names carry an `Engine`/`engine` prefix so they do not collide with helpers of other test files.

/// A wall clock that only moves when a test moves it, so TTL tests never sleep.
final class ManualEngineClock: Sendable {
    private let current: Mutex<Int64>

    init(startMillis: Int64 = 1_700_000_000_000) {
        current = Mutex(startMillis)
    }

    var nowMillis: Int64 { current.withLock { $0 } }

    func advance(_ d: Duration) {
        current.withLock { $0 += d.milliseconds }
    }

    /// Moves the clock backwards: used to tell "freed by housekeeping" apart from "expired on access".
    func rewind(_ d: Duration) {
        current.withLock { $0 -= d.milliseconds }
    }

    var brokerClock: BrokerClock {
        BrokerClock { [self] in self.nowMillis }
    }
}

/// A thread-safe `EngineEventSink` that records every delivery in arrival order.
final class RecordingEngineSink: EngineEventSink {
    enum Event: Sendable, Equatable {
        case publication(channel: String, publication: Publication, epoch: String)
        case join(channel: String, info: ClientInfo)
        case leave(channel: String, info: ClientInfo)
    }

    struct Delivered: Sendable, Equatable {
        var publication: Publication
        var epoch: String
    }

    private struct Waiter {
        let isSatisfied: @Sendable (RecordingEngineSink.Recorded) -> Bool
        let continuation: CheckedContinuation<Void, Never>
    }

    struct Recorded: Sendable {
        var events: [Event] = []
        /// Channels reported through `handlePositionLost`, in order.
        var lostChannels: [String] = []
        /// Control messages, in arrival order.
        var controls: [[UInt8]] = []
    }

    private let state = Mutex<(recorded: Recorded, waiters: [UInt64: Waiter], nextWaiter: UInt64)>((Recorded(), [:], 0))

    /// Records under the lock and resumes every waiter whose condition now holds.
    private func record(_ change: (inout Recorded) -> Void) {
        let ready = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            change(&s.recorded)
            let done = s.waiters.filter { $0.value.isSatisfied(s.recorded) }
            for key in done.keys { s.waiters[key] = nil }
            return done.values.map(\.continuation)
        }
        for c in ready { c.resume() }
    }

    func handlePublication(channel: String, publication: Publication, epoch: String) {
        record { $0.events.append(.publication(channel: channel, publication: publication, epoch: epoch)) }
    }

    func handleJoin(channel: String, info: ClientInfo) {
        record { $0.events.append(.join(channel: channel, info: info)) }
    }

    func handleLeave(channel: String, info: ClientInfo) {
        record { $0.events.append(.leave(channel: channel, info: info)) }
    }

    func handlePositionLost(channels: [String]) {
        record { $0.lostChannels += channels }
    }

    func handleControl(_ message: [UInt8]) {
        record { $0.controls.append(message) }
    }

    var events: [Event] { state.withLock { $0.recorded.events } }
    var lostChannels: [String] { state.withLock { $0.recorded.lostChannels } }
    var controlTexts: [String] { state.withLock { $0.recorded.controls.map { String(decoding: $0, as: UTF8.self) } } }

    /// Suspends until `condition` holds for what was recorded, or `timeout` passes (returns whether it held).
    /// Woken by the recording itself, not by polling.
    @discardableResult
    func wait(timeout: Duration, until condition: @escaping @Sendable (Recorded) -> Bool) async -> Bool {
        let id = state.withLock { s -> UInt64 in
            s.nextWaiter += 1
            return s.nextWaiter
        }
        var timer: Task<Void, Never>?
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let satisfiedNow = state.withLock { s -> Bool in
                if condition(s.recorded) { return true }
                s.waiters[id] = Waiter(isSatisfied: condition, continuation: c)
                return false
            }
            if satisfiedNow {
                c.resume()
                return
            }
            // Armed after registering, so the deadline always finds the waiter (or finds it already resumed).
            timer = Task {
                try? await Task.sleep(for: timeout)
                let waiter = self.state.withLock { $0.waiters.removeValue(forKey: id) }
                waiter?.continuation.resume()
            }
        }
        timer?.cancel()
        return state.withLock { condition($0.recorded) }
    }

    func events(in channel: String) -> [Event] {
        events.filter {
            switch $0 {
            case .publication(let c, _, _), .join(let c, _), .leave(let c, _): c == channel
            }
        }
    }

    func publications(in channel: String) -> [Delivered] {
        events.compactMap {
            if case .publication(let c, let p, let e) = $0, c == channel { return Delivered(publication: p, epoch: e) }
            return nil
        }
    }

    /// Waits until at least `count` events were recorded (an asynchronous engine delivers later).
    /// Returns at once for the memory engine, which delivers before `publish` returns.
    func waitForEvents(count: Int, timeout: Duration = .seconds(5)) async {
        await wait(timeout: timeout) { $0.events.count >= count }
    }

    /// Waits until `channel` was reported as lost (false after `timeout`).
    func waitForLost(_ channel: String, timeout: Duration = .seconds(10)) async -> Bool {
        await wait(timeout: timeout) { $0.lostChannels.contains(channel) }
    }
}

/// An engine implementation the contract suite runs against.
struct EngineUnderTest: Sendable, CustomTestStringConvertible {
    let name: String
    let make: @Sendable (BrokerClock) -> any PubSubEngine & PresenceEngine

    var testDescription: String { name }

    static let memory = EngineUnderTest(name: "memory") { clock in
        MemoryEngine(clock: clock, shardCount: 8)
    }

    /// Add a Redis factory here to run the same contract against it.
    static let all: [EngineUnderTest] = [.memory, .redis, .redisSentinel, .redisCluster]
}

/// A started engine with its hand-driven clock and recording sink.
struct EngineHarness {
    let engine: any PubSubEngine & PresenceEngine
    let clock: ManualEngineClock
    let sink: RecordingEngineSink

    static func start(_ kind: EngineUnderTest) async throws -> EngineHarness {
        let clock = ManualEngineClock()
        let sink = RecordingEngineSink()
        let engine = kind.make(clock.brokerClock)
        try await engine.start(sink: sink)
        return EngineHarness(engine: engine, clock: clock, sink: sink)
    }

    /// Publishes `count` publications (`"m1"`, `"m2"`, …) and returns their results.
    @discardableResult
    func publishMany(_ channel: String, count: Int, options: PublishOptions = .engineHistory()) async throws -> [PublishResult] {
        var results: [PublishResult] = []
        for i in 1...count {
            results.append(try await engine.publish(channel: channel, publication: enginePub("m\(i)"), options: options))
        }
        return results
    }

    func history(_ channel: String, _ query: HistoryQuery = HistoryQuery(limit: -1)) async throws -> HistoryResult {
        try await engine.history(channel: channel, query: query)
    }
}

/// A publication whose data is the JSON string `text`.
func enginePub(_ text: String) -> Publication {
    Publication(data: Payload(bytes: Array("\"\(text)\"".utf8)))
}

extension Publication {
    /// The text given to `enginePub`.
    var engineText: String {
        String(decoding: data.bytes.dropFirst().dropLast(), as: UTF8.self)
    }
}

extension PublishOptions {
    /// Options of a channel that keeps history.
    static func engineHistory(
        size: Int = 100, ttl: Duration = .seconds(600), metaTTL: Duration = .seconds(3600),
        idempotencyKey: String = "", idempotentResultTTL: Duration = .seconds(300)
    ) -> PublishOptions {
        var o = PublishOptions()
        o.historySize = size
        o.historyTTL = ttl
        o.historyMetaTTL = metaTTL
        o.idempotencyKey = idempotencyKey
        o.idempotentResultTTL = idempotentResultTTL
        return o
    }
}

/// The offsets of `publications`, in order.
func engineOffsets(_ publications: [Publication]) -> [UInt64] {
    publications.map(\.offset)
}

/// Runs `body` and returns the `EngineError` it threw, or nil when it threw nothing (or something else).
func engineError(_ body: () async throws -> Void) async -> EngineError? {
    do {
        try await body()
        return nil
    } catch let e as EngineError {
        return e
    } catch {
        return nil
    }
}
