import Foundation
import Testing

@testable import Facade

@Suite("Check-ins and check-outs")
struct PostTests {
    @Test("one check-in per day; check-out requires and links the check-in")
    func oncePerDay() async throws {
        let clock = TestClock(TestClock.instant("2026-03-10T09:00:00Z"))
        try await withFacade(clock: clock) { api, database in
            let owner = try await api.signUp()
            let workspace = try await api.createWorkspace(owner)
            let posts = "/v1/workspaces/\(workspace.id)/posts"

            let early = try await api.call(.post, posts, token: owner.token, json: ["kind": "checkout", "body": "done"])
            #expect(early.status == .unprocessableContent)

            let checkin = try await api.call(.post, posts, token: owner.token, json: ["kind": "checkin", "body": "plan"])
            #expect(checkin.status == .created, "\(checkin.raw)")
            #expect(checkin.string("local_date") == "2026-03-10")

            let twice = try await api.call(.post, posts, token: owner.token, json: ["kind": "checkin", "body": "again"])
            #expect(twice.status == .conflict)
            #expect(twice.errorCode == "already_posted_today")

            let checkout = try await api.call(.post, posts, token: owner.token, json: ["kind": "checkout", "body": "done"])
            #expect(checkout.status == .created)
            #expect(checkout.string("checkin_id") == checkin.string("id"))

            #expect(try await api.call(.post, posts, token: owner.token, json: ["kind": "checkout", "body": "x"]).status == .conflict)
            #expect(try await api.call(.post, posts, token: owner.token, json: ["kind": "lunch", "body": "x"]).status == .unprocessableContent)

            // Only successful posts produced outbox rows.
            #expect(try await database.scalarInt("SELECT count(*)::int8 FROM outbox WHERE payload->>'type' = 'post.created'") == 2)

            clock.set(TestClock.instant("2026-03-11T09:00:00Z"))
            #expect(try await api.call(.post, posts, token: owner.token, json: ["kind": "checkin", "body": "next day"]).status == .created)
        }
    }

    @Test("the day is the workspace's local day")
    func timeZoneBoundary() async throws {
        // 10:59Z is 23:59 on Jan 1 in Auckland (UTC+13); 11:01Z is 00:01 on Jan 2 there, still Jan 1 in UTC.
        let clock = TestClock(TestClock.instant("2026-01-01T10:59:00Z"))
        try await withFacade(clock: clock) { api, _ in
            let owner = try await api.signUp()
            let auckland = try await api.createWorkspace(owner, timeZone: "Pacific/Auckland")
            let utc = try await api.createWorkspace(owner, timeZone: "UTC")

            let a1 = try await api.call(.post, "/v1/workspaces/\(auckland.id)/posts", token: owner.token, json: ["kind": "checkin", "body": "a"])
            #expect(a1.string("local_date") == "2026-01-01")
            let u1 = try await api.call(.post, "/v1/workspaces/\(utc.id)/posts", token: owner.token, json: ["kind": "checkin", "body": "u"])
            #expect(u1.status == .created)

            clock.set(TestClock.instant("2026-01-01T11:01:00Z"))
            let a2 = try await api.call(.post, "/v1/workspaces/\(auckland.id)/posts", token: owner.token, json: ["kind": "checkin", "body": "a2"])
            #expect(a2.status == .created)
            #expect(a2.string("local_date") == "2026-01-02")
            let u2 = try await api.call(.post, "/v1/workspaces/\(utc.id)/posts", token: owner.token, json: ["kind": "checkin", "body": "u2"])
            #expect(u2.status == .conflict)
        }
    }

    @Test("only the author edits; edits are published")
    func editing() async throws {
        try await withFacade { api, database in
            let owner = try await api.signUp()
            let alice = try await api.signUp()
            let workspace = try await api.createWorkspace(owner)
            _ = try await api.join(workspace, inviter: owner, joiner: alice)
            let post = try await api.call(.post, "/v1/workspaces/\(workspace.id)/posts", token: owner.token, json: ["kind": "checkin", "body": "v1"])
            let path = "/v1/workspaces/\(workspace.id)/posts/\(post.string("id") ?? "")"
            #expect(try await api.call(.patch, path, token: alice.token, json: ["body": "hacked"]).status == .forbidden)
            let edited = try await api.call(.patch, path, token: owner.token, json: ["body": "v2"])
            #expect(edited.status == .ok)
            #expect(edited.string("body") == "v2")
            #expect(edited["edited_at"] is String)
            let fetched = try await api.call(.get, path, token: alice.token)
            #expect(fetched.string("body") == "v2")
            #expect(try await database.scalarInt("SELECT count(*)::int8 FROM outbox WHERE payload->>'type' = 'post.updated'") == 1)
        }
    }
}
