import Foundation
import PostgresNIO
import Testing

@testable import Facade

/// ``CommentUseCases`` against a real PostgreSQL, without HTTP.
@Suite("Comment use cases")
struct CommentUseCaseTests {
    @Test("a comment announces comment.created, notifies the post's author (comment) and whom it mentions (mention), in order")
    func create() async throws {
        try await UseCaseTeam.with { team in
            let alan = try await team.newMember("alan@example.com", displayName: "Alan Turing")
            let postID = try await team.checkin(by: team.owner)
            let outboxBefore = try await team.outbox().count

            // Ada, the post's author, is named too: her `comment` notification already tells her.
            let json = try await team.comments.create(
                as: team.grace, in: team.workspaceID, postID: postID, body: "Nice, @alan.turing and @AdaLovelace!",
                mentions: [])
            #expect(try UseCaseTeam.field(json, "author", "id") == team.graceMember.text)
            #expect(try UseCaseTeam.field(json, "post_id") == postID.text)

            #expect(Array(try await team.outbox().dropFirst(outboxBefore)) == [
                "publish comment.created \(Channel.workspace(team.workspaceID))",
                "publish notification.created \(Channel.personal(userID: team.owner))",
                "publish notification.created \(Channel.personal(userID: alan.user))",
            ])
            #expect(Set(try await team.notifications()) == ["\(team.ownerMember.text) comment", "\(alan.member.text) mention"])
        }
    }

    @Test("commenting on one's own post notifies nobody; a member named by id and by @name is notified once")
    func ownPost() async throws {
        try await UseCaseTeam.with { team in
            let postID = try await team.checkin(by: team.grace)
            _ = try await team.comments.create(
                as: team.grace, in: team.workspaceID, postID: postID, body: "cc @gracehopper @adalovelace",
                mentions: [team.ownerMember])
            #expect(try await team.notifications() == ["\(team.ownerMember.text) mention"])
        }
    }

    @Test("a comment naming a non-member in mentions is refused whole: the comment and its outbox rows roll back together")
    func oneTransaction() async throws {
        try await UseCaseTeam.with { team in
            let postID = try await team.checkin(by: team.owner)
            let outboxBefore = try await team.outbox()
            let stranger = UUID()
            // The comment, its event and the author's notification are written before the mentions are checked.
            await #expect(throws: APIError.validation(
                field: "mentions", .invalidValue, "Mentioned member \(stranger.text) is not in this workspace."))
            {
                try await team.comments.create(
                    as: team.grace, in: team.workspaceID, postID: postID, body: "Nice", mentions: [stranger])
            }
            #expect(try await team.outbox() == outboxBefore)
            #expect(try await team.notifications().isEmpty)
            #expect(try await team.database.scalarInt("SELECT count(*)::int8 FROM comments") == 0)
        }
    }

    @Test("an outsider is refused (403 not_a_member), as is a member who left; an unknown workspace or post is 404; nothing is written")
    func refused() async throws {
        try await UseCaseTeam.with { team in
            let postID = try await team.checkin(by: team.owner)
            try await team.members.remove(as: team.grace, in: team.workspaceID, memberID: team.graceMember)
            let outboxBefore = try await team.outbox()

            #expect(APIError.notAMember.status == .forbidden)
            await #expect(throws: APIError.notAMember) {
                try await team.comments.create(as: team.outsider, in: team.workspaceID, postID: postID, body: "Hi", mentions: [])
            }
            await #expect(throws: APIError.notAMember) {
                try await team.comments.create(as: team.grace, in: team.workspaceID, postID: postID, body: "Hi", mentions: [])
            }
            await #expect(throws: APIError.notAMember) {
                try await team.comments.list(as: team.outsider, in: team.workspaceID, postID: postID, page: .first(limit: 20))
            }
            await #expect(throws: APIError.notFound("Workspace")) {
                try await team.comments.create(as: team.owner, in: UUID(), postID: postID, body: "Hi", mentions: [])
            }
            await #expect(throws: APIError.notFound("Post")) {
                try await team.comments.create(as: team.owner, in: team.workspaceID, postID: UUID(), body: "Hi", mentions: [])
            }
            #expect(try await team.outbox() == outboxBefore)
            #expect(try await team.database.scalarInt("SELECT count(*)::int8 FROM comments") == 0)
        }
    }
}
