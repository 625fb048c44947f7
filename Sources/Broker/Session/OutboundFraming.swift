import BrokerProtocol
import NIOCore

/// How a session's outbound messages are laid out on its transport.
///
/// The bidirectional WebSocket joins one tick's replies and pushes into a single frame. The
/// unidirectional transports (Centrifugo's `uni_*`) carry bare pushes, each framed its own way.
/// A prepared publication (``PreparedPush``) is a complete `{"push":...}` WebSocket frame built once
/// per channel; the unidirectional framings write a slice of it (see ``UniPushSlice``) between their
/// own delimiters, so nothing is re-encoded per subscriber.
enum OutboundFraming: Sendable, Equatable {
    /// Bidirectional WebSocket: messages `\n`-joined (JSON) or concatenated (Protobuf) in one frame per tick.
    case webSocket
    /// `uni_websocket`: one text frame per push, or one `\n`-joined frame per tick with `join_push_messages`.
    case uniWebSocket(joined: Bool)
    /// `uni_sse`: each push is an event, `data: <json>\n\n`.
    case sse
    /// `uni_http_stream`: newline-delimited JSON, `<json>\n`.
    case httpStream

    /// The transport's name in proxy requests, as Centrifugo names it.
    var transportName: String {
        switch self {
        case .webSocket: return "websocket"
        case .uniWebSocket: return "uni_websocket"
        case .sse: return "uni_sse"
        case .httpStream: return "uni_http_stream"
        }
    }

    var isUnidirectional: Bool { self != .webSocket }

    var isUniWebSocket: Bool {
        if case .uniWebSocket = self { return true }
        return false
    }

    /// True when the outbox holds bare messages that ``wrapOutbox`` puts in one WebSocket frame.
    private var framesOutboxAtEmit: Bool {
        switch self {
        case .webSocket, .uniWebSocket(joined: true): return true
        case .uniWebSocket(joined: false), .sse, .httpStream: return false
        }
    }

    private static let ssePrefix: [UInt8] = Array("data: ".utf8)
    private static let sseSuffix: [UInt8] = Array("\n\n".utf8)
    private static let newline: [UInt8] = [UInt8(ascii: "\n")]

    /// Adds one encoded message to the tick's outbox; `count` messages are already in it. With `deflate`
    /// (permessage-deflate negotiated), a message framed on its own here is compressed here.
    func append(_ message: [UInt8], to outbox: inout JSONWriter, count: Int, format: WireFormat, deflate: WebSocketDeflate? = nil) {
        switch self {
        case .webSocket, .uniWebSocket(joined: true):
            if count > 0, let separator = format.separator { outbox.raw(separator) }
            outbox.raw(message)
        case .uniWebSocket(joined: false):
            if let deflate, deflate.compresses(payloadLength: message.count),
                let frame = WebSocketDeflate.frame(
                    opcode: format.opcode, payload: ByteBuffer(bytes: message), level: deflate.level, allocator: ByteBufferAllocator())
            {
                outbox.raw(frame.readableBytesView)
                return
            }
            var header = ByteBuffer()
            WebSocketFraming.writeHeader(opcode: format.opcode, payloadLength: message.count, into: &header)
            outbox.raw(header.readableBytesView)
            outbox.raw(message)
        case .sse:
            outbox.raw(OutboundFraming.ssePrefix)
            outbox.raw(message)
            outbox.raw(OutboundFraming.sseSuffix)
        case .httpStream:
            outbox.raw(message)
            outbox.raw(OutboundFraming.newline)
        }
    }

    /// The bytes to write for a non-empty outbox; with `deflate`, a frame built here is compressed when its
    /// payload passes the minimum size.
    func wrapOutbox(_ bytes: [UInt8], format: WireFormat, allocator: ByteBufferAllocator, deflate: WebSocketDeflate? = nil) -> ByteBuffer {
        if framesOutboxAtEmit {
            if let deflate, deflate.compresses(payloadLength: bytes.count),
                let frame = WebSocketDeflate.frame(
                    opcode: format.opcode, payload: allocator.buffer(bytes: bytes), level: deflate.level, allocator: allocator)
            {
                return frame
            }
            return WebSocketFraming.frame(opcode: format.opcode, payload: bytes, allocator: allocator)
        }
        return allocator.buffer(bytes: bytes)
    }

    /// Writes a prepared push frame (a complete `{"push":...}` WebSocket frame shared by all subscribers).
    /// Returns false when the frame is not a JSON push frame this framing can slice.
    func writePrepared(_ frame: ByteBuffer, to transport: any SessionTransport) -> Bool {
        switch self {
        case .webSocket:
            transport.writeFrame(frame)
            return true
        case .uniWebSocket:
            guard let push = UniPushSlice.pushObject(in: frame) else { return false }
            var header = transport.allocator.buffer(capacity: 10)
            WebSocketFraming.writeHeader(opcode: WebSocketFraming.opcodeText, payloadLength: push.readableBytes, into: &header)
            transport.writeFrame(header)
            transport.writeFrame(push)
            return true
        case .sse:
            guard let push = UniPushSlice.pushObject(in: frame) else { return false }
            transport.writeFrame(UniPushSlice.ssePrefix)
            transport.writeFrame(push)
            transport.writeFrame(UniPushSlice.sseSuffix)
            return true
        case .httpStream:
            guard let push = UniPushSlice.pushObject(in: frame) else { return false }
            transport.writeFrame(push)
            transport.writeFrame(UniPushSlice.newline)
            return true
        }
    }
}

/// Finds the bare push object inside a prepared JSON push frame without copying it.
///
/// A prepared frame is `<WebSocket header>{"push":<push object>}`; the slice shares the frame's
/// storage, so every unidirectional subscriber writes the same bytes.
enum UniPushSlice {
    static let ssePrefix = ByteBuffer(string: "data: ")
    static let sseSuffix = ByteBuffer(string: "\n\n")
    static let newline = ByteBuffer(string: "\n")

    /// The push object in `frame`, or nil when `frame` is not an unmasked text frame holding `{"push":…}`.
    static func pushObject(in frame: ByteBuffer) -> ByteBuffer? {
        guard let (opcode, payload) = WebSocketFraming.payload(of: frame), opcode == WebSocketFraming.opcodeText else {
            return nil
        }
        let prefix = JSONProtocolEncoder.pushPrefix
        let start = payload.readerIndex
        let objectLength = payload.readableBytes - prefix.count - 1
        guard objectLength >= 2, payload.getInteger(at: payload.writerIndex - 1, as: UInt8.self) == UInt8(ascii: "}") else {
            return nil
        }
        for (i, byte) in prefix.enumerated() where payload.getInteger(at: start + i, as: UInt8.self) != byte {
            return nil
        }
        return payload.getSlice(at: start + prefix.count, length: objectLength)
    }
}
