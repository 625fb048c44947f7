import NIOCore
import Testing

@testable import Broker
@testable import BrokerProtocol

// permessage-deflate (RFC 7692) as `websocket.compression` turns it on: the handshake's negotiation, raw deflate
// without context takeover both ways, the minimum size, and one deflate per push for all its subscribers.

private let allocator = ByteBufferAllocator()

private func bytes(_ buffer: ByteBuffer) -> [UInt8] { Array(buffer.readableBytesView) }

/// The payload and header bits of a complete unmasked frame.
private func parsed(_ frame: ByteBuffer) throws -> (fin: Bool, rsv1: Bool, opcode: UInt8, payload: ByteBuffer) {
    let first = try #require(frame.getInteger(at: frame.readerIndex, as: UInt8.self))
    let (opcode, payload) = try #require(WebSocketFraming.payload(of: frame))
    return (first & 0x80 != 0, first & WebSocketFraming.compressedBit != 0, opcode, payload)
}

/// Text that compresses well, `count` bytes long.
private func jsonLike(_ count: Int) -> [UInt8] {
    let unit = Array(#"{"user":"42","text":"hello world","n":12345},"#.utf8)
    return Array((0..<(count / unit.count + 1)).flatMap { _ in unit }.prefix(count))
}

/// Bytes that do not compress (a simple LCG, deterministic).
private func noise(_ count: Int) -> [UInt8] {
    var state: UInt32 = 12345
    return (0..<count).map { _ in
        state = state &* 1_103_515_245 &+ 12345
        return UInt8(truncatingIfNeeded: state >> 16)
    }
}

private func deflated(_ payload: [UInt8], level: Int = 1, opcode: UInt8 = WebSocketFraming.opcodeText) throws -> ByteBuffer {
    try #require(WebSocketDeflate.frame(opcode: opcode, payload: allocator.buffer(bytes: payload), level: level, allocator: allocator))
}

@Suite("WebSocket compression: negotiation")
struct WebSocketCompressionNegotiationTests {
    let answer = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"

    @Test(arguments: [
        "permessage-deflate",
        "permessage-deflate; client_max_window_bits",  // what browsers and Python's websockets offer
        "permessage-deflate; client_max_window_bits=10",
        "permessage-deflate; client_max_window_bits=\"12\"",
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        "Permessage-Deflate ;client_max_window_bits",
        "x-webkit-deflate-frame, permessage-deflate",
    ])
    func acceptsOffersItCanHonourWithGorillasAnswer(offer: String) {
        #expect(WebSocketDeflateOffer.negotiate([offer]) == answer)
    }

    @Test(arguments: [
        "",
        "x-webkit-deflate-frame",
        "permessage-deflate; server_max_window_bits=10",  // the client's window would be too small for ours
        "permessage-deflate; server_max_window_bits",  // needs a value
        "permessage-deflate; client_max_window_bits=7",
        "permessage-deflate; client_max_window_bits=015",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; mystery_param",
        "permessage-deflate; client_max_window_bits; client_max_window_bits",
        "permessage-deflatex",
    ])
    func declinesOffersItCannotHonour(offer: String) {
        #expect(WebSocketDeflateOffer.negotiate([offer]) == nil)
    }

    @Test func takesTheFirstOfferItCanHonourAcrossHeaderLines() {
        #expect(WebSocketDeflateOffer.negotiate([
            "permessage-deflate; server_max_window_bits=10", "permessage-deflate; client_max_window_bits",
        ]) == answer)
        #expect(WebSocketDeflateOffer.negotiate(["permessage-deflate; server_max_window_bits=9, permessage-deflate"]) == answer)
        #expect(WebSocketDeflateOffer.negotiate([]) == nil)
    }

    @Test func anAcceptedServerWindowIsEchoed() {
        #expect(WebSocketDeflateOffer.negotiate(["permessage-deflate; server_max_window_bits=15"])
            == answer + "; server_max_window_bits=15")
    }

    @Test func settingsComeFromTheEndpointsConfigOnlyWhenCompressionIsOn() throws {
        #expect(WebSocketDeflate(compression: false, level: 1, minSize: 0, messageSizeLimit: 100, decompressedMessageSizeLimit: 0) == nil)
        let derived = try #require(WebSocketDeflate(
            compression: true, level: 3, minSize: 20, messageSizeLimit: 65536, decompressedMessageSizeLimit: 0))
        #expect(derived == WebSocketDeflate(level: 3, minSize: 20, inflatedLimit: 655_360))
        let explicit = try #require(WebSocketDeflate(
            compression: true, level: 1, minSize: 0, messageSizeLimit: 65536, decompressedMessageSizeLimit: 1000))
        #expect(explicit.inflatedLimit == 1000)
    }
}

