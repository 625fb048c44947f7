import BrokerProtocol

/// Placeholder until the Protobuf codec lands: Protobuf connections are refused with 3501.
enum ProtobufWire {
    static let ping: [UInt8] = [0]
    static func decode(_ bytes: [UInt8]) throws(CommandDecodingError) -> [Command] {
        throw CommandDecodingError("the protobuf protocol is not available yet")
    }
    static func encode(_ reply: Reply) -> [UInt8] { [] }
    static func encode(_ push: Push) -> [UInt8] { [] }
}
