import BrokerProtocol

/// Which encoding a connection speaks: JSON (text frames, `\n`-joined messages) or Protobuf
/// (binary frames, varint-length-prefixed messages). Chosen at the WebSocket handshake.
public enum WireFormat: Sendable, Equatable {
    case json
    case protobuf

    /// WebSocket opcode of this format's frames.
    var opcode: UInt8 { self == .json ? WebSocketFraming.opcodeText : WebSocketFraming.opcodeBinary }

    /// The server's ping message.
    var ping: [UInt8] { self == .json ? JSONProtocolEncoder.ping : ProtobufProtocolEncoder.ping }

    /// Between two messages in one frame.
    var separator: UInt8? { self == .json ? UInt8(ascii: "\n") : nil }

    func decode(_ bytes: [UInt8]) throws(CommandDecodingError) -> [Command] {
        switch self {
        case .json: return try Command.decodeJSONFrame(bytes)
        case .protobuf: return try Command.decodeProtobufFrame(bytes)
        }
    }

    func encode(_ reply: Reply) throws(InappropriateProtocolError) -> [UInt8] {
        switch self {
        case .json: return try JSONProtocolEncoder.encode(reply)
        case .protobuf: return ProtobufProtocolEncoder.encode(reply)
        }
    }

    func encode(_ push: Push) throws(InappropriateProtocolError) -> [UInt8] {
        switch self {
        case .json: return try JSONProtocolEncoder.encode(push)
        case .protobuf: return ProtobufProtocolEncoder.encode(push)
        }
    }

    /// Centrifugo's selection: subprotocol `centrifuge-protobuf`, or `?format=protobuf` /
    /// `?cf_protocol=protobuf`; anything else is JSON.
    static func select(offeredSubprotocols: [String], query: String) -> WireFormat {
        if offeredSubprotocols.contains("centrifuge-protobuf") { return .protobuf }
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0] == "format" || kv[0] == "cf_protocol", kv[1] == "protobuf" { return .protobuf }
        }
        return .json
    }
}
