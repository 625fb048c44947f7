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

    /// One publication for ``publishBatch(_:)``.
    struct Item: Sendable {
        var channel: String
        var dataJSON: String
        var idempotencyKey: String
    }

    /// Sends `{"channel", "data", "idempotency_key"}`. The broker drops a repeated idempotency key,
    /// so a row re-sent after a crash between publish and commit is delivered once.
    /// Throws on transport errors, non-200 answers and `{"error": ...}` bodies.
    func publish(channel: String, dataJSON: String, idempotencyKey: String) async throws {
        let results = try await publishBatch([Item(channel: channel, dataJSON: dataJSON, idempotencyKey: idempotencyKey)])
        if case .failure(let error) = results[0] { throw error }
    }

    /// Sends the items in one `POST <api>/batch` (the broker runs them in order) and returns each one's
    /// outcome; one request instead of one per item is what lets the relay keep up under load.
    /// Throws when the request as a whole fails (transport error, non-200, an unreadable answer).
    func publishBatch(_ items: [Item]) async throws -> [Result<Void, Failure>] {
        var body = "{\"commands\":["
        for (i, item) in items.enumerated() {
            if i > 0 { body += "," }
            body += "{\"publish\":{\"channel\":\(JSONResponse.quote(item.channel)),\"data\":\(JSONResponse.compact(item.dataJSON)),"
            body += "\"idempotency_key\":\(JSONResponse.quote(item.idempotencyKey))}}"
        }
        body += "]}"
        var request = HTTPClientRequest(url: "\(apiURL)/batch")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-API-Key", value: apiKey)
        request.body = .bytes(ByteBuffer(string: body))

        let response = try await httpClient.execute(request, timeout: timeout)
        let responseBody = try await response.body.collect(upTo: 16 << 20)
        guard response.status == .ok else {
            throw Failure(description: "broker answered HTTP \(response.status.code)")
        }
        struct ReplyError: Decodable {
            var code: Int
            var message: String
        }
        struct Reply: Decodable {
            var error: ReplyError?
        }
        struct BatchReply: Decodable {
            var replies: [Reply]?
            var error: ReplyError?
        }
        guard let reply = try? JSONDecoder().decode(BatchReply.self, from: Data(responseBody.readableBytesView)) else {
            throw Failure(description: "broker answered something that is not a batch reply")
        }
        if let error = reply.error { throw Failure(description: "broker error \(error.code): \(error.message)") }
        guard let replies = reply.replies, replies.count == items.count else {
            throw Failure(description: "broker answered \(reply.replies?.count ?? 0) replies for \(items.count) publications")
        }
        return replies.map { r in
            if let error = r.error { return .failure(Failure(description: "broker error \(error.code): \(error.message)")) }
            return .success(())
        }
    }
}
