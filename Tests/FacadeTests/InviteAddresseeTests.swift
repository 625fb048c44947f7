import Foundation
import Testing

@testable import Facade

@Suite("Invites bound to their addressee")
struct InviteAddresseeTests {
    static func email(_ name: String) -> String { "\(name)-\(UUID().uuidString.prefix(8).lowercased())@example.com" }

    @Test("an email invite is accepted only by the account with that email (case-insensitively); others get 403")
    func boundToEmail() async throws {
        try await withFacade { api, database in
            let owner = try await api.signUp()
            let bobEmail = Self.email("bob")
            let bob = try await api.signUp(bobEmail.uppercased())
            let mallory = try await api.signUp()
            let workspace = try await api.createWorkspace(owner)

            let invite = try await api.call(
                .post, "/v1/workspaces/\(workspace.id)/invites", token: owner.token, json: ["email": bobEmail])
            #expect(invite.status == .created, "\(invite.raw)")
            #expect(invite.string("kind") == "email")
            let token = try #require(invite.string("token"))

            let stolen = try await api.call(.post, "/v1/invites/\(token)/accept", token: mallory.token)
            #expect(stolen.status == .forbidden)
            #expect(stolen.errorCode == "invite_addressee_mismatch")
            #expect(!stolen.raw.contains(bobEmail), "the refusal does not reveal the addressee")
            #expect(try await api.call(.get, "/v1/workspaces/\(workspace.id)", token: mallory.token).status == .forbidden)
            #expect(try await database.scalarInt("SELECT count(*)::int8 FROM invites WHERE accepted_at IS NOT NULL") == 0)

            let accepted = try await api.call(.post, "/v1/invites/\(token)/accept", token: bob.token)
            #expect(accepted.status == .ok, "\(accepted.raw)")
            #expect(accepted.string("user_id") == bob.userID)
            // Single use, still.
            #expect(try await api.call(.post, "/v1/invites/\(token)/accept", token: bob.token).errorCode == "invite_used")
        }
    }

    @Test("an email invite still expires; the wrong addressee is refused before anything else is said")
    func expiry() async throws {
        let clock = TestClock()
        try await withFacade(clock: clock) { api, _ in
            let owner = try await api.signUp()
            let bobEmail = Self.email("bob")
            let bob = try await api.signUp(bobEmail)
            let other = try await api.signUp()
            let workspace = try await api.createWorkspace(owner)
            let invite = try await api.call(
                .post, "/v1/workspaces/\(workspace.id)/invites", token: owner.token,
                json: ["email": bobEmail, "expires_in_hours": 1])
            let token = try #require(invite.string("token"))
            clock.set(clock.now.addingTimeInterval(2 * 3600))
            #expect(try await api.call(.post, "/v1/invites/\(token)/accept", token: other.token).errorCode
                == "invite_addressee_mismatch")
            let expired = try await api.call(.post, "/v1/invites/\(token)/accept", token: bob.token)
            #expect(expired.status == .gone)
            #expect(expired.errorCode == "invite_expired")
        }
    }

    @Test("open links are their own kind: anyone holding one may accept; kinds and emails must agree")
    func links() async throws {
        try await withFacade { api, _ in
            let owner = try await api.signUp()
            let carol = try await api.signUp()
            let workspace = try await api.createWorkspace(owner)
            let path = "/v1/workspaces/\(workspace.id)/invites"

            let link = try await api.call(.post, path, token: owner.token, json: ["kind": "link"])
            #expect(link.status == .created)
            #expect(link.string("kind") == "link")
            #expect(link["email"] is NSNull)
            #expect(try await api.call(.post, "/v1/invites/\(link.string("token") ?? "")/accept", token: carol.token).status == .ok)

            // No email and no kind: an open link, said so in the answer.
            #expect(try await api.call(.post, path, token: owner.token, json: [:]).string("kind") == "link")

            func fields(_ reply: Reply) -> [String] {
                ((reply["error"] as? [String: Any])?["fields"] as? [[String: Any]] ?? [])
                    .map { "\($0["field"] as? String ?? "") \($0["code"] as? String ?? "")" }
            }
            let noEmail = try await api.call(.post, path, token: owner.token, json: ["kind": "email"])
            #expect(noEmail.status == .unprocessableContent)
            #expect(fields(noEmail) == ["email required"])
            let linkWithEmail = try await api.call(.post, path, token: owner.token, json: ["kind": "link", "email": Self.email("x")])
            #expect(fields(linkWithEmail) == ["email invalid_value"])
            let unknownKind = try await api.call(.post, path, token: owner.token, json: ["kind": "public"])
            #expect(fields(unknownKind) == ["kind invalid_value"])
        }
    }

    @Test("invites made before the kinds existed: those with an email become bound to it")
    func migration() async throws {
        let database = try await TestDatabase.create()
        try await database.withClient { client in
            let all = try Migrator.bundled().migrations
            _ = try await Migrator(migrations: all.filter { $0.version <= 3 }).migrate(client: client, logger: TestDatabase.logger)
            _ = try await client.query(
                """
                WITH u AS (INSERT INTO users (email) VALUES ('o@example.com') RETURNING id),
                     w AS (INSERT INTO workspaces (name, time_zone) VALUES ('w', 'UTC') RETURNING id),
                     m AS (INSERT INTO members (workspace_id, user_id, display_name, role)
                           SELECT w.id, u.id, 'o', 'owner' FROM w, u RETURNING id, workspace_id)
                INSERT INTO invites (workspace_id, token, email, created_by_member_id, expires_at)
                SELECT m.workspace_id, t.token, t.email, m.id, now() + interval '1 day'
                FROM m, (VALUES ('a', 'bob@example.com'), ('b', NULL)) AS t(token, email)
                """, logger: TestDatabase.logger)
            _ = try await Migrator(migrations: all).migrate(client: client, logger: TestDatabase.logger)
        }
        #expect(try await database.scalarInt("SELECT count(*)::int8 FROM invites WHERE token = 'a' AND kind = 'email'") == 1)
        #expect(try await database.scalarInt("SELECT count(*)::int8 FROM invites WHERE token = 'b' AND kind = 'link'") == 1)
    }
}
