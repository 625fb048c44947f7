import BrokerAPIGRPC
import BrokerProtocol
import Foundation

/// A server API method's JSON result (what `POST /api/<method>` answers under `result`) as the gRPC result
/// message of Centrifugo's `api.proto`. A JSON payload (`data`, `conn_info`, …) becomes its JSON text as bytes,
/// a `b64…` one its decoded bytes, as Centrifugo's gRPC API carries them.
enum GRPCAPIResults {
    typealias Reply = Centrifugal_Centrifugo_Api_Reply

    /// One batch reply: `{"<method>": result}` or `{"error": …}`.
    static func reply(_ v: JSONValue) -> Reply {
        var reply = Reply()
        guard let member = v.objectValue?.members.first else { return reply }
        let result = member.value
        switch member.key {
        case "error": reply.error = error(result)
        case "publish": reply.publish = publish(result)
        case "broadcast": reply.broadcast = broadcast(result)
        case "subscribe": reply.subscribe = .init()
        case "unsubscribe": reply.unsubscribe = .init()
        case "disconnect": reply.disconnect = .init()
        case "presence": reply.presence = presence(result)
        case "presence_stats": reply.presenceStats = presenceStats(result)
        case "history": reply.history = history(result)
        case "history_remove": reply.historyRemove = .init()
        case "info": reply.info = info(result)
        case "rpc": reply.rpc = rpc(result)
        case "refresh": reply.refresh = .init()
        case "channels": reply.channels = channels(result)
        case "connections": reply.connections = connections(result)
        default: break
        }
        return reply
    }

    static func batch(_ v: JSONValue) -> Centrifugal_Centrifugo_Api_BatchResponse {
        var r = Centrifugal_Centrifugo_Api_BatchResponse()
        r.replies = (v["replies"]?.arrayValue ?? []).map(reply)
        return r
    }

    static func error(_ v: JSONValue) -> Centrifugal_Centrifugo_Api_Error {
        var e = Centrifugal_Centrifugo_Api_Error()
        e.code = UInt32(v["code"]?.uint64Value ?? 100)
        e.message = v["message"]?.stringValue ?? ""
        return e
    }

    static func error(_ e: APIError) -> Centrifugal_Centrifugo_Api_Error {
        var out = Centrifugal_Centrifugo_Api_Error()
        out.code = e.code
        out.message = e.message
        return out
    }

    static func publish(_ v: JSONValue) -> Centrifugal_Centrifugo_Api_PublishResult {
        var r = Centrifugal_Centrifugo_Api_PublishResult()
        r.offset = v["offset"]?.uint64Value ?? 0
        r.epoch = v["epoch"]?.stringValue ?? ""
        return r
    }

    static func broadcast(_ v: JSONValue) -> Centrifugal_Centrifugo_Api_BroadcastResult {
        var r = Centrifugal_Centrifugo_Api_BroadcastResult()
        r.responses = (v["responses"]?.arrayValue ?? []).map { item in
            var response = Centrifugal_Centrifugo_Api_PublishResponse()
            if let e = item["error"] {
                response.error = error(e)
            } else if let result = item["result"] {
                response.result = publish(result)
            }
            return response
        }
        return r
    }

    static func presence(_ v: JSONValue) -> Centrifugal_Centrifugo_Api_PresenceResult {
        var r = Centrifugal_Centrifugo_Api_PresenceResult()
        for m in v["presence"]?.objectValue?.members ?? [] { r.presence[m.key] = clientInfo(m.value) }
        return r
    }

    static func presenceStats(_ v: JSONValue) -> Centrifugal_Centrifugo_Api_PresenceStatsResult {
        var r = Centrifugal_Centrifugo_Api_PresenceStatsResult()
        r.numClients = uint32(v["num_clients"])
        r.numUsers = uint32(v["num_users"])
        return r
    }

