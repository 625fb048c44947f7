import NIOCore
import NIOPosix

/// What came back for one request: the HTTP status (0 if the connection failed) and how many `"error"` keys the
/// body holds (a Centrifugo batch reply has one per failed command).
struct HTTPResult {
    var status: Int
    var errors: Int
    var ok: Bool { status >= 200 && status < 300 && errors == 0 }
}

/// One keep-alive HTTP/1.1 client connection that writes pre-encoded requests (bytes as they go on the wire) one at
/// a time and parses only what it needs of each response: status line, Content-Length or chunked framing, and the
/// count of `"error"` in the body. No NIOHTTP1 codec: a publish costs one buffer copy and one write.
/// Confined to its event loop (`@unchecked Sendable` only so the channel initializer can capture it).
final class HTTPConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var context: ChannelHandlerContext?
    private var inbound: ByteBuffer?
    private var pending: ((HTTPResult) -> Void)?
    var isActive: Bool { context != nil }
    var isIdle: Bool { context != nil && pending == nil }
    /// Called (once) when the connection closes.
    var onClose: (() -> Void)?

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        context.fireChannelActive()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.context = context }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.context = nil
        if let p = pending {
            pending = nil
            p(HTTPResult(status: 0, errors: 1))
        }
        let c = onClose
        onClose = nil
        c?()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    /// Sends `request` (complete HTTP bytes); `completion` runs on the event loop with the response.
    func send(_ request: ByteBuffer, completion: @escaping (HTTPResult) -> Void) {
        guard let context, pending == nil else {
            completion(HTTPResult(status: 0, errors: 1))
            return
        }
        pending = completion
        context.writeAndFlush(wrapOutboundOut(request), promise: nil)
    }

    func close() { context?.close(promise: nil) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var data = unwrapInboundIn(data)
        if inbound == nil {
            inbound = data
        } else {
            inbound!.writeBuffer(&data)
        }
        while let buf = inbound, buf.readableBytes > 0 {
            guard let (consumed, result, close) = buf.withUnsafeReadableBytes({ HTTPConnection.parseResponse($0) }) else { return }
            inbound!.moveReaderIndex(forwardBy: consumed)
            if inbound!.readableBytes == 0 { inbound = nil }
            let p = pending
            pending = nil
            p?(result)
            if close { context.close(promise: nil); return }
        }
    }

    private static let headerEnd: [UInt8] = Array("\r\n\r\n".utf8)
    private static let crlf: [UInt8] = Array("\r\n".utf8)
    private static let errorKey: [UInt8] = Array(#""error""#.utf8)

    /// Parses one complete response at the start of `p`: (bytes consumed, result, connection: close) or nil if more
    /// bytes are needed. Works on the bytes (no strings): at tens of thousands of responses per second, parsing
    /// the head as text was a fifth of the generator's CPU.
    static func parseResponse(_ p: UnsafeRawBufferPointer) -> (Int, HTTPResult, Bool)? {
        guard let he = ByteScan.find(headerEnd, in: p, from: 0) else { return nil }
        let status = ByteScan.statusCode(p)
        var length: Int?
        var chunked = false
        var close = false
        var lineStart = (ByteScan.find(crlf, in: p, from: 0) ?? he) + 2
        while lineStart < he {
            let lineEnd = min(ByteScan.find(crlf, in: p, from: lineStart) ?? he, he)
            if let colon = (lineStart..<lineEnd).first(where: { p[$0] == UInt8(ascii: ":") }) {
                if ByteScan.equalsIgnoringCase(p, lineStart..<colon, "content-length") {
                    length = ByteScan.number(p, at: colon + 1).map { Int($0.0) }
                } else if ByteScan.equalsIgnoringCase(p, lineStart..<colon, "transfer-encoding") {
                    chunked = ByteScan.containsIgnoringCase(p, colon + 1..<lineEnd, "chunked")
                } else if ByteScan.equalsIgnoringCase(p, lineStart..<colon, "connection") {
                    close = ByteScan.containsIgnoringCase(p, colon + 1..<lineEnd, "close")
                }
            }
            lineStart = lineEnd + 2
        }
        let bodyStart = he + 4
        var end = bodyStart
        if chunked {
            var pos = bodyStart
            while true {
                guard let lineEnd = ByteScan.find(crlf, in: p, from: pos) else { return nil }
                let sizeText = String(decoding: UnsafeRawBufferPointer(rebasing: p[pos..<lineEnd]), as: UTF8.self)
                let size = Int(sizeText.split(separator: ";").first ?? "", radix: 16) ?? 0
                pos = lineEnd + 2 + size + 2
                if pos > p.count { return nil }
                if size == 0 { break }
            }
            end = pos
        } else if let length {
            end = bodyStart + length
            if end > p.count { return nil }
        }
        var errors = 0
        var at = bodyStart
        while at < end, let e = ByteScan.find(errorKey, in: UnsafeRawBufferPointer(rebasing: p[0..<end]), from: at) {
            errors += 1
            at = e + errorKey.count
        }
        return (end, HTTPResult(status: status, errors: errors), close)
    }
}



