import Foundation
import PostgresNIO
import Testing

@testable import Facade

/// ``TodoUseCases`` against a real PostgreSQL, without HTTP: the rules of creating and updating a todo.
@Suite("Todo use cases")
struct TodoUseCaseTests {
    @Test("a new todo is assigned to its creator unless told otherwise, and announced as todo.created")
    func create() async throws {
        try await UseCaseTeam.with { team in
            let outboxBefore = try await team.outbox().count
            let mine = try await team.todos.create(as: team.grace, in: team.workspaceID, .init(title: "  Ship it  "))
            #expect(try UseCaseTeam.field(mine, "assignee_member_id") == team.graceMember.text)
            #expect(try UseCaseTeam.field(mine, "created_by_member_id") == team.graceMember.text)
            #expect(try UseCaseTeam.field(mine, "title") == "Ship it")

            let postID = try await team.checkin(by: team.owner)
            let theirs = try await team.todos.create(as: team.grace, in: team.workspaceID, .init(
                title: "Review", assignee: team.ownerMember, dueDate: "2026-12-01", postID: postID))
            #expect(try UseCaseTeam.field(theirs, "assignee_member_id") == team.ownerMember.text)
            #expect(try UseCaseTeam.field(theirs, "due_date") == "2026-12-01")

            let events = Array(try await team.outbox().dropFirst(outboxBefore)).filter { !$0.contains("post.created") }
            #expect(events == Array(repeating: "publish todo.created \(Channel.workspace(team.workspaceID))", count: 2))
        }
    }

    @Test("every invalid field is reported at once (title, due date, an assignee who left, a post of another workspace) and nothing is written")
    func invalid() async throws {
        try await UseCaseTeam.with { team in
            let alan = try await team.newMember("alan@example.com", displayName: "Alan Turing")
            try await team.members.remove(as: alan.user, in: team.workspaceID, memberID: alan.member)
            let elsewhere = try await WorkspaceUseCases(db: team.db).create(
                by: team.outsider, name: "Elsewhere", timeZone: "UTC", displayName: nil)
            let elsewhereID = try #require(UUID(uuidString: try UseCaseTeam.field(elsewhere, "id")))
            let foreignPost = try await team.posts.create(
                as: team.outsider, in: elsewhereID, kind: "checkin", body: "Not yours", mentions: [])
            let foreignPostID = try #require(UUID(uuidString: try UseCaseTeam.field(foreignPost, "id")))
            let outboxBefore = try await team.outbox()

            let error = await #expect(throws: APIError.self) {
                try await team.todos.create(as: team.grace, in: team.workspaceID, .init(
                    title: " ", assignee: alan.member, dueDate: "2026-02-30", postID: foreignPostID))
            }
            #expect(error?.status == .unprocessableContent)
            #expect(error?.fields.map(\.field) == ["title", "due_date", "assignee_member_id", "post_id"])
            #expect(try await team.outbox() == outboxBefore)
            #expect(try await team.database.scalarInt("SELECT count(*)::int8 FROM todos") == 0)
        }
    }

    @Test("any member updates a todo (only the fields given), announced as todo.updated; the same rules hold; an unknown todo is 404")
    func update() async throws {
        try await UseCaseTeam.with { team in
            let todo = try await team.todos.create(as: team.owner, in: team.workspaceID, .init(title: "Write", dueDate: "2026-12-01"))
            let todoID = try #require(UUID(uuidString: try UseCaseTeam.field(todo, "id")))
            let outboxBefore = try await team.outbox().count

            let done = try await team.todos.update(as: team.grace, in: team.workspaceID, todoID: todoID, .init(
                assignee: team.graceMember, done: true))
            #expect(try UseCaseTeam.field(done, "title") == "Write")
            #expect(try UseCaseTeam.field(done, "due_date") == "2026-12-01")
            #expect(try UseCaseTeam.field(done, "assignee_member_id") == team.graceMember.text)
            #expect(try await team.outbox().dropFirst(outboxBefore) == ["publish todo.updated \(Channel.workspace(team.workspaceID))"])

            await #expect(throws: APIError.validation(field: "due_date", .invalidFormat, "Must be a date formatted YYYY-MM-DD.")) {
                try await team.todos.update(as: team.grace, in: team.workspaceID, todoID: todoID, .init(dueDate: "tomorrow"))
            }
            await #expect(throws: APIError.notFound("Todo")) {
                try await team.todos.update(as: team.grace, in: team.workspaceID, todoID: UUID(), .init(done: true))
            }
            await #expect(throws: APIError.notAMember) {
                try await team.todos.update(as: team.outsider, in: team.workspaceID, todoID: todoID, .init(done: false))
            }
            #expect(try await team.outbox().count == outboxBefore + 1)
        }
    }
}
