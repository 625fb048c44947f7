import NIOCore
import NIOPosix
import NIOSSL

/// One pipelined connection to a Redis server.
///
/// Any number of tasks may send at once: commands go out in the order they reach the event loop and each
/// caller gets its own reply. Every command must be answered within `ioTimeout`; if one is not, it fails with
/// ``RedisError/timeout`` and the connection is closed (a RESP stream that still owes a reply cannot be
/// resynchronised), as it is on a protocol error. A closed connection stays closed: make a new one.
public final class RedisConnection: Sendable {
    /// "host:port", for messages.
    public let address: String
    let channel: any Channel

    private init(channel: any Channel, address: String) {
        self.channel = channel
        self.address = address
    }

    /// A connection nobody holds any more can never be used again: do not leave its socket open.
    deinit {
        channel.close(promise: nil)
    }

    /// Connects, then authenticates (`AUTH [username] password`, when `password` is set; `username` alone
    /// is ignored) and selects `database` (when not 0). Any failure on the way closes the connection and
    /// throws ``RedisError/connectFailed(_:)`` naming the address.
    ///
    /// - Parameter ioTimeout: how long each command may wait for its reply; `nil` waits for ever (meant for a
    ///   connection that runs blocking commands such as `XREAD BLOCK`).
    public static func connect(
        host: String,
        port: Int = 6379,
        eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any(),
        connectTimeout: TimeAmount = .seconds(5),
        ioTimeout: TimeAmount? = .seconds(5),
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        tls: RedisTLS? = nil
    ) async throws(RedisError) -> RedisConnection {
        let address = "\(host):\(port)"
        let channel: any Channel
        let handshake = eventLoop.makePromise(of: Void.self)
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(connectTimeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let ops = channel.pipeline.syncOperations
                        if let tls {
                            try ops.addHandler(NIOSSLClientHandler(context: tls.context, serverHostname: tls.hostname(for: host)))
                            try ops.addHandler(TLSHandshakeWatcher(promise: handshake))
                        }
                        try ops.addHandler(RedisConnectionHandler(ioTimeout: ioTimeout))
                    }
                }
                .connect(host: host, port: port)
                .get()
        } catch {
            handshake.succeed()
            throw .connectFailed("redis at \(address): \(Self.describeConnectError(error))")
        }
        if tls == nil {
            handshake.succeed()
        } else {
            // A certificate the broker does not trust must say so, not look like a dropped connection.
            let timeout = channel.eventLoop.scheduleTask(in: connectTimeout) {
                handshake.fail(ChannelError.connectTimeout(connectTimeout))
            }
            do {
                try await handshake.futureResult.get()
                timeout.cancel()
            } catch {
                timeout.cancel()
                try? await channel.close().get()
                throw .connectFailed("redis at \(address): TLS handshake failed: \(error)")
            }
        }
        let connection = RedisConnection(channel: channel, address: address)
        do {
            try await connection.prepare(username: username, password: password, database: database)
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    /// Sends one command; a `-ERR …` reply throws ``RedisError/server(_:)``.
    public func send(_ args: [String]) async throws(RedisError) -> RESPValue {
        try await send(bytes: args.map { Array($0.utf8) })
    }

    /// Sends one command with binary arguments; a `-ERR …` reply throws ``RedisError/server(_:)``.
    public func send(bytes args: [[UInt8]]) async throws(RedisError) -> RESPValue {
        let reply = try await Self.reply(submit([args])[0])
        if case .error(let message) = reply { throw .server(message) }
        return reply
    }

    /// Writes all `commands`, flushes once and returns their replies in order. A `-ERR …` reply comes back
    /// as ``RESPValue/error(_:)`` in its slot (the other commands did run); a connection failure throws.
    public func pipeline(_ commands: [[[UInt8]]]) async throws(RedisError) -> [RESPValue] {
        var replies: [RESPValue] = []
        replies.reserveCapacity(commands.count)
        for future in submit(commands) {
            replies.append(try await Self.reply(future))
        }
        return replies
    }

    /// Closes the connection; commands still owed a reply fail with ``RedisError/closed``.
    public func close() async {
        try? await channel.close().get()
    }

    public var isActive: Bool { channel.isActive }

    /// Completes when the connection has closed, for whatever reason.
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    // MARK: Internals

    /// Writes the commands on the event loop in one go and flushes once. Internal, not private, so tests can
    /// hold the futures of commands that share one write.
    func submit(_ commands: [[[UInt8]]]) -> [EventLoopFuture<RESPValue>] {
        let channel = self.channel
        let promises = commands.map { _ in channel.eventLoop.makePromise(of: RESPValue.self) }
        let write: @Sendable () -> Void = {
            // Our handler sees every write while the channel is active and fails the promise itself once the
            // stream is unusable; a closed channel's pipeline may no longer hold it, so answer those here.
            guard channel.isActive else {
                for promise in promises { promise.fail(RedisError.closed) }
                return
            }
            for (args, promise) in zip(commands, promises) {
                channel.write(RedisCommand(args: args, promise: promise), promise: nil)
            }
            channel.flush()
        }
        if channel.eventLoop.inEventLoop {
            write()
        } else {
            channel.eventLoop.execute(write)
        }
        return promises.map(\.futureResult)
    }

    private static func reply(_ future: EventLoopFuture<RESPValue>) async throws(RedisError) -> RESPValue {
        do {
            return try await future.get()
        } catch let error as RedisError {
            throw error
        } catch {
            throw .closed
        }
    }

    private func prepare(username: String?, password: String?, database: Int) async throws(RedisError) {
        if let password {
            do {
                _ = try await send(username.map { ["AUTH", $0, password] } ?? ["AUTH", password])
            } catch {
                throw .connectFailed("redis at \(address): AUTH failed: \(Self.describe(error))")
            }
        }
        if database != 0 {
            do {
                _ = try await send(["SELECT", String(database)])
            } catch {
                throw .connectFailed("redis at \(address): SELECT \(database) failed: \(Self.describe(error))")
            }
        }
    }

    private static func describe(_ error: RedisError) -> String {
        if case .server(let message) = error { return message }
        return error.description
    }

    /// The useful part of NIO's connect errors ("connection refused", not the whole resolver record).
    private static func describeConnectError(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first { return "\(first.error)" }
            if let dns = error.dnsAError ?? error.dnsAAAAError { return "cannot resolve host: \(dns)" }
        }
        if case ChannelError.connectTimeout(let amount) = error {
            return "connect timed out after \(amount.nanoseconds / 1_000_000) ms"
        }
        return "\(error)"
    }
}
