import Foundation
import Testing

@testable import Facade

@Suite("Workspaces and membership rules")
struct WorkspaceMembershipTests {
    @Test("creator becomes owner; non-members get 403")
    func ownerAndNonMember() async throws {
        try await withFacade { api, _ in
            let owner = try await api.signUp()
            let stranger = try await api.signUp()
            let workspace = try await api.createWorkspace(owner, timeZone: "Europe/Paris")

            let got = try await api.call(.get, "/v1/workspaces/\(workspace.id)", token: owner.token)
            #expect(got.status == .ok)
            #expect((got["my_member"] as? [String: Any])?["role"] as? String == "owner")
            #expect(got.string("time_zone") == "Europe/Paris")

            #expect(try await api.call(.get, "/v1/workspaces/\(workspace.id)", token: stranger.token).status == .forbidden)
            #expect(try await api.call(.get, "/v1/workspaces/\(workspace.id)/feed", token: stranger.token).status == .forbidden)
            #expect(try await api.call(.get, "/v1/workspaces/\(UUID())", token: stranger.token).status == .notFound)

            let badZone = try await api.call(.post, "/v1/workspaces", token: owner.token, json: ["name": "X", "time_zone": "Mars/Base"])
            #expect(badZone.status == .unprocessableContent)

            let mine = try await api.call(.get, "/v1/workspaces", token: owner.token)
            #expect(mine.items.count == 1)
            #expect(try await api.call(.get, "/v1/workspaces", token: stranger.token).items.isEmpty)
        }
    }

    @Test("members cannot remove others; owners can; removed members lose access")
    func removal() async throws {
        try await withFacade { api, database in
            let owner = try await api.signUp()
            let alice = try await api.signUp()
            let bob = try await api.signUp()
            let workspace = try await api.createWorkspace(owner)
            let aliceMember = try await api.join(workspace, inviter: owner, joiner: alice)
            let bobMember = try await api.join(workspace, inviter: owner, joiner: bob)

            let members = try await api.call(.get, "/v1/workspaces/\(workspace.id)/members", token: alice.token)
            #expect(members.items.count == 3)

            let denied = try await api.call(.delete, "/v1/workspaces/\(workspace.id)/members/\(bobMember)", token: alice.token)
            #expect(denied.status == .forbidden)
            let promote = try await api.call(
                .patch, "/v1/workspaces/\(workspace.id)/members/\(aliceMember)", token: alice.token, json: ["role": "admin"])
            #expect(promote.status == .forbidden)

            let removed = try await api.call(.delete, "/v1/workspaces/\(workspace.id)/members/\(bobMember)", token: owner.token)
            #expect(removed.status == .noContent)
            #expect(try await api.call(.get, "/v1/workspaces/\(workspace.id)", token: bob.token).status == .forbidden)
            #expect(try await database.scalarInt(
                "SELECT count(*)::int8 FROM outbox WHERE payload->>'type' = 'member.left'") == 1)

            // The owner makes Alice admin; an admin still cannot remove the owner.
            let madeAdmin = try await api.call(
                .patch, "/v1/workspaces/\(workspace.id)/members/\(aliceMember)", token: owner.token, json: ["role": "admin"])
            #expect(madeAdmin.status == .ok)
            #expect(madeAdmin.string("role") == "admin")
            let removeOwner = try await api.call(
                .delete, "/v1/workspaces/\(workspace.id)/members/\(workspace.ownerMemberID)", token: alice.token)
            #expect(removeOwner.status == .forbidden)

            // The last owner cannot leave.
            let ownerLeaves = try await api.call(
                .delete, "/v1/workspaces/\(workspace.id)/members/\(workspace.ownerMemberID)", token: owner.token)
            #expect(ownerLeaves.status == .conflict)

            // A member may leave by themselves.
            #expect(try await api.call(
                .delete, "/v1/workspaces/\(workspace.id)/members/\(aliceMember)", token: alice.token).status == .noContent)
        }
    }

    @Test("invites are single use and expire")
    func invites() async throws {
        let clock = TestClock()
        try await withFacade(clock: clock) { api, _ in
            let owner = try await api.signUp()
            let alice = try await api.signUp()
            let bob = try await api.signUp()
            let workspace = try await api.createWorkspace(owner)

            let invite = try await api.call(.post, "/v1/workspaces/\(workspace.id)/invites", token: owner.token, json: ["expires_in_hours": 1])
            let token = try #require(invite.string("token"))
            #expect(try await api.call(.post, "/v1/invites/\(token)/accept", token: alice.token).status == .ok)
            let reused = try await api.call(.post, "/v1/invites/\(token)/accept", token: bob.token)
            #expect(reused.status == .conflict)
            #expect(reused.errorCode == "invite_used")

            // Members (not admins) cannot invite.
            #expect(try await api.call(.post, "/v1/workspaces/\(workspace.id)/invites", token: alice.token, json: [:]).status == .forbidden)

            let second = try await api.call(.post, "/v1/workspaces/\(workspace.id)/invites", token: owner.token, json: ["expires_in_hours": 1])
            clock.set(clock.now.addingTimeInterval(2 * 3600))
            let expired = try await api.call(.post, "/v1/invites/\(second.string("token") ?? "")/accept", token: bob.token)
            #expect(expired.status == .gone)
            #expect(expired.errorCode == "invite_expired")

            #expect(try await api.call(.post, "/v1/invites/nope/accept", token: bob.token).status == .notFound)
            #expect(try await api.call(.post, "/v1/invites/\(token)/accept").status == .unauthorized)
        }
    }
}
