import Foundation
import Logging
import PostgresNIO

/// The outbox partitions one relay owns (`0005_outbox_partitions.sql`). All the rows of a channel are in one
/// partition and only a partition's owner sends its rows, so each channel's rows reach the broker in commit
/// order however many facade processes relay.
///
/// A lease lasts `duration` from the moment it was last taken or renewed; a relay that stops renewing (killed,
/// frozen, cut off from the database) loses its partitions to the others once its leases expire. ``renew(_:)``
/// also balances: every live relay takes up to `ceil(partitions / live relays)`, and gives back the rest.
///
/// The local deadline ``validUntil`` is measured from just before the renewal was sent, so it never runs past the
/// deadline the database recorded: the relay publishes a batch only when the call can end before it.
/// Not shared between tasks: the relay's worker owns it and renews it between batches.
struct PartitionLeases: Sendable {
    /// Identifies this relay in `outbox_partitions.owner` and `outbox_relays`.
    let owner: UUID
    let duration: Duration
    private(set) var partitions: [Int16] = []
    private(set) var validUntil: ContinuousClock.Instant = .now
    private(set) var renewedAt: ContinuousClock.Instant?

    init(owner: UUID = UUID(), duration: Duration) {
        self.owner = owner
        self.duration = duration
    }

    /// True when a third of the lease has gone by since the last renewal, or `margin` is all that is left of it.
    func renewalDue(margin: Duration, now: ContinuousClock.Instant = .now) -> Bool {
        guard let renewedAt else { return true }
        return now - renewedAt >= duration / 3 || validUntil - now <= margin
    }

    /// In one short transaction: records this relay as alive, forgets relays whose heartbeat expired, renews the
    /// leases it keeps and takes free or expired partitions up to its share (`SKIP LOCKED`: relays renewing at
    /// the same moment do not wait for each other), then gives back those beyond its share.
    mutating func renew(_ db: Database) async throws {
        let started = ContinuousClock.now
        let seconds = duration.secondsValue
        let owner = owner
        let logger = db.logger
        let owned = try await db.transaction { connection -> [Int16] in
            try await connection.query(
                """
                INSERT INTO outbox_relays (owner, alive_until) VALUES (\(owner), now() + make_interval(secs => \(seconds)))
                ON CONFLICT (owner) DO UPDATE SET alive_until = excluded.alive_until
                """, logger: logger)
            try await connection.query("DELETE FROM outbox_relays WHERE alive_until < now()", logger: logger)
            let rows = try await connection.query(
                """
                WITH share AS (
                    SELECT ceil((SELECT count(*) FROM outbox_partitions)::numeric / greatest(count(*), 1))::int8 AS n
                    FROM outbox_relays
                ), taken AS (
                    SELECT partition FROM outbox_partitions
                    WHERE owner = \(owner) OR owner IS NULL OR lease_until < now()
                    ORDER BY owner IS NOT DISTINCT FROM \(owner) DESC, partition
                    LIMIT (SELECT n FROM share)
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE outbox_partitions p SET owner = \(owner), lease_until = now() + make_interval(secs => \(seconds))
                FROM taken WHERE p.partition = taken.partition
                RETURNING p.partition
                """, logger: logger)
            var owned: [Int16] = []
            for try await partition in rows.decode(Int16.self) { owned.append(partition) }
            try await connection.query(
                """
                UPDATE outbox_partitions SET owner = NULL, lease_until = '-infinity'
                WHERE owner = \(owner) AND partition <> ALL(\(owned))
                """, logger: logger)
            return owned.sorted()
        }
        if owned != partitions {
            logger.info("Outbox relay partitions", metadata: ["owner": "\(owner)", "partitions": "\(owned)"])
        }
        partitions = owned
        validUntil = started + duration
        renewedAt = started
    }

    /// Gives every partition back at once (graceful shutdown), so another relay need not wait for the leases to
    /// expire.
    mutating func release(_ db: Database) async throws {
        let owner = owner
        let logger = db.logger
        try await db.transaction { connection in
            try await connection.query(
                "UPDATE outbox_partitions SET owner = NULL, lease_until = '-infinity' WHERE owner = \(owner)",
                logger: logger)
            try await connection.query("DELETE FROM outbox_relays WHERE owner = \(owner)", logger: logger)
        }
        partitions = []
        renewedAt = nil
    }
}

extension Duration {
    /// The duration in seconds, with its fraction.
    var secondsValue: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
