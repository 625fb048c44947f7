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

    private let recorded = Mutex<[Event]>([])

    func handlePublication(channel: String, publication: Publication, epoch: String) {
        recorded.withLock { $0.append(.publication(channel: channel, publication: publication, epoch: epoch)) }
    }

    func handleJoin(channel: String, info: ClientInfo) {
        recorded.withLock { $0.append(.join(channel: channel, info: info)) }
    }

    func handleLeave(channel: String, info: ClientInfo) {
        recorded.withLock { $0.append(.leave(channel: channel, info: info)) }
    }

    var events: [Event] { recorded.withLock { $0 } }

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
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while events.count < count, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(2))
        }
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
    static let all: [EngineUnderTest] = [.memory, .redis]
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