@Suite("WebSocket compression: deflate and inflate")
struct WebSocketCompressionCodecTests {
    /// RFC 7692 §7.2.3.1: "Hello" compressed without context takeover.
    @Test func inflatesTheRFCsExample() throws {
        let message = allocator.buffer(bytes: [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00])
        let inflated = try WebSocketDeflate.inflate(message, limit: 100, allocator: allocator)
        #expect(String(buffer: inflated) == "Hello")
    }

    /// RFC 7692 §7.2.3.3: level 0 gives the RFC's stored block, with the sync flush's tail removed.
    @Test func levelZeroGivesTheRFCsStoredBlock() throws {
        let frame = try parsed(try deflated(Array("Hello".utf8), level: 0))
        #expect(bytes(frame.payload) == [0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00])
    }

    @Test(arguments: [1, 125, 126, 5000, 70_000, 300_000])
    func roundTripsAtEverySizeWithRSV1OnASingleFrame(size: Int) throws {
        for (payload, level) in [(jsonLike(size), 1), (noise(size), 1), (jsonLike(size), 9), (jsonLike(size), -2), (noise(size), 0)] {
            let frame = try parsed(try deflated(payload, level: level, opcode: WebSocketFraming.opcodeBinary))
            #expect(frame.fin && frame.rsv1 && frame.opcode == WebSocketFraming.opcodeBinary)
            let inflated = try WebSocketDeflate.inflate(frame.payload, limit: size, allocator: allocator)
            #expect(bytes(inflated) == payload, "size \(size) level \(level)")
        }
    }

    @Test func compressesWellAndEachMessageStandsAlone() throws {
        let payload = jsonLike(10_000)
        let first = try parsed(try deflated(payload)).payload
        let second = try parsed(try deflated(payload)).payload
        #expect(first.readableBytes < payload.count / 10)
        // No context takeover: the second message does not refer back to the first, so it is the same bytes.
        #expect(bytes(first) == bytes(second))
        // And the tail a sync flush ends with was removed.
        #expect(bytes(first).suffix(4) != [0x00, 0x00, 0xff, 0xff])
    }

    @Test func aBombIsRefusedWithoutInflatingIt() throws {
        let bomb = try parsed(try deflated([UInt8](repeating: 0, count: 20_000_000), level: 9)).payload
        #expect(bomb.readableBytes < 30_000)
        #expect(throws: WebSocketDeflate.InflateFailure.tooBig) {
            try WebSocketDeflate.inflate(bomb, limit: 655_360, allocator: allocator)
        }
    }

    @Test func theLimitIsInclusive() throws {
        let payload = jsonLike(4096)
        let message = try parsed(try deflated(payload)).payload
        #expect(try WebSocketDeflate.inflate(message, limit: 4096, allocator: allocator).readableBytes == 4096)
        #expect(throws: WebSocketDeflate.InflateFailure.tooBig) {
            try WebSocketDeflate.inflate(message, limit: 4095, allocator: allocator)
        }
    }

    @Test func garbageIsCorrupt() {
        #expect(throws: WebSocketDeflate.InflateFailure.corrupt) {
            try WebSocketDeflate.inflate(allocator.buffer(bytes: [0xff, 0xff, 0xff, 0xff, 0x12]), limit: 1000, allocator: allocator)
        }
    }

    @Test func theMinimumSizeIsExclusiveAndZeroCompressesEverything() {
        let every = WebSocketDeflate(level: 1, minSize: 0, inflatedLimit: 100)
        #expect(every.compresses(payloadLength: 0) && every.compresses(payloadLength: 1))
        let some = WebSocketDeflate(level: 1, minSize: 100, inflatedLimit: 100)
        #expect(!some.compresses(payloadLength: 99) && !some.compresses(payloadLength: 100))
        #expect(some.compresses(payloadLength: 101))
    }

    @Test func repliesAreCompressedAboveTheMinimumSizeOnly() throws {
        let deflate = WebSocketDeflate(level: 1, minSize: 64, inflatedLimit: 100_000)
        let small = Array(#"{"id":1,"connect":{}}"#.utf8)
        let plain = try parsed(OutboundFraming.webSocket.wrapOutbox(small, format: .json, allocator: allocator, deflate: deflate))
        #expect(!plain.rsv1 && bytes(plain.payload) == small)
        let large = jsonLike(2000)
        let compressed = try parsed(OutboundFraming.webSocket.wrapOutbox(large, format: .json, allocator: allocator, deflate: deflate))
        #expect(compressed.rsv1 && compressed.opcode == WebSocketFraming.opcodeText)
        #expect(bytes(try WebSocketDeflate.inflate(compressed.payload, limit: 2000, allocator: allocator)) == large)
        let unnegotiated = try parsed(OutboundFraming.webSocket.wrapOutbox(large, format: .json, allocator: allocator))
        #expect(!unnegotiated.rsv1 && bytes(unnegotiated.payload) == large)
    }

    @Test func uniWebSocketFramesEachMessageCompressed() throws {
        let deflate = WebSocketDeflate(level: 1, minSize: 0, inflatedLimit: 100_000)
        var outbox = JSONWriter(capacity: 0)
        let message = jsonLike(500)
        OutboundFraming.uniWebSocket(joined: false).append(message, to: &outbox, count: 0, format: .json, deflate: deflate)
        let frame = try parsed(allocator.buffer(bytes: outbox.bytes))
        #expect(frame.rsv1)
        #expect(bytes(try WebSocketDeflate.inflate(frame.payload, limit: 500, allocator: allocator)) == message)
    }
}

