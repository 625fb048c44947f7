import Foundation
import Testing

@testable import Facade

/// Every 400 and 422 names each offending field with a stable code; a wrong method is a 405 with `Allow`.
@Suite("One error shape, naming the field")
struct ErrorShapeTests {
    @Test("missing and mistyped body fields are all named, each with its code")
    func bodyFields() async throws {
        try await withFacade { api, _ in
            let session = try await api.signUp()
            let missing = try await api.call(.post, "/v1/workspaces", token: session.token, json: [:])
            #expect(missing.status == .badRequest)
            #expect(missing.errorCode == "malformed_request")
            #expect(Set(missing.errorFields) == ["name required", "time_zone required"])

            let mistyped = try await api.call(
                .post, "/v1/workspaces", token: session.token, json: ["name": 5, "time_zone": NSNull(), "display_name": true])
            #expect(mistyped.status == .badRequest)
            #expect(Set(mistyped.errorFields) == ["name wrong_type", "time_zone required", "display_name wrong_type"])

            let signUp = try await api.call(.post, "/v1/auth/signup", json: ["email": "a@b.co"])
            #expect(signUp.errorFields == ["password required"])
            let message = (signUp["error"] as? [String: Any])?["message"] as? String
            #expect(message?.contains("password") == true)
        }
    }

    @Test("a NUL character in a to-do title is reported on title, 422 forbidden_character")
    func nulInTitle() async throws {
        try await withFacade { api, database in
            let session = try await api.signUp()
            let workspace = try await api.createWorkspace(session)
            let base = "/v1/workspaces/\(workspace.id)/todos"
            let created = try await api.call(.post, base, token: session.token, json: ["title": "a\u{0}b"])
            #expect(created.status == .unprocessableContent)
            #expect(created.errorCode == "validation_failed")
            #expect(created.errorFields == ["title forbidden_character"])

            let todo = try await api.call(.post, base, token: session.token, json: ["title": "ok"])
            let updated = try await api.call(.patch, "\(base)/\(todo.string("id") ?? "")", token: session.token, json: ["title": "\u{0}"])
            #expect(updated.errorFields == ["title forbidden_character"])

            // Posts have a field called body: a NUL there is named body; elsewhere never.
            let post = try await api.call(
                .post, "/v1/workspaces/\(workspace.id)/posts", token: session.token, json: ["kind": "checkin", "body": "x\u{0}"])
            #expect(post.errorFields == ["body forbidden_character"])
            let name = try await api.call(.post, "/v1/workspaces", token: session.token, json: ["name": "a\u{0}", "time_zone": "UTC"])
            #expect(name.errorFields == ["name forbidden_character"])
            #expect(try await database.scalarInt("SELECT count(*)::int8 FROM todos") == 1)
        }
    }

    @Test("formats, lengths, ranges, blanks and array elements each get their code")
    func validationCodes() async throws {
        try await withFacade { api, _ in
            let session = try await api.signUp()
            let workspace = try await api.createWorkspace(session)
            let todos = "/v1/workspaces/\(workspace.id)/todos"

            let long = try await api.call(.post, todos, token: session.token, json: ["title": String(repeating: "x", count: 501)])
            #expect(long.status == .unprocessableContent)
            #expect(long.errorFields == ["title too_long"])
            let blank = try await api.call(.post, todos, token: session.token, json: ["title": "  ", "due_date": "2026-02-30"])
            #expect(Set(blank.errorFields) == ["title blank", "due_date invalid_format"])
            let badID = try await api.call(.post, todos, token: session.token, json: ["title": "t", "assignee_member_id": "nope"])
            #expect(badID.status == .badRequest)
            #expect(badID.errorFields == ["assignee_member_id invalid_format"])

            let mentions = try await api.call(
                .post, "/v1/workspaces/\(workspace.id)/posts", token: session.token,
                json: ["kind": "checkin", "body": "hi", "mentions": [UUID().uuidString, "nope", 3] as [any Sendable]])
            #expect(mentions.status == .badRequest)
            #expect(mentions.errorFields == ["mentions.1 invalid_format", "mentions.2 wrong_type"])

            let signUp = try await api.call(.post, "/v1/auth/signup", json: ["email": "nope", "password": "short"])
            #expect(Set(signUp.errorFields) == ["email invalid_format", "password too_short"])
            let hours = try await api.call(
                .post, "/v1/workspaces/\(workspace.id)/invites", token: session.token, json: ["expires_in_hours": 0])
            #expect(hours.errorFields == ["expires_in_hours out_of_range"])
            let role = try await api.call(
                .patch, "/v1/workspaces/\(workspace.id)/members/\(workspace.ownerMemberID)", token: session.token,
                json: ["role": "king"])
            #expect(role.errorFields == ["role invalid_value"])
        }
    }

