/// Why a frame could not be decoded into commands. The session answers with disconnect 3501.
public struct CommandDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension Command {
    /// Decodes every command in one JSON frame: objects separated by `\n` (a trailing `\n` and blank lines are allowed).
    public static func decodeJSONFrame(_ bytes: [UInt8]) throws(CommandDecodingError) -> [Command] {
        var commands: [Command] = []
        var start = 0
        let count = bytes.count
        while start < count {
            var end = start
            while end < count, bytes[end] != 0x0A { end += 1 }
            if end > start {
                let line = bytes[start..<end]
                if !line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) {
                    commands.append(try decodeJSON(line))
                }
            }
            start = end + 1
        }
        if commands.isEmpty { throw CommandDecodingError("empty frame") }
        return commands
    }

    /// Decodes one JSON command object.
    public static func decodeJSON(_ bytes: some Collection<UInt8>) throws(CommandDecodingError) -> Command {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw CommandDecodingError("malformed JSON: \(error)")
        }
        guard case .object(let obj) = value else { throw CommandDecodingError("command is not an object") }
        var id: UInt32 = 0
        if let idValue = obj["id"], !idValue.isNull {
            guard let v = idValue.uint64Value, v <= UInt64(UInt32.max) else { throw CommandDecodingError("bad id") }
            id = UInt32(v)
        }
        var reader = FieldReader()
        // Centrifugo's precedence: the first set field in this order wins.
        if let v = obj["connect"], !v.isNull { return Command(id: id, request: .connect(try reader.connect(v))) }
        if let v = obj["subscribe"], !v.isNull { return Command(id: id, request: .subscribe(try reader.subscribe(v))) }
        if let v = obj["unsubscribe"], !v.isNull { return Command(id: id, request: .unsubscribe(try reader.channelRequest(v))) }
        if let v = obj["publish"], !v.isNull { return Command(id: id, request: .publish(try reader.publish(v))) }
        if let v = obj["presence"], !v.isNull { return Command(id: id, request: .presence(try reader.channelRequest(v))) }
        if let v = obj["presence_stats"], !v.isNull { return Command(id: id, request: .presenceStats(try reader.channelRequest(v))) }
        if let v = obj["history"], !v.isNull { return Command(id: id, request: .history(try reader.history(v))) }
        if let v = obj["rpc"], !v.isNull { return Command(id: id, request: .rpc(try reader.rpc(v))) }
        if let v = obj["send"], !v.isNull { return Command(id: id, request: .send(try reader.send(v))) }
        if let v = obj["refresh"], !v.isNull { return Command(id: id, request: .refresh(try reader.refresh(v))) }
        if let v = obj["sub_refresh"], !v.isNull { return Command(id: id, request: .subRefresh(try reader.subRefresh(v))) }
        if let v = obj["ping"], !v.isNull { return Command(id: id, request: .legacyPing) }
        return Command(id: id, request: .empty)
    }
}

extension ConnectRequest {
    /// Decodes a bare connect request object, as unidirectional transports receive it (a `cf_connect`
    /// query value, a POST body, or the first WebSocket message). `null` is an empty request, as in Centrifugo.
    public static func decodeJSON(_ bytes: some Collection<UInt8>) throws(CommandDecodingError) -> ConnectRequest {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw CommandDecodingError("malformed JSON: \(error)")
        }
        if value.isNull { return ConnectRequest() }
        var reader = FieldReader()
        return try reader.connect(value)
    }
}

/// Typed field access with precise errors, shared by the command decoders.
struct FieldReader {
    func object(_ v: JSONValue, _ what: String) throws(CommandDecodingError) -> JSONObject {
        guard case .object(let o) = v else { throw CommandDecodingError("\(what) must be an object") }
        return o
    }

    func string(_ o: JSONObject, _ key: String) throws(CommandDecodingError) -> String {
        guard let v = o[key], !v.isNull else { return "" }
        guard let s = v.stringValue else { throw CommandDecodingError("\(key) must be a string") }
        return s
    }

    func bool(_ o: JSONObject, _ key: String) throws(CommandDecodingError) -> Bool {
        guard let v = o[key], !v.isNull else { return false }
        guard let b = v.boolValue else { throw CommandDecodingError("\(key) must be a boolean") }
        return b
    }

