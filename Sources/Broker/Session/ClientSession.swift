import BrokerProtocol
import DequeModule
import Foundation
import NIOCore

/// One client connection's protocol state: connecting → connected → closed, its subscriptions and
/// its outbound batch.
///
/// Confined to its event loop: every method runs there (the transport, the loop hub and completions
/// of engine calls all call in on that loop), which is why it needs no locks.
public final class ClientSession: @unchecked Sendable {
    enum State {
        case connecting
        /// A connect error reply was sent (e.g. 109): further commands get 3501.
        case connectFailed
        case connected
        case closed
    }

    let node: Node
    let loopHub: LoopHub
    let format: WireFormat
    /// `?cf_ws_frame_ping_pong=true`: WebSocket ping frames every 25 s (pong within 10 s) instead of
    /// the protocol's `{}` pings, for tools like wscat and Postman that cannot answer app-level pings.
    let nativePing: Bool
    /// Bidirectional WebSocket or one of the unidirectional transports (bare pushes, connect as a push).
    let framing: OutboundFraming
    /// Unidirectional transports only: the connect result's `session` (as Centrifugo's `Client.session`).
    let sessionID: String
    /// `uni_websocket.disable_disconnect_push`: the close frame alone tells the client why.
    var sendsDisconnectPush: Bool
    /// Set by a transport that answers a failed connect itself (uni_sse and uni_http_stream with
    /// `connect_code_to_http_response`): called once with the error or disconnect code and its text,
    /// and no disconnect push is sent.
    var connectRejected: ((UInt32, String) -> Void)?
    var transport: (any SessionTransport)?
    public let clientID: String
    var state: State = .connecting
    var user = ""
    var connInfo: Payload?
    /// The token's or connect proxy's `meta` (raw JSON), for proxies with `include_connection_meta`.
    var connMeta: [UInt8]?
    /// permessage-deflate, when the WebSocket handshake negotiated it (set by the transport): frames whose
    /// payload passes the minimum size go out compressed, prepared pushes deflated once per channel.
    var deflate: WebSocketDeflate?
    /// Headers of the client's HTTP request that some proxy passes on (`http_headers`), set by the transport.
    var requestHeaders: [(String, String)] = []
    /// Headers from the connect command that some proxy passes on (`emulated_headers`).
    var emulatedHeaders: [(String, String)] = []
    /// Unix ms; 0 = never.
    var expiresAt: Int64 = 0
    var subs: [String: Subscription] = [:]
    var admitted = false
    var clientName = ""

    private var queue: Deque<Command> = []
    /// A command is waiting for the engine: later commands wait, so replies keep the client's order.
    private var busy = false
    private var outbox = JSONWriter(capacity: 0)
    private var outboxCount = 0
    var flushPending = false

    private var nextPingAt: Int64 = 0
    private var nextPresenceUpdateAt: Int64 = 0
    private var pongDeadline: Int64 = 0
    private let staleDeadline: Int64
    private var rateWindowStart: Int64 = 0
    private var rateWindowCount = 0

    static let nativePingInterval: Int64 = 25_000
    static let nativePongWait: Int64 = 10_000

    init(
        node: Node, loopHub: LoopHub, transport: any SessionTransport, format: WireFormat = .json, nativePing: Bool = false,
        framing: OutboundFraming = .webSocket
    ) {
        self.node = node
        self.loopHub = loopHub
        // Centrifugo's unidirectional transports speak JSON only.
        self.format = framing.isUnidirectional ? .json : format
        self.nativePing = framing.isUnidirectional ? false : nativePing
        self.framing = framing
        self.sessionID = framing.isUnidirectional ? RandomID.make() : ""
        self.sendsDisconnectPush = framing.isUnidirectional
        self.transport = transport
        self.clientID = RandomID.make()
        self.staleDeadline = node.clock.nowMillis() + node.config.client.staleCloseDelay.milliseconds
        loopHub.register(self)
    }

    var clientInfo: ClientInfo { ClientInfo(user: user, client: clientID, connInfo: connInfo) }
    var config: ClientConfig { node.config.client }
    var now: Int64 { node.clock.nowMillis() }

    // MARK: Frames in