/// Keep-alive connections to one HTTP endpoint on one event loop, with a FIFO of requests waiting for a free
/// connection. A closed connection is reopened (nginx closes after `keepalive_requests`).
final class HTTPPool: @unchecked Sendable {
    struct Request {
        var bytes: ByteBuffer
        /// Where to stamp the send time (see `PayloadTemplate`), just before the write.
        var tsOffsets: [Int]
        var completion: (HTTPResult) -> Void
    }

    let loop: EventLoop
    let address: SocketAddress
    private(set) var connections: [HTTPConnection] = []
    private var queue: [Request] = []
    private var queueHead = 0
    private var closed = false
    private(set) var connectFailures = 0

    init(loop: EventLoop, endpoint: Endpoint) {
        self.loop = loop
        self.address = endpoint.address
    }

    var queued: Int { queue.count - queueHead }
    var idleCount: Int { connections.reduce(0) { $0 + ($1.isIdle ? 1 : 0) } }

    /// Opens `count` connections; the future completes when all are connected.
    func open(count: Int) -> EventLoopFuture<Void> {
        let futures = (0..<count).map { _ in connectOne() }
        return EventLoopFuture.andAllSucceed(futures, on: loop)
    }

    private func connectOne() -> EventLoopFuture<Void> {
        let conn = HTTPConnection()
        connections.append(conn)
        conn.onClose = { [weak self, weak conn] in
            guard let self, let conn, !self.closed else { return }
            self.connections.removeAll { $0 === conn }
            self.loop.scheduleTask(in: .milliseconds(20)) { _ = self.connectOne() }
        }
        return ClientBootstrap(group: loop)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(conn) }
            }
            .connect(to: address)
            .map { _ in self.pump() }
            .flatMapErrorThrowing { error in
                self.connectFailures += 1
                self.connections.removeAll { $0 === conn }
                if !self.closed { self.loop.scheduleTask(in: .milliseconds(100)) { _ = self.connectOne() } }
                throw error
            }
    }

    func submit(_ request: Request) {
        queue.append(request)
        pump()
    }

    /// Hands queued requests to idle connections.
    func pump() {
        for conn in connections where conn.isIdle {
            guard queueHead < queue.count else { break }
            var r = queue[queueHead]
            queueHead += 1
            if queueHead > 1024 && queueHead * 2 > queue.count {
                queue.removeFirst(queueHead)
                queueHead = 0
            }
            let now = monotonicNanos()
            r.bytes.withUnsafeMutableReadableBytes { p in
                for o in r.tsOffsets { PayloadTemplate.writeNumber(now, into: p, at: o, width: PayloadTemplate.tsWidth) }
            }
            let completion = r.completion
            conn.send(r.bytes) { [weak self] result in
                completion(result)
                self?.pump()
            }
        }
    }

    func close() {
        closed = true
        for c in connections { c.close() }
        connections = []
    }
}
