import NIOCore

/// Source addresses for connections to a server on loopback.
///
/// Linux picks a connection's local port by walking the ephemeral range from a random offset, and it tries every
/// port of one parity before the other. All connections to one server address share the same three other parts of
/// the address 4-tuple, so once about half the range (~14,000 ports by default) is taken, every further `connect()`
/// walks those ports first: on this VM that cost the generator ~750 µs of kernel time per connection at 19,000
/// connections, and the connect rate fell to ~1,200/s. Spreading connections over several loopback source
/// addresses (the whole of 127.0.0.0/8 is local) gives each address its own ports, so the first port tried is free.
///
/// `IP_BIND_ADDRESS_NO_PORT` makes `bind()` take only the address and leave the port to `connect()`, which can then
/// reuse a port that is busy with another address.
enum LoopbackSources {
    /// How many source addresses (127.0.0.2 and up) connections to a loopback server are spread over.
    static let count = 16

    /// `IP_BIND_ADDRESS_NO_PORT` (Linux, <linux/in.h>); Glibc does not export it to Swift.
    static let bindAddressNoPort = ChannelOptions.Types.SocketOption(level: .ip, name: .init(rawValue: 24))

    /// Source addresses for connections to `servers`: empty unless every server is on IPv4 loopback.
    static func addresses(for servers: [SocketAddress]) -> [SocketAddress] {
        #if os(Linux)
        let allLoopback = !servers.isEmpty && servers.allSatisfy { address in
            guard case .v4 = address, let ip = address.ipAddress else { return false }
            return ip.hasPrefix("127.")
        }
        guard allLoopback else { return [] }
        return (0..<count).compactMap { try? SocketAddress(ipAddress: "127.0.0.\(2 + $0)", port: 0) }
        #else
        return []
        #endif
    }
}
