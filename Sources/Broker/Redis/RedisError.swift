/// Why a Redis command or connection failed.
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The TCP connection, AUTH or SELECT failed; the text names the address and the cause.
    case connectFailed(String)
    /// The server answered the command with an error line (`-ERR …`, `-WRONGTYPE …`, `-NOPERM …`).
    case server(String)
    /// The byte stream from the server is not valid RESP; the connection has been closed.
    case `protocol`(String)
    /// The connection is closed (by us, by the server, or by the network) before the reply arrived.
    case closed
    /// No reply within the connection's I/O timeout; the connection has been closed, since a RESP
    /// stream with a reply still owed cannot be resynchronised.
    case timeout

    public var description: String {
        switch self {
        case .connectFailed(let why): "redis connect failed: \(why)"
        case .server(let message): "redis error: \(message)"
        case .protocol(let why): "redis protocol error: \(why)"
        case .closed: "redis connection closed"
        case .timeout: "redis command timed out"
        }
    }
}
