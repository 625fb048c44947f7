import BrokerProtocol
import Foundation

/// What a 404 says when its path belongs to a feature that is off, or served on the other port: the
/// setting that turns it on (config key and `CENTRIFUGO_*` variable) or the port that serves it.
///
/// Only computed on the not-found path, never for a request that is served.
struct FeatureOffNotice: Equatable {
    enum Format: Equatable {
        /// Plain text (health, metrics, transports, the console's page).
        case text
        /// The server API's error shape: `{"error":{"code":104,"message":…}}`.
        case apiError
        /// The admin API's error shape: `{"error":…}`.
        case adminError
    }

    let message: String
    let format: Format

    /// The notice for `path` on a port that serves the server API, health and metrics when
    /// `servesInternal`, client connections when `servesClients`, and the console when `consoleHere`;
    /// nil when the path belongs to no known feature.
    static func find(path: String, config: BrokerConfig, servesInternal: Bool, servesClients: Bool, consoleHere: Bool) -> FeatureOffNotice? {
        let internalPort = config.httpServer.internalPort.map { "http_server.internal_port \($0)" }
        let clientPort = "the client port, http_server.port \(config.httpServer.port)"

        let api = config.httpAPI
        if !api.handlerPrefix.isEmpty, path == api.handlerPrefix || path.hasPrefix(api.handlerPrefix + "/") {
            if api.disabled {
                return FeatureOffNotice(message: "the server API is off: " + setting("http_api.disabled", "false"), format: .apiError)
            }
            if !servesInternal && !api.external, let internalPort {
                return FeatureOffNotice(
                    message: "the server API is served on \(internalPort) (set http_api.external: true to serve it on this port too)",
                    format: .apiError)
            }
            return nil
        }
        if !consoleHere, AdminConsole.isConsolePath(path, prefix: config.admin.handlerPrefix) {
            let format: Format = path.hasPrefix(config.admin.handlerPrefix + "/admin/") ? .adminError : .text
            if !config.admin.enabled {
                let then = config.admin.external ? nil : internalPort.map { "; it is then served on \($0)" }
                return FeatureOffNotice(
                    message: "the admin console is off: set admin.enabled: true, admin.password and admin.secret in the config "
                        + "(or CENTRIFUGO_ADMIN_ENABLED=true, CENTRIFUGO_ADMIN_PASSWORD, CENTRIFUGO_ADMIN_SECRET)\(then ?? "")",
                    format: format)
            }
            if let internalPort {
                return FeatureOffNotice(
                    message: "the admin console is served on \(internalPort) (set admin.external: true to serve it on this port too)",
                    format: format)
            }
            return nil
        }
        let endpoints: [(String, EndpointToggle, String)] = [
            ("health", config.health, "health is"), ("prometheus", config.prometheus, "metrics are"),
        ]
        for (key, endpoint, subject) in endpoints where path == endpoint.handlerPrefix {
            let elsewhere = servesInternal ? nil : internalPort
            if !endpoint.enabled {
                let then = elsewhere.map { "; it is then served on \($0)" } ?? ""
                return FeatureOffNotice(message: "\(subject) off: " + setting(key + ".enabled", "true") + then, format: .text)
            }
            if let elsewhere { return FeatureOffNotice(message: "\(subject) served on \(elsewhere)", format: .text) }
            return nil
        }
        let transports: [(String, Bool, String)] = [
            ("uni_sse", config.uniSSE.enabled, config.uniSSE.handlerPrefix),
            ("uni_http_stream", config.uniHTTPStream.enabled, config.uniHTTPStream.handlerPrefix),
            ("uni_websocket", config.uniWebSocket.enabled, config.uniWebSocket.handlerPrefix),
            ("websocket", !config.websocket.disabled, config.websocket.handlerPrefix),
        ]
        for (key, enabled, prefix) in transports where path == prefix {
            let elsewhere = servesClients ? "" : "; it is served on \(clientPort)"
            if !enabled {
                let turnOn = key == "websocket" ? setting("websocket.disabled", "false") : setting(key + ".enabled", "true")
                return FeatureOffNotice(message: "\(key) is off: \(turnOn)\(elsewhere)", format: .text)
            }
            if !servesClients { return FeatureOffNotice(message: "\(key) is served on \(clientPort)", format: .text) }
            return nil
        }
        return nil
    }

    /// `set KEY: VALUE in the config (or CENTRIFUGO_KEY=VALUE)`.
    static func setting(_ key: String, _ value: String) -> String {
        let env = "CENTRIFUGO_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
        return "set \(key): \(value) in the config (or \(env)=\(value))"
    }

    /// The 404 that carries the message.
    var response: HTTPResponse {
        switch format {
        case .text:
            return HTTPResponse(status: .notFound, contentType: "text/plain; charset=utf-8", body: Array((message + "\n").utf8))
        case .apiError:
            var w = JSONWriter()
            w.raw("{\"error\":{\"code\":104,\"message\":")
            w.string(message)
            w.raw("}}")
            return .json(w.bytes, status: .notFound)
        case .adminError:
            return AdminConsole.error(.notFound, message)
        }
    }
}
