import Foundation
import Testing

@testable import Facade

/// `@name` mentions in posts and comments, against a real PostgreSQL: who gets a `mention` notification, and
/// its `notification.created` event on the personal channel.
@Suite("Mentions")
struct MentionTests {
    struct Team {
        let owner: API.Session
        let grace: API.Session
        let alan: API.Session
        let workspace: API.Workspace
        let graceMember: String
        let alanMember: String
        var base: String { "/v1/workspaces/\(workspace.id)" }
    }

    /// Owner "Ada Lovelace", members "Grace Hopper" and "Alan Turing".
    static func team(_ api: API) async throws -> Team {
        let owner = try await api.signUp()
        let grace = try await api.signUp()
        let alan = try await api.signUp()
        let workspace = try await api.createWorkspace(owner)
        let graceMember = try await api.join(workspace, inviter: owner, joiner: grace)
        let alanMember = try await api.join(workspace, inviter: owner, joiner: alan)
        let base = "/v1/workspaces/\(workspace.id)/members"
        for (session, member, name) in [
            (owner, workspace.ownerMemberID, "Ada Lovelace"), (grace, graceMember, "Grace Hopper"), (alan, alanMember, "Alan Turing"),
        ] {
            let reply = try await api.call(.patch, "\(base)/\(member)", token: session.token, json: ["display_name": name])
            #expect(reply.status == .ok, "\(reply.raw)")
        }
        return Team(
            owner: owner, grace: grace, alan: alan, workspace: workspace, graceMember: graceMember, alanMember: alanMember)
    }

    /// The `mention` notifications of `session`, newest first, as the ids of what mentioned them.
    static func mentions(_ api: API, _ session: API.Session) async throws -> [String] {
        let reply = try await api.call(.get, "/v1/notifications", token: session.token)
        #expect(reply.status == .ok, "\(reply.raw)")
        return reply.items.filter { $0["kind"] as? String == "mention" }.compactMap { item in
            let payload = item["payload"] as? [String: Any]
            return ((payload?["post"] ?? payload?["comment"]) as? [String: Any])?["id"] as? String
        }
    }

    @Test("@name in a post notifies each named member once (any spelling of the handle), never the author; the event goes to the member's personal channel")
    func postMentions() async throws {
        try await withFacade { api, database in
            let team = try await Self.team(api)
            let post = try await api.call(
                .post, "\(team.base)/posts", token: team.owner.token,
                json: ["kind": "checkin", "body": "Pairing with @GraceHopper and @grace.hopper today; @ada-lovelace writes notes. cc @alan_turing."])
            #expect(post.status == .created, "\(post.raw)")
            let postID = try #require(post.string("id"))
            #expect(try await Self.mentions(api, team.grace) == [postID])
            #expect(try await Self.mentions(api, team.alan) == [postID])
            #expect(try await Self.mentions(api, team.owner) == [])
            let events = try await database.scalarInt(
                """
                SELECT count(*)::int8 FROM outbox
                WHERE channel = 'personal:#' || \(team.grace.userID)::text
                  AND payload->>'type' = 'notification.created' AND payload->'data'->>'kind' = 'mention'
                  AND payload->'data'->'payload'->'post'->>'id' = \(postID)
                """)
            #expect(events == 1)
        }
    }

