#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SwiftProtobuf

/// Encodes replies and pushes in Centrifugo's Protobuf protocol.
///
/// Every function returns ONE length-delimited message (unsigned varint length, then the serialized
/// `Reply`), so callers may concatenate several into one binary WebSocket frame.
///
/// The content mirrors `JSONProtocolEncoder`: the same fields are set under the same conditions,
/// and results without fields (`publish`, `unsubscribe`, an empty `presence`) are still written as
/// an empty message, so the client sees a result. `bytes` fields carry `Payload.bytes` as-is,
/// binary or not. Map entries (`subs`, `presence`, `tags`) are written sorted by key, so the output
/// is deterministic.
public enum ProtobufProtocolEncoder {
    /// The server's ping: an empty `Reply` with its zero length prefix.
    public static let ping: [UInt8] = [0x00]

    public static func encode(_ reply: Reply) -> [UInt8] {
        let message = protoReply(reply)
        if let bytes = serialize(message) { return bytes }
        // Only reachable for a message over protobuf's 2 GB limit: answer with an internal error instead.
        var fallback = PBReply()
        fallback.id = reply.id
        fallback.error = protoError(.internalError)
        return serialize(fallback) ?? []
    }

    /// A push, wrapped in a `Reply` without `id` (bidirectional transports).
    public static func encode(_ push: Push) -> [UInt8] {
        var message = PBReply()
        message.push = protoPush(push)
        // Only fails over protobuf's 2 GB limit; nothing is sent then.
        return serialize(message) ?? []
    }

    /// Prefixes `messageBytes` with its length as an unsigned varint.
    public static func delimited(_ messageBytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(messageBytes.count + varintSize(UInt64(messageBytes.count)))
        appendVarint(UInt64(messageBytes.count), to: &out)
        out.append(contentsOf: messageBytes)
        return out
    }

    // MARK: - Internals

    static func serialize(_ message: PBReply) -> [UInt8]? {
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        guard let body: [UInt8] = try? message.serializedBytes(options: options) else { return nil }
        return delimited(body)
    }

    static func varintSize(_ value: UInt64) -> Int {
        var v = value
        var n = 1
        while v >= 0x80 {
            v >>= 7
            n += 1
        }
        return n
    }

    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    static func protoReply(_ reply: Reply) -> PBReply {
        var m = PBReply()
        m.id = reply.id
        switch reply.body {
        case .error(let e):
            m.error = protoError(e)
        case .connect(let r):
            m.connect = protoConnect(r)
        case .subscribe(let r):
            m.subscribe = protoSubscribeResult(r)
        case .unsubscribe:
            m.unsubscribe = PBUnsubscribeResult()
        case .publish:
            m.publish = PBPublishResult()
        case .presence(let p):
            var result = PBPresenceResult()
            for (client, info) in p {
                result.presence[client] = protoClientInfo(info)
            }
            m.presence = result
        case .presenceStats(let s):
            var result = PBPresenceStatsResult()
            result.numClients = s.numClients
            result.numUsers = s.numUsers
            m.presenceStats = result
        case .history(let h):
            var result = PBHistoryResult()
            result.publications = h.publications.map(protoPublication)
            result.epoch = h.epoch
            result.offset = h.offset
            m.history = result
        case .rpc(let data):
            var result = PBRPCResult()
            if let data, !data.isEmpty { result.data = bytes(data) }
            m.rpc = result
        case .refresh(let r):
            var result = PBRefreshResult()
            result.expires = r.expires
            result.ttl = r.ttl
            m.refresh = result
        case .subRefresh(let r):
            var result = PBSubRefreshResult()
            result.expires = r.expires
            result.ttl = r.ttl
            m.subRefresh = result
        }
        return m
    }

