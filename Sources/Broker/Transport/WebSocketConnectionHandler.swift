import BrokerProtocol
import NIOCore
import NIOSSL
import NIOWebSocket

/// What a `uni_websocket` connection needs beyond a bidirectional one.
struct UniWebSocketOptions: Sendable {
    /// From `?cf_connect=`; nil: the first message is the connect request.
    var connect: ConnectRequest?
    var joinPushMessages: Bool
    var disableDisconnectPush: Bool

    init(config: UniWebSocketConfig, connect: ConnectRequest?) {
        self.connect = connect
        self.joinPushMessages = config.joinPushMessages
        self.disableDisconnectPush = config.disableDisconnectPush
    }
}

/// The end of a client's WebSocket pipeline: reassembles messages, feeds the session, and writes
/// frames the session (or the hub) built.
///
/// On `uni_websocket` (``UniWebSocketOptions``) the only message the client sends is its connect
/// request (unless it came in `?cf_connect=`); later messages are read and ignored, as in Centrifugo.
///
/// Outbound it writes ready-made frames as ByteBuffers: the pipeline has no frame encoder, so a
/// publication frame shared by many connections goes out without being re-framed per connection.
///
/// With permessage-deflate negotiated (``negotiateCompression(offers:)``) the session builds compressed
/// frames itself (see ``WebSocketDeflate``); inbound, a message whose first frame has RSV1 set is inflated
/// here, bounded by the endpoint's `decompressed_message_size_limit`.
final class WebSocketConnectionHandler: ChannelInboundHandler, SessionTransport {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = ByteBuffer

    private let node: Node
    private let maxMessageSize: Int
    private let format: WireFormat
    private let nativePing: Bool
    private let writeTimeout: TimeAmount
    private var session: ClientSession?
    private var context: ChannelHandlerContext?
    /// The channel's writability, kept from `channelWritabilityChanged` (NIO fires it as soon as a write
    /// crosses a watermark), so that the check per delivered message reads a stored flag.
    private var writable = false
    /// Where outbound frames go. No outbound handler sits between this handler and the pipeline's head
    /// (the frame decoder only reads), so frames are handed to the channel's core directly: the same
    /// writes a `context.write` would reach, without the pipeline walk per delivered message.
    private var core: (any ChannelCore)?
    private var fragments: ByteBuffer?
    /// The message being reassembled in `fragments` is compressed (its first frame had RSV1 set).
    private var fragmentsCompressed = false
    /// The endpoint's permessage-deflate settings (nil: `compression` is off).
    private let deflateSettings: WebSocketDeflate?
    /// Set when the handshake negotiated permessage-deflate.
    private var deflate: WebSocketDeflate?
    private var closeSent = false
    private let uni: UniWebSocketOptions?
    /// uni_websocket: the connect request has been taken (from the query or the first message).
    private var uniConnectTaken = false
    /// The upgrade request's headers that some proxy passes on.
    private let requestHeaders: [(String, String)]

    init(node: Node, maxMessageSize: Int, format: WireFormat, nativePing: Bool, requestHeaders: [(String, String)] = []) {
        self.node = node
        self.requestHeaders = requestHeaders
        self.format = format
        self.nativePing = nativePing
        self.maxMessageSize = maxMessageSize
        self.writeTimeout = .milliseconds(max(100, node.config.websocket.writeTimeout.milliseconds))
        self.uni = nil
        let ws = node.config.websocket
        self.deflateSettings = WebSocketDeflate(
            compression: ws.compression, level: ws.compressionLevel, minSize: ws.compressionMinSize,
            messageSizeLimit: ws.messageSizeLimit, decompressedMessageSizeLimit: ws.decompressedMessageSizeLimit)
    }

    init(node: Node, uni: UniWebSocketOptions, requestHeaders: [(String, String)] = []) {
        self.node = node
        self.requestHeaders = requestHeaders
        self.format = .json
        self.nativePing = false
        self.maxMessageSize = node.config.uniWebSocket.messageSizeLimit
        self.writeTimeout = .milliseconds(max(100, node.config.uniWebSocket.writeTimeout.milliseconds))
        self.uni = uni
        let ws = node.config.uniWebSocket
        self.deflateSettings = WebSocketDeflate(
            compression: ws.compression, level: ws.compressionLevel, minSize: ws.compressionMinSize,
            messageSizeLimit: ws.messageSizeLimit, decompressedMessageSizeLimit: ws.decompressedMessageSizeLimit)
    }

