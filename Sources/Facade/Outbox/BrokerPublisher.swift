import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Publishes to a Centrifugo-compatible broker through its HTTP API (`POST <api>/publish`).
public struct BrokerPublisher: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Base API URL, e.g. `http://127.0.0.1:8000/api`.
    let apiURL: String
    let apiKey: String
    let httpClient: HTTPClient
    let timeout: TimeAmount

    public init(apiURL: String, apiKey: String, httpClient: HTTPClient = .shared, timeout: TimeAmount = .seconds(5)) {
        self.apiURL = apiURL.hasSuffix("/") ? String(apiURL.dropLast()) : apiURL
        self.apiKey = apiKey
        self.httpClient = httpClient
        self.timeout = timeout
    }

    /// Sends `{"channel", "data", "idempotency_key"}`. The broker drops a repeated idempotency key,
    /// so a row re-sent after a crash between publish and commit is delivered once.
    /// Throws on transport errors, non-200 answers and `{"error": ...}` bodies.
    func publish(channel: String, dataJSON: String, idempotencyKey: String) async throws {
        var request = HTTPClientRequest(url: "\(apiURL)/publish")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-API-Key", value: apiKey)
        let body = "{\"channel\":\(JSONResponse.quote(channel)),\"data\":\(dataJSON),\"idempotency_key\":\(JSONResponse.quote(idempotencyKey))}"
        request.body = .bytes(ByteBuffer(string: body))

        let response = try await httpClient.execute(request, timeout: timeout)
        let responseBody = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else {
            throw Failure(description: "broker answered HTTP \(response.status.code)")
        }
        struct Reply: Decodable {
            struct ReplyError: Decodable {
                var code: Int
                var message: String
            }
            var error: ReplyError?
        }
        let reply = try? JSONDecoder().decode(Reply.self, from: Data(responseBody.readableBytesView))
        if let error = reply?.error {
            throw Failure(description: "broker error \(error.code): \(error.message)")
        }
    }
}
