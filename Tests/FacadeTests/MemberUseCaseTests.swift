import Foundation
import PostgresNIO
import Testing

@testable import Facade

/// ``MemberUseCases`` against a real PostgreSQL, without HTTP: removal and its revocation.
@Suite("Member use cases")
struct MemberUseCaseTests {
    @Test("removing a member marks them left and writes member.left, then the unsubscribe of their user from the workspace channel")
    func removal() async throws {
        try await UseCaseTeam.with { team in
            let outboxBefore = try await team.outbox().count
            try await team.members.remove(as: team.owner, in: team.workspaceID, memberID: team.graceMember)

            let channel = Channel.workspace(team.workspaceID)
            #expect(Array(try await team.outbox().dropFirst(outboxBefore)) == [
                "publish member.left \(channel)",
                "unsubscribe \(channel) \(team.grace.text)",
            ])
            #expect(try await team.database.scalarInt(
                "SELECT count(*)::int8 FROM members WHERE id = \(team.graceMember) AND status = 'left'") == 1)
            await #expect(throws: APIError.notAMember) {
                try await team.members.list(as: team.grace, in: team.workspaceID, page: .first(limit: 20))
            }
        }
    }

    @Test("an admin cannot remove an owner, a member cannot remove another, the last owner cannot leave; refused removals write nothing")
    func refusedRemovals() async throws {
        try await UseCaseTeam.with { team in
            let alan = try await team.newMember("alan@example.com", displayName: "Alan Turing")
            _ = try await team.members.update(
                as: team.owner, in: team.workspaceID, memberID: team.graceMember, role: "admin", displayName: nil)
            let outboxBefore = try await team.outbox()

            await #expect(throws: APIError.forbidden("An admin cannot remove an owner.", code: "not_allowed")) {
                try await team.members.remove(as: team.grace, in: team.workspaceID, memberID: team.ownerMember)
            }
            await #expect(throws: APIError.forbidden("Only the workspace owner or an admin may do this.", code: "not_allowed")) {
                try await team.members.remove(as: alan.user, in: team.workspaceID, memberID: team.graceMember)
            }
            await #expect(throws: APIError.conflict("last_owner", "A workspace must keep at least one owner.")) {
                try await team.members.remove(as: team.owner, in: team.workspaceID, memberID: team.ownerMember)
            }
            await #expect(throws: APIError.notAMember) {
                try await team.members.remove(as: team.outsider, in: team.workspaceID, memberID: team.graceMember)
            }
            await #expect(throws: APIError.notFound("Member")) {
                try await team.members.remove(as: team.owner, in: team.workspaceID, memberID: UUID())
            }
            #expect(try await team.outbox() == outboxBefore)
        }
    }

    @Test("an admin removes a member; the member is unsubscribed even though someone else removed them")
    func adminRemoves() async throws {
        try await UseCaseTeam.with { team in
            let alan = try await team.newMember("alan@example.com", displayName: "Alan Turing")
            _ = try await team.members.update(
                as: team.owner, in: team.workspaceID, memberID: team.graceMember, role: "admin", displayName: nil)
            try await team.members.remove(as: team.grace, in: team.workspaceID, memberID: alan.member)
            #expect(try await team.outbox().last
                == "unsubscribe \(Channel.workspace(team.workspaceID)) \(alan.user.text)")
        }
    }
}
