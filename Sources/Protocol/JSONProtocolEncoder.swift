/// Binary data (from `b64data`) cannot be carried by the JSON protocol: the session disconnects with 3506.
public struct InappropriateProtocolError: Error, Sendable {}

/// Encodes replies and pushes in Centrifugo's JSON protocol.
///
/// Fields follow the protobuf field order and are omitted when empty (`omitempty`), except the ones
/// Centrifugo always writes (`ClientInfo.user/client`, history `publications/epoch/offset`,
/// `presence`, presence stats counts). `bytes` fields are written as raw JSON.
public enum JSONProtocolEncoder {
    /// `{}`: the server's ping.
    public static let ping: [UInt8] = Array("{}".utf8)

    public static func encode(_ reply: Reply) throws(InappropriateProtocolError) -> [UInt8] {
        var w = JSONWriter(capacity: 96)
        try write(reply, into: &w)
        return w.bytes
    }

    public static func write(_ reply: Reply, into w: inout JSONWriter) throws(InappropriateProtocolError) {
        w.raw("{\"id\":")
        w.int(reply.id)
        switch reply.body {
        case .error(let e):
            w.raw(",\"error\":")
            writeError(e, into: &w)
        case .connect(let r):
            w.raw(",\"connect\":")
            try writeConnect(r, into: &w)
        case .subscribe(let r):
            w.raw(",\"subscribe\":")
            try writeSubscribe(r, into: &w)
        case .unsubscribe:
            w.raw(",\"unsubscribe\":{}")
        case .publish:
            w.raw(",\"publish\":{}")
        case .presence(let p):
            w.raw(",\"presence\":{\"presence\":{")
            var first = true
            for (client, info) in p.sorted(by: { $0.key < $1.key }) {
                if !first { w.raw(UInt8(ascii: ",")) }
                first = false
                w.string(client)
                w.raw(UInt8(ascii: ":"))
                try writeClientInfo(info, into: &w)
            }
            w.raw("}}")
        case .presenceStats(let s):
            w.raw(",\"presence_stats\":{\"num_clients\":")
            w.int(s.numClients)
            w.raw(",\"num_users\":")
            w.int(s.numUsers)
            w.raw(UInt8(ascii: "}"))
        case .history(let h):
            w.raw(",\"history\":")
            try writeHistory(h, into: &w)
        case .rpc(let data):
            w.raw(",\"rpc\":{")
            if let data, !data.isEmpty {
                w.key("data")
                try writePayload(data, into: &w)
            }
            w.raw(UInt8(ascii: "}"))
        case .refresh(let r):
            w.raw(",\"refresh\":")
            writeRefresh(r, into: &w)
        case .subRefresh(let r):
            w.raw(",\"sub_refresh\":")
            writeRefresh(r, into: &w)
        }
        w.raw(UInt8(ascii: "}"))
    }

    public static func encode(_ push: Push) throws(InappropriateProtocolError) -> [UInt8] {
        var w = JSONWriter(capacity: 128)
        try write(push, into: &w)
        return w.bytes
    }

    /// A bare push object `{"channel":...,"<kind>":{...}}`, as unidirectional transports send it.
    public static func encodeUnidirectional(_ push: Push) throws(InappropriateProtocolError) -> [UInt8] {
        var w = JSONWriter(capacity: 128)
        try writePushObject(push, into: &w)
        return w.bytes
    }

    /// The bytes in front of a push object in a bidirectional push; a
    /// unidirectional transport drops them (and the closing `}`) to reuse a prepared frame.
    public static let pushPrefix: [UInt8] = Array("{\"push\":".utf8)

    /// `{"push":{"channel":...,"<kind>":{...}}}`
    public static func write(_ push: Push, into w: inout JSONWriter) throws(InappropriateProtocolError) {
        w.raw(pushPrefix)
        try writePushObject(push, into: &w)
        w.raw(UInt8(ascii: "}"))
    }

