import BrokerProtocol

/// What one node tells the others through the engine's control channel.
///
/// The encoding is a small JSON object with a type tag `t` and the sender's node ID `from`; it is
/// internal to the broker (nodes of one version talk to each other), so it is kept readable rather
/// than compact: control messages are rare next to publications.
enum ControlMessage: Sendable, Equatable {
    /// Periodic heartbeat carrying the sender's counters.
    case node(NodeInfo)
    /// The sender is shutting down: forget it now rather than after its heartbeat expires.
    case leaving
    /// A server-API action (`subscribe`, `unsubscribe`, `disconnect`, `refresh`) for connections
    /// wherever they are; `params` is the original request object.
    case action(method: String, params: JSONObject)
    /// A question every node answers (e.g. its channels); the answer goes back to `from`.
    case survey(id: String, op: String, params: JSONObject)
    /// One node's answer to survey `id`, addressed to node `to`.
    case surveyReply(id: String, to: String, data: JSONValue)

    func encode(from sender: String) -> [UInt8] {
        var members: [(String, JSONValue)] = [("from", .string(sender))]
        switch self {
        case .node(let info):
            members += [("t", .string("node")), ("node", info.json)]
        case .leaving:
            members += [("t", .string("leaving"))]
        case .action(let method, let params):
            members += [("t", .string("action")), ("method", .string(method)), ("params", .object(params))]
        case .survey(let id, let op, let params):
            members += [("t", .string("survey")), ("id", .string(id)), ("op", .string(op)), ("params", .object(params))]
        case .surveyReply(let id, let to, let data):
            members += [("t", .string("survey_reply")), ("id", .string(id)), ("to", .string(to)), ("data", data)]
        }
        return JSONValue.object(JSONObject(members)).serialized
    }

    /// The sender and the message, or nil for anything this version does not understand.
    static func decode(_ bytes: [UInt8]) -> (from: String, message: ControlMessage)? {
        guard let value = try? JSONParser.parse(bytes), let o = value.objectValue,
            let from = o["from"]?.stringValue, let type = o["t"]?.stringValue
        else { return nil }
        switch type {
        case "node":
            guard let info = o["node"].flatMap(NodeInfo.init(json:)) else { return nil }
            return (from, .node(info))
        case "leaving":
            return (from, .leaving)
        case "action":
            guard let method = o["method"]?.stringValue, let params = o["params"]?.objectValue else { return nil }
            return (from, .action(method: method, params: params))
        case "survey":
            guard let id = o["id"]?.stringValue, let op = o["op"]?.stringValue, let params = o["params"]?.objectValue else {
                return nil
            }
            return (from, .survey(id: id, op: op, params: params))
        case "survey_reply":
            guard let id = o["id"]?.stringValue, let to = o["to"]?.stringValue, let data = o["data"] else { return nil }
            return (from, .surveyReply(id: id, to: to, data: data))
        default:
            return nil
        }
    }
}

/// One node as the server API's `info` shows it.
///
/// Beyond Centrifugo's fields it carries what an operator's overview needs: the engine and whether it
/// can serve, messages per second in and out (over the last sampling window) and the process's RSS.
public struct NodeInfo: Sendable, Equatable {
    public var uid: String
    public var name: String
    public var version: String
    public var numClients: Int64
    public var numUsers: Int64
    public var numChannels: Int64
    public var numSubs: Int64
    /// Seconds since the node started.
    public var uptime: Int64
    /// `engine.type` ("memory", "redis").
    public var engine: String = ""
    public var engineHealthy = true
    public var messagesInPerSecond: Int64 = 0
    public var messagesOutPerSecond: Int64 = 0
    /// Resident memory in bytes (0 where /proc is not available).
    public var rss: Int64 = 0

    var json: JSONValue {
        .object(
            JSONObject([
                ("uid", .string(uid)), ("name", .string(name)), ("version", .string(version)),
                ("num_clients", .number(String(numClients))), ("num_users", .number(String(numUsers))),
                ("num_channels", .number(String(numChannels))), ("num_subs", .number(String(numSubs))),
                ("uptime", .number(String(uptime))), ("engine", .string(engine)), ("engine_healthy", .bool(engineHealthy)),
                ("messages_in_per_second", .number(String(messagesInPerSecond))),
                ("messages_out_per_second", .number(String(messagesOutPerSecond))), ("rss", .number(String(rss))),
            ]))
    }

    init(
        uid: String, name: String, version: String, numClients: Int64, numUsers: Int64, numChannels: Int64,
        numSubs: Int64, uptime: Int64
    ) {
        self.uid = uid
        self.name = name
        self.version = version
        self.numClients = numClients
        self.numUsers = numUsers
        self.numChannels = numChannels
        self.numSubs = numSubs
        self.uptime = uptime
    }

    init?(json: JSONValue) {
        guard let o = json.objectValue, let uid = o["uid"]?.stringValue, !uid.isEmpty else { return nil }
        self.uid = uid
        name = o["name"]?.stringValue ?? ""
        version = o["version"]?.stringValue ?? ""
        numClients = o["num_clients"]?.int64Value ?? 0
        numUsers = o["num_users"]?.int64Value ?? 0
        numChannels = o["num_channels"]?.int64Value ?? 0
        numSubs = o["num_subs"]?.int64Value ?? 0
        uptime = o["uptime"]?.int64Value ?? 0
        engine = o["engine"]?.stringValue ?? ""
        engineHealthy = o["engine_healthy"]?.boolValue ?? true
        messagesInPerSecond = o["messages_in_per_second"]?.int64Value ?? 0
        messagesOutPerSecond = o["messages_out_per_second"]?.int64Value ?? 0
        rss = o["rss"]?.int64Value ?? 0
    }
}