    /// The handshake's `Sec-WebSocket-Extensions` answer to the client's offers, or nil: permessage-deflate
    /// when the endpoint has compression on and the client offers it in a form the broker honours (see
    /// ``WebSocketDeflateOffer``). Called once, before the handler joins the pipeline.
    func negotiateCompression(offers: [String]) -> String? {
        guard let deflateSettings, let answer = WebSocketDeflateOffer.negotiate(offers) else { return nil }
        deflate = deflateSettings
        return answer
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // With TLS a handler encrypts what is written, so frames go through the pipeline instead.
        let encrypted = (try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)) != nil
        self.core = encrypted ? nil : context.channel._channelCore
        self.writable = context.channel.isWritable
        guard let loopHub = node.hub.loopHub(for: context.eventLoop) else {
            context.close(promise: nil)
            return
        }
        guard let uni else {
            let session = ClientSession(node: node, loopHub: loopHub, transport: self, format: format, nativePing: nativePing)
            session.requestHeaders = requestHeaders
            session.deflate = deflate
            self.session = session
            return
        }
        let session = ClientSession(node: node, loopHub: loopHub, transport: self, framing: .uniWebSocket(joined: uni.joinPushMessages))
        session.requestHeaders = requestHeaders
        session.sendsDisconnectPush = !uni.disableDisconnectPush
        session.deflate = deflate
        self.session = session
        if let connect = uni.connect {
            uniConnectTaken = true
            // After the upgrade response has gone out.
            context.eventLoop.execute { session.connectUnidirectional(connect) }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        session?.transportClosed()
        session = nil
        self.context = nil
        self.core = nil
        self.writable = false
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        // RSV1 marks a compressed message, on its first frame only, and only once negotiated (RFC 7692 §6).
        if frame.rsv1 && (deflate == nil || (frame.opcode != .text && frame.opcode != .binary)) {
            closeWith(.badRequest)
            return
        }
        switch frame.opcode {
        case .text, .binary:
            if frame.fin {
                fragments = nil
                deliver(frame.unmaskedData, compressed: frame.rsv1)
            } else {
                fragments = frame.unmaskedData
                fragmentsCompressed = frame.rsv1
            }
        case .continuation:
            guard var buffer = fragments else {
                closeWith(.badRequest)
                return
            }
            var part = frame.unmaskedData
            buffer.writeBuffer(&part)
            if buffer.readableBytes > maxMessageSize {
                fragments = nil
                closeWith(.messageTooBig)
                return
            }
            if frame.fin {
                fragments = nil
                deliver(buffer, compressed: fragmentsCompressed)
            } else {
                fragments = buffer
            }
        case .connectionClose:
            // Answer the client's close (echo its code) and go.
            var data = frame.unmaskedData
            let code = data.readInteger(as: UInt16.self) ?? 1000
            if !closeSent {
                closeSent = true
                let reply = WebSocketFraming.closeFrame(code: code, reason: "", allocator: context.channel.allocator)
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(reply)).whenComplete { _ in channel.close(promise: nil) }
            } else {
                context.close(promise: nil)
            }
            session?.transportClosed()
            session = nil
        case .ping:
            let pong = WebSocketFraming.frame(
                opcode: WebSocketFraming.opcodePong, payload: frame.unmaskedData.readableBytesView, allocator: context.channel.allocator)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .pong:
            session?.nativePongReceived()
        default:
            break
        }
    }

    private func deliver(_ message: ByteBuffer, compressed: Bool) {
        // uni_websocket reads and drops what follows the connect request (without inflating it).
        if uni != nil && uniConnectTaken {
            node.metrics.received()
            return
        }
        guard let buffer = compressed ? inflated(message) : message else { return }
        node.metrics.received()
        guard uni != nil else {
            session?.handleFrame(Array(buffer.readableBytesView))
            return
        }
        uniConnectTaken = true
        do {
            let request = try ConnectRequest.decodeJSON(buffer.readableBytesView)
            session?.connectUnidirectional(request)
        } catch {
            // Centrifugo answers a malformed connect request with a bare close frame (no disconnect push).
            node.logger.info("malformed uni_websocket connect request", metadata: ["error": "\(error)"])
            session?.transportClosed()
            session = nil
            close(code: Disconnect.badRequest.code, reason: Disconnect.badRequest.reason)
        }
    }

    /// A compressed message inflated, or nil after closing the connection: 1009 when it inflates past
    /// `decompressed_message_size_limit`, 3501 when it is not valid deflate data.
    private func inflated(_ message: ByteBuffer) -> ByteBuffer? {
        guard let deflate else { return nil }
        do throws(WebSocketDeflate.InflateFailure) {
            return try WebSocketDeflate.inflate(message, limit: deflate.inflatedLimit, allocator: allocator)
        } catch .tooBig {
            closeWith(.messageTooBig)
        } catch {
            closeWith(.badRequest)
        }
        return nil
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        writable = context.channel.isWritable
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        session?.transportClosed()
        session = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let ws = error as? NIOWebSocketError, ws == .invalidFrameLength {
            closeWith(.messageTooBig)
            return
        }
        if error is NIOWebSocketError {
            closeWith(.badRequest)
            return
        }
        session?.transportClosed()
        session = nil
        context.close(promise: nil)
    }

    private func closeWith(_ disconnect: Disconnect) {
        if let session {
            session.close(disconnect)
        } else {
            close(code: disconnect.code, reason: disconnect.reason)
        }
    }

    // MARK: SessionTransport

    var allocator: ByteBufferAllocator { context?.channel.allocator ?? ByteBufferAllocator() }

    var isWritable: Bool { writable }

    func writeFrame(_ frame: ByteBuffer) {
        guard !closeSent else { return }
        if let core {
            core.write0(NIOAny(frame), promise: nil)
        } else {
            context?.write(wrapOutboundOut(frame), promise: nil)
        }
    }

    func flush() {
        if let core { core.flush0() } else { context?.flush() }
    }

    func close(code: UInt16, reason: String) {
        guard let context, !closeSent else { return }
        closeSent = true
        let frame = WebSocketFraming.closeFrame(code: code, reason: reason, allocator: context.channel.allocator)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in
            // Give the client a moment to answer the close; a TCP close right away can lose the frame.
            channel.eventLoop.scheduleTask(in: .milliseconds(100)) { channel.close(promise: nil) }
        }
        // A client that reads nothing never lets the close frame out: drop it after the write timeout.
        channel.eventLoop.scheduleTask(in: writeTimeout) { channel.close(promise: nil) }
    }
}