    /// `{"channel":...,"<kind>":{...}}`
    public static func writePushObject(_ push: Push, into w: inout JSONWriter) throws(InappropriateProtocolError) {
        w.raw(UInt8(ascii: "{"))
        var first = true
        if !push.channel.isEmpty {
            w.member("channel", first: &first)
            w.string(push.channel)
        }
        switch push.body {
        case .publication(let p):
            w.member("pub", first: &first)
            try writePublication(p, into: &w)
        case .join(let info):
            w.member("join", first: &first)
            w.raw("{\"info\":")
            try writeClientInfo(info, into: &w)
            w.raw(UInt8(ascii: "}"))
        case .leave(let info):
            w.member("leave", first: &first)
            w.raw("{\"info\":")
            try writeClientInfo(info, into: &w)
            w.raw(UInt8(ascii: "}"))
        case .unsubscribe(let u):
            w.member("unsubscribe", first: &first)
            w.raw("{\"code\":")
            w.int(u.code)
            w.raw(",\"reason\":")
            w.string(u.reason)
            w.raw(UInt8(ascii: "}"))
        case .subscribe(let r):
            w.member("subscribe", first: &first)
            try writeSubscribe(r, into: &w)
        case .message(let data):
            w.member("message", first: &first)
            if data.isEmpty {
                w.raw("{}")
            } else {
                w.raw("{\"data\":")
                try writePayload(data, into: &w)
                w.raw(UInt8(ascii: "}"))
            }
        case .disconnect(let d):
            w.member("disconnect", first: &first)
            w.raw("{\"code\":")
            w.int(d.code)
            w.raw(",\"reason\":")
            w.string(d.reason)
            w.raw(UInt8(ascii: "}"))
        case .refresh(let r):
            w.member("refresh", first: &first)
            writeRefresh(r, into: &w)
        case .connect(let r):
            w.member("connect", first: &first)
            try writeConnect(r, into: &w)
        }
        w.raw(UInt8(ascii: "}"))
    }

    public static func writeError(_ e: ClientError, into w: inout JSONWriter) {
        w.raw("{\"code\":")
        w.int(e.code)
        w.raw(",\"message\":")
        w.string(e.message)
        if e.temporary { w.raw(",\"temporary\":true") }
        w.raw(UInt8(ascii: "}"))
    }

    /// Binary payloads (from `b64data`) go out as-is only when they happen to be valid JSON.
    @inline(__always)
    public static func writePayload(_ p: Payload, into w: inout JSONWriter) throws(InappropriateProtocolError) {
        if p.isBinary && (try? JSONParser.parse(p.bytes)) == nil { throw InappropriateProtocolError() }
        if p.bytes.isEmpty {
            w.raw("null")
        } else if p.bytes.contains(0x0A) {
            // A raw newline would split the `\n`-delimited frame; in valid JSON it is only whitespace.
            w.raw(p.bytes.lazy.filter { $0 != 0x0A })
        } else {
            w.raw(p.bytes)
        }
    }

    public static func writeClientInfo(_ info: ClientInfo, into w: inout JSONWriter) throws(InappropriateProtocolError) {
        w.raw("{\"user\":")
        w.string(info.user)
        w.raw(",\"client\":")
        w.string(info.client)
        if let c = info.connInfo, !c.isEmpty {
            w.raw(",\"conn_info\":")
            try writePayload(c, into: &w)
        }
        if let c = info.chanInfo, !c.isEmpty {
            w.raw(",\"chan_info\":")
            try writePayload(c, into: &w)
        }
        w.raw(UInt8(ascii: "}"))
    }

    public static func writePublication(_ p: Publication, into w: inout JSONWriter) throws(InappropriateProtocolError) {
        w.raw(UInt8(ascii: "{"))
        var first = true
        if !p.data.isEmpty {
            w.member("data", first: &first)
            try writePayload(p.data, into: &w)
        }
        if let info = p.info {
            w.member("info", first: &first)
            try writeClientInfo(info, into: &w)
        }
        w.nonZeroMember("offset", p.offset, first: &first)
        if !p.tags.isEmpty {
            w.member("tags", first: &first)
            w.raw(UInt8(ascii: "{"))
            var firstTag = true
            for (k, v) in p.tags.sorted(by: { $0.key < $1.key }) {
                if !firstTag { w.raw(UInt8(ascii: ",")) }
                firstTag = false
                w.string(k)
                w.raw(UInt8(ascii: ":"))
                w.string(v)
            }
            w.raw(UInt8(ascii: "}"))
        }
        w.trueMember("delta", p.delta, first: &first)
        w.nonZeroMember("time", p.time, first: &first)
        w.raw(UInt8(ascii: "}"))
    }

