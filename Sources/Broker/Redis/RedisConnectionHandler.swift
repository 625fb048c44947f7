import CHiredis
import NIOCore

/// A command on its way to the server: its arguments and the promise for its reply.
struct RedisCommand: Sendable {
    var args: [[UInt8]]
    var promise: EventLoopPromise<RESPValue>
}

/// Speaks RESP on one channel: encodes outbound ``RedisCommand``s, parses inbound bytes with a hiredis
/// `redisReader`, and completes the commands' promises in the order they were written (Redis answers a
/// connection's commands strictly in order, which is what makes pipelining work).
///
/// Once the stream is unusable (reader error, I/O timeout, connection closed) the handler fails every
/// command still owed a reply, fails any later one at once with ``RedisError/closed``, and closes the channel.
///
/// Request/reply only: a pushed message the client did not ask for (pub/sub) is a protocol error here.
final class RedisConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisCommand
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        var promise: EventLoopPromise<RESPValue>
        /// When the reply is overdue; `nil` without an I/O timeout.
        var deadline: NIODeadline?
    }

    private let reader: UnsafeMutablePointer<redisReader>
    private let ioTimeout: TimeAmount?
    private var pending = CircularBuffer<Pending>(initialCapacity: 16)
    private var isOpen = true
    /// One timer for the oldest pending command. Deadlines grow in queue order (one timeout for all), so
    /// the head's is the earliest; when it fires after the head was answered it re-arms for the new head.
    private var timer: Scheduled<Void>?
    private var flushScheduled = false

    init(ioTimeout: TimeAmount?) {
        guard let reader = redisReaderCreate() else { fatalError("redisReaderCreate: out of memory") }
        // hiredis frees its read buffer whenever it is empty and larger than 16 KiB, and allocates it again on
        // the next read: on a fan-out reader, whose replies are large, that was a free and a malloc of the
        // whole buffer per reply. 0 keeps it.
        reader.pointee.maxbuf = 0
        self.reader = reader
        self.ioTimeout = ioTimeout
    }

    deinit {
        redisReaderFree(reader)
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let command = unwrapOutboundIn(data)
        guard isOpen else {
            command.promise.fail(RedisError.closed)
            promise?.fail(RedisError.closed)
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: 16 + command.args.reduce(0) { $0 + $1.count + 16 })
        RESPCommandEncoder.encode(command.args, into: &buffer)
        pending.append(Pending(promise: command.promise, deadline: ioTimeout.map { .now() + $0 }))
        armTimer(context: context)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    /// Flushes once the loop has run this tick's other tasks: commands written meanwhile (concurrent
    /// publishes each send one) leave in one write, and Redis reads and answers them as one pipeline.
    func flush(context: ChannelHandlerContext) {
        if flushScheduled { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute { [self] in
            flushScheduled = false
            context.flush()
        }
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard isOpen else { return }
        let bytes = unwrapInboundIn(data)
        let fed = bytes.withUnsafeReadableBytes { raw -> Int32 in
            guard let base = raw.baseAddress, raw.count > 0 else { return REDIS_OK }
            return redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), raw.count)
        }
        guard fed == REDIS_OK else { return fail(context: context, with: .protocol(readerError())) }

        // Completing a promise may run callbacks that close the channel, hence the check on every turn.
        while isOpen {
            var raw: UnsafeMutableRawPointer?
            guard redisReaderGetReply(reader, &raw) == REDIS_OK else {
                return fail(context: context, with: .protocol(readerError()))
            }
            guard let raw else { return }  // the rest of the buffer is an incomplete reply
            let reply = Result { () throws(RedisError) in
                try RESPValue(copying: raw.assumingMemoryBound(to: redisReply.self))
            }
            freeReplyObject(raw)
            switch reply {
            case .success(let value):
                guard let head = pending.popFirst() else {
                    let shown = String(describing: value).prefix(200)
                    return fail(context: context, with: .protocol("reply without a pending command: \(shown)"))
                }
                head.promise.succeed(value)
            case .failure(let error):
                return fail(context: context, with: error)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        shutDown(failingWith: .closed)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        shutDown(failingWith: .closed)
    }

    /// A socket error: the connection is no use any more; closing it fails the pending commands.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, with: .closed)
    }

    // MARK: Failure

    private func fail(context: ChannelHandlerContext, with error: RedisError) {
        guard isOpen else { return }
        shutDown(failingWith: error)
        context.close(promise: nil)
    }

    /// Marks the stream unusable first, so that callbacks run by the failed promises cannot queue more.
    private func shutDown(failingWith error: RedisError) {
        isOpen = false
        timer?.cancel()
        timer = nil
        let owed = pending
        pending.removeAll()
        for command in owed {
            command.promise.fail(error)
        }
    }

    private func readerError() -> String {
        String(cString: chiredis_reader_error_message(reader))
    }

    // MARK: I/O timeout

    private func armTimer(context: ChannelHandlerContext) {
        guard timer == nil, let deadline = pending.first?.deadline else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            timerFired(context: context)
        }
    }

    private func timerFired(context: ChannelHandlerContext) {
        timer = nil
        guard isOpen, let deadline = pending.first?.deadline else { return }
        guard deadline <= .now() else { return armTimer(context: context) }
        let overdue = pending.removeFirst()
        fail(context: context, with: .closed)  // the commands queued behind it can never be answered either
        overdue.promise.fail(RedisError.timeout)
    }
}

@available(*, unavailable)
extension RedisConnectionHandler: Sendable {}