@Suite("WebSocket compression: one deflate per push")
struct WebSocketCompressionPreparedPushTests {
    private func push(data: [UInt8]) -> PreparedPush {
        let publication = Publication(data: Payload(bytes: data), offset: 3)
        return PreparedPush.publication(channel: "news", publication: publication, epoch: "e", allocator: allocator)
    }

    private let deflate = WebSocketDeflate(level: 1, minSize: 0, inflatedLimit: 1 << 20)
    private let jsonForm = PreparedPush.DeflatedForm(delta: nil, json: true, uni: false)

    @Test func oneDeflateServesEverySubscriber() throws {
        let prepared = push(data: Array(#""\#(String(repeating: "abc", count: 400))""#.utf8))
        let frame = try #require(prepared.frame(for: .json))
        var built = 0
        var storages: Set<UInt> = []
        for _ in 0..<1000 {
            let deflated = try #require(prepared.deflatedFrame(frame, form: jsonForm, deflate: deflate))
            if deflated.built { built += 1 }
            storages.insert(deflated.frame.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) })
        }
        #expect(built == 1)
        #expect(storages.count == 1, "every subscriber writes the same bytes")
        let cached = try parsed(try #require(prepared.deflatedFrame(frame, form: jsonForm, deflate: deflate)).frame)
        #expect(cached.rsv1)
        let inflated = try WebSocketDeflate.inflate(cached.payload, limit: 1 << 20, allocator: allocator)
        #expect(bytes(inflated) == bytes(try parsed(frame).payload))
    }

    @Test func eachFormAndLevelIsDeflatedOnceOfItsOwn() throws {
        let prepared = push(data: Array(#""\#(String(repeating: "xyz", count: 300))""#.utf8))
        let json = try #require(prepared.frame(for: .json))
        let protobuf = try #require(prepared.frame(for: .protobuf))
        let forms: [(ByteBuffer, PreparedPush.DeflatedForm, WebSocketDeflate)] = [
            (json, jsonForm, deflate),
            (protobuf, .init(delta: nil, json: false, uni: false), deflate),
            (json, .init(delta: nil, json: true, uni: true), deflate),
            (json, jsonForm, WebSocketDeflate(level: 9, minSize: 0, inflatedLimit: 1 << 20)),
        ]
        for (frame, form, settings) in forms {
            #expect(prepared.deflatedFrame(frame, form: form, deflate: settings)?.built == true)
            #expect(prepared.deflatedFrame(frame, form: form, deflate: settings)?.built == false)
        }
        let binary = try parsed(try #require(prepared.deflatedFrame(protobuf, form: forms[1].1, deflate: deflate)).frame)
        #expect(binary.rsv1 && binary.opcode == WebSocketFraming.opcodeBinary)
        // uni_websocket subscribers get the bare push object, as they do uncompressed.
        let uni = try parsed(try #require(prepared.deflatedFrame(json, form: forms[2].1, deflate: deflate)).frame)
        let object = try #require(UniPushSlice.pushObject(in: json))
        #expect(bytes(try WebSocketDeflate.inflate(uni.payload, limit: 1 << 20, allocator: allocator)) == bytes(object))
    }

    @Test func deltaFormsAreCachedApart() throws {
        let base = Payload(bytes: Array(#"{"text":"\#(String(repeating: "a", count: 500))"}"#.utf8))
        let publication = Publication(data: Payload(bytes: Array(#"{"text":"\#(String(repeating: "a", count: 499))b"}"#.utf8)), offset: 4)
        let prepared = PreparedPush.publication(
            channel: "news", publication: publication, epoch: "e", deltaBase: base, allocator: allocator)
        let full = try #require(prepared.deltaFrame(for: .json, patched: false))
        let patch = try #require(prepared.deltaFrame(for: .json, patched: true))
        let deflatedFull = try #require(prepared.deflatedFrame(full, form: .init(delta: false, json: true, uni: false), deflate: deflate))
        let deflatedPatch = try #require(prepared.deflatedFrame(patch, form: .init(delta: true, json: true, uni: false), deflate: deflate))
        #expect(deflatedFull.built && deflatedPatch.built)
        for (deflated, source) in [(deflatedFull.frame, full), (deflatedPatch.frame, patch)] {
            let inflated = try WebSocketDeflate.inflate(try parsed(deflated).payload, limit: 1 << 20, allocator: allocator)
            #expect(bytes(inflated) == bytes(try parsed(source).payload))
        }
    }

    @Test func framesAtOrBelowTheMinimumSizeStayUncompressed() throws {
        let prepared = push(data: Array(#""short""#.utf8))
        let frame = try #require(prepared.frame(for: .json))
        let size = try parsed(frame).payload.readableBytes
        let atSize = WebSocketDeflate(level: 1, minSize: size, inflatedLimit: 1000)
        #expect(prepared.deflatedFrame(frame, form: jsonForm, deflate: atSize) == nil)
        let belowSize = WebSocketDeflate(level: 1, minSize: size - 1, inflatedLimit: 1000)
        #expect(prepared.deflatedFrame(frame, form: jsonForm, deflate: belowSize)?.built == true)
    }
}

@Suite("WebSocket compression: config")
struct WebSocketCompressionConfigTests {
    private func parse(_ json: String, env: [String: String] = [:]) throws(ConfigError) -> BrokerConfig {
        try ConfigLoader.parse(json: Array(json.utf8), environment: env)
    }

    @Test func defaultsAreCentrifugos() throws {
        let c = try parse("{}")
        #expect(!c.websocket.compression && c.websocket.compressionLevel == 1 && c.websocket.compressionMinSize == 0)
        #expect(c.websocket.decompressedMessageSizeLimit == 0)
        #expect(!c.uniWebSocket.compression && c.uniWebSocket.compressionLevel == 1)
    }

    @Test func keysAndEnvironmentAreRead() throws {
        let c = try parse(#"""
            {"websocket": {"compression": true, "compression_level": 5, "compression_min_size": 128,
                           "decompressed_message_size_limit": 1000000},
             "uni_websocket": {"compression": true, "compression_level": -1, "compression_min_size": 10}}
            """#)
        #expect(c.websocket.compression && c.websocket.compressionLevel == 5 && c.websocket.compressionMinSize == 128)
        #expect(c.websocket.decompressedMessageSizeLimit == 1_000_000)
        #expect(c.uniWebSocket.compression && c.uniWebSocket.compressionLevel == -1 && c.uniWebSocket.compressionMinSize == 10)
        let env = try parse("{}", env: ["CENTRIFUGO_WEBSOCKET_COMPRESSION": "true", "CENTRIFUGO_WEBSOCKET_COMPRESSION_LEVEL": "9"])
        #expect(env.websocket.compression && env.websocket.compressionLevel == 9)
    }

    @Test(arguments: [("websocket", 10), ("websocket", -3), ("uni_websocket", 42)])
    func aLevelOutsideZlibsRangeNamesItsKey(section: String, level: Int) {
        do {
            _ = try parse(#"{"\#(section)": {"compression": true, "compression_level": \#(level)}}"#)
            Issue.record("loaded")
        } catch {
            #expect(error.key == section + ".compression_level")
            #expect(error.message.contains("\(level) is not a zlib compression level"))
        }
    }
}
