import Foundation
import Testing

@testable import Facade

/// Every facade response is compact JSON, whoever wrote it: PostgreSQL (`json_build_object` writes `"id" : …`,
/// `jsonb` writes `"id": …`), JSONEncoder, the error middleware or the bundled OpenAPI file.
@Suite("One JSON style")
struct JSONStyleTests {
    /// True when no whitespace is left once every string literal is emptied (checked independently of the
    /// facade's own compactor).
    static func isCompact(_ raw: String) -> Bool {
        let stripped = raw.replacing(/"(?:\\.|[^"\\])*"/, with: "\"\"")
        return !stripped.isEmpty && !stripped.contains(where: \.isWhitespace)
    }

    @Test("compactor: whitespace between tokens goes, whitespace and escapes inside strings stay")
    func compactor() {
        let pretty = "{\n  \"a\" : \"x : \\\" y, z\" ,\t\"b\": [1, 2,\r\n 3], \"c\\\\\" : { } }"
        #expect(JSONResponse.compact(pretty) == #"{"a":"x : \" y, z","b":[1,2,3],"c\\":{}}"#)
        #expect(Self.isCompact(JSONResponse.compact(pretty)))
        #expect(!Self.isCompact(pretty))
    }

    @Test("SQL-rendered, encoded, error and document responses are all compact")
    func everyResponse() async throws {
        try await withFacade { api, _ in
            let owner = try await api.signUp()
            var replies: [(String, Reply)] = []
            let created = try await api.call(
                .post, "/v1/workspaces", token: owner.token, json: ["name": "Team", "time_zone": "Europe/Paris"])
            #expect(created.status == .created)
            replies.append(("POST /v1/workspaces", created))
            let workspaceID = try #require(created.string("id"))
            let post = try await api.call(
                .post, "/v1/workspaces/\(workspaceID)/posts", token: owner.token, json: ["kind": "checkin", "body": "Plan"])
            #expect(post.status == .created)
            replies.append(("POST posts", post))
            let postID = try #require(post.string("id"))
            replies.append(("POST reactions", try await api.call(
                .post, "/v1/workspaces/\(workspaceID)/posts/\(postID)/reactions", token: owner.token, json: ["emoji": "👍"])))
            replies.append(("GET feed", try await api.call(.get, "/v1/workspaces/\(workspaceID)/feed", token: owner.token)))
            replies.append(("GET /v1/workspaces", try await api.call(.get, "/v1/workspaces", token: owner.token)))
            replies.append(("GET /v1/me", try await api.call(.get, "/v1/me", token: owner.token)))
            replies.append(("GET realtime token", try await api.call(.get, "/v1/realtime/token", token: owner.token)))
            replies.append(("GET /health", try await api.call(.get, "/health")))
            replies.append(("GET /openapi.json", try await api.call(.get, "/openapi.json")))
            // Errors: validation (422), unauthenticated (401), unknown route (404), feature off (501).
            let invalid = try await api.call(.post, "/v1/workspaces", token: owner.token, json: ["name": "", "time_zone": "Nowhere/Else"])
            #expect(invalid.status == .unprocessableContent)
            replies.append(("422", invalid))
            replies.append(("401", try await api.call(.get, "/v1/me")))
            replies.append(("404", try await api.call(.get, "/v1/nothing-here", token: owner.token)))
            replies.append(("501", try await api.call(.post, "/v1/auth/google", json: ["id_token": "x"])))

            for (name, reply) in replies {
                #expect(reply.json != nil, "\(name): not JSON: \(reply.raw)")
                #expect(Self.isCompact(reply.raw), "\(name): \(reply.raw.prefix(300))")
            }
        }
    }
}
