import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Sends outbox commands (publish, unsubscribe) to a Centrifugo-compatible broker through its HTTP API
/// (`POST <api>/batch`).
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

    /// Sends the commands in one `POST <api>/batch` (the broker runs them in order) and returns each one's
    /// outcome; one request instead of one per command is what lets the relay keep up under load.
    /// Throws when the request as a whole fails (transport error, non-200, an unreadable answer).
    func send(_ commands: [BrokerCommand]) async throws -> [Result<Void, Failure>] {
        let body = "{\"commands\":[" + commands.map(\.batchJSON).joined(separator: ",") + "]}"
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
        guard let replies = reply.replies, replies.count == commands.count else {
            throw Failure(description: "broker answered \(reply.replies?.count ?? 0) replies for \(commands.count) commands")
        }
        return replies.map { r in
            if let error = r.error { return .failure(Failure(description: "broker error \(error.code): \(error.message)")) }
            return .success(())
        }
    }
}
