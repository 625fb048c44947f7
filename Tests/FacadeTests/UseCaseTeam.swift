import Foundation
import PostgresNIO
import Testing

@testable import Facade

/// A fresh, migrated database for the use-case tests (no HTTP, no router): users are plain rows, and the team is
/// made through the use cases themselves.
struct UseCaseTeam {
    let database: TestDatabase
    let db: Database
    let workspaceID: UUID
    let owner: UUID
    let ownerMember: UUID
    let grace: UUID
    let graceMember: UUID
    /// A signed-up user who belongs to no workspace.
    let outsider: UUID

    var comments: CommentUseCases { CommentUseCases(db: db) }
    var members: MemberUseCases { MemberUseCases(db: db) }
    var todos: TodoUseCases { TodoUseCases(db: db) }
    var posts: PostUseCases { PostUseCases(db: db, now: { Date() }) }
    var invites: InviteUseCases { InviteUseCases(db: db, now: { Date() }) }

    /// Runs `body` with owner "Ada Lovelace" and member "Grace Hopper" in one workspace, and an outsider.
    static func with<R: Sendable>(maxConnections: Int = 4, _ body: @Sendable (UseCaseTeam) async throws -> R) async throws -> R {
        let database = try await TestDatabase.create()
        try await database.migrate()
        return try await database.withClient(maxConnections: maxConnections) { client in
            let db = Database(client: client, logger: TestDatabase.logger)
            let owner = try await user(db, "ada@example.com")
            let grace = try await user(db, "grace@example.com")
            let outsider = try await user(db, "eve@example.com")
            let workspace = try await WorkspaceUseCases(db: db).create(
                by: owner, name: "Team", timeZone: "UTC", displayName: "Ada Lovelace")
            let workspaceID = try #require(UUID(uuidString: try field(workspace, "id")))
            let ownerMember = try #require(UUID(uuidString: try field(workspace, "my_member", "id")))
            let graceMember = try await join(db, workspaceID, inviter: owner, user: grace, displayName: "Grace Hopper")
            return try await body(UseCaseTeam(
                database: database, db: db, workspaceID: workspaceID, owner: owner, ownerMember: ownerMember,
                grace: grace, graceMember: graceMember, outsider: outsider))
        }
    }

    static func user(_ db: Database, _ email: String) async throws -> UUID {
        let id = try await db.withConnection { connection -> UUID? in
            let rows = try await connection.query("INSERT INTO users (email) VALUES (\(email)) RETURNING id", logger: db.logger)
            for try await id in rows.decode(UUID.self) { return id }
            return nil
        }
        return try #require(id)
    }

    /// Signs up another user and brings them in through an invite; returns their member id.
    func newMember(_ email: String, displayName: String) async throws -> (user: UUID, member: UUID) {
        let user = try await Self.user(db, email)
        return (user, try await join(user, displayName: displayName))
    }

    func join(_ user: UUID, displayName: String) async throws -> UUID {
        try await Self.join(db, workspaceID, inviter: owner, user: user, displayName: displayName)
    }

    /// `inviter` makes a link invite, `user` accepts it; returns the new member id.
    static func join(_ db: Database, _ workspaceID: UUID, inviter: UUID, user: UUID, displayName: String) async throws -> UUID {
        let invites = InviteUseCases(db: db, now: { Date() })
        let invite = try await invites.create(as: inviter, in: workspaceID, kind: "link", email: nil, expiresInHours: nil)
        let member = try await invites.accept(by: user, token: try field(invite, "token"), displayName: displayName)
        return try #require(UUID(uuidString: try field(member, "id")))
    }

    func checkin(by user: UUID, _ body: String = "Plan") async throws -> UUID {
        let post = try await posts.create(as: user, in: workspaceID, kind: "checkin", body: body, mentions: [])
        return try #require(UUID(uuidString: try Self.field(post, "id")))
    }

    /// The outbox, in id order, as `publish <type> <channel>` / `unsubscribe <channel> <user id>`.
    func outbox() async throws -> [String] {
        try await RevocationTests.outbox(database)
    }

    /// `<recipient member id> <kind>` for every notification but the `invite_accepted` ones of making the team.
    func notifications() async throws -> [String] {
        try await db.withConnection { connection in
            var rows: [String] = []
            let result = try await connection.query(
                """
                SELECT recipient_member_id::text || ' ' || kind FROM notifications WHERE kind <> 'invite_accepted'
                ORDER BY created_at, id
                """, logger: db.logger)
            for try await row in result.decode(String.self) { rows.append(row) }
            return rows
        }
    }

    /// A string field of a JSON object, following `path`.
    static func field(_ json: String, _ path: String...) throws -> String {
        var value: Any? = try JSONSerialization.jsonObject(with: Data(json.utf8))
        for key in path { value = (value as? [String: Any])?[key] }
        return try #require(value as? String, "\(path) in \(json)")
    }
}

extension UUID {
    /// The id as PostgreSQL and the API write it (lowercase).
    var text: String { uuidString.lowercased() }
}
