import BrokerProtocol
import Foundation
import NIOHTTP1

/// Centrifugo's server HTTP API: `POST /api/<method>` with a JSON body.
///
/// Each method returns its result as a JSON object; the HTTP layer wraps it as `{"result":...}` or
/// `{"error":{"code","message"}}` (or, in the transport error mode, an HTTP status + `{"code","message"}`).
public final class ServerAPI: Sendable {
    let node: Node

    public init(node: Node) {
        self.node = node
    }

    static let methods: Set<String> = [
        "publish", "broadcast", "subscribe", "unsubscribe", "disconnect", "refresh", "presence", "presence_stats",
        "history", "history_remove", "channels", "info", "batch", "rpc", "connections",
    ]

    func handleHTTP(method: String, headers: HTTPHeaders, query: String, body: [UInt8]) async -> HTTPResponse {
        switch accept(method: method, headers: headers, query: query, body: body) {
        case .answered(let response):
            return response
        case .call(let call):
            do {
                return call.answer(try await self.call(method: method, request: call.request))
            } catch {
                node.metrics.apiErrors.increment()
                return call.answer(error)
            }
        }
    }

    /// A publish answered on the calling thread when the engine publishes without waiting; nil for
    /// every other request, which goes through ``handleHTTP(method:headers:query:body:)``.
    func handleHTTPImmediately(method: String, headers: HTTPHeaders, query: String, body: [UInt8]) -> HTTPResponse? {
        guard method == "publish", let engine = node.immediatePublisher else { return nil }
        switch accept(method: method, headers: headers, query: query, body: body) {
        case .answered(let response):
            return response
        case .call(let call):
            do {
                return call.answer(try publishImmediately(call.request, on: engine))
            } catch {
                node.metrics.apiErrors.increment()
                return call.answer(error)
            }
        }
    }

    /// An HTTP API request after its key, method and JSON body were checked.
    enum AcceptedRequest {
        /// Refused before running (401, 404, malformed JSON).
        case answered(HTTPResponse)
        case call(HTTPCall)
    }

    /// A method to run and how to answer its outcome.
    struct HTTPCall {
        let method: String
        let request: JSONValue
        /// Errors as an HTTP status + `{"code","message"}` instead of 200 + `{"error":…}`.
        let transportMode: Bool

        func answer(_ result: [UInt8]) -> HTTPResponse {
            // `batch` answers with its replies at the top level, as Centrifugo's BatchResponse does.
            if method == "batch" { return .json(result) }
            var w = JSONWriter()
            w.raw("{\"result\":")
            w.raw(result)
            w.raw(UInt8(ascii: "}"))
            return .json(w.bytes)
        }

        func answer(_ error: APIError) -> HTTPResponse {
            var w = JSONWriter()
            if transportMode {
                ServerAPI.writeError(error, into: &w)
                return .json(w.bytes, status: HTTPResponseStatus(statusCode: Int(error.transportStatus)))
            }
            ServerAPI.writeErrorReply(error, into: &w)
            return .json(w.bytes)
        }
    }

    private func accept(method: String, headers: HTTPHeaders, query: String, body: [UInt8]) -> AcceptedRequest {
        let config = node.config.httpAPI
        if !config.insecure {
            guard !config.key.isEmpty, let key = ServerAPI.apiKey(headers: headers, query: query), key == config.key else {
                return .answered(.empty(.unauthorized))
            }
        }
        node.metrics.apiRequests.increment()
        guard ServerAPI.methods.contains(method) else {
            return .answered(.json(Array(#"{"error":{"code":104,"message":"not found"}}"#.utf8), status: .notFound))
        }
        let request: JSONValue
        do {
            request = body.isEmpty ? .object(JSONObject()) : try JSONParser.parse(body)
        } catch {
            return .answered(.json(Array(#"{"error":"malformed JSON"}"#.utf8), status: .badRequest))
        }
        let transportMode = config.errorMode == "transport" || headers.first(name: "X-Centrifugo-Error-Mode") == "transport"
        return .call(HTTPCall(method: method, request: request, transportMode: transportMode))
    }

    /// Runs one method and answers `{"result":…}` or `{"error":{"code","message"}}`, as the HTTP API does
    /// in its default error mode.
    func reply(method: String, request: JSONValue) async -> [UInt8] {
        var w = JSONWriter()
        do {
            let result = try await call(method: method, request: request)
            w.raw("{\"result\":")
            w.raw(result)
            w.raw(UInt8(ascii: "}"))
        } catch {
            ServerAPI.writeErrorReply(error, into: &w)
        }
        return w.bytes
    }

    /// `X-API-Key`, then `Authorization: apikey <key>`, then `?api_key=`.
    static func apiKey(headers: HTTPHeaders, query: String) -> String? {
        if let k = headers.first(name: "X-API-Key"), !k.isEmpty { return k }
        if let auth = headers.first(name: "Authorization") {
            let parts = auth.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "apikey" { return String(parts[1]).trimmingCharacters(in: .whitespaces) }
        }
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0] == "api_key" { return String(kv[1]).removingPercentEncoding }
        }
        return nil
    }

    /// `{"error":{"code","message"}}`.
    static func writeErrorReply(_ e: APIError, into w: inout JSONWriter) {
        w.raw("{\"error\":")
        writeError(e, into: &w)
        w.raw(UInt8(ascii: "}"))
    }

    static func writeError(_ e: APIError, into w: inout JSONWriter) {
        w.raw("{\"code\":")
        w.int(e.code)
        w.raw(",\"message\":")
        w.string(e.message)
        w.raw(UInt8(ascii: "}"))
    }

    /// Runs one method and returns its result object as JSON bytes.
    public func call(method: String, request: JSONValue) async throws(APIError) -> [UInt8] {
        let r = try APIRequestReader(request)
        do {
            switch method {
            case "publish": return try await publish(r)
            case "broadcast": return try await broadcast(r)
            case "subscribe": return try await act("subscribe", r)
            case "unsubscribe": return try await act("unsubscribe", r)
            case "disconnect": return try await act("disconnect", r)
            case "refresh": return try await act("refresh", r)
            case "presence": return try await presence(r)
            case "presence_stats": return try await presenceStats(r)
            case "history": return try await history(r)
            case "history_remove": return try await historyRemove(r)
            case "channels": return try await channels(r)
            case "info": return await info()
            case "connections": return try await connections(r)
            case "batch": return try await batch(r)
            default: throw APIError.notFound
            }
        } catch {
            throw APIError.from(error)
        }
    }
}
