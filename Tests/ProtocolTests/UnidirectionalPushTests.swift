import SwiftProtobuf
import Testing

@testable import BrokerProtocol

/// What Centrifugo's unidirectional transports exchange: a bare connect request in, bare pushes out.
@Suite struct UnidirectionalPushTests {
    @Test func connectAndDisconnectPushesAreBare() throws {
        var r = ConnectResult()
        r.client = "c1"
        r.ping = 25
        r.session = "s1"
        let bytes = try JSONProtocolEncoder.encodeUnidirectional(Push(channel: "", body: .connect(r)))
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"connect":{"client":"c1","ping":25,"session":"s1"}}"#)
        let disconnect = try JSONProtocolEncoder.encodeUnidirectional(Push(channel: "", body: .disconnect(.shutdown)))
        #expect(String(decoding: disconnect, as: UTF8.self) == #"{"disconnect":{"code":3001,"reason":"shutdown"}}"#)
    }

    @Test func aBidirectionalPushIsThePrefixTheBarePushAndABrace() throws {
        let push = Push(channel: "ch", body: .publication(Publication(data: Payload(bytes: Array("1".utf8)), offset: 2)))
        let wrapped = try JSONProtocolEncoder.encode(push)
        let bare = try JSONProtocolEncoder.encodeUnidirectional(push)
        #expect(wrapped == JSONProtocolEncoder.pushPrefix + bare + [UInt8(ascii: "}")])
    }

    @Test func connectPushInProtobufCarriesTheResult() throws {
        var r = ConnectResult()
        r.client = "c1"
        r.session = "s1"
        r.ping = 25
        let bytes = ProtobufProtocolEncoder.encode(Push(channel: "", body: .connect(r)))
        // Shorter than 128 bytes: a one-byte length prefix.
        let reply = try PBReply(serializedBytes: Array(bytes.dropFirst()))
        #expect(Int(bytes[0]) == bytes.count - 1)
        #expect(reply.push.connect.client == "c1" && reply.push.connect.session == "s1" && reply.push.connect.ping == 25)
    }

    @Test func connectRequestDecodesFromABareObject() throws {
        let r = try ConnectRequest.decodeJSON(Array(#"{"token":"t","name":"n","subs":{"ch":{"recover":true,"offset":3,"epoch":"e"}}}"#.utf8))
        #expect(r.token == "t" && r.name == "n")
        #expect(r.subs["ch"]?.offset == 3 && r.subs["ch"]?.recover == true && r.subs["ch"]?.epoch == "e")
        #expect(try ConnectRequest.decodeJSON(Array("null".utf8)) == ConnectRequest())
        #expect(try ConnectRequest.decodeJSON(Array("{\n  \"token\": \"t\"\n}".utf8)).token == "t")
        #expect(throws: CommandDecodingError.self) { try ConnectRequest.decodeJSON(Array("[1]".utf8)) }
        #expect(throws: CommandDecodingError.self) { try ConnectRequest.decodeJSON(Array("{bad".utf8)) }
    }
}
