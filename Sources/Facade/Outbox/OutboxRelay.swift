import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// Delivers outbox rows to the broker: publications, and unsubscribes that end a removed member's
/// subscription (``BrokerCommand``), each channel's rows in the order their transactions committed.
///
/// Wakes on `NOTIFY facade_outbox` (fired by a trigger when an outbox insert commits) and also polls every
/// `pollInterval`, in case a notification was missed while the listening connection was down.
///
/// Several facade processes can relay at once: the outbox is split into partitions by channel
/// (`0005_outbox_partitions.sql`) and a relay sends only the rows of the partitions it leases
/// (``PartitionLeases``). A batch is read in one statement, published in one `POST /api/batch` and confirmed in
/// another statement that counts only while the lease is held: no transaction or row lock spans the broker call.
/// A relay that dies mid-batch leaves its rows unsent; once its lease expires another relay sends them again, and
/// the broker drops the publications it already has (`idempotency_key = outbox-<id>`).
///
/// While the broker is unreachable the relay retries the same batch with exponential backoff, so nothing behind
/// it overtakes it. A row the broker itself refuses is the exception: it backs off alone (`next_attempt_at`)
/// and does not block its channel.
public struct OutboxRelay: Service {
    public struct Options: Sendable {
        public var pollInterval: Duration = .seconds(1)
        public var batchSize: Int = 100
        /// First retry delay; doubles with every failed attempt up to `maxBackoff`.
        public var baseBackoff: Double = 0.5
        public var maxBackoff: Double = 60
        /// How long a relay keeps its partitions without renewing them; after a crash, the others take over
        /// within this time. Must exceed the broker call's timeout (renewed every third of it).
        public var leaseDuration: Duration = .seconds(15)

        public init() {}
    }

    static let notificationChannel = "facade_outbox"

    let db: Database
    let publisher: BrokerPublisher
    let options: Options
    let logger: Logger
    /// When set, the relay starts working only once the gate opens (after migrations).
    let startupGate: StartupGate?

    public init(db: Database, publisher: BrokerPublisher, options: Options = .init(), logger: Logger) {
        self.init(db: db, publisher: publisher, options: options, logger: logger, startupGate: nil)
    }

    init(db: Database, publisher: BrokerPublisher, options: Options, logger: Logger, startupGate: StartupGate?) {
        self.db = db
        self.publisher = publisher
        self.options = options
        self.logger = logger
        self.startupGate = startupGate
    }

    public func run() async throws {
        if let startupGate {
            await cancelWhenGracefulShutdown { await startupGate.wait() }
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
        }
        let (wakeups, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let worker = Task {
            // A lease must outlast a broker call with room to spare (see `publishMargin`).
            let leaseDuration = max(options.leaseDuration, publishMargin * 2)
            var state = RelayState(leases: PartitionLeases(duration: leaseDuration))
            for await _ in wakeups {
                await drain(&state)
            }
            return state.leases
        }
        let graceful = await withTaskGroup(of: Void.self) { group -> Bool in
            group.addTask { await self.listen(continuation) }
            group.addTask {
                while !Task.isCancelled {
                    continuation.yield()
                    try? await Task.sleep(for: self.options.pollInterval)
                }
            }
            // Stop on graceful shutdown (or cancellation) of the service group.
            let graceful = (try? await gracefulShutdown()) != nil
            group.cancelAll()
            return graceful
        }
        continuation.finish()
        if !graceful { worker.cancel() }
        var leases = await worker.value
        // Graceful: hand the partitions over now. Cancelled: behave like a crash, the leases expire.
        if graceful && !leases.partitions.isEmpty {
            do {
                try await leases.release(db)
            } catch {
                logger.warning("Releasing outbox partitions failed", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }

    /// Keeps a LISTEN open, reconnecting after errors, and turns notifications into wake-ups.
    private func listen(_ continuation: AsyncStream<Void>.Continuation) async {
        while !Task.isCancelled {
            do {
                try await db.client.withConnection { connection in
                    try await connection.listen(on: Self.notificationChannel) { notifications in
                        for try await _ in notifications {
                            continuation.yield()
                        }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("Outbox LISTEN failed; retrying", metadata: ["error": "\(String(reflecting: error))"])
                try? await Task.sleep(for: options.pollInterval)
            }
        }
    }

    /// What the worker carries from one wake-up to the next.
    struct RelayState: Sendable {
        var leases: PartitionLeases
        /// Whole batches that failed in a row (the broker unreachable); drives the backoff.
        var failures = 0
        /// While backing off: when to try the broker again.
        var retryAt: ContinuousClock.Instant?
    }

    /// The broker call's timeout, which a lease must outlast for a batch to be published.
    var publishMargin: Duration {
        .nanoseconds(publisher.timeout.nanoseconds) + .milliseconds(100)
    }

    /// Publishes the owned partitions' due rows until none are left or a row is refused; while the broker is
    /// unreachable, retries the same batch with backoff, renewing the leases meanwhile. Stops at a graceful shutdown.
    func drain(_ state: inout RelayState) async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                if state.leases.renewalDue(margin: publishMargin) {
                    try await state.leases.renew(db)
                }
                if let retryAt = state.retryAt, retryAt > .now {
                    // Sleep in pieces, so the leases are renewed while the broker is down.
                    let piece = min(retryAt - .now, state.leases.duration / 3)
                    try await cancelWhenGracefulShutdown { try await Task.sleep(for: piece) }
                    continue
                }
                if state.leases.partitions.isEmpty { return }
                // Publish only what can be confirmed before the lease runs out; renewed just above otherwise.
                if state.leases.validUntil - .now <= publishMargin { continue }
                let outcome = try await processBatch(partitions: state.leases.partitions, owner: state.leases.owner)
                if outcome.brokerUnavailable {
                    state.failures += 1
                    let delay = min(options.maxBackoff, options.baseBackoff * pow(2, Double(state.failures - 1)))
                    state.retryAt = .now + .seconds(delay)
                    continue
                }
                state.failures = 0
                state.retryAt = nil
                if outcome.refused || outcome.claimed < options.batchSize { return }
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { return }
                logger.error("Outbox relay batch failed", metadata: ["error": "\(String(reflecting: error))"])
                return
            }
        }
    }
}
