import Foundation
import Logging
import PostgresNIO
import Testing

@testable import Facade

/// Each channel's rows reach the broker once and in the order their transactions committed, with several relays,
/// a relay that dies mid-batch, and a broker that is down for a while (`0005_outbox_partitions.sql`,
/// ``PartitionLeases``).
@Suite("Relay order with several relays")
struct RelayOrderTests {
    /// Idempotency keys per channel, in the order the outbox commits them (`seq`).
    static func committedOrder(_ database: TestDatabase) async throws -> [String: [String]] {
        try await database.withClient { client in
            var order: [String: [String]] = [:]
            let rows = try await client.query("SELECT channel, id FROM outbox ORDER BY seq", logger: TestDatabase.logger)
            for try await (channel, id) in rows.decode((String, Int64).self) {
                order[channel, default: []].append("outbox-\(id)")
            }
            return order
        }
    }

    /// Idempotency keys per channel, in the order the broker received them.
    static func receivedOrder(_ broker: FakeBroker) -> [String: [String]] {
        var order: [String: [String]] = [:]
        for publication in broker.publications {
            order[publication.channel, default: []].append(publication.idempotencyKey)
        }
        return order
    }

    /// `count` rows on `channels` channels (`workspace:c<n>`), round robin, one transaction per `perTransaction`.
    static func insert(_ client: PostgresClient, count: Int, channels: Int, perTransaction: Int, from start: Int = 0) async throws {
        var i = start
        while i < start + count {
            let n = min(perTransaction, start + count - i)
            _ = try await client.query(
                """
                INSERT INTO outbox (channel, payload)
                SELECT 'workspace:c' || (i % \(channels)), json_build_object('type', 'test.event', 'data', json_build_object('i', i))
                FROM generate_series(\(i), \(i + n - 1)) i
                """, logger: TestDatabase.logger)
            i += n
        }
    }

    static func pending(_ database: TestDatabase) async throws -> Int {
        try await database.scalarInt("SELECT count(*)::int8 FROM outbox WHERE sent_at IS NULL")
    }

    @Test("seq is commit order: a transaction that inserted first but committed last comes last")
    func seqFollowsCommitOrder() async throws {
        let database = try await TestDatabase.create()
        try await database.migrate()
        try await database.withClient { client in
            try await client.withConnection { first in
                try await client.withConnection { second in
                    let logger = TestDatabase.logger
                    try await first.query("BEGIN", logger: logger)
                    try await first.query(
                        "INSERT INTO outbox (channel, payload) VALUES ('workspace:x', '{\"type\":\"first.inserted\"}')", logger: logger)
                    try await second.query("BEGIN", logger: logger)
                    try await second.query(
                        "INSERT INTO outbox (channel, payload) VALUES ('workspace:x', '{\"type\":\"first.committed\"}')", logger: logger)
                    try await second.query("COMMIT", logger: logger)
                    try await first.query("COMMIT", logger: logger)
                }
            }
        }
        let byID = try await database.withClient { client in
            var types: [String] = []
            for try await type in try await client.query("SELECT payload->>'type' FROM outbox ORDER BY id", logger: TestDatabase.logger)
                .decode(String.self) { types.append(type) }
            return types
        }
        let bySeq = try await database.withClient { client in
            var types: [String] = []
            for try await type in try await client.query("SELECT payload->>'type' FROM outbox ORDER BY seq", logger: TestDatabase.logger)
                .decode(String.self) { types.append(type) }
            return types
        }
        #expect(byID == ["first.inserted", "first.committed"])
        #expect(bySeq == ["first.committed", "first.inserted"])

        let broker = FakeBroker()
        try await broker.run { url in
            try await OutboxTests.withRelays(database, brokerURL: url) {
                try await OutboxTests.waitUntil { try await Self.pending(database) == 0 }
            }
        }
        #expect(broker.publications.map { $0.type ?? "" } == ["first.committed", "first.inserted"])
    }

    @Test("transactions writing two partitions in opposite orders both commit (partition locks are taken in order)")
    func noDeadlockAcrossPartitions() async throws {
        let database = try await TestDatabase.create()
        try await database.migrate()
        // Two channels in different partitions.
        let (a, b) = try await database.withClient { client -> (String, String) in
            var byPartition: [Int16: String] = [:]
            let rows = try await client.query(
                "SELECT (hashtextextended('workspace:p' || i, 0) & 15)::int2, 'workspace:p' || i FROM generate_series(1, 50) i",
                logger: TestDatabase.logger)
            for try await (partition, channel) in rows.decode((Int16, String).self) where byPartition[partition] == nil {
                byPartition[partition] = channel
            }
            let channels = byPartition.values.sorted()
            return (channels[0], channels[1])
        }
        try await database.withClient { client in
            for round in 0..<20 {
                async let one: Void = Self.writeTwo(client, round: round, first: a, then: b)
                async let two: Void = Self.writeTwo(client, round: round, first: b, then: a)
                _ = try await (one, two)
            }
        }
        #expect(try await database.scalarInt("SELECT count(*)::int8 FROM outbox WHERE seq IS NOT NULL") == 80)
    }

