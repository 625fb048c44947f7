import BrokerProtocol
import Foundation

/// The HTTP proxies' JSON: Centrifugo's request shape (fields left out when empty, `data` and `meta` embedded as
/// JSON, or `b64data` with `binary_encoding`) and the parsing of `result`, `error` and `disconnect`.
enum ProxyJSON {
    struct BadData: Error, CustomStringConvertible {
        var description: String
    }

    static func encode(_ r: ProxyRequest, binary: Bool) throws(BadData) -> [UInt8] {
        var w = JSONWriter()
        w.raw("{\"client\":")
        w.string(r.client)
        w.raw(",\"transport\":")
        w.string(r.transport)
        w.raw(",\"protocol\":")
        w.string(r.protocol)
        w.raw(",\"encoding\":")
        w.string(binary ? "binary" : "json")
        func field(_ name: String, _ value: String?) {
            guard let value, !value.isEmpty else { return }
            w.raw(Array(",\"\(name)\":".utf8))
            w.string(value)
        }
        field("user", r.user)
        field("channel", r.channel)
        field("token", r.token)
        field("method", r.method)
        if let data = r.data, !data.bytes.isEmpty {
            if binary {
                w.raw(",\"b64data\":")
                w.string(Data(data.bytes).base64EncodedString())
            } else {
                guard (try? JSONParser.parse(data.bytes)) != nil else {
                    throw BadData(description: "the client's data is not JSON: set binary_encoding on this proxy to pass it as b64data")
                }
                w.raw(",\"data\":")
                w.raw(data.bytes)
            }
        }
        if let meta = r.meta, !meta.isEmpty {
            w.raw(",\"meta\":")
            w.raw(meta)
        }
        field("name", r.name)
        field("version", r.version)
        if !r.channels.isEmpty {
            w.raw(",\"channels\":[")
            for (i, c) in r.channels.enumerated() {
                if i > 0 { w.raw(UInt8(ascii: ",")) }
                w.string(c)
            }
            w.raw(UInt8(ascii: "]"))
        }
        w.raw(UInt8(ascii: "}"))
        return w.bytes
    }

    /// Parses a response body: `disconnect` wins over `error`, which wins over `result`.
    static func answer<R>(_ body: [UInt8], _ result: (JSONObject) throws(BadData) -> R) throws(BadData) -> ProxyAnswer<R> {
        guard let json = try? JSONParser.parse(body), let o = json.objectValue else {
            throw BadData(description: "the response is not a JSON object")
        }
        if let d = o["disconnect"]?.objectValue {
            guard let code = d["code"]?.uint64Value, code > 0, code < 65536 else {
                throw BadData(description: "disconnect.code must be 1…65535")
            }
            return .disconnect(Disconnect(code: UInt16(code), reason: d["reason"]?.stringValue ?? ""))
        }
        if let e = o["error"]?.objectValue {
            guard let code = e["code"]?.uint64Value, code > 0, code <= UInt64(UInt32.max) else {
                throw BadData(description: "error.code must be a positive integer")
            }
            return .error(ClientError(code: UInt32(code), message: e["message"]?.stringValue ?? "", temporary: e["temporary"]?.boolValue ?? false))
        }
        guard let r = o["result"], !r.isNull else { return .result(nil) }
        guard let ro = r.objectValue else { throw BadData(description: "result is not an object") }
        return .result(try result(ro))
    }

    static func connect(_ o: JSONObject) throws(BadData) -> ConnectProxyResult {
        var claims = ConnectionClaims()
        claims.user = o["user"]?.stringValue ?? ""
        claims.expireAt = try int(o, "expire_at")
        if let info = try payload(o, "info") {
            claims.info = info.bytes
            claims.infoIsBinary = info.isBinary
        }
        claims.channels = (o["channels"]?.arrayValue ?? []).compactMap(\.stringValue)
        if let subs = o["subs"]?.objectValue {
            for member in subs.members {
                guard let so = member.value.objectValue else { throw BadData(description: "subs.\(member.key) is not an object") }
                var ts = TokenSubscription(channel: member.key)
                if let info = try payload(so, "info") {
                    ts.info = info.bytes
                    ts.infoIsBinary = info.isBinary
                }
                if let data = try payload(so, "data") {
                    ts.data = data.bytes
                    ts.dataIsBinary = data.isBinary
                }
                ts.override = override(so)
                claims.subs.append(ts)
            }
        }
        claims.meta = raw(o, "meta")
        return ConnectProxyResult(claims: claims, data: try payload(o, "data"))
    }

    static func subscribe(_ o: JSONObject) throws(BadData) -> SubscribeProxyResult {
        SubscribeProxyResult(
            expireAt: try int(o, "expire_at") ?? 0, info: try payload(o, "info"), data: try payload(o, "data"), override: override(o))
    }

    static func publish(_ o: JSONObject) throws(BadData) -> PublishProxyResult {
        var r = PublishProxyResult()
        r.data = try payload(o, "data")
        r.skipHistory = o["skip_history"]?.boolValue ?? false
        for member in o["tags"]?.objectValue?.members ?? [] {
            if let v = member.value.stringValue { r.tags[member.key] = v }
        }
        r.idempotencyKey = o["idempotency_key"]?.stringValue ?? ""
        return r
    }

    static func refresh(_ o: JSONObject) throws(BadData) -> RefreshProxyResult {
        RefreshProxyResult(
            expired: o["expired"]?.boolValue ?? false, expireAt: try int(o, "expire_at") ?? 0, info: try payload(o, "info"),
            meta: raw(o, "meta"))
    }

    static func rpc(_ o: JSONObject) throws(BadData) -> RPCProxyResult {
        RPCProxyResult(data: try payload(o, "data"))
    }

    // MARK: Fields

    /// `key` as embedded JSON, or `b64key` decoded (binary).
    private static func payload(_ o: JSONObject, _ key: String) throws(BadData) -> Payload? {
        if let b64 = o["b64" + key]?.stringValue, !b64.isEmpty {
            guard let data = Data(base64Encoded: b64) else { throw BadData(description: "b64\(key) is not base64") }
            return Payload(bytes: Array(data), isBinary: true)
        }
        guard let v = o[key], !v.isNull else { return nil }
        return Payload(json: v)
    }

    private static func raw(_ o: JSONObject, _ key: String) -> [UInt8]? {
        guard let v = o[key], !v.isNull else { return nil }
        return Payload(json: v).bytes
    }

    private static func int(_ o: JSONObject, _ key: String) throws(BadData) -> Int64? {
        guard let v = o[key], !v.isNull else { return nil }
        guard let n = v.int64Value else { throw BadData(description: "\(key) is not an integer") }
        return n
    }

    /// `override`: `{"presence": {"value": true}, …}`, as Centrifugo's wrapped booleans.
    private static func override(_ o: JSONObject) -> SubscriptionOverride {
        var ov = SubscriptionOverride()
        guard let v = o["override"]?.objectValue else { return ov }
        func flag(_ key: String) -> Bool? { v[key]?.objectValue?["value"]?.boolValue ?? (v[key] != nil ? false : nil) }
        ov.presence = flag("presence")
        ov.joinLeave = flag("join_leave")
        ov.forcePushJoinLeave = flag("force_push_join_leave")
        ov.forcePositioning = flag("force_positioning")
        ov.forceRecovery = flag("force_recovery")
        return ov
    }
}
