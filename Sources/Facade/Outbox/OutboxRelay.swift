import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// Delivers outbox rows to the broker: publications, and unsubscribes that end a removed member's
/// subscription (``BrokerCommand``).
///
/// Wakes on `NOTIFY facade_outbox` (fired by a trigger when an outbox insert commits) and also polls every
/// `pollInterval`, in case a notification was missed while the listening connection was down.
/// Rows are claimed with `FOR UPDATE SKIP LOCKED` inside a transaction held while publishing, so several
/// facade processes can relay concurrently without sending a row twice. A failed row is retried with
/// exponential backoff (`next_attempt_at`); rows are delivered in id order per relay, but a row that keeps
/// failing does not block the rows behind it.
public struct OutboxRelay: Service {
    public struct Options: Sendable {
        public var pollInterval: Duration = .seconds(1)
        public var batchSize: Int = 100
        /// First retry delay; doubles with every failed attempt up to `maxBackoff`.
        public var baseBackoff: Double = 0.5
        public var maxBackoff: Double = 60

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
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.listen(continuation) }
            group.addTask {
                while !Task.isCancelled {
                    continuation.yield()
                    try? await Task.sleep(for: self.options.pollInterval)
                }
            }
            group.addTask {
                for await _ in wakeups {
                    await self.drain()
                }
            }
            // Stop on graceful shutdown (or cancellation) of the service group.
            try? await gracefulShutdown()
            continuation.finish()
            group.cancelAll()
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

    /// Publishes due rows until none are left or one fails.
    func drain() async {
        while !Task.isCancelled {
            do {
                let outcome = try await processBatch()
                if outcome.failed || outcome.claimed < options.batchSize { return }
            } catch {
                logger.error("Outbox relay batch failed", metadata: ["error": "\(String(reflecting: error))"])
                return
            }
        }
    }

    struct BatchOutcome: Sendable {
        var claimed: Int
        var sent: Int
        var failed: Bool
    }

    /// Claims up to `batchSize` due rows, sends their commands in id order in one batch request and records the
    /// results. A row the broker refused gets its backoff; if the request as a whole fails (the broker is
    /// most likely down), the first row gets the backoff and the others are released untouched.
    func processBatch() async throws -> BatchOutcome {
        try await db.transaction { connection in
            let rows = try await connection.query(
                """
                SELECT id, kind, channel, payload::text, user_id, attempts FROM outbox
                WHERE sent_at IS NULL AND next_attempt_at <= now()
                ORDER BY id
                LIMIT \(options.batchSize)
                FOR UPDATE SKIP LOCKED
                """, logger: logger)
            var claimed: [(id: Int64, command: BrokerCommand, attempts: Int32)] = []
            var unreadable = false
            for try await (id, kind, channel, payload, userID, attempts) in rows.decode(
                (Int64, String, String, String?, UUID?, Int32).self)
            {
                guard let command = BrokerCommand(outboxID: id, kind: kind, channel: channel, payload: payload, userID: userID)
                else {
                    unreadable = true
                    try await backOff(id, attempts: attempts, error: "outbox row of unknown kind \(kind)", connection)
                    continue
                }
                claimed.append((id, command, attempts))
            }
            if claimed.isEmpty { return BatchOutcome(claimed: 0, sent: 0, failed: unreadable) }
            let results: [Result<Void, BrokerPublisher.Failure>]
            do {
                results = try await publisher.send(claimed.map(\.command))
            } catch where Task.isCancelled {
                // Shutting down: roll back; the rows stay pending without counting an attempt.
                throw error
            } catch {
                try await backOff(claimed[0].id, attempts: claimed[0].attempts, error: "\(error)", connection)
                return BatchOutcome(claimed: claimed.count, sent: 0, failed: true)
            }
            var sentIDs: [Int64] = []
            var failed = unreadable
            for (row, result) in zip(claimed, results) {
                switch result {
                case .success: sentIDs.append(row.id)
                case .failure(let error):
                    failed = true
                    try await backOff(row.id, attempts: row.attempts, error: error.description, connection)
                }
            }
            if !sentIDs.isEmpty {
                try await connection.query(
                    "UPDATE outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = ANY(\(sentIDs))",
                    logger: logger)
            }
            return BatchOutcome(claimed: claimed.count, sent: sentIDs.count, failed: failed)
        }
    }

    private func backOff(_ id: Int64, attempts: Int32, error: String, _ connection: PostgresConnection) async throws {
        let delay = min(options.maxBackoff, options.baseBackoff * pow(2, Double(attempts)))
        logger.warning("Publishing outbox row failed", metadata: ["id": "\(id)", "attempts": "\(attempts + 1)", "error": "\(error)"])
        try await connection.query(
            """
            UPDATE outbox SET attempts = attempts + 1, last_error = \(error),
                              next_attempt_at = now() + make_interval(secs => \(delay))
            WHERE id = \(id)
            """, logger: logger)
    }
}
