import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Synchronization
import Testing

@testable import Facade

/// A fresh, migrated database per test, created on the server given by FACADE_TEST_DATABASE_URL
/// (see scripts/facade-test.sh, which starts a throwaway cluster with scripts/pg-start.sh).
struct TestDatabase {
    static let logger: Logger = {
        var logger = Logger(label: "facade.tests")
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .critical
        return logger
    }()

    let url: String

    static func adminURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["FACADE_TEST_DATABASE_URL"], !url.isEmpty else {
            throw ConfigurationError("FACADE_TEST_DATABASE_URL is not set; run scripts/facade-test.sh")
        }
        return url
    }

    /// Creates `t_<random>` and returns its URL.
    static func create() async throws -> TestDatabase {
        let adminURL = try adminURL()
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        _ = try await withClient(url: adminURL) { client in
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        var components = URLComponents(string: adminURL)!
        components.path = "/\(name)"
        return TestDatabase(url: components.string!)
    }

    /// Runs `body` with a running PostgresClient on `url`.
    static func withClient<R: Sendable>(
        url: String, maxConnections: Int = 10, _ body: @Sendable (PostgresClient) async throws -> R
    ) async throws -> R {
        var configuration = FacadeConfiguration(databaseURL: url, brokerTokenSecret: "", sessionSecret: "")
        configuration.maxDatabaseConnections = maxConnections
        let client = PostgresClient(configuration: try configuration.postgresConfiguration(), backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }

    func withClient<R: Sendable>(
        maxConnections: Int = 10, _ body: @Sendable (PostgresClient) async throws -> R
    ) async throws -> R {
        try await Self.withClient(url: url, maxConnections: maxConnections, body)
    }

    func migrate() async throws {
        try await withClient { client in
            _ = try await Migrator.bundled().migrate(client: client, logger: Self.logger)
        }
    }

    /// First column of the first row as Int (for counting assertions).
    func scalarInt(_ query: PostgresQuery) async throws -> Int {
        try await withClient { client in
            for try await value in try await client.query(query, logger: Self.logger).decode(Int.self) { return value }
            return 0
        }
    }
}

/// A settable clock for the facade (check-in days depend on "now").
final class TestClock: Sendable {
    private let value: Mutex<Date>

    init(_ date: Date = Date()) {
        value = Mutex(date)
    }

    var now: Date { value.withLock { $0 } }

    func set(_ date: Date) {
        value.withLock { $0 = date }
    }

    /// Parses an ISO 8601 instant such as 2026-01-01T10:59:00Z.
    static func instant(_ string: String) -> Date {
        try! Date(string, strategy: .iso8601)
    }
}

enum TestSecrets {
    static let session = "test-session-secret-0123456789abcdef"
    static let broker = "test-broker-secret-0123456789abcdef"
}

/// Builds the facade on a fresh database and runs `body` with an API client (router test framework).
func withFacade<R: Sendable>(
    clock: TestClock = TestClock(),
    configure: @Sendable (inout FacadeConfiguration) -> Void = { _ in },
    _ body: @Sendable (API, TestDatabase) async throws -> R
) async throws -> R {
    let database = try await TestDatabase.create()
    var configuration = FacadeConfiguration(
        databaseURL: database.url, brokerTokenSecret: TestSecrets.broker, sessionSecret: TestSecrets.session)
    configuration.bcryptCost = 4
    configuration.runRelay = false
    configuration.maxDatabaseConnections = 8
    configuration.now = { clock.now }
    configure(&configuration)
    let app = try await FacadeApplication.build(configuration: configuration, logger: TestDatabase.logger)
    return try await app.test(.router) { client in
        try await body(API(client: client), database)
    }
}

/// The result of one API call: status plus the parsed JSON body.
struct Reply: @unchecked Sendable {
    let status: HTTPResponse.Status
    let json: Any?
    let raw: String
    var headers: HTTPFields = [:]

    var object: [String: Any] { json as? [String: Any] ?? [:] }
    subscript(key: String) -> Any? { object[key] }
    func string(_ key: String) -> String? { object[key] as? String }
    var items: [[String: Any]] { object["items"] as? [[String: Any]] ?? [] }
    var errorCode: String? { (object["error"] as? [String: Any])?["code"] as? String }
    /// The error's `fields`, each as "field code".
    var errorFields: [String] {
        ((object["error"] as? [String: Any])?["fields"] as? [[String: Any]] ?? [])
            .map { "\($0["field"] as? String ?? "?") \($0["code"] as? String ?? "?")" }
    }
}

/// Thin JSON client over HummingbirdTesting's client.
struct API: Sendable {
    let client: any TestClientProtocol

    @discardableResult
    func call(
        _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, json: [String: any Sendable]? = nil
    ) async throws -> Reply {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
        }
        return try await send(method, uri, headers: headers, body: body)
    }

    /// Sends `body` as it is (not JSON, JSON with a NUL escape, an array…).
    @discardableResult
    func call(_ method: HTTPRequest.Method, _ uri: String, token: String? = nil, rawBody: String) async throws -> Reply {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await send(method, uri, headers: headers, body: ByteBuffer(string: rawBody))
    }

    private func send(_ method: HTTPRequest.Method, _ uri: String, headers: HTTPFields, body: ByteBuffer?) async throws -> Reply {
        let response = try await client.executeRequest(uri: uri, method: method, headers: headers, body: body)
        let raw = String(buffer: response.body)
        let parsed = raw.isEmpty ? nil : try? JSONSerialization.jsonObject(with: Data(raw.utf8), options: [.fragmentsAllowed])
        return Reply(status: response.status, json: parsed, raw: raw, headers: response.headers)
    }

    struct Session {
        let token: String
        let userID: String
    }

    func signUp(_ email: String = "u\(UUID().uuidString.prefix(8))@example.com", password: String = "correct horse") async throws -> Session {
        let reply = try await call(.post, "/v1/auth/signup", json: ["email": email, "password": password])
        #expect(reply.status == .created, "\(reply.raw)")
        let user = reply["user"] as? [String: Any]
        return Session(token: reply.string("token") ?? "", userID: user?["id"] as? String ?? "")
    }

    struct Workspace {
        let id: String
        let ownerMemberID: String
    }

    func createWorkspace(_ session: Session, name: String = "Team", timeZone: String = "UTC") async throws -> Workspace {
        let reply = try await call(.post, "/v1/workspaces", token: session.token, json: ["name": name, "time_zone": timeZone])
        #expect(reply.status == .created, "\(reply.raw)")
        let member = reply["my_member"] as? [String: Any]
        return Workspace(id: reply.string("id") ?? "", ownerMemberID: member?["id"] as? String ?? "")
    }

    /// Invites and accepts; returns the new member id.
    func join(_ workspace: Workspace, inviter: Session, joiner: Session) async throws -> String {
        let invite = try await call(.post, "/v1/workspaces/\(workspace.id)/invites", token: inviter.token, json: [:])
        #expect(invite.status == .created, "\(invite.raw)")
        let token = invite.string("token") ?? ""
        let accepted = try await call(.post, "/v1/invites/\(token)/accept", token: joiner.token)
        #expect(accepted.status == .ok, "\(accepted.raw)")
        return accepted.string("id") ?? ""
    }
}
