import NIOCore
import NIOWebSocket

/// The WebSocket side of one subscriber, from the end of the handshake (`WebSocketHandshakeDone`). For Centrifugo
/// it sends `connect` (with a token) then `subscribe` (or, with `SubscribeMode.token`, expects the subscription in
/// the connect reply), and answers `{}` pings with `{}`; for nchan the subscription exists once the upgrade is done.
/// Publication frames are scanned in place for `"seq":`/`"ts":` (see `ByteScan`); nothing is decoded as JSON.
final class SubscriberHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let state: SubState
    let target: Target
    let token: String
    let subscribe: SubscribeMode
    /// Text of a fragmented message (never seen from the servers here, handled anyway).
    private var fragments: ByteBuffer?
    private var closeTimer: Scheduled<Void>?

    init(state: SubState, target: Target, token: String, subscribe: SubscribeMode) {
        self.state = state
        self.target = target
        self.token = token
        self.subscribe = subscribe
    }

    private func handshakeDone(context: ChannelHandlerContext) {
        state.phase = .upgraded
        switch target {
        case .nchan:
            state.becameReady()
        case .centrifugo:
            send(context: context, #"{"id":1,"connect":{"token":"\#(token)"}}"#)
            state.phase = .connectSent
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closeTimer?.cancel()
        state.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        state.fail("\(error)")
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? CloseRequest {
            beginClose(context: context, code: e.code)
        } else if event is WebSocketHandshakeDone {
            handshakeDone(context: context)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            if frame.fin {
                handleMessage(context: context, frame.data)
            } else {
                fragments = frame.data
            }
        case .continuation:
            guard var f = fragments else { return }
            var d = frame.data
            f.writeBuffer(&d)
            if frame.fin {
                fragments = nil
                handleMessage(context: context, f)
            } else {
                fragments = f
            }
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.data)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            var d = frame.data
            let code = d.readInteger(as: UInt16.self) ?? 1005
            if state.phase != .closing {
                state.stats.counters.closeCodes[code, default: 0] += 1
                var b = context.channel.allocator.buffer(capacity: 2)
                b.writeInteger(code == 1005 ? 1000 : code)
                let reply = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: b)
                context.writeAndFlush(wrapOutboundOut(reply), promise: nil)
            }
            context.close(promise: nil)
        default:
            break
        }
    }

    /// The hot path: one frame, possibly several `\n`-separated messages (Centrifugo) or one raw payload (nchan).
    @inline(__always)
    private func handleMessage(context: ChannelHandlerContext, _ data: ByteBuffer) {
        if state.phase == .ready {
            let pings = data.withUnsafeReadableBytes { p -> Int in
                let now = monotonicNanos()
                let state = self.state
                let n = ByteScan.forEachPublication(p) { seq, ts in state.publication(seq: seq, ts: ts, now: now) }
                if target == .nchan { return 0 }
                // A ping is its own line: only frames without a publication, or with several lines, can hold one.
                if n == 0 || ByteScan.hasNewline(p) { return ByteScan.pingLines(p) }
                return 0
            }
            if pings > 0 { pong(context: context, count: pings) }
            return
        }
        handleSetupReply(context: context, data)
    }

    private func handleSetupReply(context: ChannelHandlerContext, _ data: ByteBuffer) {
        let (error, connectOK, subscribeOK, subsOK, pings) = data.withUnsafeReadableBytes { p in
            (ByteScan.contains(p, #""error""#), ByteScan.contains(p, #""connect":"#),
             ByteScan.contains(p, #""subscribe":"#), ByteScan.contains(p, #""subs":"#), ByteScan.pingLines(p))
        }
        if pings > 0 { pong(context: context, count: pings) }
        if error {
            state.fail("error reply: " + String(buffer: data))
            return
        }
        switch state.phase {
        case .connectSent where connectOK && subscribe == .token:
            // The token's channel must come back in the connect reply's `subs`.
            if subsOK { state.becameReady() } else { state.fail("connect reply without the token's subscription") }
        case .connectSent where connectOK:
            send(context: context, #"{"id":2,"subscribe":{"channel":"\#(state.channelName)"}}"#)
            state.phase = .subscribeSent
        case .subscribeSent where subscribeOK:
            state.becameReady()
        default:
            break
        }
    }

    private func pong(context: ChannelHandlerContext, count: Int) {
        for _ in 0..<count { send(context: context, "{}") }
        state.stats.counters.pongs += count
    }

    private func send(context: ChannelHandlerContext, _ text: String) {
        let buf = context.channel.allocator.buffer(string: text)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buf)), promise: nil)
    }

    /// Sends a close frame and waits (at most 2 s) for the server to answer and close the TCP connection, so
    /// that TIME_WAIT lands on the server side rather than eating our ephemeral ports.
    private func beginClose(context: ChannelHandlerContext, code: UInt16) {
        guard state.phase != .closing, state.phase != .closed else { return }
        state.phase = .closing
        var b = context.channel.allocator.buffer(capacity: 2)
        b.writeInteger(code)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: b)), promise: nil)
        let channel = context.channel
        closeTimer = context.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
    }
}

/// User event asking a subscriber to close politely (sent with `channel.pipeline.fireUserInboundEventTriggered`).
struct CloseRequest: Sendable {
    var code: UInt16 = 1000
}
