import NIOCore
import Testing

@testable import Broker
@testable import BrokerProtocol

@Suite("Unidirectional framing")
struct UniFramingTests {
    private func preparedFrame(data: String) throws -> ByteBuffer {
        let publication = Publication(data: Payload(bytes: Array(data.utf8)), offset: 7)
        let prepared = PreparedPush.publication(channel: "news", publication: publication, epoch: "e", allocator: ByteBufferAllocator())
        return try #require(prepared.jsonFrame)
    }

    private func string(_ b: ByteBuffer) -> String { String(buffer: b) }

    @Test(arguments: [10, 200, 70_000])
    func theSliceIsTheBarePushForEveryHeaderSize(size: Int) throws {
        let data = "\"" + String(repeating: "x", count: size) + "\""
        let frame = try preparedFrame(data: data)
        let slice = try #require(UniPushSlice.pushObject(in: frame))
        #expect(string(slice) == #"{"channel":"news","pub":{"data":"# + data + #","offset":7}}"#)
        #expect(string(slice) == String(decoding: try JSONProtocolEncoder.encodeUnidirectional(
            Push(channel: "news", body: .publication(Publication(data: Payload(bytes: Array(data.utf8)), offset: 7)))), as: UTF8.self))
    }

    @Test func theSliceSharesTheFramesStorage() throws {
        let frame = try preparedFrame(data: "1")
        let slice = try #require(UniPushSlice.pushObject(in: frame))
        let same = frame.withUnsafeReadableBytes { f in slice.withUnsafeReadableBytes { s in f.baseAddress! < s.baseAddress! && s.baseAddress! < f.baseAddress! + f.count } }
        #expect(same)
    }

    @Test func framesThatAreNotJSONPushesAreRefused() {
        let allocator = ByteBufferAllocator()
        #expect(UniPushSlice.pushObject(in: WebSocketFraming.frame(payload: Array(#"{"id":1}"#.utf8), allocator: allocator)) == nil)
        #expect(UniPushSlice.pushObject(in: WebSocketFraming.frame(opcode: WebSocketFraming.opcodeBinary, payload: [1, 2, 3], allocator: allocator)) == nil)
        #expect(UniPushSlice.pushObject(in: ByteBuffer()) == nil)
    }

    @Test func sseEventsAndStreamLinesFrameEachMessage() {
        var sse = JSONWriter(capacity: 0)
        OutboundFraming.sse.append(Array("{}".utf8), to: &sse, count: 0, format: .json)
        OutboundFraming.sse.append(Array(#"{"a":1}"#.utf8), to: &sse, count: 1, format: .json)
        #expect(String(decoding: sse.bytes, as: UTF8.self) == "data: {}\n\ndata: {\"a\":1}\n\n")

        var lines = JSONWriter(capacity: 0)
        OutboundFraming.httpStream.append(Array("{}".utf8), to: &lines, count: 0, format: .json)
        OutboundFraming.httpStream.append(Array("{}".utf8), to: &lines, count: 1, format: .json)
        #expect(String(decoding: lines.bytes, as: UTF8.self) == "{}\n{}\n")
    }

    @Test func uniWebSocketFramesEachMessageUnlessJoined() {
        let allocator = ByteBufferAllocator()
        var separate = JSONWriter(capacity: 0)
        OutboundFraming.uniWebSocket(joined: false).append(Array("{}".utf8), to: &separate, count: 0, format: .json)
        OutboundFraming.uniWebSocket(joined: false).append(Array("{}".utf8), to: &separate, count: 1, format: .json)
        #expect(separate.bytes == [0x81, 2, 0x7B, 0x7D, 0x81, 2, 0x7B, 0x7D])
        #expect(Array(OutboundFraming.uniWebSocket(joined: false).wrapOutbox(separate.bytes, format: .json, allocator: allocator).readableBytesView)
            == separate.bytes)

        var joined = JSONWriter(capacity: 0)
        OutboundFraming.uniWebSocket(joined: true).append(Array("{}".utf8), to: &joined, count: 0, format: .json)
        OutboundFraming.uniWebSocket(joined: true).append(Array("{}".utf8), to: &joined, count: 1, format: .json)
        let frame = OutboundFraming.uniWebSocket(joined: true).wrapOutbox(joined.bytes, format: .json, allocator: allocator)
        #expect(Array(frame.readableBytesView) == [0x81, 5] + Array("{}\n{}".utf8))
    }

    @Test func connectErrorsMapToCentrifugosUnidirectionalDisconnects() {
        #expect(ClientSession.unidirectionalDisconnect(for: .tokenExpired) == .expired)
        #expect(ClientSession.unidirectionalDisconnect(for: .expired) == .expired)
        #expect(ClientSession.unidirectionalDisconnect(for: .permissionDenied) == .permissionDenied)
        #expect(ClientSession.unidirectionalDisconnect(for: .tooManyRequests) == .tooManyRequests)
        #expect(ClientSession.unidirectionalDisconnect(for: .unknownChannel) == .serverError)
        var configured = ConnectCodeToUnidirectionalDisconnect()
        configured.transforms = [.init(code: 109, toCode: 4501, toReason: "refresh token")]
        #expect(ClientSession.unidirectionalDisconnect(for: .tokenExpired, configured: configured) == .expired)
        configured.enabled = true
        #expect(ClientSession.unidirectionalDisconnect(for: .tokenExpired, configured: configured)
            == Disconnect(code: 4501, reason: "refresh token"))
        #expect(ClientSession.unidirectionalDisconnect(for: .expired, configured: configured) == .expired)
    }
}