    @Test("the body as a whole, and query parameters, are named too")
    func wholeBodyAndQuery() async throws {
        try await withFacade { api, _ in
            let session = try await api.signUp()
            let workspace = try await api.createWorkspace(session)
            for (body, expected) in [("{nope", "$body invalid_json"), ("[1]", "$body wrong_type"), ("", "$body required")] {
                let reply = try await api.call(.post, "/v1/workspaces", token: session.token, rawBody: body)
                #expect(reply.status == .badRequest, "\(body)")
                #expect(reply.errorFields == [expected], "\(body)")
            }
            let feed = "/v1/workspaces/\(workspace.id)/feed"
            #expect(try await api.call(.get, "\(feed)?limit=abc", token: session.token).errorFields == ["limit invalid_format"])
            #expect(try await api.call(.get, "\(feed)?limit=0", token: session.token).errorFields == ["limit out_of_range"])
            let cursor = try await api.call(.get, "\(feed)?cursor=garbage", token: session.token)
            #expect(cursor.status == .badRequest)
            #expect(cursor.errorFields == ["cursor invalid_format"])
            // Forged cursors never reach SQL: a NUL, a non-timestamp, an impossible date.
            for forged in ["2026-01-01 10:00:00\u{0}+00", "notatime", "2026-13-45 10:00:00+00", "2026-02-30 10:00:00.5+00"] {
                let cursor = PageCursor.encode("\(forged)|\(UUID().uuidString)")
                let reply = try await api.call(.get, "/v1/workspaces?cursor=\(cursor)", token: session.token)
                #expect(reply.status == .badRequest, "\(forged)")
                #expect(reply.errorFields == ["cursor invalid_format"], "\(forged)")
            }
            // A cursor the API made still works.
            let page = try await api.call(.get, "/v1/workspaces?limit=1", token: session.token)
            _ = try await api.createWorkspace(session, name: "Second")
            let first = try await api.call(.get, "/v1/workspaces?limit=1", token: session.token)
            let next = try #require(first.string("next_cursor"))
            let second = try await api.call(.get, "/v1/workspaces?limit=1&cursor=\(next)", token: session.token)
            #expect(second.status == .ok)
            #expect(second.items.map { $0["name"] as? String } == ["Second"])
            #expect(page.items.count == 1)
            #expect(try await api.call(.get, "/v1/realtime/subscription-token", token: session.token).errorFields
                == ["channel required"])
            #expect(try await api.call(.get, "/v1/realtime/subscription-token?channel=news", token: session.token).errorFields
                == ["channel invalid_format"])
            #expect(try await api.call(.get, "/v1/workspaces/\(workspace.id)/todos?done=maybe", token: session.token).errorFields
                == ["done invalid_format"])
        }
    }

    @Test("a wrong method is 405 with Allow, in the error shape; an unknown path stays 404")
    func methodNotAllowed() async throws {
        try await withFacade { api, _ in
            let session = try await api.signUp()
            let workspaces = try await api.call(.put, "/v1/workspaces", token: session.token, json: [:])
            #expect(workspaces.status == .methodNotAllowed)
            #expect(workspaces.headers[.allow] == "GET, POST")
            #expect(workspaces.errorCode == "method_not_allowed")
            #expect((workspaces["error"] as? [String: Any])?["fields"] as? [Any] != nil)

            let todo = try await api.call(.post, "/v1/workspaces/\(UUID())/todos/\(UUID())", token: session.token)
            #expect(todo.status == .methodNotAllowed)
            #expect(todo.headers[.allow] == "DELETE, GET, PATCH")
            #expect(try await api.call(.delete, "/v1/me", token: session.token).headers[.allow] == "GET")
            #expect(try await api.call(.post, "/openapi.json").headers[.allow] == "GET")
            #expect(try await api.call(.get, "/v1/nothing-here").status == .notFound)
            #expect(try await api.call(.put, "/v1/workspaces/\(UUID())/nothing").status == .notFound)
        }
    }

    @Test("every field code is documented in /openapi.json, and 405 is documented")
    func documented() throws {
        let document = try JSONSerialization.jsonObject(with: Data(try SystemRoutes.loadOpenAPIDocument().utf8)) as? [String: Any]
        let components = document?["components"] as? [String: Any]
        let schemas = components?["schemas"] as? [String: Any]
        let fieldError = schemas?["FieldError"] as? [String: Any]
        let code = (fieldError?["properties"] as? [String: Any])?["code"] as? [String: Any]
        #expect(Set(code?["enum"] as? [String] ?? []) == Set(FieldProblem.allCases.map(\.rawValue)))
        #expect((fieldError?["required"] as? [String]).map(Set.init) == ["field", "code", "message"])
        #expect((components?["responses"] as? [String: Any])?["E405"] != nil)
    }
}

@Suite("NUL outside the body")
struct NulInPathTests {
    @Test("a NUL in a text path parameter is a 404 (no such row can exist), never a 422 on a field of the body")
    func pathParameters() async throws {
        try await withFacade { api, _ in
            let session = try await api.signUp()
            let workspace = try await api.createWorkspace(session)
            let post = try await api.call(
                .post, "/v1/workspaces/\(workspace.id)/posts", token: session.token, json: ["kind": "checkin", "body": "x"])
            let reaction = try await api.call(
                .delete, "/v1/workspaces/\(workspace.id)/posts/\(post.string("id") ?? "")/reactions/ok%00", token: session.token)
            #expect(reaction.status == .notFound)
            #expect(try await api.call(.post, "/v1/invites/a%00b/accept", token: session.token).status == .notFound)
        }
    }
}