    /// A complete text (or binary) message from the client.
    func handleFrame(_ bytes: [UInt8]) {
        if state == .closed { return }
        let commands: [Command]
        do {
            commands = try format.decode(bytes)
        } catch {
            node.logger.debug("bad frame from client", metadata: ["client": "\(clientID)", "error": "\(error)"])
            close(.badRequest)
            return
        }
        node.metrics.commandsTotal.increment(by: commands.count)
        if config.commandRateLimit > 0 {
            let t = now
            if t - rateWindowStart >= 1000 {
                rateWindowStart = t
                rateWindowCount = 0
            }
            rateWindowCount += commands.count
            if rateWindowCount > config.commandRateLimit {
                close(.tooManyRequests)
                return
            }
        }
        for command in commands {
            // A pong is answered at once, even while a command waits on the engine or a proxy: a slow backend must
            // not cost the client its connection (no pong, 3012).
            if command.isPong && state == .connected && busy {
                pongReceived()
            } else {
                queue.append(command)
            }
        }
        drain()
    }

    private func drain() {
        while !busy, state != .closed, let command = queue.popFirst() {
            handle(command)
        }
        if state != .closed { flushNow() }
    }

    private func handle(_ command: Command) {
        switch state {
        case .closed:
            return
        case .connectFailed:
            close(.badRequest)
        case .connecting:
            guard case .connect(let request) = command.request, command.id > 0 else {
                close(.badRequest)
                return
            }
            connect(id: command.id, request: request)
        case .connected:
            if command.isPong {
                pongReceived()
                return
            }
            dispatch(command)
        }
    }

    private func dispatch(_ command: Command) {
        let id = command.id
        // Centrifugo treats a missing channel as a broken client: 3501.
        switch command.request {
        case .subscribe(let r) where r.channel.isEmpty: close(.badRequest); return
        case .unsubscribe(let r) where r.channel.isEmpty: close(.badRequest); return
        case .publish(let r) where r.channel.isEmpty: close(.badRequest); return
        case .presence(let r) where r.channel.isEmpty: close(.badRequest); return
        case .presenceStats(let r) where r.channel.isEmpty: close(.badRequest); return
        case .history(let r) where r.channel.isEmpty: close(.badRequest); return
        case .subRefresh(let r) where r.channel.isEmpty: close(.badRequest); return
        default: break
        }
        switch command.request {
        case .connect:
            close(.badRequest)
        case .subscribe(let r):
            subscribe(id: id, request: r)
        case .unsubscribe(let r):
            unsubscribe(id: id, channel: r.channel)
        case .publish(let r):
            publish(id: id, request: r)
        case .presence(let r):
            presence(id: id, channel: r.channel)
        case .presenceStats(let r):
            presenceStats(id: id, channel: r.channel)
        case .history(let r):
            history(id: id, request: r)
        case .rpc(let r):
            rpc(id: id, request: r)
        case .send:
            // Centrifugo OSS has no handler for asynchronous messages.
            close(.notAvailable)
        case .refresh(let r):
            refresh(id: id, request: r)
        case .subRefresh(let r):
            subRefresh(id: id, request: r)
        case .legacyPing, .empty:
            close(.badRequest)
        }
    }

    /// Runs engine work as a task on this session's loop and continues there. With `blocking`, later
    /// commands wait for it.
    func perform<T: Sendable>(
        blocking: Bool = true, _ work: @escaping @Sendable () async throws -> T,
        then done: @escaping (Result<T, any Error>) -> Void
    ) {
        if blocking { busy = true }
        let loop = loopHub.eventLoop
        let promise = loop.makePromise(of: T.self)
        promise.completeWithTask(on: loopHub.taskExecutor, work)
        let bound = NIOLoopBound(done, eventLoop: loop)
        promise.futureResult.whenComplete { result in
            if blocking { self.busy = false }
            if self.state == .closed { return }
            bound.value(result)
            if blocking { self.drain() } else { self.flushNow() }
        }
    }

    /// `done` with `immediate` when the work could be done without suspending (an HS* token, a subscribe with
    /// nothing for the engine to do), else ``perform(blocking:_:then:)`` with `work`. The common connect and
    /// subscribe are then answered within the read that brought them: no task, no hop between threads.
    func perform<T: Sendable, E: Error>(
        now immediate: Result<T, E>?, orLater work: @escaping @Sendable () async throws -> T,
        then done: @escaping (Result<T, any Error>) -> Void
    ) {
        if let immediate {
            done(immediate.mapError { $0 })
        } else {
            perform(work, then: done)
        }
    }

    /// The client answered a ping; a pong nobody asked for is a broken client (3501).
    private func pongReceived() {
        if pongDeadline > 0 { pongDeadline = 0 } else { close(.badRequest) }
    }

    /// A WebSocket pong frame arrived (native ping mode).
    func nativePongReceived() {
        if nativePing || framing.isUniWebSocket { pongDeadline = 0 }
    }

    // MARK: Frames out

    func reply(_ reply: Reply) {
        // Unidirectional clients send no commands, so nothing is ever answered (the connect result is a push).
        if framing.isUnidirectional { return }
        do {
            enqueue(try format.encode(reply))
        } catch {
            close(.inappropriateProtocol)
        }
    }

