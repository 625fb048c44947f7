import BrokerProtocol
import NIOCore
import NIOHTTP1

/// Centrifugo's `uni_sse` and `uni_http_stream`: one long-lived HTTP response per connection.
///
/// Takes over the connection from ``HTTPRequestHandler`` at a request for its path. It reads the
/// connect request (uni_sse: GET `?cf_connect=<json>` or a POST body; uni_http_stream: a POST body),
/// answers 200 with a chunked body, and lets a ``ClientSession`` run the connect and write bare
/// pushes into the body (SSE events or newline-delimited JSON, see ``OutboundFraming``). The response
/// ends when the session closes (after its `disconnect` push); the connection closes with it.
final class UniHTTPStreamHandler: ChannelInboundHandler, RemovableChannelHandler, SessionTransport {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    enum Kind: Sendable {
        case sse
        case httpStream
    }

    private let node: Node
    private let kind: Kind
    private let maxBodySize: Int
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var tooLarge = false
    private var context: ChannelHandlerContext?
    private var session: ClientSession?
    /// The response has started (200 and headers sent); after `ended`, nothing more is written.
    private var started = false
    private var ended = false

    init(node: Node, kind: Kind) {
        self.node = node
        self.kind = kind
        switch kind {
        case .sse: maxBodySize = node.config.uniSSE.maxRequestBodySize
        case .httpStream: maxBodySize = node.config.uniHTTPStream.maxRequestBodySize
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        session?.transportClosed()
        session = nil
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // One request per connection: anything after the first is ignored.
        if started || ended { return }
        switch unwrapInboundIn(data) {
        case .head(let h):
            guard head == nil else { return }
            head = h
        case .body(var part):
            if tooLarge { return }
            if (body?.readableBytes ?? 0) + part.readableBytes > maxBodySize {
                tooLarge = true
                body = nil
                return
            }
            if body == nil { body = part } else { body!.writeBuffer(&part) }
        case .end:
            guard let head else { return }
            start(context: context, head: head)
        }
    }

    private func start(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let request: ConnectRequest
        switch (kind, head.method) {
        case (.httpStream, .OPTIONS):
            // CORS preflight, as Centrifugo answers it.
            var headers = HTTPHeaders()
            headers.add(name: "Access-Control-Max-Age", value: "300")
            headers.add(name: "Access-Control-Allow-Methods", value: "POST, OPTIONS")
            respond(context: context, status: .noContent, headers: headers)
            return
        case (.sse, .GET):
            do {
                request = try UniConnectRequest.fromQuery(HTTPRouter.split(head.uri).query) ?? ConnectRequest()
            } catch {
                node.logger.info("malformed uni_sse connect request", metadata: ["error": "\(error)"])
                respond(context: context, status: .badRequest)
                return
            }
        case (_, .POST):
            if tooLarge {
                respond(context: context, status: .payloadTooLarge)
                return
            }
            do {
                request = try ConnectRequest.decodeJSON(body.map { Array($0.readableBytesView) } ?? [])
            } catch {
                node.logger.debug("malformed unidirectional connect request", metadata: ["error": "\(error)"])
                respond(context: context, status: .badRequest)
                return
            }
        default:
            respond(context: context, status: .methodNotAllowed)
            return
        }
        body = nil
        guard let loopHub = node.hub.loopHub(for: context.eventLoop) else {
            respond(context: context, status: .internalServerError)
            return
        }
        started = true
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: streamHeaders()))), promise: nil)
        if kind == .sse {
            // Centrifugo starts an SSE body with an empty line, so proxies and clients see the stream open at once.
            write(ByteBuffer(string: "\r\n"))
        }
        context.flush()
        let session = ClientSession(
            node: node, loopHub: loopHub, transport: self, framing: kind == .sse ? .sse : .httpStream)
        self.session = session
        session.connectUnidirectional(request)
    }

    private func streamHeaders() -> HTTPHeaders {
        var headers = HTTPHeaders()
        if kind == .sse { headers.add(name: "Content-Type", value: "text/event-stream; charset=utf-8") }
        headers.add(name: "Cache-Control", value: "private, no-cache, no-store, must-revalidate, max-age=0")
        headers.add(name: "Pragma", value: "no-cache")
        headers.add(name: "Expire", value: "0")
        headers.add(name: "X-Accel-Buffering", value: "no")
        headers.add(name: "Connection", value: "keep-alive")
        headers.add(name: "Transfer-Encoding", value: "chunked")
        return headers
    }

    /// A short plain answer (an error, or the CORS preflight), after which the connection closes.
    private func respond(context: ChannelHandlerContext, status: HTTPResponseStatus, headers: HTTPHeaders = HTTPHeaders()) {
        ended = true
        var headers = headers
        headers.add(name: "Content-Length", value: "0")
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    private func write(_ bytes: ByteBuffer) {
        context?.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        session?.transportClosed()
        session = nil
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The client sends nothing on a stream: the plain-HTTP read timeout does not apply.
        if event is IdleStateHandler.IdleStateEvent { return }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        session?.transportClosed()
        session = nil
        context.close(promise: nil)
    }

    // MARK: SessionTransport

    var allocator: ByteBufferAllocator { context?.channel.allocator ?? ByteBufferAllocator() }

    var isWritable: Bool { context?.channel.isWritable ?? false }

    func writeFrame(_ frame: ByteBuffer) {
        guard started, !ended else { return }
        write(frame)
    }

    func flush() {
        context?.flush()
    }

    func close(code: UInt16, reason: String) {
        guard let context, started, !ended else { return }
        ended = true
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        // A client that reads nothing never lets the end out: drop it after the write timeout.
        channel.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
    }
}
