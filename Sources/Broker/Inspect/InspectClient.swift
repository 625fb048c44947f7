import AsyncHTTPClient
import BrokerProtocol
import Foundation
import NIOCore
import NIOPosix

/// `broker inspect`'s way in: the server API of a running broker (any node of a cluster answers for all).
public struct InspectClient: Sendable {
    /// What went wrong, said so an operator knows what to fix.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public var apiURL: String
    public var apiKey: String
    /// Where `apiURL` came from, for messages: `--api`, or the config keys and file it was built from.
    public var origin: String
    public var timeout: Duration = .seconds(10)

    public init(apiURL: String, apiKey: String, origin: String = "--api") {
        self.apiURL = apiURL.hasSuffix("/") ? String(apiURL.dropLast()) : apiURL
        self.apiKey = apiKey
        self.origin = origin
    }

    /// The config keys ``apiURL(for:)`` read, and the file (nil: no file, defaults and environment).
    public static func apiURLOrigin(for config: BrokerConfig, file: String?) -> String {
        let keys = config.internalListener != nil && !config.httpAPI.external ? "http_server.internal_port" : "http_server.port"
        return "\(keys) in " + (file ?? "the defaults (no config file)")
    }

    /// The server API's address for `config`: its internal port when there is one and the API is not
    /// external, on the configured address (loopback when it listens on all interfaces).
    public static func apiURL(for config: BrokerConfig) -> String {
        // With `http_api.external` the client port (listed last) serves it too, and that is the one asked.
        let listener = config.listeners(ofInternalFeatureExternal: config.httpAPI.external).last ?? config.clientListener
        var host = listener.host == "0.0.0.0" || listener.host == "::" ? "127.0.0.1" : listener.host
        if host.contains(":") { host = "[\(host)]" }
        return "\(config.servesTLS(listener) ? "https" : "http")://\(host):\(listener.port)\(config.httpAPI.handlerPrefix)"
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
            throw Failure(
                description: "cannot reach the broker's server API at \(apiURL) (from \(origin)): \(Self.reason(error)); "
                    + "start the broker (scripts/start.sh) or point --api at a running one.")
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

    /// Why a connection failed, in words: NIO's errors print their whole structure.
    static func reason(_ error: any Error) -> String {
        if let connection = error as? NIOConnectionError {
            let errnos = connection.connectionErrors.compactMap { ($0.error as? IOError)?.errnoCode }
            if errnos.contains(ECONNREFUSED) { return "nothing is listening there (connection refused)" }
            if connection.dnsAAAAError != nil || connection.dnsAError != nil, connection.connectionErrors.isEmpty {
                return "the host name does not resolve"
            }
        }
        if let io = error as? IOError, io.errnoCode == ECONNREFUSED { return "nothing is listening there (connection refused)" }
        if let client = error as? HTTPClientError {
            switch client {
            case .connectTimeout, .deadlineExceeded, .readTimeout: return "no answer within the time limit"
            case .remoteConnectionClosed: return "the connection was closed before an answer"
            default: break
            }
        }
        return "\(error)"
    }
}
