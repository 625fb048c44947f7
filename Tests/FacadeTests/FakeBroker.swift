import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization

/// A stand-in for the broker's HTTP API: records `POST /api/publish` bodies and can answer 503.
final class FakeBroker: Sendable {
    struct Publication: Sendable {
        var channel: String
        var idempotencyKey: String
        var type: String?
        var apiKey: String?
    }

    struct State {
        var publications: [Publication] = []
        var failuresRemaining = 0
        var failedAttempts = 0
    }

    let state = Mutex(State())

    var publications: [Publication] { state.withLock { $0.publications } }
    var failedAttempts: Int { state.withLock { $0.failedAttempts } }

    /// Answer 503 to the next `count` publishes.
    func failNext(_ count: Int) {
        state.withLock { $0.failuresRemaining = count }
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("api/publish") { request, context -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let apiKey = request.headers.first { $0.name.canonicalName == "x-api-key" }?.value
            let shouldFail = self.state.withLock { state -> Bool in
                guard state.failuresRemaining > 0 else { return false }
                state.failuresRemaining -= 1
                state.failedAttempts += 1
                return true
            }
            if shouldFail { return Response(status: .serviceUnavailable) }
            let json = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] ?? [:]
            let publication = Publication(
                channel: json["channel"] as? String ?? "",
                idempotencyKey: json["idempotency_key"] as? String ?? "",
                type: (json["data"] as? [String: Any])?["type"] as? String,
                apiKey: apiKey)
            let offset = self.state.withLock { state -> Int in
                state.publications.append(publication)
                return state.publications.count
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"result":{"offset":\#(offset),"epoch":"test"}}"#)))
        }
        return router
    }

    /// Runs the fake broker on a random local port; `body` receives its API base URL.
    func run<R: Sendable>(_ body: @Sendable (String) async throws -> R) async throws -> R {
        let app = Application(router: router(), logger: TestDatabase.logger)
        return try await app.test(.live) { client in
            try await body("http://127.0.0.1:\(client.port!)/api")
        }
    }
}
