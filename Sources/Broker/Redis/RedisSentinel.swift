import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The sentinels of one shard (`engine.redis.sentinel_address` entry) and the master they name.
///
/// The master's address is asked of the sentinels in order (`SENTINEL get-master-addr-by-name`), the first
/// answer wins, and it is kept until ``invalidate()`` (a connection to it failed, or it no longer says it is
/// the master) or a ``refresh(group:connectTimeout:ioTimeout:)`` finds another one (the engine polls, so a
/// failover is followed within a poll period even while the old master still accepts connections).
public final class RedisSentinel: Sendable, Equatable, CustomStringConvertible {
    public struct Address: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: Int
        public var description: String { "\(host):\(port)" }
    }

    public let sentinels: [Address]
    public let masterName: String
    let username: String?
    let password: String?
    let clientName: String?
    let tls: RedisTLS?
    private let master = NIOLockedValueBox<Address?>(nil)
    /// The connection the last answer came on, kept for the next question (the engine asks several times a
    /// second): which sentinel it is connected to, and the connection.
    private let asking = NIOLockedValueBox<(sentinel: Address, connection: RedisConnection)?>(nil)

    public init(
        sentinels: [Address], masterName: String, username: String? = nil, password: String? = nil,
        clientName: String? = nil, tls: RedisTLS? = nil
    ) {
        self.sentinels = sentinels
        self.masterName = masterName
        self.username = username
        self.password = password
        self.clientName = clientName
        self.tls = tls
    }

    /// `host:port,host:port` (one shard's sentinels, as in Centrifugo's `sentinel_address`).
    public static func parseAddresses(_ entry: String) throws(EngineError) -> [Address] {
        var out: [Address] = []
        for part in entry.split(separator: ",") {
            let text = part.trimmingCharacters(in: .whitespaces)
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
                (1...65535).contains(port), colon > text.startIndex
            else { throw .unavailable("malformed Redis Sentinel address \(ConfigMessage.quoted(text)): expected host:port") }
            out.append(Address(host: String(text[..<colon]), port: port))
        }
        if out.isEmpty { throw .unavailable("empty Redis Sentinel address") }
        return out
    }

    public var description: String {
        "master \(ConfigMessage.quoted(masterName)) of sentinels \(sentinels.map(\.description).joined(separator: ","))"
    }

    public static func == (a: RedisSentinel, b: RedisSentinel) -> Bool { a === b }

    /// The master last learned, if any.
    public var current: Address? { master.withLockedValue { $0 } }

    /// Forgets the master: the next ``master(group:connectTimeout:ioTimeout:)`` asks the sentinels again.
    public func invalidate() { master.withLockedValue { $0 = nil } }

    /// Closes the connection kept for asking.
    func close() async {
        let kept = asking.withLockedValue { k -> RedisConnection? in
            defer { k = nil }
            return k?.connection
        }
        await kept?.close()
    }

    /// The current master, asking the sentinels when none is known.
    public func master(group: (any EventLoopGroup)?, connectTimeout: TimeAmount, ioTimeout: TimeAmount) async throws(RedisError)
        -> Address
    {
        if let known = current { return known }
        return try await refresh(group: group, connectTimeout: connectTimeout, ioTimeout: ioTimeout).address
    }

    /// Asks the sentinels for the master now; `changed` is true when it differs from the one known before.
    @discardableResult
    public func refresh(group: (any EventLoopGroup)?, connectTimeout: TimeAmount, ioTimeout: TimeAmount) async throws(RedisError)
        -> (address: Address, changed: Bool)
    {
        var failures: [String] = []
        for sentinel in sentinels {
            do {
                let found = try await ask(sentinel, group: group, connectTimeout: connectTimeout, ioTimeout: ioTimeout)
                let before = master.withLockedValue { m -> Address? in
                    let old = m
                    m = found
                    return old
                }
                return (found, before != nil && before != found)
            } catch {
                failures.append("\(sentinel): \(error)")
            }
        }
        throw .connectFailed("no Redis Sentinel named the \(self) (\(failures.joined(separator: "; ")))")
    }

    private func ask(_ sentinel: Address, group: (any EventLoopGroup)?, connectTimeout: TimeAmount, ioTimeout: TimeAmount)
        async throws(RedisError) -> Address
    {
        let kept = asking.withLockedValue { $0 }.flatMap { $0.sentinel == sentinel && $0.connection.isActive ? $0.connection : nil }
        let c: RedisConnection
        if let kept {
            c = kept
        } else {
            c = try await RedisConnection.connect(
                host: sentinel.host, port: sentinel.port, eventLoop: (group ?? MultiThreadedEventLoopGroup.singleton).any(),
                connectTimeout: connectTimeout, ioTimeout: ioTimeout, username: username, password: password, tls: tls)
            if let clientName { _ = try? await c.send(["CLIENT", "SETNAME", clientName]) }
        }
        let reply: RESPValue
        do {
            reply = try await c.send(["SENTINEL", "get-master-addr-by-name", masterName])
        } catch {
            await c.close()
            throw error
        }
        let replaced = asking.withLockedValue { kept -> RedisConnection? in
            let old = kept?.connection
            kept = (sentinel, c)
            return old === c ? nil : old
        }
        await replaced?.close()
        guard let parts = reply.elements, parts.count == 2, let host = parts[0].string, let portText = parts[1].string,
            let port = Int(portText)
        else { throw .server("sentinel knows no master named \(ConfigMessage.quoted(masterName))") }
        return Address(host: host, port: port)
    }
}
