import BrokerProtocol
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// Plain HTTP on the client port: the server API, `/health`, `/metrics`, the WebSocket handshake
/// (see ``ClientWebSocketHandshake``), and the answer to a WebSocket path requested without a valid upgrade.
///
/// Keep-alive clients may pipeline: requests are answered in the order they came, up to
/// ``maxInFlight`` at once, and reading pauses while that many are open. NIO's own pipelining handler
/// would do this with one request at a time, which stops and restarts reading (two `epoll_ctl` calls)
/// for every request; a publisher on keep-alive pays for that on each publish.
///
/// Responses are written as bytes (``HTTPResponse/encoded(keepAlive:allocator:)``): NIO's response
/// encoder joins the pipeline only when a stream takes the connection over.
final class HTTPRequestHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let maxBodySize = 16 * 1024 * 1024
    /// Requests of one connection being answered at once; more wait in the socket.
    static let maxInFlight = 16

    private let router: HTTPRouter
    /// NIO's request decoder before this handler; it leaves with it when a WebSocket handshake completes.
    private let decoder: ByteToMessageHandler<HTTPRequestDecoder>
    /// nil on a port without client WebSocket endpoints.
    private let webSocket: ClientWebSocketHandshake?
    /// The connection's first request is an acceptable WebSocket upgrade: done when the request ends.
    private var handshake: ClientWebSocketHandshake.Accepted?
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var tooLarge = false
    /// The request wants a stream while earlier requests are still open.
    private var streamRefused = false
    /// Sequence number of the next request, and of the next response to write.
    private var nextRequest = 0
    private var nextResponse = 0
    /// Answers that are ready but wait for an earlier request's answer.
    private var ready: [Int: (HTTPResponse, keepAlive: Bool)] = [:]
    /// A read was asked for while ``maxInFlight`` requests were open.
    private var readHeld = false
    /// A response said `Connection: close`: nothing after it is answered.
    private var closing = false
    private var flushScheduled = false
    private var removed = false

    /// A connection that sends nothing for this long while no request is open is closed (no slowloris).
    /// Kept here rather than in NIO's IdleStateHandler, which would sit on every read and write.
    static let readTimeout: TimeAmount = .seconds(60)
    /// How long a connection stays half-closed after its last answer, for the client to close it.
    static let lingerTimeout: TimeAmount = .seconds(2)
    private var lastRead = NIODeadline.now()
    private var idleCheck: Scheduled<Void>?

    init(router: HTTPRouter, decoder: ByteToMessageHandler<HTTPRequestDecoder>, webSocket: ClientWebSocketHandshake?) {
        self.router = router
        self.decoder = decoder
        self.webSocket = webSocket
    }

    func handlerAdded(context: ChannelHandlerContext) {
        scheduleIdleCheck(context: context, at: lastRead + HTTPRequestHandler.readTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        removed = true
        idleCheck?.cancel()
        idleCheck = nil
    }

    private func scheduleIdleCheck(context: ChannelHandlerContext, at deadline: NIODeadline) {
        idleCheck = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            let quietUntil = lastRead + HTTPRequestHandler.readTimeout
            if NIODeadline.now() >= quietUntil && head == nil && nextRequest == nextResponse {
                context.close(promise: nil)
            } else {
                scheduleIdleCheck(context: context, at: max(quietUntil, NIODeadline.now() + .seconds(1)))
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = .now()
        if closing { return }
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = nil
            tooLarge = false
            streamRefused = false
            // As NIO's upgrade handler: only a connection's first request can switch protocols.
            if nextRequest == 0, let webSocket, let accepted = webSocket.accept(h) {
                handshake = accepted
                return
            }
            let stream: (any ChannelHandler)?
            if let kind = router.uniStream(for: h.uri) {
                stream = UniHTTPStreamHandler(node: router.node, kind: kind)
            } else if let console = router.consoleEventStream(for: h) {
                stream = AdminEventStreamHandler(console: console, remote: HTTPRequestHandler.remote(context))
            } else {
                stream = nil
            }
            guard let stream else { return }
            // The stream takes over the connection, so earlier requests must have been answered.
            if nextRequest == nextResponse {
                head = nil
                handOver(context: context, to: stream, head: data)
            } else {
                streamRefused = true
            }
        case .body(var part):
            if tooLarge { return }
            if (body?.readableBytes ?? 0) + part.readableBytes > HTTPRequestHandler.maxBodySize {
                tooLarge = true
                body = nil
                return
            }
            if body == nil { body = part } else { body!.writeBuffer(&part) }
        case .end:
            guard let head else { return }
            self.head = nil
            if let handshake {
                self.handshake = nil
                do {
                    try switchProtocols(handshake, context: context)
                } catch {
                    context.close(promise: nil)
                }
                return
            }
            let id = nextRequest
            nextRequest += 1
            let keepAlive = head.isKeepAlive
            if tooLarge {
                answer(id, .json(Array(#"{"error":"request body too large"}"#.utf8), status: .payloadTooLarge), keepAlive: false, context: context)
                return
            }
            if streamRefused {
                let error = #"{"error":"a streaming request must not be pipelined behind other requests"}"#
                answer(id, .json(Array(error.utf8), status: .badRequest), keepAlive: false, context: context)
                return
            }
            let bytes = body.map { Array($0.readableBytesView) } ?? []
            body = nil
            let omitsBody = head.method == .HEAD
            // A publish on the memory engine is answered right here, without a task.
            if var response = router.routeImmediately(head: head, body: bytes) {
                response.omitsBody = omitsBody
                answer(id, response, keepAlive: keepAlive, context: context)
                return
            }
            let remote = HTTPRequestHandler.remote(context)
            let router = self.router
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let promise = context.eventLoop.makePromise(of: HTTPResponse.self)
            let work: @Sendable () async -> HTTPResponse = { await router.route(head: head, body: bytes, remote: remote) }
            if let executor = router.node.hub.loopHub(for: context.eventLoop)?.taskExecutor {
                promise.completeWithTask(on: executor, work)
            } else {
                promise.completeWithTask(work)
            }
            promise.futureResult.whenSuccess { response in
                let (handler, context) = bound.value
                var response = response
                response.omitsBody = omitsBody
                handler.answer(id, response, keepAlive: keepAlive, context: context)
            }
        }
    }

    func read(context: ChannelHandlerContext) {
        if nextRequest - nextResponse >= HTTPRequestHandler.maxInFlight {
            readHeld = true
            return
        }
        context.read()
    }

    /// Flushes after the event loop has handled this tick's other reads: answers written in one tick
    /// leave together, as the client's next requests are already being read.
    private func flushAtEndOfTick(context: ChannelHandlerContext) {
        if flushScheduled { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute {
            self.flushScheduled = false
            // A stream may have taken the connection over meanwhile (this handler left the pipeline).
            if self.removed { context.channel.flush() } else { context.flush() }
        }
    }

    /// Writes request `id`'s response, and any later ones that were waiting for it.
    private func answer(_ id: Int, _ response: HTTPResponse, keepAlive: Bool, context: ChannelHandlerContext) {
        guard context.channel.isActive, !closing else { return }
        ready[id] = (response, keepAlive)
        while let (response, keepAlive) = ready.removeValue(forKey: nextResponse) {
            nextResponse += 1
            write(context: context, response, keepAlive: keepAlive)
            if !keepAlive {
                closing = true
                ready.removeAll()
                return
            }
        }
        if readHeld && nextRequest - nextResponse < HTTPRequestHandler.maxInFlight {
            readHeld = false
            context.read()
        }
    }

    /// Sends the 101 and gives the connection to the handshake's WebSocket handler: this handler leaves
    /// at once, the request decoder at the end of this tick (NIO defers it), handing on what it holds
    /// beyond the request (frames a client sent without waiting for the 101) to the frame decoder.
    private func switchProtocols(_ handshake: ClientWebSocketHandshake.Accepted, context: ChannelHandlerContext) throws {
        context.writeAndFlush(wrapOutboundOut(handshake.response.encoded(keepAlive: true, allocator: context.channel.allocator)), promise: nil)
        let pipeline = context.pipeline.syncOperations
        let frames = ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: handshake.route.maxFrameSize))
        try pipeline.addHandler(frames, position: .after(self))
        try pipeline.addHandler(handshake.handler, position: .after(frames))
        pipeline.removeHandler(self, promise: nil)
        pipeline.removeHandler(decoder, promise: nil)
    }

    /// Gives the connection to a streaming handler: it goes in after this one with NIO's response
    /// encoder (streams write HTTP parts), gets the request head, and this handler leaves. Only done when
    /// no earlier request is still being answered.
    private func handOver(context: ChannelHandlerContext, to handler: any ChannelHandler, head: NIOAny) {
        let pipeline = context.pipeline.syncOperations
        do {
            try pipeline.addHandler(handler, position: .after(self))
            // The stream drops a request that stalls before it is complete (see its idle-event handling).
            try pipeline.addHandler(IdleStateHandler(readTimeout: HTTPRequestHandler.readTimeout), position: .after(self))
            try pipeline.addHandler(HTTPResponseEncoder(), position: .after(self))
        } catch {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(head)
        pipeline.removeHandler(self, promise: nil)
    }

    /// A request NIO's decoder could not parse gets 400 and the connection closes, as NIO's protocol
    /// error handler would do; an answer already being written is not interrupted, the connection just closes.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        if closing { return }
        if nextRequest == nextResponse {
            write(context: context, .json(Array(#"{"error":"malformed HTTP request"}"#.utf8), status: .badRequest), keepAlive: false)
        } else {
            context.close(promise: nil)
        }
        closing = true
        ready.removeAll()
    }

    /// The peer's IP address, for logs and the console's sign-in limit.
    static func remote(_ context: ChannelHandlerContext) -> String {
        context.channel.remoteAddress?.ipAddress ?? ""
    }

    private func write(context: ChannelHandlerContext, _ response: HTTPResponse, keepAlive: Bool) {
        let bytes = wrapOutboundOut(response.encoded(keepAlive: keepAlive, allocator: context.channel.allocator))
        if !keepAlive {
            // Half-close and keep reading (and dropping) what the client still sends: closing with
            // unread input makes the kernel reset the connection, which can destroy the response.
            let channel = context.channel
            context.writeAndFlush(bytes).whenComplete { _ in
                channel.close(mode: .output, promise: nil)
                channel.eventLoop.scheduleTask(in: HTTPRequestHandler.lingerTimeout) { channel.close(promise: nil) }
            }
            return
        }
        context.write(bytes, promise: nil)
        flushAtEndOfTick(context: context)
    }
}