    @Test("a name of nobody, an email address, a member who left or a member of another workspace is not notified, and the post is still created")
    func onlyActiveMembersOfTheWorkspace() async throws {
        try await withFacade { api, _ in
            let team = try await Self.team(api)
            let outsider = try await api.signUp()
            let elsewhere = try await api.createWorkspace(outsider)
            let outsiderMember = elsewhere.ownerMemberID
            #expect(try await api.call(
                .patch, "/v1/workspaces/\(elsewhere.id)/members/\(outsiderMember)", token: outsider.token,
                json: ["display_name": "Linus"]).status == .ok)
            #expect(try await api.call(.delete, "\(team.base)/members/\(team.alanMember)", token: team.alan.token).status == .noContent)
            let post = try await api.call(
                .post, "\(team.base)/posts", token: team.owner.token,
                json: ["kind": "checkin", "body": "@nobody @linus @alanturing mail gracehopper@example.com"])
            #expect(post.status == .created, "\(post.raw)")
            #expect(try await Self.mentions(api, team.grace) == [])
            #expect(try await Self.mentions(api, outsider) == [])
            #expect(try await Self.mentions(api, team.alan) == [])
        }
    }

    @Test("a member named by id and by @name is notified once; an id outside the workspace is still 422 on mentions")
    func idsAndNames() async throws {
        try await withFacade { api, _ in
            let team = try await Self.team(api)
            let post = try await api.call(
                .post, "\(team.base)/posts", token: team.owner.token,
                json: ["kind": "checkin", "body": "@gracehopper", "mentions": [team.graceMember]])
            #expect(post.status == .created, "\(post.raw)")
            #expect(try await Self.mentions(api, team.grace).count == 1)
            let stranger = UUID().uuidString.lowercased()
            let refused = try await api.call(
                .post, "\(team.base)/posts", token: team.grace.token,
                json: ["kind": "checkin", "body": "@alanturing", "mentions": [stranger]])
            #expect(refused.status == .unprocessableContent)
            #expect(refused.errorFields == ["mentions invalid_value"])
            #expect(try await Self.mentions(api, team.alan) == [])  // nothing of the refused post was written
        }
    }

    @Test("@name in a comment notifies the named member; the post's author gets the comment notification, not a mention too")
    func commentMentions() async throws {
        try await withFacade { api, _ in
            let team = try await Self.team(api)
            let post = try await api.call(.post, "\(team.base)/posts", token: team.owner.token, json: ["kind": "checkin", "body": "Plan"])
            let postID = try #require(post.string("id"))
            let comment = try await api.call(
                .post, "\(team.base)/posts/\(postID)/comments", token: team.grace.token,
                json: ["body": "@adalovelace @alanturing can you review? (me: @gracehopper)"])
            #expect(comment.status == .created, "\(comment.raw)")
            let commentID = try #require(comment.string("id"))
            #expect(try await Self.mentions(api, team.alan) == [commentID])
            #expect(try await Self.mentions(api, team.owner) == [])
            #expect(try await Self.mentions(api, team.grace) == [])
            let ownerKinds = try await api.call(.get, "/v1/notifications", token: team.owner.token).items
                .compactMap { $0["kind"] as? String }.filter { $0 != "invite_accepted" }
            #expect(ownerKinds == ["comment"])
        }
    }

    @Test("editing a post notifies the members the edit newly names, not those already named")
    func editAddsMentions() async throws {
        try await withFacade { api, _ in
            let team = try await Self.team(api)
            let post = try await api.call(
                .post, "\(team.base)/posts", token: team.owner.token, json: ["kind": "checkin", "body": "With @gracehopper"])
            let postID = try #require(post.string("id"))
            let edited = try await api.call(
                .patch, "\(team.base)/posts/\(postID)", token: team.owner.token, json: ["body": "With @GraceHopper and @alanturing"])
            #expect(edited.status == .ok, "\(edited.raw)")
            #expect(try await Self.mentions(api, team.grace) == [postID])
            #expect(try await Self.mentions(api, team.alan) == [postID])
        }
    }

    @Test("members whose display names give the same handle are each notified")
    func sharedHandle() async throws {
        try await withFacade { api, _ in
            let team = try await Self.team(api)
            #expect(try await api.call(
                .patch, "\(team.base)/members/\(team.alanMember)", token: team.alan.token,
                json: ["display_name": "grace-hopper"]).status == .ok)
            let post = try await api.call(
                .post, "\(team.base)/posts", token: team.owner.token, json: ["kind": "checkin", "body": "@gracehopper"])
            let postID = try #require(post.string("id"))
            #expect(try await Self.mentions(api, team.grace) == [postID])
            #expect(try await Self.mentions(api, team.alan) == [postID])
        }
    }
}
