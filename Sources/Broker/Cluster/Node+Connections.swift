import BrokerProtocol
import Foundation
import NIOCore

/// The connections of a user (or all of them) on every node, for the console and `broker inspect`.
extension Node {
    /// At most this many connections per node in one answer: an operator looks at a user, not a dump.
    static let connectionListLimit = 1000

    /// This node's connected sessions of `user` (every user when nil), keyed by client ID, in the
    /// shape of Centrifugo PRO's `connections` result plus `node`.
    func localConnections(user: String?) async -> [(String, JSONValue)] {
        let nodeName = name
        let limit = Node.connectionListLimit
        var futures: [EventLoopFuture<[(String, JSONValue)]>] = []
        for loopHub in hub.loops {
            futures.append(
                loopHub.eventLoop.submit {
                    let sessions = user.map { loopHub.sessions(ofUser: $0) } ?? Array(loopHub.allSessions)
                    return sessions.lazy.filter(\.isConnected).prefix(limit).map { ($0.clientID, $0.summary(node: nodeName)) }
                })
        }
        var all: [(String, JSONValue)] = []
        for f in futures { all += (try? await f.get()) ?? [] }
        return Array(all.sorted { $0.0 < $1.0 }.prefix(limit))
    }

    /// Every node's connections of `user` (every user when nil): this node's, then the others' answers
    /// to the `connections` survey.
    func clusterConnections(user: String?) async -> [(String, JSONValue)] {
        var all = await localConnections(user: user)
        let params = user.map { JSONObject([("user", JSONValue.string($0))]) } ?? JSONObject()
        for (_, answer) in await survey(op: "connections", params: params) {
            all += (answer.objectValue?.members ?? []).map { ($0.key, $0.value) }
        }
        return all.sorted { $0.0 < $1.0 }
    }
}

extension ClientSession {
    var isConnected: Bool { state == .connected }

    var transportName: String {
        switch framing {
        case .webSocket: return "websocket"
        case .uniWebSocket: return "uni_websocket"
        case .sse: return "uni_sse"
        case .httpStream: return "uni_http_stream"
        }
    }

    /// One connection as the `connections` method shows it. Runs on the session's loop.
    func summary(node: String) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("user", .string(user)), ("node", .string(node)), ("app_name", .string(clientName)),
            ("transport", .string(transportName)), ("protocol", .string(format == .json ? "json" : "protobuf")),
        ]
        if let connInfo {
            if let v = try? JSONParser.parse(connInfo.bytes) {
                members.append(("conn_info", v))
            } else {
                members.append(("b64conn_info", .string(Data(connInfo.bytes).base64EncodedString())))
            }
        }
        let channels = subs.keys.sorted().map { ($0, JSONValue.object(JSONObject())) }
        members.append(("state", .object(JSONObject([("channels", .object(JSONObject(channels)))]))))
        return .object(JSONObject(members))
    }
}