    /// A refused command: its error reply, or the disconnect the rule path chose.
    func refuse(_ id: UInt32, _ refusal: Refusal) {
        switch refusal {
        case .error(let error): replyError(id, error)
        case .disconnect(let disconnect): close(disconnect)
        }
    }

    func replyError(_ id: UInt32, _ error: ClientError) {
        node.metrics.clientErrors.increment()
        if id == 0 { return }
        reply(Reply(id: id, body: .error(error)))
    }

    func push(_ push: Push) {
        do {
            enqueue(try framing.isUnidirectional ? JSONProtocolEncoder.encodeUnidirectional(push) : format.encode(push))
        } catch {
            close(.inappropriateProtocol)
        }
    }

    /// Adds a message to this tick's outbound bytes (on the bidirectional WebSocket several messages share
    /// one frame, `\n`-separated; see ``OutboundFraming``).
    private func enqueue(_ bytes: [UInt8]) {
        if state == .closed { return }
        framing.append(bytes, to: &outbox, count: outboxCount, format: format, deflate: deflate)
        outboxCount += 1
        loopHub.needsFlush(self)
    }

    private func emitOutbox() {
        guard outboxCount > 0, let transport else { return }
        let frame = framing.wrapOutbox(outbox.bytes, format: format, allocator: transport.allocator, deflate: deflate)
        outbox.bytes = []
        outboxCount = 0
        transport.writeFrame(frame)
    }

    func flushNow() {
        emitOutbox()
        transport?.flush()
    }

    /// Delivers a push prepared once for all subscribers (on the hub's fan-out path).
    func deliver(_ push: PreparedPush, to sub: Subscription) {
        // `hubIndex` < 0 once the subscription was removed (cheaper than a lookup by channel name).
        guard state == .connected, sub.hubIndex >= 0 else { return }
        if case .subscribing(var held) = sub.state {
            held.append(push)
            sub.state = .subscribing(held)
            return
        }
        switch push.kind {
        case .join, .leave:
            if !sub.pushJoinLeave { return }
        case .publication:
            if sub.positioned && push.offset > 0 {
                if push.epoch != sub.epoch || push.offset > sub.offset + 1 {
                    lostPosition(sub)
                    return
                }
                if push.offset <= sub.offset { return }
                sub.offset = push.offset
            }
        }
        let frame: ByteBuffer?
        var patched: Bool?
        if sub.delta && push.kind == .publication {
            patched = sub.deltaReady
            frame = push.deltaFrame(for: format, patched: sub.deltaReady)
            sub.deltaReady = true
        } else {
            frame = push.frame(for: format)
        }
        guard let frame, let transport else {
            close(.inappropriateProtocol)
            return
        }
        if !transport.isWritable {
            close(.slow)
            return
        }
        emitOutbox()
        if let deflate, let deflated = push.deflatedFrame(
            frame, form: .init(delta: patched, json: format == .json, uni: framing.isUniWebSocket), deflate: deflate)
        {
            if deflated.built { node.metrics.compressedPushes.increment() }
            transport.writeFrame(deflated.frame)
        } else if !framing.writePrepared(frame, to: transport) {
            close(.inappropriateProtocol)
            return
        }
        loopHub.needsFlush(self)
    }

    /// The subscription missed publications it cannot get live: the client must recover from history.
    func lostPosition(_ sub: Subscription) {
        if case .subscribing = sub.state {
            sub.positionLostWhileSubscribing = true
            return
        }
        if sub.serverSide {
            close(.insufficientState)
        } else {
            removeSubscription(sub)
            push(Push(channel: sub.channel, body: .unsubscribe(.insufficientState)))
        }
    }

    // MARK: Closing

    /// Closes the connection with a disconnect code (sent as the WebSocket close code; unidirectional
    /// transports first get a `disconnect` push, as Centrifugo sends them).
    public func close(_ disconnect: Disconnect) {
        if state == .closed { return }
        if state == .connecting, let rejected = connectRejected {
            connectRejected = nil
            sendsDisconnectPush = false
            rejected(UInt32(disconnect.code), disconnect.reason)
        }
        // A slow client's queue is full: Centrifugo drops what is still queued, the disconnect push included.
        if sendsDisconnectPush && disconnect != .connectionClosed && disconnect != .slow {
            push(Push(channel: "", body: .disconnect(disconnect)))
        }
        state = .closed
        emitOutbox()
        let t = transport
        transport = nil
        t?.close(code: disconnect.code, reason: disconnect.reason)
        cleanup()
        node.logger.debug(
            "client disconnected", metadata: ["client": "\(clientID)", "user": "\(user)", "code": "\(disconnect.code)"])
    }

