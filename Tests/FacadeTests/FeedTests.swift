import Foundation
import Testing

@testable import Facade

@Suite("Feed, comments and reactions")
struct FeedTests {
    @Test("reaction uniqueness")
    func reactionUniqueness() async throws {
        try await withFacade { api, _ in
            let owner = try await api.signUp()
            let workspace = try await api.createWorkspace(owner)
            let post = try await api.call(.post, "/v1/workspaces/\(workspace.id)/posts", token: owner.token, json: ["kind": "checkin", "body": "hi"])
            let reactions = "/v1/workspaces/\(workspace.id)/posts/\(post.string("id") ?? "")/reactions"
            #expect(try await api.call(.post, reactions, token: owner.token, json: ["emoji": "👍"]).status == .created)
            let duplicate = try await api.call(.post, reactions, token: owner.token, json: ["emoji": "👍"])
            #expect(duplicate.status == .conflict)
            #expect(duplicate.errorCode == "duplicate_reaction")
            #expect(try await api.call(.post, reactions, token: owner.token, json: ["emoji": "🎉"]).status == .created)

            let encoded = "👍".addingPercentEncoding(withAllowedCharacters: .urlPathAllowed)!
            #expect(try await api.call(.delete, "\(reactions)/\(encoded)", token: owner.token).status == .noContent)
            #expect(try await api.call(.delete, "\(reactions)/\(encoded)", token: owner.token).status == .notFound)
            #expect(try await api.call(.post, reactions, token: owner.token, json: ["emoji": "👍"]).status == .created)
        }
    }

    @Test("feed shows author, reaction counts, my reactions, comment count, latest 3 comments; paginated")
    func feedContents() async throws {
        let clock = TestClock(TestClock.instant("2026-05-04T08:00:00Z"))
        try await withFacade(clock: clock) { api, database in
            let owner = try await api.signUp()
            let bob = try await api.signUp()
            let workspace = try await api.createWorkspace(owner)
            let bobMember = try await api.join(workspace, inviter: owner, joiner: bob)
            let base = "/v1/workspaces/\(workspace.id)"

            let first = try await api.call(.post, "\(base)/posts", token: owner.token, json: ["kind": "checkin", "body": "owner plan"])
            let firstID = try #require(first.string("id"))
            clock.set(clock.now.addingTimeInterval(60))
            let second = try await api.call(.post, "\(base)/posts", token: bob.token, json: ["kind": "checkin", "body": "bob plan"])
            let secondID = try #require(second.string("id"))

            for (session, emoji) in [(owner, "👍"), (bob, "👍"), (bob, "🎉")] {
                let reply = try await api.call(.post, "\(base)/posts/\(firstID)/reactions", token: session.token, json: ["emoji": emoji])
                #expect(reply.status == .created)
            }
            for index in 1...5 {
                let author = index.isMultiple(of: 2) ? owner : bob
                let mentions: [String] = index == 1 ? [workspace.ownerMemberID] : []
                let reply = try await api.call(
                    .post, "\(base)/posts/\(firstID)/comments", token: author.token,
                    json: ["body": "comment \(index)", "mentions": mentions])
                #expect(reply.status == .created, "\(reply.raw)")
            }

            let feed = try await api.call(.get, "\(base)/feed", token: owner.token)
            #expect(feed.status == .ok, "\(feed.raw)")
            #expect(feed.items.map { $0["id"] as? String } == [secondID, firstID])
            let item = feed.items[1]
            #expect((item["author"] as? [String: Any])?["id"] as? String == workspace.ownerMemberID)
            let counts = (item["reactions"] as? [[String: Any]] ?? []).map {
                "\($0["emoji"] as? String ?? "")=\($0["count"] as? Int ?? 0):\($0["reacted_by_me"] as? Bool ?? false)"
            }
            #expect(counts == ["👍=2:true", "🎉=1:false"])
            #expect(item["my_reactions"] as? [String] == ["👍"])
            #expect(item["comment_count"] as? Int == 5)
            let latest = (item["latest_comments"] as? [[String: Any]] ?? []).map { $0["body"] as? String ?? "" }
            #expect(latest == ["comment 3", "comment 4", "comment 5"])
            #expect((feed.items[0]["reactions"] as? [Any])?.isEmpty == true)
            #expect(feed["next_cursor"] is NSNull)

            // Bob sees his own view of "reacted by me".
            let bobFeed = try await api.call(.get, "\(base)/feed", token: bob.token)
            #expect(bobFeed.items[1]["my_reactions"] as? [String] == ["🎉", "👍"])

            // Pagination: one post per page.
            let page1 = try await api.call(.get, "\(base)/feed?limit=1", token: owner.token)
            #expect(page1.items.map { $0["id"] as? String } == [secondID])
            let cursor = try #require(page1.string("next_cursor"))
            let page2 = try await api.call(.get, "\(base)/feed?limit=1&cursor=\(cursor)", token: owner.token)
            #expect(page2.items.map { $0["id"] as? String } == [firstID])
            #expect(page2["next_cursor"] is NSNull)
            #expect(try await api.call(.get, "\(base)/feed?cursor=garbage", token: owner.token).status == .badRequest)
            #expect(try await api.call(.get, "\(base)/feed?limit=1000", token: owner.token).status == .unprocessableContent)

            // Comments list is paginated oldest-first.
            let comments1 = try await api.call(.get, "\(base)/posts/\(firstID)/comments?limit=2", token: bob.token)
            #expect(comments1.items.map { $0["body"] as? String } == ["comment 1", "comment 2"])
            let comments2 = try await api.call(
                .get, "\(base)/posts/\(firstID)/comments?limit=10&cursor=\(comments1.string("next_cursor") ?? "")", token: bob.token)
            #expect(comments2.items.count == 3)

            // Notifications: the owner got reaction + comment notifications and one mention... from Bob only.
            let notifications = try await api.call(.get, "/v1/notifications", token: owner.token)
            let kinds = notifications.items.compactMap { $0["kind"] as? String }
            #expect(kinds.filter { $0 == "reaction" }.count == 2)
            #expect(kinds.filter { $0 == "comment" }.count == 3)
            #expect(kinds.filter { $0 == "mention" }.isEmpty)  // the owner was mentioned on their own post: the comment notification covers it
            let notificationID = try #require(notifications.items.first?["id"] as? String)
            let read = try await api.call(.post, "/v1/notifications/\(notificationID)/read", token: owner.token)
            #expect(read["read_at"] is String)
            #expect(try await api.call(.post, "/v1/notifications/\(notificationID)/read", token: bob.token).status == .notFound)
            let unread = try await api.call(.get, "/v1/notifications?unread=true", token: owner.token)
            #expect(unread.items.count == notifications.items.count - 1)
            #expect(try await database.scalarInt(
                "SELECT count(*)::int8 FROM outbox WHERE channel = 'personal:#' || \(owner.userID)::text") == notifications.items.count)
            _ = bobMember
        }
    }
}
