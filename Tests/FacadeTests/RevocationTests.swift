import Foundation
import PostgresNIO
import Testing

@testable import Facade

/// Losing access to a workspace ends the realtime subscription too: the transaction that removes the member (or
/// deletes the workspace) writes a broker `unsubscribe` outbox row after the event that announces it.
@Suite("Revocation in real time")
struct RevocationTests {
    /// The outbox, in id order, as `publish <type> <channel>` / `unsubscribe <channel> <user id>`.
    static func outbox(_ database: TestDatabase) async throws -> [String] {
        try await database.withClient { client in
            var rows: [String] = []
            let query: PostgresQuery = """
                SELECT kind, channel, coalesce(payload->>'type', ''), coalesce(user_id::text, '') FROM outbox ORDER BY id
                """
            for try await (kind, channel, type, user) in try await client.query(query, logger: TestDatabase.logger)
                .decode((String, String, String, String).self)
            {
                rows.append(kind == "publish" ? "publish \(type) \(channel)" : "\(kind) \(channel) \(user)")
            }
            return rows
        }
    }

    @Test("removing a member: member.left, then an unsubscribe of that user from the workspace channel")
    func removal() async throws {
        try await withFacade { api, database in
            let owner = try await api.signUp()
            let bob = try await api.signUp()
            let workspace = try await api.createWorkspace(owner)
            let bobMember = try await api.join(workspace, inviter: owner, joiner: bob)
            let channel = "workspace:\(workspace.id)"

            #expect(try await api.call(.delete, "/v1/workspaces/\(workspace.id)/members/\(bobMember)", token: owner.token)
                .status == .noContent)
            let rows = try await Self.outbox(database)
            #expect(Array(rows.suffix(2)) == ["publish member.left \(channel)", "unsubscribe \(channel) \(bob.userID)"])
            #expect(rows.filter { $0.hasPrefix("unsubscribe") }.count == 1)
        }
    }

    @Test("a member leaving by themselves is unsubscribed as well")
    func leaving() async throws {
        try await withFacade { api, database in
            let owner = try await api.signUp()
            let bob = try await api.signUp()
            let workspace = try await api.createWorkspace(owner)
            let bobMember = try await api.join(workspace, inviter: owner, joiner: bob)
            #expect(try await api.call(.delete, "/v1/workspaces/\(workspace.id)/members/\(bobMember)", token: bob.token)
                .status == .noContent)
            #expect(try await Self.outbox(database).last == "unsubscribe workspace:\(workspace.id) \(bob.userID)")
        }
    }

    @Test("a refused removal writes nothing (the unsubscribe is in the same transaction)")
    func refusedRemoval() async throws {
        try await withFacade { api, database in
            let owner = try await api.signUp()
            let alice = try await api.signUp()
            let workspace = try await api.createWorkspace(owner)
            _ = try await api.join(workspace, inviter: owner, joiner: alice)
            let before = try await Self.outbox(database)
            // The last owner cannot leave: 409, and no row at all.
            let refused = try await api.call(
                .delete, "/v1/workspaces/\(workspace.id)/members/\(workspace.ownerMemberID)", token: owner.token)
            #expect(refused.status == .conflict)
            #expect(try await Self.outbox(database) == before)
        }
    }

    @Test("deleting a workspace: workspace.deleted, then an unsubscribe per active member")
    func workspaceDeleted() async throws {
        try await withFacade { api, database in
            let owner = try await api.signUp()
            let alice = try await api.signUp()
            let bob = try await api.signUp()
            let workspace = try await api.createWorkspace(owner)
            _ = try await api.join(workspace, inviter: owner, joiner: alice)
            let bobMember = try await api.join(workspace, inviter: owner, joiner: bob)
            #expect(try await api.call(.delete, "/v1/workspaces/\(workspace.id)/members/\(bobMember)", token: owner.token)
                .status == .noContent)
            let channel = "workspace:\(workspace.id)"
            let before = try await Self.outbox(database).count

            #expect(try await api.call(.delete, "/v1/workspaces/\(workspace.id)", token: owner.token).status == .noContent)
            let rows = Array(try await Self.outbox(database).dropFirst(before))
            // Bob had already left (and was unsubscribed then): the owner and Alice, in joining order.
            #expect(rows == [
                "publish workspace.deleted \(channel)",
                "unsubscribe \(channel) \(owner.userID)",
                "unsubscribe \(channel) \(alice.userID)",
            ])
        }
    }

    @Test("the relay sends the unsubscribe to the broker after the member.left publication")
    func relayed() async throws {
        let broker = FakeBroker()
        try await broker.run { brokerURL in
            try await withFacade(configure: { configuration in
                configuration.runRelay = true
                configuration.brokerAPIURL = brokerURL
                configuration.relayOptions = OutboxTests.fastOptions()
            }) { api, database in
                let owner = try await api.signUp()
                let bob = try await api.signUp()
                let workspace = try await api.createWorkspace(owner)
                let bobMember = try await api.join(workspace, inviter: owner, joiner: bob)
                #expect(try await api.call(.delete, "/v1/workspaces/\(workspace.id)/members/\(bobMember)", token: owner.token)
                    .status == .noContent)
                try await OutboxTests.waitUntil { !broker.unsubscribes.isEmpty }
                let channel = "workspace:\(workspace.id)"
                #expect(broker.commands.suffix(2) == ["publish \(channel) member.left", "unsubscribe \(channel) \(bob.userID)"])
                #expect(try await database.scalarInt(
                    "SELECT count(*)::int8 FROM outbox WHERE kind = 'unsubscribe' AND sent_at IS NOT NULL") == 1)
            }
        }
    }

    @Test("subscription tokens are short-lived (configurable), and a removed member cannot renew one")
    func shortLivedTokens() async throws {
        try await withFacade(configure: { $0.subscriptionTokenLifetime = 42 }) { api, _ in
            let owner = try await api.signUp()
            let bob = try await api.signUp()
            let workspace = try await api.createWorkspace(owner)
            let bobMember = try await api.join(workspace, inviter: owner, joiner: bob)
            let path = "/v1/realtime/subscription-token?channel=workspace:\(workspace.id)"

            let token = try await api.call(.get, path, token: bob.token)
            #expect(token.status == .ok)
            #expect(token["expires_in"] as? Int == 42)
            let connection = try await api.call(.get, "/v1/realtime/token", token: bob.token)
            #expect(connection["expires_in"] as? Int == 3600)

            #expect(try await api.call(.delete, "/v1/workspaces/\(workspace.id)/members/\(bobMember)", token: owner.token)
                .status == .noContent)
            // What the SDK's get_token asks before the token expires: refused, so the subscription ends.
            let renewal = try await api.call(.get, path, token: bob.token)
            #expect(renewal.status == .forbidden)
            #expect(renewal.errorCode == "not_a_member")
        }
    }
}
