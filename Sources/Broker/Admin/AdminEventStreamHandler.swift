import BrokerProtocol
import Foundation
import NIOCore
import NIOHTTP1

/// `GET /admin/events[?channel=…]`: the console's live feed as server-sent events.
///
/// Takes the connection over from ``HTTPRequestHandler`` (like the unidirectional streams). Without a
/// valid admin session it answers 401 and closes; otherwise a task ticks an ``AdminFeed`` four times a
/// second and writes its events, until the browser goes away.
final class AdminEventStreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let tick: Duration = .milliseconds(250)

    private let console: AdminConsole
    private let remote: String
    private var head: HTTPRequestHead?
    private var task: Task<Void, Never>?
    private var started = false

    init(console: AdminConsole, remote: String) {
        self.console = console
        self.remote = remote
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            if head == nil && !started { head = h }
        case .body:
            break
        case .end:
            guard let head, !started else { return }
            started = true
            start(context: context, head: head)
        }
    }

    private func start(context: ChannelHandlerContext, head: HTTPRequestHead) {
        guard let session = console.authorize(head) else {
            respondAndClose(context: context, AdminConsole.unauthorized)
            return
        }
        let channel = AdminEventStreamHandler.channel(query: HTTPRouter.split(head.uri).query)
        console.logger.debug(
            "admin event stream opened",
            metadata: ["admin_session": "\(session.sessionID)", "remote": "\(remote)", "channel": "\(channel ?? "")"])
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/event-stream; charset=utf-8")
        for (name, value) in AdminConsole.securityHeaders { headers.add(name: name, value: value) }
        headers.add(name: "X-Accel-Buffering", value: "no")
        headers.add(name: "Transfer-Encoding", value: "chunked")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "retry: 1000\n\n")))), promise: nil)

        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let loop = context.eventLoop
        let node = console.node
        var feed = AdminFeed(api: console.api, channel: channel)
        let expiresAt = session.expiresAt
        task = Task {
            while !Task.isCancelled {
                // A stream does not outlive its session: the page then finds itself signed out.
                if node.clock.nowMillis() / 1000 >= expiresAt {
                    loop.execute { bound.value.1.close(promise: nil) }
                    return
                }
                let events = await feed.tick(now: node.clock.nowMillis())
                if !events.isEmpty {
                    var text = ""
                    for event in events {
                        text += "event: \(event.name)\ndata: \(String(decoding: event.data.serialized, as: UTF8.self))\n\n"
                    }
                    let chunk = text
                    loop.execute {
                        let (handler, context) = bound.value
                        handler.send(context: context, chunk)
                    }
                }
                try? await Task.sleep(for: AdminEventStreamHandler.tick)
            }
        }
    }

    private func send(context: ChannelHandlerContext, _ text: String) {
        guard task != nil, context.channel.isActive else { return }
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: text)))), promise: nil)
    }

    private func respondAndClose(context: ChannelHandlerContext, _ response: HTTPResponse) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        headers.add(name: "Connection", value: "close")
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    /// `channel` from the query string, percent-decoded; nil when absent or empty.
    static func channel(query: String) -> String? {
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0] == "channel", let value = String(kv[1]).removingPercentEncoding, !value.isEmpty {
                return value
            }
        }
        return nil
    }

    private func stop() {
        task?.cancel()
        task = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The browser sends nothing once the stream runs: the idle read timeout does not apply then.
        if event is IdleStateHandler.IdleStateEvent {
            if !started { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        stop()
        context.close(promise: nil)
    }
}
