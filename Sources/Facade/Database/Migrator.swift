import Foundation
import Logging
import PostgresNIO

/// Applies the numbered `.sql` files bundled in `Migrations/` in order.
///
/// - Each file runs in its own transaction and is recorded in `schema_migrations`.
/// - A session-level `pg_advisory_lock` serialises concurrent starts: a second process waits,
///   then finds the migrations recorded and applies nothing.
public struct Migrator: Sendable {
    public struct Migration: Sendable {
        public var version: Int
        public var name: String
        public var sql: String
    }

    /// Arbitrary constant identifying the facade's migration lock.
    static let advisoryLockKey: Int64 = 7_305_202_611
    /// Dollar-quote tags used to pass a whole file to `EXECUTE` (see `apply`).
    static let outerTag = "$facade_do$"
    static let innerTag = "$facade_sql$"

    public let migrations: [Migration]

    public init(migrations: [Migration]) {
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// The migrations bundled with the Facade module.
    public static func bundled() throws -> Migrator {
        guard let directory = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
            throw MigrationError.missingResources
        }
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "sql" }
        let migrations = try files.map { url -> Migration in
            let name = url.deletingPathExtension().lastPathComponent
            guard let version = Int(name.prefix { $0.isNumber }) else {
                throw MigrationError.badFileName(url.lastPathComponent)
            }
            return Migration(version: version, name: name, sql: try String(contentsOf: url, encoding: .utf8))
        }
        return Migrator(migrations: migrations)
    }

    /// Applies pending migrations; returns the versions applied by this call.
    @discardableResult
    public func migrate(client: PostgresClient, logger: Logger) async throws -> [Int] {
        try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.advisoryLockKey))", logger: logger)
            do {
                let applied = try await self.applyPending(connection: connection, logger: logger)
                try await connection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))", logger: logger)
                return applied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))", logger: logger)
                throw error
            }
        }
    }

    private func applyPending(connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, logger: logger)
        var done = Set<Int>()
        for try await version in try await connection.query("SELECT version FROM schema_migrations", logger: logger)
            .decode(Int.self)
        {
            done.insert(version)
        }
        var applied: [Int] = []
        for migration in migrations where !done.contains(migration.version) {
            try await apply(migration, connection: connection, logger: logger)
            applied.append(migration.version)
            logger.info("Applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
        }
        return applied
    }

    /// Runs one file and records it, atomically.
    ///
    /// PostgresNIO speaks the extended query protocol, which allows one statement per query,
    /// so the whole file is handed to PL/pgSQL `EXECUTE`, which accepts several statements.
    private func apply(_ migration: Migration, connection: PostgresConnection, logger: Logger) async throws {
        guard !migration.sql.contains(Self.outerTag), !migration.sql.contains(Self.innerTag) else {
            throw MigrationError.badFileContents(migration.name)
        }
        try await connection.query("BEGIN", logger: logger)
        do {
            let block = "DO \(Self.outerTag) BEGIN EXECUTE \(Self.innerTag)\(migration.sql)\(Self.innerTag); END \(Self.outerTag)"
            try await connection.query(PostgresQuery(unsafeSQL: block), logger: logger)
            try await connection.query(
                "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                logger: logger)
            try await connection.query("COMMIT", logger: logger)
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }
}

public enum MigrationError: Error, CustomStringConvertible {
    case missingResources
    case badFileName(String)
    case badFileContents(String)

    public var description: String {
        switch self {
        case .missingResources: "The Migrations resource directory is missing from the bundle."
        case .badFileName(let name): "Migration file '\(name)' must start with its number, e.g. 0003_name.sql."
        case .badFileContents(let name): "Migration '\(name)' contains a reserved dollar-quote tag."
        }
    }
}
