import AsyncHTTPClient
import BrokerProtocol
import Foundation
import NIOCore

/// `broker inspect`'s way in: the server API of a running broker (any node of a cluster answers for all).
public struct InspectClient: Sendable {
    /// What went wrong, said so an operator knows what to fix.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public var apiURL: String
    public var apiKey: String
    public var timeout: Duration = .seconds(10)

    public init(apiURL: String, apiKey: String) {
        self.apiURL = apiURL.hasSuffix("/") ? String(apiURL.dropLast()) : apiURL
        self.apiKey = apiKey
    }

    /// The server API's address for `config`: its internal port when there is one and the API is not
    /// external, on the configured address (loopback when it listens on all interfaces).
    public static func apiURL(for config: BrokerConfig) -> String {
        let server = config.httpServer
        var host = server.address.isEmpty || server.address == "0.0.0.0" || server.address == "::" ? "127.0.0.1" : server.address
        var port = server.port
        if let internalPort = server.internalPort, !config.httpAPI.external {
            port = internalPort
            if !server.internalAddress.isEmpty && server.internalAddress != "0.0.0.0" { host = server.internalAddress }
        }
        if host.contains(":") { host = "[\(host)]" }
        return "http://\(host):\(port)\(config.httpAPI.handlerPrefix)"
    }

    /// Calls `method` and returns its `result`; an API error, HTTP error or unreachable broker throws a
    /// ``Failure`` that says which.
    public func call(_ method: String, _ params: JSONObject = JSONObject()) async throws(Failure) -> JSONValue {
        var request = HTTPClientRequest(url: "\(apiURL)/\(method)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if !apiKey.isEmpty { request.headers.add(name: "X-API-Key", value: apiKey) }
        request.body = .bytes(JSONValue.object(params).serialized)
        let status: UInt
        let body: ByteBuffer
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(timeout.milliseconds))
            status = response.status.code
            body = try await response.body.collect(upTo: 64 * 1024 * 1024)
        } catch {
            throw Failure(description: "cannot reach the broker's server API at \(apiURL): \(error)")
        }
        if status == 401 {
            throw Failure(description: "the server API at \(apiURL) refused the key (401): pass --api-key or set http_api.key in the config")
        }
        guard status == 200 else {
            throw Failure(description: "the server API at \(apiURL) answered HTTP \(status): \(String(buffer: body))")
        }
        guard let value = try? JSONParser.parse(body.readableBytesView), let object = value.objectValue else {
            throw Failure(description: "the server API at \(apiURL) answered something that is not JSON: \(String(buffer: body).prefix(200))")
        }
        if let error = object["error"]?.objectValue {
            let code = error["code"]?.int64Value ?? 0
            throw Failure(description: "\(method) failed: \(error["message"]?.stringValue ?? "error") (code \(code))")
        }
        return object["result"] ?? .object(JSONObject())
    }
}