    static func history(_ v: JSONValue) -> Centrifugal_Centrifugo_Api_HistoryResult {
        var r = Centrifugal_Centrifugo_Api_HistoryResult()
        r.publications = (v["publications"]?.arrayValue ?? []).map { p in
            var out = Centrifugal_Centrifugo_Api_Publication()
            out.data = payload(p, "data")
            if let info = p["info"] { out.info = clientInfo(info) }
            out.offset = p["offset"]?.uint64Value ?? 0
            for m in p["tags"]?.objectValue?.members ?? [] { out.tags[m.key] = m.value.stringValue ?? "" }
            return out
        }
        r.epoch = v["epoch"]?.stringValue ?? ""
        r.offset = v["offset"]?.uint64Value ?? 0
        return r
    }

    static func info(_ v: JSONValue) -> Centrifugal_Centrifugo_Api_InfoResult {
        var r = Centrifugal_Centrifugo_Api_InfoResult()
        r.nodes = (v["nodes"]?.arrayValue ?? []).map { n in
            var node = Centrifugal_Centrifugo_Api_NodeResult()
            node.uid = n["uid"]?.stringValue ?? ""
            node.name = n["name"]?.stringValue ?? ""
            node.version = n["version"]?.stringValue ?? ""
            node.numClients = uint32(n["num_clients"])
            node.numUsers = uint32(n["num_users"])
            node.numChannels = uint32(n["num_channels"])
            node.numSubs = uint32(n["num_subs"])
            node.uptime = uint32(n["uptime"])
            if let rss = n["rss"]?.int64Value {
                var process = Centrifugal_Centrifugo_Api_Process()
                process.rss = rss
                node.process = process
            }
            return node
        }
        return r
    }

    static func rpc(_ v: JSONValue) -> Centrifugal_Centrifugo_Api_RPCResult {
        var r = Centrifugal_Centrifugo_Api_RPCResult()
        r.data = payload(v, "data")
        return r
    }

    static func channels(_ v: JSONValue) -> Centrifugal_Centrifugo_Api_ChannelsResult {
        var r = Centrifugal_Centrifugo_Api_ChannelsResult()
        for m in v["channels"]?.objectValue?.members ?? [] {
            var info = Centrifugal_Centrifugo_Api_ChannelInfo()
            info.numClients = uint32(m.value["num_clients"])
            r.channels[m.key] = info
        }
        return r
    }

    static func connections(_ v: JSONValue) -> Centrifugal_Centrifugo_Api_ConnectionsResult {
        var r = Centrifugal_Centrifugo_Api_ConnectionsResult()
        for m in v["connections"]?.objectValue?.members ?? [] {
            let c = m.value
            var info = Centrifugal_Centrifugo_Api_ConnectionInfo()
            info.appName = c["app_name"]?.stringValue ?? ""
            info.appVersion = c["app_version"]?.stringValue ?? ""
            info.transport = c["transport"]?.stringValue ?? ""
            info.protocol = c["protocol"]?.stringValue ?? ""
            info.user = c["user"]?.stringValue ?? ""
            if let state = c["state"] {
                var s = Centrifugal_Centrifugo_Api_ConnectionState()
                for ch in state["channels"]?.objectValue?.members ?? [] {
                    var context = Centrifugal_Centrifugo_Api_ChannelContext()
                    context.source = uint32(ch.value["source"])
                    s.channels[ch.key] = context
                }
                s.meta = payload(state, "meta")
                info.state = s
            }
            r.connections[m.key] = info
        }
        return r
    }

    static func clientInfo(_ v: JSONValue) -> Centrifugal_Centrifugo_Api_ClientInfo {
        var info = Centrifugal_Centrifugo_Api_ClientInfo()
        info.user = v["user"]?.stringValue ?? ""
        info.client = v["client"]?.stringValue ?? ""
        info.connInfo = payload(v, "conn_info")
        info.chanInfo = payload(v, "chan_info")
        return info
    }

    /// `key` as JSON text, or `b64<key>` decoded; empty when neither is there.
    private static func payload(_ v: JSONValue, _ key: String) -> Data {
        if let json = v[key] { return Data(json.serialized) }
        if let b64 = v["b64" + key]?.stringValue { return Data(base64Encoded: b64) ?? Data() }
        return Data()
    }

    private static func uint32(_ v: JSONValue?) -> UInt32 {
        UInt32(clamping: v?.uint64Value ?? 0)
    }
}
