import BrokerProtocol

/// The Protobuf subprotocol's codec, as the session uses it.
enum ProtobufWire {
    static let ping: [UInt8] = ProtobufProtocolEncoder.ping

    static func decode(_ bytes: [UInt8]) throws(CommandDecodingError) -> [Command] {
        try Command.decodeProtobufFrame(bytes)
    }

    static func encode(_ reply: Reply) -> [UInt8] { ProtobufProtocolEncoder.encode(reply) }
    static func encode(_ push: Push) -> [UInt8] { ProtobufProtocolEncoder.encode(push) }
}