    public static func writeSubscribe(_ r: SubscribeResult, into w: inout JSONWriter) throws(InappropriateProtocolError) {
        w.raw(UInt8(ascii: "{"))
        var first = true
        w.trueMember("expires", r.expires, first: &first)
        w.nonZeroMember("ttl", r.ttl, first: &first)
        w.trueMember("recoverable", r.recoverable, first: &first)
        w.nonEmptyMember("epoch", r.epoch, first: &first)
        if !r.publications.isEmpty {
            w.member("publications", first: &first)
            w.raw(UInt8(ascii: "["))
            for (i, p) in r.publications.enumerated() {
                if i > 0 { w.raw(UInt8(ascii: ",")) }
                try writePublication(p, into: &w)
            }
            w.raw(UInt8(ascii: "]"))
        }
        w.trueMember("recovered", r.recovered, first: &first)
        w.nonZeroMember("offset", r.offset, first: &first)
        w.trueMember("positioned", r.positioned, first: &first)
        if let d = r.data, !d.isEmpty {
            w.member("data", first: &first)
            try writePayload(d, into: &w)
        }
        w.trueMember("was_recovering", r.wasRecovering, first: &first)
        w.trueMember("delta", r.delta, first: &first)
        w.raw(UInt8(ascii: "}"))
    }

    public static func writeConnect(_ r: ConnectResult, into w: inout JSONWriter) throws(InappropriateProtocolError) {
        w.raw(UInt8(ascii: "{"))
        var first = true
        w.nonEmptyMember("client", r.client, first: &first)
        w.nonEmptyMember("version", r.version, first: &first)
        w.trueMember("expires", r.expires, first: &first)
        w.nonZeroMember("ttl", r.ttl, first: &first)
        if let d = r.data, !d.isEmpty {
            w.member("data", first: &first)
            try writePayload(d, into: &w)
        }
        if !r.subs.isEmpty {
            w.member("subs", first: &first)
            w.raw(UInt8(ascii: "{"))
            for (i, s) in r.subs.enumerated() {
                if i > 0 { w.raw(UInt8(ascii: ",")) }
                w.string(s.channel)
                w.raw(UInt8(ascii: ":"))
                try writeSubscribe(s.result, into: &w)
            }
            w.raw(UInt8(ascii: "}"))
        }
        w.nonZeroMember("ping", r.ping, first: &first)
        w.trueMember("pong", r.pong, first: &first)
        w.nonEmptyMember("session", r.session, first: &first)
        w.nonEmptyMember("node", r.node, first: &first)
        w.nonZeroMember("time", r.time, first: &first)
        w.raw(UInt8(ascii: "}"))
    }

    public static func writeHistory(_ h: HistoryResult, into w: inout JSONWriter) throws(InappropriateProtocolError) {
        w.raw("{\"publications\":[")
        for (i, p) in h.publications.enumerated() {
            if i > 0 { w.raw(UInt8(ascii: ",")) }
            try writePublication(p, into: &w)
        }
        w.raw("],\"epoch\":")
        w.string(h.epoch)
        w.raw(",\"offset\":")
        w.int(h.offset)
        w.raw(UInt8(ascii: "}"))
    }

    public static func writeRefresh(_ r: RefreshResult, into w: inout JSONWriter) {
        w.raw(UInt8(ascii: "{"))
        var first = true
        w.trueMember("expires", r.expires, first: &first)
        w.nonZeroMember("ttl", r.ttl, first: &first)
        w.raw(UInt8(ascii: "}"))
    }
}
