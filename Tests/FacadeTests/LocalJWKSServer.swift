import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// A real HTTP server on 127.0.0.1 standing in for Google's JWKS URL: it serves whatever document the test
/// sets, with the `Cache-Control` the test sets, answers 500 while `failing`, and counts the requests.
final class LocalJWKSServer: Sendable {
    struct State {
        var jwks = #"{"keys":[]}"#
        var cacheControl: String? = "public, max-age=3600, must-revalidate, no-transform"
        var failing = false
        var requests = 0
    }

    private let state = Mutex(State())

    var requests: Int { state.withLock { $0.requests } }

    func update(_ change: (inout State) -> Void) {
        state.withLock { change(&$0) }
    }

    /// Runs `body` with the server listening; its argument is the JWKS URL.
    func run<R: Sendable>(_ body: @Sendable (String) async throws -> R) async throws -> R {
        let router = Router()
        router.get("certs") { _, _ -> Response in
            let (jwks, cacheControl, failing) = self.state.withLock { state in
                state.requests += 1
                return (state.jwks, state.cacheControl, state.failing)
            }
            if failing { return Response(status: .internalServerError) }
            var headers: HTTPFields = [.contentType: "application/json"]
            if let cacheControl { headers[.cacheControl] = cacheControl }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: jwks)))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await app.test(.live) { client in
            let port = try #require(client.port)
            return try await body("http://127.0.0.1:\(port)/certs")
        }
    }
}

/// A monotonic clock the test moves by hand (the JWKS cache's lifetimes and refetch interval).
final class TestMonotonicClock: Sendable {
    private let offset = Mutex(Duration.zero)
    private let start = ContinuousClock.now

    var now: ContinuousClock.Instant { start + offset.withLock { $0 } }

    func advance(_ duration: Duration) {
        offset.withLock { $0 += duration }
    }
}
