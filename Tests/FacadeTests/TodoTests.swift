import Foundation
import Testing

@testable import Facade

@Suite("Todos and comment reactions")
struct TodoTests {
    @Test("todo CRUD with assignee, due date, post link and filters")
    func todoCRUD() async throws {
        try await withFacade { api, database in
            let owner = try await api.signUp()
            let alice = try await api.signUp()
            let stranger = try await api.signUp()
            let workspace = try await api.createWorkspace(owner)
            let aliceMember = try await api.join(workspace, inviter: owner, joiner: alice)
            let base = "/v1/workspaces/\(workspace.id)/todos"
            let post = try await api.call(.post, "/v1/workspaces/\(workspace.id)/posts", token: owner.token, json: ["kind": "checkin", "body": "x"])

            let created = try await api.call(.post, base, token: owner.token, json: [
                "title": "Write the report", "assignee_member_id": aliceMember, "due_date": "2026-12-01",
                "post_id": post.string("id") ?? "",
            ])
            #expect(created.status == .created, "\(created.raw)")
            #expect(created.string("due_date") == "2026-12-01")
            #expect(created["done"] as? Bool == false)
            let todoID = try #require(created.string("id"))

            let mine = try await api.call(.post, base, token: owner.token, json: ["title": "Mine"])
            #expect(mine.string("assignee_member_id") == workspace.ownerMemberID)

            let invalid = try await api.call(.post, base, token: owner.token, json: ["title": "", "due_date": "2026-02-30", "assignee_member_id": UUID().uuidString])
            #expect(invalid.status == .unprocessableContent)
            let fields = ((invalid["error"] as? [String: Any])?["fields"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }
            #expect(Set(fields) == ["title", "due_date", "assignee_member_id"])

            let done = try await api.call(.patch, "\(base)/\(todoID)", token: alice.token, json: ["done": true])
            #expect(done["done"] as? Bool == true)
            #expect(done.string("title") == "Write the report")

            let aliceTodos = try await api.call(.get, "\(base)?assignee=me", token: alice.token)
            #expect(aliceTodos.items.map { $0["id"] as? String } == [todoID])
            let open = try await api.call(.get, "\(base)?done=false", token: owner.token)
            #expect(open.items.map { $0["title"] as? String } == ["Mine"])
            #expect(try await api.call(.get, "\(base)/\(todoID)", token: stranger.token).status == .forbidden)

            #expect(try await api.call(.delete, "\(base)/\(todoID)", token: owner.token).status == .noContent)
            #expect(try await api.call(.get, "\(base)/\(todoID)", token: owner.token).status == .notFound)
            let events = try await database.scalarInt(
                "SELECT count(*)::int8 FROM outbox WHERE payload->>'type' IN ('todo.created', 'todo.updated', 'todo.deleted')")
            #expect(events == 4)
        }
    }

    @Test("reactions on comments are unique per member and emoji")
    func commentReactions() async throws {
        try await withFacade { api, _ in
            let owner = try await api.signUp()
            let workspace = try await api.createWorkspace(owner)
            let base = "/v1/workspaces/\(workspace.id)"
            let post = try await api.call(.post, "\(base)/posts", token: owner.token, json: ["kind": "checkin", "body": "x"])
            let comment = try await api.call(.post, "\(base)/posts/\(post.string("id") ?? "")/comments", token: owner.token, json: ["body": "c"])
            let reactions = "\(base)/comments/\(comment.string("id") ?? "")/reactions"
            let added = try await api.call(.post, reactions, token: owner.token, json: ["emoji": "🔥"])
            #expect(added.status == .created)
            #expect(added.string("comment_id") == comment.string("id"))
            #expect(try await api.call(.post, reactions, token: owner.token, json: ["emoji": "🔥"]).status == .conflict)
            #expect(try await api.call(.post, "\(base)/comments/\(UUID())/reactions", token: owner.token, json: ["emoji": "🔥"]).status == .notFound)
        }
    }
}