    static func protoPush(_ push: Push) -> PBPush {
        var m = PBPush()
        m.channel = push.channel
        switch push.body {
        case .publication(let p):
            m.pub = protoPublication(p)
        case .join(let info):
            var join = PBJoin()
            join.info = protoClientInfo(info)
            m.join = join
        case .leave(let info):
            var leave = PBLeave()
            leave.info = protoClientInfo(info)
            m.leave = leave
        case .unsubscribe(let u):
            var unsubscribe = PBUnsubscribe()
            unsubscribe.code = u.code
            unsubscribe.reason = u.reason
            m.unsubscribe = unsubscribe
        case .subscribe(let r):
            // The `Subscribe` push message has only these fields (no expires/ttl, unlike the JSON encoder's output).
            var subscribe = PBSubscribe()
            subscribe.recoverable = r.recoverable
            subscribe.epoch = r.epoch
            subscribe.offset = r.offset
            subscribe.positioned = r.positioned
            if let d = r.data, !d.isEmpty { subscribe.data = bytes(d) }
            m.subscribe = subscribe
        case .message(let data):
            var message = PBMessage()
            message.data = bytes(data)
            m.message = message
        case .disconnect(let d):
            var disconnect = PBDisconnect()
            disconnect.code = UInt32(d.code)
            disconnect.reason = d.reason
            m.disconnect = disconnect
        case .refresh(let r):
            var refresh = PBRefresh()
            refresh.expires = r.expires
            refresh.ttl = r.ttl
            m.refresh = refresh
        case .connect(let r):
            let result = protoConnect(r)
            var connect = Centrifugal_Centrifuge_Protocol_Connect()
            connect.client = result.client
            connect.version = result.version
            connect.data = result.data
            connect.subs = result.subs
            connect.expires = result.expires
            connect.ttl = result.ttl
            connect.ping = result.ping
            connect.pong = result.pong
            connect.session = result.session
            connect.node = result.node
            connect.time = result.time
            m.connect = connect
        }
        return m
    }

    static func protoError(_ e: ClientError) -> PBError {
        var m = PBError()
        m.code = e.code
        m.message = e.message
        m.temporary = e.temporary
        return m
    }

    @inline(__always)
    static func bytes(_ p: Payload) -> Data {
        Data(p.bytes)
    }

    static func protoClientInfo(_ info: ClientInfo) -> PBClientInfo {
        var m = PBClientInfo()
        m.user = info.user
        m.client = info.client
        if let c = info.connInfo, !c.isEmpty { m.connInfo = bytes(c) }
        if let c = info.chanInfo, !c.isEmpty { m.chanInfo = bytes(c) }
        return m
    }

    static func protoPublication(_ p: Publication) -> PBPublication {
        var m = PBPublication()
        if !p.data.isEmpty { m.data = bytes(p.data) }
        if let info = p.info { m.info = protoClientInfo(info) }
        m.offset = p.offset
        m.tags = p.tags
        m.delta = p.delta
        if p.time > 0 { m.time = p.time }
        return m
    }

    static func protoSubscribeResult(_ r: SubscribeResult) -> PBSubscribeResult {
        var m = PBSubscribeResult()
        m.expires = r.expires
        m.ttl = r.ttl
        m.recoverable = r.recoverable
        m.epoch = r.epoch
        m.publications = r.publications.map(protoPublication)
        m.recovered = r.recovered
        m.offset = r.offset
        m.positioned = r.positioned
        if let d = r.data, !d.isEmpty { m.data = bytes(d) }
        m.wasRecovering = r.wasRecovering
        m.delta = r.delta
        return m
    }

    static func protoConnect(_ r: ConnectResult) -> PBConnectResult {
        var m = PBConnectResult()
        m.client = r.client
        m.version = r.version
        m.expires = r.expires
        m.ttl = r.ttl
        if let d = r.data, !d.isEmpty { m.data = bytes(d) }
        // A map on the wire: a channel listed twice keeps its last result, as a JSON parser would.
        for s in r.subs {
            m.subs[s.channel] = protoSubscribeResult(s.result)
        }
        m.ping = r.ping
        m.pong = r.pong
        m.session = r.session
        m.node = r.node
        if r.time > 0 { m.time = r.time }
        return m
    }
}
