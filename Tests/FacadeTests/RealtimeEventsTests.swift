import Foundation
import PostgresNIO
import Testing

@testable import Facade

/// `/openapi.json` documents every realtime event the code can emit, on the channel it goes to, with the
/// payload it really has.
@Suite("Realtime events in the OpenAPI document")
struct RealtimeEventsTests {
    static func document() throws -> [String: Any] {
        let text = try SystemRoutes.loadOpenAPIDocument()
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    static func schemas(_ document: [String: Any]) -> [String: [String: Any]] {
        ((document["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]]) ?? [:]
    }

    /// `#/components/schemas/Name` → its schema.
    static func resolve(_ ref: Any?, in schemas: [String: [String: Any]]) -> [String: Any]? {
        guard let ref = ref as? String, ref.hasPrefix("#/components/schemas/") else { return nil }
        return schemas[String(ref.dropFirst("#/components/schemas/".count))]
    }

    /// The schema of `data` for each documented event type.
    static func dataSchemas(_ document: [String: Any]) throws -> [String: [String: Any]] {
        let schemas = Self.schemas(document)
        let event = try #require(schemas["RealtimeEvent"])
        let mapping = try #require((event["discriminator"] as? [String: Any])?["mapping"] as? [String: String])
        var result: [String: [String: Any]] = [:]
        for (type, ref) in mapping {
            let schema = try #require(resolve(ref, in: schemas), "\(type) → \(ref)")
            let properties = try #require(schema["properties"] as? [String: Any])
            #expect((properties["type"] as? [String: Any])?["const"] as? String == type)
            #expect(Set(schema["required"] as? [String] ?? []) == ["type", "workspace_id", "data"])
            result[type] = try #require(resolve((properties["data"] as? [String: Any])?["$ref"], in: schemas), "\(type) data")
        }
        return result
    }

    @Test("every event type of the code is in RealtimeEvent, on its channel, and nothing else is")
    func everyTypeDocumented() throws {
        let document = try Self.document()
        let schemas = Self.schemas(document)
        let event = try #require(schemas["RealtimeEvent"])
        let mapping = try #require((event["discriminator"] as? [String: Any])?["mapping"] as? [String: String])
        let emitted = Set(RealtimeEventType.allCases.map(\.rawValue))
        #expect(Set(mapping.keys) == emitted)
        #expect(Set((event["oneOf"] as? [[String: String]] ?? []).compactMap { $0["$ref"] }) == Set(mapping.values))
        #expect(try Self.dataSchemas(document).count == emitted.count)

        let channels = try #require(document["x-realtime-channels"] as? [String: [String: Any]])
        let workspace = try #require(channels["workspace:{workspace_id}"]?["events"] as? [String])
        let personal = try #require(channels["personal:#{user_id}"]?["events"] as? [String])
        #expect(Set(workspace) == Set(RealtimeEventType.allCases.filter { $0.channelPrefix == Channel.workspacePrefix }.map(\.rawValue)))
        #expect(Set(personal) == Set(RealtimeEventType.allCases.filter { $0.channelPrefix == Channel.personalPrefix }.map(\.rawValue)))

        let tags = try #require(document["tags"] as? [[String: String]])
        let realtime = try #require(tags.first { $0["name"] == "realtime" }?["description"])
        for type in emitted { #expect(realtime.contains("`\(type)`"), "\(type) not in the realtime tag") }
        for needle in ["getToken", "get_token", "expires_in", "/v1/realtime/subscription-token", "personal:#<user id>"] {
            #expect(realtime.contains(needle), "\(needle)")
        }

        let kinds = (schemas["Notification"]?["properties"] as? [String: Any])?["kind"] as? [String: Any]
        #expect(Set(kinds?["enum"] as? [String] ?? []) == Set(NotificationKind.allCases.map(\.rawValue)))
    }

    @Test("only OutboxWriter (and its revocation extension) writes outbox rows (so every event type goes through RealtimeEventType)")
    func oneWriter() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/Facade").standardizedFileURL
        let files = try #require(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil))
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
        #expect(files.count > 20)
        // The outbox table itself, not outbox_partitions / outbox_relays (the relay's leases).
        let writers = try files.filter {
            try String(contentsOf: $0, encoding: .utf8).contains(/INSERT INTO outbox(?![_a-z])/)
        }
        #expect(Set(writers.map(\.lastPathComponent)) == ["OutboxWriter.swift", "OutboxWriter+Revocation.swift"])
    }

    @Test("a session that makes every event: the outbox holds each documented type, with the documented payload")
    func payloadsMatchTheDocument() async throws {
        let dataSchemas = try Self.dataSchemas(try Self.document())
        let rows = try await withFacade { api, database -> [(channel: String, payload: String)] in
            let owner = try await api.signUp()
            let bob = try await api.signUp()
            let workspace = try await api.createWorkspace(owner)
            let base = "/v1/workspaces/\(workspace.id)"
            let bobMember = try await api.join(workspace, inviter: owner, joiner: bob)
            #expect(try await api.call(.patch, "\(base)/members/\(bobMember)", token: owner.token, json: ["role": "admin"]).status == .ok)
            let post = try await api.call(
                .post, "\(base)/posts", token: owner.token, json: ["kind": "checkin", "body": "Plan", "mentions": [bobMember]])
            let postID = try #require(post.string("id"))
            #expect(try await api.call(.patch, "\(base)/posts/\(postID)", token: owner.token, json: ["body": "Plan B"]).status == .ok)
            #expect(try await api.call(.post, "\(base)/posts/\(postID)/comments", token: bob.token, json: ["body": "Nice"]).status == .created)
            #expect(try await api.call(.post, "\(base)/posts/\(postID)/reactions", token: bob.token, json: ["emoji": "ok"]).status == .created)
            #expect(try await api.call(.delete, "\(base)/posts/\(postID)/reactions/ok", token: bob.token).status == .noContent)
            let todo = try await api.call(.post, "\(base)/todos", token: owner.token, json: ["title": "Ship"])
            let todoID = try #require(todo.string("id"))
            #expect(try await api.call(.patch, "\(base)/todos/\(todoID)", token: bob.token, json: ["done": true]).status == .ok)
            #expect(try await api.call(.delete, "\(base)/todos/\(todoID)", token: bob.token).status == .noContent)
            #expect(try await api.call(.delete, "\(base)/members/\(bobMember)", token: bob.token).status == .noContent)
            #expect(try await api.call(.delete, base, token: owner.token).status == .noContent)

            return try await database.withClient { client in
                var rows: [(channel: String, payload: String)] = []
                let result = try await client.query(
                    "SELECT channel, payload::text FROM outbox WHERE kind = 'publish' ORDER BY id", logger: TestDatabase.logger)
                for try await (channel, payload) in result.decode((String, String).self) { rows.append((channel, payload)) }
                return rows
            }
        }

        var seen: Set<String> = []
        for row in rows {
            let payload = try #require(try JSONSerialization.jsonObject(with: Data(row.payload.utf8)) as? [String: Any])
            #expect(Set(payload.keys) == ["type", "workspace_id", "data"])
            let typeName = try #require(payload["type"] as? String)
            let type = try #require(RealtimeEventType(rawValue: typeName), "undocumented type \(typeName)")
            seen.insert(typeName)
            #expect(row.channel.hasPrefix(type.channelPrefix), "\(typeName) on \(row.channel)")
            let data = try #require(payload["data"] as? [String: Any])
            let schema = try #require(dataSchemas[typeName])
            // The documented object has exactly these keys (all required, no others allowed).
            #expect(schema["additionalProperties"] as? Bool == false, "\(typeName)")
            #expect(Set(schema["required"] as? [String] ?? []) == Set(data.keys), "\(typeName): \(data.keys.sorted())")
            #expect(Set((schema["properties"] as? [String: Any] ?? [:]).keys) == Set(data.keys), "\(typeName)")
        }
        #expect(seen == Set(RealtimeEventType.allCases.map(\.rawValue)))
    }
}
