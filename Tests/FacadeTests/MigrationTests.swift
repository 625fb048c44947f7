import Foundation
import PostgresNIO
import Testing

@testable import Facade

@Suite("Migrations")
struct MigrationTests {
    @Test("apply in order, are recorded, and are idempotent")
    func applyAndIdempotent() async throws {
        let database = try await TestDatabase.create()
        let migrator = try Migrator.bundled()
        #expect(migrator.migrations.map(\.version) == [1, 2, 3, 4, 5])
        let first = try await database.withClient { client in
            try await migrator.migrate(client: client, logger: TestDatabase.logger)
        }
        #expect(first == [1, 2, 3, 4, 5])
        let second = try await database.withClient { client in
            try await migrator.migrate(client: client, logger: TestDatabase.logger)
        }
        #expect(second.isEmpty)
        #expect(try await database.scalarInt("SELECT count(*)::int8 FROM schema_migrations") == 5)
        #expect(try await database.scalarInt("SELECT count(*)::int8 FROM information_schema.tables WHERE table_name = 'outbox'") == 1)
    }

    @Test("concurrent starts apply each migration once")
    func concurrentStarts() async throws {
        let database = try await TestDatabase.create()
        let migrator = try Migrator.bundled()
        let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<3 {
                group.addTask {
                    try await database.withClient { client in
                        try await migrator.migrate(client: client, logger: TestDatabase.logger)
                    }
                }
            }
            var all: [Int] = []
            for try await versions in group { all += versions }
            return all
        }
        #expect(applied.sorted() == [1, 2, 3, 4, 5])
        #expect(try await database.scalarInt("SELECT count(*)::int8 FROM schema_migrations") == 5)
    }

    @Test("a failing migration rolls back entirely")
    func failingMigrationRollsBack() async throws {
        let database = try await TestDatabase.create()
        let broken = Migrator(migrations: [
            .init(version: 1, name: "0001_ok", sql: "CREATE TABLE a (x int);"),
            .init(version: 2, name: "0002_broken", sql: "CREATE TABLE b (y int); SELECT * FROM missing_table;"),
        ])
        await #expect(throws: (any Error).self) {
            try await database.withClient { client in
                try await broken.migrate(client: client, logger: TestDatabase.logger)
            }
        }
        #expect(try await database.scalarInt("SELECT count(*)::int8 FROM schema_migrations") == 1)
        #expect(try await database.scalarInt("SELECT count(*)::int8 FROM information_schema.tables WHERE table_name = 'b'") == 0)
    }
}
