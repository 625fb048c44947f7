import SwiftProtobuf

extension Command {
    /// Decodes every command in one binary frame: messages each prefixed by their length as an
    /// unsigned varint, concatenated. A lone `0x00` is an empty Command (a pong with `id` 0).
    ///
    /// Truncated input, a declared length past the end of the frame, or a malformed message throws;
    /// nothing is allocated from a declared length before it has been checked against the frame.
    public static func decodeProtobufFrame(_ bytes: [UInt8]) throws(CommandDecodingError) -> [Command] {
        if bytes.isEmpty { throw CommandDecodingError("empty frame") }
        var commands: [Command] = []
        var position = 0
        let count = bytes.count
        while position < count {
            let length = try readLengthPrefix(bytes, at: &position)
            guard length <= UInt64(count - position) else {
                throw CommandDecodingError("message length \(length) exceeds the \(count - position) bytes left in the frame")
            }
            let end = position + Int(length)
            // A zero length is an empty Command: the pong.
            let message = length == 0 ? PBCommand() : try parse(Array(bytes[position..<end]))
            commands.append(command(from: message))
            position = end
        }
        return commands
    }

    /// Decodes one Protobuf `Command` message without a length prefix.
    public static func decodeProtobuf(_ bytes: some Collection<UInt8>) throws(CommandDecodingError) -> Command {
        let message = try parse(Array(bytes))
        return command(from: message)
    }

    /// Reads an unsigned varint (at most 10 bytes, fitting in 64 bits) and advances `position`.
    static func readLengthPrefix(_ bytes: [UInt8], at position: inout Int) throws(CommandDecodingError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < bytes.count else { throw CommandDecodingError("truncated length prefix") }
            let byte = bytes[position]
            position += 1
            if shift == 63 && byte > 1 { throw CommandDecodingError("length prefix overflows 64 bits") }
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
            if shift > 63 { throw CommandDecodingError("length prefix too long") }
        }
    }

    static func parse(_ bytes: [UInt8]) throws(CommandDecodingError) -> PBCommand {
        var options = BinaryDecodingOptions()
        options.discardUnknownFields = true
        do {
            return try PBCommand(serializedBytes: bytes, options: options)
        } catch {
            throw CommandDecodingError("malformed protobuf command: \(error)")
        }
    }

    /// Maps a decoded message to a `Command`, with the same precedence as the JSON decoder.
    static func command(from m: PBCommand) -> Command {
        let id = m.id
        if m.hasConnect { return Command(id: id, request: .connect(connectRequest(m.connect))) }
        if m.hasSubscribe { return Command(id: id, request: .subscribe(subscribeRequest(m.subscribe))) }
        if m.hasUnsubscribe { return Command(id: id, request: .unsubscribe(ChannelRequest(channel: m.unsubscribe.channel))) }
        if m.hasPublish {
            var r = PublishRequest()
            r.channel = m.publish.channel
            r.data = Payload(bytes: [UInt8](m.publish.data), isBinary: true)
            return Command(id: id, request: .publish(r))
        }
        if m.hasPresence { return Command(id: id, request: .presence(ChannelRequest(channel: m.presence.channel))) }
        if m.hasPresenceStats {
            return Command(id: id, request: .presenceStats(ChannelRequest(channel: m.presenceStats.channel)))
        }
        if m.hasHistory {
            let h = m.history
            var r = HistoryRequest()
            r.channel = h.channel
            r.limit = Int64(h.limit)
            r.reverse = h.reverse
            if h.hasSince { r.since = StreamPosition(offset: h.since.offset, epoch: h.since.epoch) }
            return Command(id: id, request: .history(r))
        }
        if m.hasRpc {
            var r = RPCRequest()
            r.method = m.rpc.method
            r.data = payload(m.rpc.data)
            return Command(id: id, request: .rpc(r))
        }
        if m.hasSend {
            var r = SendRequest()
            r.data = payload(m.send.data)
            return Command(id: id, request: .send(r))
        }
        if m.hasRefresh {
            var r = RefreshRequest()
            r.token = m.refresh.token
            return Command(id: id, request: .refresh(r))
        }
        if m.hasSubRefresh {
            var r = SubRefreshRequest()
            r.channel = m.subRefresh.channel
            r.token = m.subRefresh.token
            return Command(id: id, request: .subRefresh(r))
        }
        if m.hasPing { return Command(id: id, request: .legacyPing) }
        return Command(id: id, request: .empty)
    }

    /// `bytes` fields cannot tell "absent" from "empty": both decode to `nil`.
    /// The bytes are opaque here; they are not marked binary.
    static func payload<D: Collection<UInt8>>(_ data: D) -> Payload? {
        data.isEmpty ? nil : Payload(bytes: [UInt8](data))
    }

    static func connectRequest(_ m: PBConnectRequest) -> ConnectRequest {
        var r = ConnectRequest()
        r.token = m.token
        r.data = payload(m.data)
        for (channel, sub) in m.subs {
            var s = subscribeRequest(sub)
            s.channel = channel
            r.subs[channel] = s
        }
        r.name = m.name
        r.version = m.version
        r.headers = m.headers
        return r
    }

    static func subscribeRequest(_ m: PBSubscribeRequest) -> SubscribeRequest {
        var r = SubscribeRequest()
        r.channel = m.channel
        r.token = m.token
        r.recover = m.recover
        r.epoch = m.epoch
        r.offset = m.offset
        r.data = payload(m.data)
        r.positioned = m.positioned
        r.recoverable = m.recoverable
        r.joinLeave = m.joinLeave
        r.delta = m.delta
        r.flag = m.flag
        return r
    }
}