    static func writeTwo(_ client: PostgresClient, round: Int, first: String, then second: String) async throws {
        let db = Database(client: client, logger: TestDatabase.logger)
        try await db.transaction { connection in
            for channel in [first, second] {
                try await connection.query(
                    "INSERT INTO outbox (channel, payload) VALUES (\(channel), json_build_object('type', 'r', 'data', \(round)))",
                    logger: db.logger)
            }
        }
    }

    @Test("two relays split the partitions and deliver every row once, each channel in commit order")
    func twoRelays() async throws {
        let database = try await TestDatabase.create()
        try await database.migrate()
        let broker = FakeBroker()
        try await Self.insert_(database, count: 400, channels: 24, perTransaction: 7)
        try await broker.run { url in
            try await OutboxTests.withRelays(database, brokerURL: url, count: 2) {
                // More rows while they run, in small transactions.
                try await database.withClient { client in
                    try await Self.insert(client, count: 600, channels: 24, perTransaction: 3, from: 400)
                }
                try await OutboxTests.waitUntil(timeout: .seconds(60)) { try await Self.pending(database) == 0 }
                let owners = try await database.scalarInt(
                    "SELECT count(DISTINCT owner)::int8 FROM outbox_partitions WHERE owner IS NOT NULL")
                #expect(owners == 2)
            }
        }
        let keys = broker.publications.map(\.idempotencyKey)
        #expect(keys.count == 1000 && Set(keys).count == 1000)
        #expect(Self.receivedOrder(broker) == (try await Self.committedOrder(database)))
        // A graceful shutdown hands the partitions back.
        #expect(try await database.scalarInt("SELECT count(*)::int8 FROM outbox_partitions WHERE owner IS NOT NULL") == 0)
    }

    static func insert_(_ database: TestDatabase, count: Int, channels: Int, perTransaction: Int) async throws {
        try await database.withClient { client in
            try await insert(client, count: count, channels: channels, perTransaction: perTransaction)
        }
    }

    @Test("a relay killed after publishing half a batch: once its lease expires another relay sends the rest, in order")
    func killedMidBatch() async throws {
        let database = try await TestDatabase.create()
        try await database.migrate()
        let broker = FakeBroker()
        try await Self.insert_(database, count: 60, channels: 4, perTransaction: 5)
        try await broker.run { url in
            // The victim: takes every partition, reads a batch, publishes its first half, then dies (no confirm,
            // no release).
            try await database.withClient { client in
                let db = Database(client: client, logger: TestDatabase.logger)
                var options = OutboxTests.fastOptions()
                options.batchSize = 20
                let victim = OutboxRelay(db: db, publisher: OutboxTests.testPublisher(url), options: options, logger: db.logger)
                var leases = PartitionLeases(duration: .seconds(2))
                try await leases.renew(db)
                #expect(leases.partitions.count == 16)
                let batch = try await victim.readBatch(partitions: leases.partitions)
                #expect(batch.rows.count == 20)
                _ = try await victim.publisher.send(batch.rows.prefix(10).map(\.command))
            }
            // When the victim's leases run out, on PostgreSQL's clock (as the relays see it).
            let victimLeaseEnd = try await database.scalarInt(
                "SELECT (extract(epoch FROM min(lease_until)) * 1000)::int8 FROM outbox_partitions")
            #expect(broker.publications.count == 10)
            try await OutboxTests.withRelays(database, brokerURL: url) {
                try await OutboxTests.waitUntil(timeout: .seconds(30)) { try await Self.pending(database) == 0 }
            }
            // Nothing was confirmed before the victim's leases ran out.
            let firstConfirmed = try await database.scalarInt(
                "SELECT (extract(epoch FROM min(sent_at)) * 1000)::int8 FROM outbox WHERE sent_at IS NOT NULL")
            #expect(firstConfirmed >= victimLeaseEnd)
        }
        let keys = broker.publications.map(\.idempotencyKey)
        #expect(keys.count == 60 && Set(keys).count == 60)
        #expect(broker.duplicates == 10)
        #expect(Self.receivedOrder(broker) == (try await Self.committedOrder(database)))
    }

    @Test("while the broker is down the backlog waits whole, then drains once and in commit order")
    func brokerDownThenDrains() async throws {
        let database = try await TestDatabase.create()
        try await database.migrate()
        let broker = FakeBroker()
        broker.failNext(6)
        try await Self.insert_(database, count: 45, channels: 3, perTransaction: 4)
        try await broker.run { url in
            try await OutboxTests.withRelays(database, brokerURL: url, count: 2) {
                try await OutboxTests.waitUntil(timeout: .seconds(30)) { try await Self.pending(database) == 0 }
            }
        }
        #expect(broker.failedAttempts == 6)
        let keys = broker.publications.map(\.idempotencyKey)
        #expect(keys.count == 45 && Set(keys).count == 45)
        #expect(Self.receivedOrder(broker) == (try await Self.committedOrder(database)))
    }
}