    /// The peer went away (or the socket failed).
    func transportClosed() {
        if state == .closed { return }
        state = .closed
        transport = nil
        cleanup()
    }

    private func cleanup() {
        for sub in Array(subs.values) { removeSubscription(sub) }
        subs.removeAll()
        queue.removeAll()
        loopHub.unregister(self)
        if admitted {
            admitted = false
            node.release(user: user)
            node.metrics.disconnectsTotal.increment()
        }
    }

    // MARK: Timers

    /// Called about once a second by the loop hub.
    func tick(now: Int64) {
        switch state {
        case .closed:
            return
        case .connecting, .connectFailed:
            if now >= staleDeadline { close(.stale) }
        case .connected:
            if pongDeadline > 0 && now >= pongDeadline {
                close(.noPong)
                return
            }
            let interval = nativePing ? ClientSession.nativePingInterval : config.pingInterval.milliseconds
            if interval > 0 && now >= nextPingAt {
                nextPingAt = now + interval
                if nativePing, let transport {
                    transport.writeFrame(WebSocketFraming.frame(opcode: WebSocketFraming.opcodePing, payload: [], allocator: transport.allocator))
                    loopHub.needsFlush(self)
                    pongDeadline = now + ClientSession.nativePongWait
                } else {
                    enqueue(format.ping)
                    // Unidirectional clients cannot answer: no pong is expected from them.
                    let pong = framing.isUnidirectional ? 0 : config.pongTimeout.milliseconds
                    pongDeadline = pong > 0 ? now + pong : 0
                }
                if framing.isUniWebSocket, let transport {
                    // Centrifugo's uni_websocket also sends WebSocket ping frames, which any WebSocket client
                    // answers, and drops a peer whose pong does not come within the pong timeout.
                    transport.writeFrame(WebSocketFraming.frame(opcode: WebSocketFraming.opcodePing, payload: [], allocator: transport.allocator))
                    let wait = config.pongTimeout > .zero ? config.pongTimeout.milliseconds : ClientSession.nativePongWait
                    pongDeadline = now + wait
                }
            }
            if expiresAt > 0 {
                if let proxy = node.proxies.refresh {
                    if now >= expiresAt { refreshThroughProxy(proxy) }
                } else if now >= expiresAt + config.expiredCloseDelay.milliseconds {
                    close(.expired)
                    return
                }
            }
            if now >= nextPresenceUpdateAt {
                nextPresenceUpdateAt = now + config.presenceUpdateInterval.milliseconds
                refreshPresence()
            }
            for sub in Array(subs.values) where sub.expiresAt > 0 {
                if let name = sub.refreshProxy, let proxy = node.proxies.endpoint(.subRefresh, named: name) {
                    if now >= sub.expiresAt { refreshThroughProxy(sub, proxy) }
                } else if now >= sub.expiresAt + config.expiredSubCloseDelay.milliseconds {
                    expireSubscription(sub)
                }
                if state == .closed { return }
            }
        }
    }

    /// A subscription's time is up: a server-side one takes the connection with it (3006), a client-side one is
    /// unsubscribed (2501).
    func expireSubscription(_ sub: Subscription) {
        if sub.serverSide {
            close(.subExpired)
            return
        }
        removeSubscription(sub)
        push(Push(channel: sub.channel, body: .unsubscribe(.expired)))
    }

    /// Re-adds this connection's presence records before their TTL runs out (every `client.presence_update_interval`).
    private func refreshPresence() {
        let records = subs.values.filter { $0.presence && $0.isSubscribed }.map {
            (channel: $0.channel, info: ClientInfo(user: user, client: clientID, connInfo: connInfo, chanInfo: $0.chanInfo))
        }
        if records.isEmpty { return }
        let engine = node.presenceEngine
        let ttl = node.config.engine.redis.presenceTTL
        Task {
            for r in records { try? await engine.addPresence(channel: r.channel, info: r.info, ttl: ttl) }
        }
    }

    /// The first ping comes at a random time in [interval/2, interval), then every interval.
    ///
    /// The spread comes from the client ID, which is random already: a random number of its own would be one more
    /// system call per connection.
    func schedulePings() {
        nextPresenceUpdateAt = now + config.presenceUpdateInterval.milliseconds
        let interval = nativePing ? ClientSession.nativePingInterval : config.pingInterval.milliseconds
        guard interval > 0 else { return }
        let spread = UInt64(max(1, interval / 2))
        nextPingAt = now + interval / 2 + Int64(UInt64(truncatingIfNeeded: clientID.hashValue) % spread)
    }
}