    func uint64(_ o: JSONObject, _ key: String) throws(CommandDecodingError) -> UInt64 {
        guard let v = o[key], !v.isNull else { return 0 }
        guard let n = v.uint64Value else { throw CommandDecodingError("\(key) must be a non-negative integer") }
        return n
    }

    func int64(_ o: JSONObject, _ key: String) throws(CommandDecodingError) -> Int64 {
        guard let v = o[key], !v.isNull else { return 0 }
        guard let n = v.int64Value else { throw CommandDecodingError("\(key) must be an integer") }
        return n
    }

    /// `bytes` fields hold raw JSON in the JSON protocol.
    func payload(_ o: JSONObject, _ key: String) -> Payload? {
        guard let v = o[key] else { return nil }
        return Payload(json: v)
    }

    func stringMap(_ o: JSONObject, _ key: String) throws(CommandDecodingError) -> [String: String] {
        guard let v = o[key], !v.isNull else { return [:] }
        guard case .object(let m) = v else { throw CommandDecodingError("\(key) must be an object") }
        var out: [String: String] = [:]
        for member in m.members {
            guard let s = member.value.stringValue else { throw CommandDecodingError("\(key) values must be strings") }
            out[member.key] = s
        }
        return out
    }

    mutating func connect(_ v: JSONValue) throws(CommandDecodingError) -> ConnectRequest {
        let o = try object(v, "connect")
        var r = ConnectRequest()
        r.token = try string(o, "token")
        r.data = payload(o, "data")
        r.name = try string(o, "name")
        r.version = try string(o, "version")
        r.headers = try stringMap(o, "headers")
        if let subs = o["subs"], !subs.isNull {
            guard case .object(let m) = subs else { throw CommandDecodingError("subs must be an object") }
            for member in m.members {
                var s = try subscribe(member.value)
                s.channel = member.key
                r.subs[member.key] = s
            }
        }
        return r
    }

    mutating func subscribe(_ v: JSONValue) throws(CommandDecodingError) -> SubscribeRequest {
        let o = try object(v, "subscribe")
        var r = SubscribeRequest()
        r.channel = try string(o, "channel")
        r.token = try string(o, "token")
        r.recover = try bool(o, "recover")
        r.epoch = try string(o, "epoch")
        r.offset = try uint64(o, "offset")
        r.data = payload(o, "data")
        r.positioned = try bool(o, "positioned")
        r.recoverable = try bool(o, "recoverable")
        r.joinLeave = try bool(o, "join_leave")
        r.delta = try string(o, "delta")
        r.flag = try int64(o, "flag")
        return r
    }

    func channelRequest(_ v: JSONValue) throws(CommandDecodingError) -> ChannelRequest {
        let o = try object(v, "request")
        return ChannelRequest(channel: try string(o, "channel"))
    }

    func publish(_ v: JSONValue) throws(CommandDecodingError) -> PublishRequest {
        let o = try object(v, "publish")
        var r = PublishRequest()
        r.channel = try string(o, "channel")
        r.data = payload(o, "data") ?? Payload(bytes: [])
        return r
    }

    func history(_ v: JSONValue) throws(CommandDecodingError) -> HistoryRequest {
        let o = try object(v, "history")
        var r = HistoryRequest()
        r.channel = try string(o, "channel")
        r.limit = try int64(o, "limit")
        r.reverse = try bool(o, "reverse")
        if let s = o["since"], !s.isNull {
            let so = try object(s, "since")
            r.since = StreamPosition(offset: try uint64(so, "offset"), epoch: try string(so, "epoch"))
        }
        return r
    }

    func rpc(_ v: JSONValue) throws(CommandDecodingError) -> RPCRequest {
        let o = try object(v, "rpc")
        var r = RPCRequest()
        r.method = try string(o, "method")
        r.data = payload(o, "data")
        return r
    }

    func send(_ v: JSONValue) throws(CommandDecodingError) -> SendRequest {
        let o = try object(v, "send")
        var r = SendRequest()
        r.data = payload(o, "data")
        return r
    }

    func refresh(_ v: JSONValue) throws(CommandDecodingError) -> RefreshRequest {
        let o = try object(v, "refresh")
        var r = RefreshRequest()
        r.token = try string(o, "token")
        return r
    }

    func subRefresh(_ v: JSONValue) throws(CommandDecodingError) -> SubRefreshRequest {
        let o = try object(v, "sub_refresh")
        var r = SubRefreshRequest()
        r.channel = try string(o, "channel")
        r.token = try string(o, "token")
        return r
    }
}
