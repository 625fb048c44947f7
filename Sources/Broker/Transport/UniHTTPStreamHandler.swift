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
    private let codeToHTTP: ConnectCodeToHTTPResponse
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var tooLarge = false
    private var context: ChannelHandlerContext?
    private var session: ClientSession?
    /// The request is complete and a session runs; after `ended`, nothing more is written.
    private var started = false
    private var ended = false
    /// The 200 head is out. With `connect_code_to_http_response` it waits for the first push (the
    /// connect push), so that a failed connect can still get its own status.
    private var headWritten = false
    private var requestVersion = HTTPVersion.http1_1
    /// A failed connect's code and text (with `connect_code_to_http_response`).
    private var rejection: (code: UInt32, message: String)?

    init(node: Node, kind: Kind) {
        self.node = node
        self.kind = kind
        switch kind {
        case .sse:
            maxBodySize = node.config.uniSSE.maxRequestBodySize
            codeToHTTP = node.config.uniSSE.connectCodeToHTTPResponse
        case .httpStream:
            maxBodySize = node.config.uniHTTPStream.maxRequestBodySize
            codeToHTTP = node.config.uniHTTPStream.connectCodeToHTTPResponse
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
        requestVersion = head.version
        let session = ClientSession(
            node: node, loopHub: loopHub, transport: self, framing: kind == .sse ? .sse : .httpStream)
        session.requestHeaders = node.proxies.keptHeaders(head.headers)
        self.session = session
        if codeToHTTP.enabled {
            session.connectRejected = { [weak self] code, message in self?.rejection = (code, message) }
        } else {
            writeHead()
            context.flush()
        }
        session.connectUnidirectional(request)
    }

    private func writeHead() {
        guard let context, !headWritten else { return }
        headWritten = true
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: requestVersion, status: .ok, headers: streamHeaders()))), promise: nil)
        if kind == .sse {
            // Centrifugo starts an SSE body with an empty line, so proxies and clients see the stream open at once.
            write(ByteBuffer(string: "\r\n"))
        }
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
    private func respond(
        context: ChannelHandlerContext, status: HTTPResponseStatus, headers: HTTPHeaders = HTTPHeaders(), body: String = ""
    ) {
        ended = true
        headWritten = true
        var headers = headers
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if !body.isEmpty { write(ByteBuffer(string: body)) }
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
        if event is IdleStateHandler.IdleStateEvent {
            // A request that stalls before it is complete is dropped, as on plain HTTP; once the
            // stream runs the client sends nothing, and the read timeout no longer applies.
            if !started && !ended { context.close(promise: nil) }
            return
        }
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
        writeHead()
        write(frame)
    }

    func flush() {
        context?.flush()
    }

    func close(code: UInt16, reason: String) {
        guard let context, started, !ended else { return }
        if !headWritten, let rejection {
            let answer = codeToHTTP.response(code: rejection.code, message: rejection.message)
            respond(context: context, status: HTTPResponseStatus(statusCode: answer.status), body: answer.body)
            return
        }
        writeHead()
        ended = true
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        // A client that reads nothing never lets the end out: drop it after the write timeout.
        channel.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
    }
}
