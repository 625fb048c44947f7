import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization

/// A stand-in for the broker's HTTP API: records `POST /api/publish` and `/api/batch` publications and
/// unsubscribes, and can answer 503 (the real broker is driven by the interop suite's end-to-end tests). Like the
/// real broker, it drops a publication whose idempotency key it has seen (answering success) and counts it.
final class FakeBroker: Sendable {
    struct Publication: Sendable {
        var channel: String
        var idempotencyKey: String
        var type: String?
        var apiKey: String?
    }

    /// One command as the broker received it, in order: `publish <channel> <type>` or `unsubscribe <channel> <user>`.
    struct State {
        var commands: [String] = []
        var unsubscribes: [(user: String, channel: String)] = []
        var publications: [Publication] = []
        var idempotencyKeys: Set<String> = []
        /// Publications dropped because their idempotency key was seen before.
        var duplicates = 0
        var failuresRemaining = 0
        var failedAttempts = 0
        var requests = 0
        /// Publications per `/api/batch` request, in order.
        var batchSizes: [Int] = []
        /// Publications of this type get an error reply (in a batch: that item only).
        var refusedType: String?
    }

    let state = Mutex(State())

    var publications: [Publication] { state.withLock { $0.publications } }
    var unsubscribes: [(user: String, channel: String)] { state.withLock { $0.unsubscribes } }
    /// Every command received, in order (`publish <channel> <type>`, `unsubscribe <channel> <user>`).
    var commands: [String] { state.withLock { $0.commands } }
    var failedAttempts: Int { state.withLock { $0.failedAttempts } }
    var duplicates: Int { state.withLock { $0.duplicates } }
    var requests: Int { state.withLock { $0.requests } }
    var batchSizes: [Int] { state.withLock { $0.batchSizes } }

    /// Answer publications whose data `type` is `type` with error 107.
    func refuse(type: String) {
        state.withLock { $0.refusedType = type }
    }

    /// Answer 503 to the next `count` publishes.
    func failNext(_ count: Int) {
        state.withLock { $0.failuresRemaining = count }
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("api/publish") { request, context -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            if self.shouldFail() { return Response(status: .serviceUnavailable) }
            let json = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] ?? [:]
            let offset = self.record(json, apiKey: Self.apiKey(request))
            return Self.json(#"{"result":{"offset":\#(offset),"epoch":"test"}}"#)
        }
        router.post("api/batch") { request, context -> Response in
            let body = try await request.body.collect(upTo: 16 << 20)
            if self.shouldFail() { return Response(status: .serviceUnavailable) }
            let json = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] ?? [:]
            let commands = json["commands"] as? [[String: Any]] ?? []
            self.state.withLock { $0.batchSizes.append(commands.count) }
            let replies = commands.map { command -> String in
                if let unsubscribe = command["unsubscribe"] as? [String: Any] {
                    let user = unsubscribe["user"] as? String ?? "", channel = unsubscribe["channel"] as? String ?? ""
                    self.state.withLock {
                        $0.unsubscribes.append((user, channel))
                        $0.commands.append("unsubscribe \(channel) \(user)")
                    }
                    return #"{"unsubscribe":{}}"#
                }
                guard let publish = command["publish"] as? [String: Any], !self.refused(publish) else {
                    return #"{"error":{"code":107,"message":"bad request"}}"#
                }
                let offset = self.record(publish, apiKey: Self.apiKey(request))
                return #"{"publish":{"offset":\#(offset),"epoch":"test"}}"#
            }
            return Self.json(#"{"replies":["# + replies.joined(separator: ",") + "]}")
        }
        return router
    }

    private func refused(_ json: [String: Any]) -> Bool {
        let type = (json["data"] as? [String: Any])?["type"] as? String
        return state.withLock { $0.refusedType != nil && $0.refusedType == type }
    }

    private func shouldFail() -> Bool {
        state.withLock { state -> Bool in
            state.requests += 1
            guard state.failuresRemaining > 0 else { return false }
            state.failuresRemaining -= 1
            state.failedAttempts += 1
            return true
        }
    }

    /// Records one publish request; returns its offset.
    private func record(_ json: [String: Any], apiKey: String?) -> Int {
        let publication = Publication(
            channel: json["channel"] as? String ?? "",
            idempotencyKey: json["idempotency_key"] as? String ?? "",
            type: (json["data"] as? [String: Any])?["type"] as? String,
            apiKey: apiKey)
        return state.withLock { state -> Int in
            if !publication.idempotencyKey.isEmpty && !state.idempotencyKeys.insert(publication.idempotencyKey).inserted {
                state.duplicates += 1
                return state.publications.count
            }
            state.publications.append(publication)
            state.commands.append("publish \(publication.channel) \(publication.type ?? "")")
            return state.publications.count
        }
    }

    private static func apiKey(_ request: Request) -> String? {
        request.headers.first { $0.name.canonicalName == "x-api-key" }?.value
    }

    private static func json(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Runs the fake broker on a random local port; `body` receives its API base URL.
    func run<R: Sendable>(_ body: @Sendable (String) async throws -> R) async throws -> R {
        let app = Application(router: router(), logger: TestDatabase.logger)
        return try await app.test(.live) { client in
            try await body("http://127.0.0.1:\(client.port!)/api")
        }
    }
}
