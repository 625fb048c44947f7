import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Testing

@testable import Facade

@Suite("Outbox and relay")
struct OutboxTests {
    struct Rollback: Error {}

    @Test("the outbox row commits or rolls back with the change")
    func sameTransaction() async throws {
        let database = try await TestDatabase.create()
        try await database.migrate()
        try await database.withClient { client in
            let db = Database(client: client, logger: TestDatabase.logger)
            let workspaceID = UUID()
            await #expect(throws: Rollback.self) {
                try await db.transaction { connection in
                    try await connection.query(
                        "INSERT INTO workspaces (id, name, time_zone) VALUES (\(workspaceID), 'x', 'UTC')", logger: db.logger)
                    try await OutboxWriter.workspaceEvent(
                        connection, workspaceID: workspaceID, type: .postCreated, dataJSON: "{}", logger: db.logger)
                    throw Rollback()
                }
            }
            try await db.transaction { connection in
                try await connection.query(
                    "INSERT INTO workspaces (id, name, time_zone) VALUES (\(workspaceID), 'x', 'UTC')", logger: db.logger)
                try await OutboxWriter.workspaceEvent(
                    connection, workspaceID: workspaceID, type: .postCreated, dataJSON: #"{"n":1}"#, logger: db.logger)
            }
        }
        #expect(try await database.scalarInt("SELECT count(*)::int8 FROM workspaces") == 1)
        #expect(try await database.scalarInt("SELECT count(*)::int8 FROM outbox") == 1)
        #expect(try await database.scalarInt(
            "SELECT count(*)::int8 FROM outbox WHERE channel LIKE 'workspace:%' AND payload->>'type' = 'post.created' AND payload->'data'->>'n' = '1'") == 1)
    }

    static func insertRows(_ database: TestDatabase, count: Int) async throws {
        try await database.withClient { client in
            _ = try await client.query(
                """
                INSERT INTO outbox (channel, payload)
                SELECT 'workspace:' || gen_random_uuid(), json_build_object('type', 'test.event', 'data', json_build_object('i', i))
                FROM generate_series(1, \(count)) i
                """, logger: TestDatabase.logger)
        }
    }

    static func waitUntil(timeout: Duration = .seconds(15), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("Condition not met within \(timeout)")
    }

    static func fastOptions() -> OutboxRelay.Options {
        var options = OutboxRelay.Options()
        options.pollInterval = .milliseconds(200)
        options.baseBackoff = 0.05
        options.maxBackoff = 0.2
        options.batchSize = 10
        options.leaseDuration = .milliseconds(1500)
        return options
    }

    /// A publisher with a short timeout, so the short test leases outlast a broker call.
    static func testPublisher(_ brokerURL: String) -> BrokerPublisher {
        BrokerPublisher(apiURL: brokerURL, apiKey: "test-key", timeout: .milliseconds(500))
    }

    /// Runs relays as services until `body` returns.
    static func withRelays<R: Sendable>(
        _ database: TestDatabase, brokerURL: String, count: Int = 1, _ body: @Sendable () async throws -> R
    ) async throws -> R {
        try await database.withClient(maxConnections: 20) { client in
            let db = Database(client: client, logger: TestDatabase.logger)
            let relays: [any Service] = (0..<count).map { _ in
                OutboxRelay(
                    db: db, publisher: testPublisher(brokerURL),
                    options: fastOptions(), logger: TestDatabase.logger)
            }
            let group = ServiceGroup(services: relays, logger: TestDatabase.logger)
            return try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                defer { tasks.cancelAll() }
                let result = try await body()
                // Wait for the relays to stop (they hand their partitions back).
                await group.triggerGracefulShutdown()
                try await tasks.next()
                return result
            }
        }
    }

    @Test("publishes once with the idempotency key, woken by NOTIFY")
    func publishesOnce() async throws {
        let database = try await TestDatabase.create()
        try await database.migrate()
        let broker = FakeBroker()
        try await broker.run { url in
            try await Self.withRelays(database, brokerURL: url) {
                try await Task.sleep(for: .milliseconds(300))
                try await Self.insertRows(database, count: 3)
                try await Self.waitUntil {
                    try await database.scalarInt("SELECT count(*)::int8 FROM outbox WHERE sent_at IS NOT NULL") == 3
                }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
        let publications = broker.publications
        #expect(publications.count == 3)
        let ids = try await database.withClient { client in
            var ids: [Int64] = []
            for try await id in try await client.query("SELECT id FROM outbox ORDER BY id", logger: TestDatabase.logger).decode(Int64.self) {
                ids.append(id)
            }
            return ids
        }
        #expect(publications.map(\.idempotencyKey) == ids.map { "outbox-\($0)" })
        #expect(publications.allSatisfy { $0.apiKey == "test-key" && $0.type == "test.event" })
        #expect(try await database.scalarInt("SELECT count(*)::int8 FROM outbox WHERE sent_at IS NULL") == 0)
    }

    @Test("retries with backoff while the broker answers 503, then delivers")
    func retriesUntilDelivered() async throws {
        let database = try await TestDatabase.create()
        try await database.migrate()
        let broker = FakeBroker()
        broker.failNext(4)
        try await Self.insertRows(database, count: 1)
        try await broker.run { url in
            try await Self.withRelays(database, brokerURL: url) {
                try await Self.waitUntil {
                    try await database.scalarInt("SELECT count(*)::int8 FROM outbox WHERE sent_at IS NOT NULL") == 1
                }
            }
        }
        #expect(broker.failedAttempts == 4)
        #expect(broker.publications.count == 1)
        #expect(try await database.scalarInt("SELECT attempts::int8 FROM outbox") == 5)
        #expect(try await database.scalarInt("SELECT count(*)::int8 FROM outbox WHERE sent_at IS NOT NULL AND last_error IS NULL") == 1)
    }

    @Test("a claimed batch goes out in one request; a row the broker refuses backs off alone")
    func batchesAndPerRowFailures() async throws {
        let database = try await TestDatabase.create()
        try await database.migrate()
        let broker = FakeBroker()
        broker.refuse(type: "refuse.me")
        try await Self.insertRows(database, count: 25)
        try await database.withClient { client in
            _ = try await client.query(
                "INSERT INTO outbox (channel, payload) VALUES ('workspace:x', '{\"type\":\"refuse.me\"}')", logger: TestDatabase.logger)
        }
        try await broker.run { url in
            try await Self.withRelays(database, brokerURL: url) {
                try await Self.waitUntil {
                    try await database.scalarInt("SELECT count(*)::int8 FROM outbox WHERE sent_at IS NOT NULL") == 25
                }
                try await Self.waitUntil {
                    try await database.scalarInt("SELECT attempts::int8 FROM outbox WHERE payload->>'type' = 'refuse.me'") >= 2
                }
            }
        }
        // 26 rows in batches of 10: 3 requests, then retries of the refused row alone.
        #expect(broker.publications.count == 25)
        let sizes = broker.batchSizes
        #expect(Array(sizes.prefix(3)) == [10, 10, 6])
        #expect(sizes.count >= 4 && sizes.dropFirst(3).allSatisfy { $0 == 1 })
        #expect(try await database.scalarInt("SELECT count(*)::int8 FROM outbox WHERE sent_at IS NULL AND last_error LIKE '%107%'") == 1)
    }

    @Test("two relays never send a row twice")
    func concurrentRelays() async throws {
        let database = try await TestDatabase.create()
        try await database.migrate()
        let broker = FakeBroker()
        try await Self.insertRows(database, count: 300)
        try await broker.run { url in
            try await Self.withRelays(database, brokerURL: url, count: 2) {
                try await Self.waitUntil(timeout: .seconds(60)) {
                    try await database.scalarInt("SELECT count(*)::int8 FROM outbox WHERE sent_at IS NULL") == 0
                }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
        let keys = broker.publications.map(\.idempotencyKey)
        #expect(keys.count == 300)
        #expect(Set(keys).count == 300)
    }
}

@Suite("Relay inside the application")
struct ApplicationRelayTests {
    @Test("a comment made through the API reaches the broker on the workspace channel")
    func endToEnd() async throws {
        let broker = FakeBroker()
        try await broker.run { brokerURL in
            try await withFacade(configure: { configuration in
                configuration.runRelay = true
                configuration.brokerAPIURL = brokerURL
                configuration.brokerAPIKey = "app-key"
                configuration.relayOptions = OutboxTests.fastOptions()
            }) { api, _ in
                let owner = try await api.signUp()
                let workspace = try await api.createWorkspace(owner)
                let post = try await api.call(.post, "/v1/workspaces/\(workspace.id)/posts", token: owner.token, json: ["kind": "checkin", "body": "x"])
                _ = try await api.call(
                    .post, "/v1/workspaces/\(workspace.id)/posts/\(post.string("id") ?? "")/comments", token: owner.token, json: ["body": "c"])
                try await OutboxTests.waitUntil { broker.publications.count >= 2 }
                let types = broker.publications.map { "\($0.channel) \($0.type ?? "")" }
                #expect(types == ["workspace:\(workspace.id) post.created", "workspace:\(workspace.id) comment.created"])
                #expect(broker.publications.allSatisfy { $0.apiKey == "app-key" })
            }
        }
    }
}
