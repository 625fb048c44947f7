import BrokerProtocol
import NIOCore
import NIOHTTP1

/// A response for a plain HTTP request.
struct HTTPResponse: Sendable {
    var status: HTTPResponseStatus
    var contentType: String
    var body: [UInt8]
    /// Further response headers (e.g. the console's Set-Cookie and security headers).
    var headers: [(String, String)] = []

    static func json(_ body: [UInt8], status: HTTPResponseStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "application/json", body: body)
    }

    static func empty(_ status: HTTPResponseStatus) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "", body: [])
    }
}

/// Plain HTTP on the client port: the server API, `/health`, `/metrics`, and the answer to a
/// WebSocket path requested without a valid upgrade.
final class HTTPRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let maxBodySize = 16 * 1024 * 1024

    private let router: HTTPRouter
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var tooLarge = false

    init(router: HTTPRouter) {
        self.router = router
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            if let kind = router.uniStream(for: h.uri) {
                handOver(context: context, to: UniHTTPStreamHandler(node: router.node, kind: kind), head: data)
                return
            }
            if let console = router.consoleEventStream(for: h) {
                handOver(context: context, to: AdminEventStreamHandler(console: console, remote: HTTPRequestHandler.remote(context)), head: data)
                return
            }
            head = h
            body = nil
            tooLarge = false
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
            let keepAlive = head.isKeepAlive
            if tooLarge {
                write(context: context, .json(Array(#"{"error":"request body too large"}"#.utf8), status: .payloadTooLarge), keepAlive: false)
                return
            }
            let bytes = body.map { Array($0.readableBytesView) } ?? []
            body = nil
            let router = self.router
            let remote = HTTPRequestHandler.remote(context)
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let promise = context.eventLoop.makePromise(of: HTTPResponse.self)
            promise.completeWithTask { await router.route(head: head, body: bytes, remote: remote) }
            promise.futureResult.whenSuccess { response in
                let (handler, context) = bound.value
                handler.write(context: context, response, keepAlive: keepAlive)
            }
        }
    }

    /// Gives the connection to a streaming handler: it goes in after this one, gets the request head,
    /// and this handler and the HTTP pipelining handler leave (the latter would stop reading while a
    /// response is open, and a stream must notice the client going away).
    private func handOver(context: ChannelHandlerContext, to handler: any ChannelHandler, head: NIOAny) {
        let pipeline = context.pipeline.syncOperations
        do {
            try pipeline.addHandler(handler, position: .after(self))
        } catch {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(head)
        if let pipelining = try? pipeline.handler(type: HTTPServerPipelineHandler.self) {
            pipeline.removeHandler(pipelining, promise: nil)
        }
        pipeline.removeHandler(self, promise: nil)
    }

    /// The peer's IP address, for logs and the console's sign-in limit.
    static func remote(_ context: ChannelHandlerContext) -> String {
        context.channel.remoteAddress?.ipAddress ?? ""
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read, head == nil {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func write(context: ChannelHandlerContext, _ response: HTTPResponse, keepAlive: Bool) {
        var headers = HTTPHeaders()
        if !response.contentType.isEmpty { headers.add(name: "Content-Type", value: response.contentType) }
        headers.add(name: "Content-Length", value: String(response.body.count))
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers))), promise: nil)
        if !response.body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
