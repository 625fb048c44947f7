import CHiredis

/// One Redis reply, copied out of hiredis's reply tree so it owns its memory and can cross threads.
///
/// hiredis reports RESP2's null bulk string (`$-1`), null array (`*-1`) and RESP3's null (`_`) all as one
/// nil type, so a reply converted from hiredis is always `.null` for any of them; `.bulkString(nil)` and
/// `.array(nil)` exist for values built in Swift. Use ``isNull`` to test for "no value" whichever form it has.
public enum RESPValue: Sendable, Equatable {
    /// `+OK`: a status line.
    case simpleString(String)
    /// `-ERR …`: the server's error line (`send` turns a top-level one into ``RedisError/server(_:)``).
    case error(String)
    case integer(Int64)
    /// `$n`: binary-safe bytes.
    case bulkString([UInt8]?)
    case array([RESPValue]?)
    // RESP3 types (hiredis >= 1.0 after `HELLO 3`).
    case double(Double)
    case bool(Bool)
    case map([RESPMapEntry])
    case set([RESPValue])
    case push([RESPValue])
    case null
    /// A verbatim string; `format` is e.g. "txt" or "mkd", empty where hiredis does not report it.
    case verbatim(format: String, text: [UInt8])
    /// An arbitrary-precision integer, as its decimal text.
    case bignum(String)
}

/// One key/value pair of a RESP3 map, in the server's order.
public struct RESPMapEntry: Sendable, Equatable {
    public var key: RESPValue
    public var value: RESPValue

    public init(key: RESPValue, value: RESPValue) {
        self.key = key
        self.value = value
    }
}

extension RESPValue {
    /// True for every spelling of "no value": `.null`, `.bulkString(nil)`, `.array(nil)`.
    public var isNull: Bool {
        switch self {
        case .null, .bulkString(nil), .array(nil): true
        default: false
        }
    }

    /// The payload of a bulk, simple or verbatim string.
    public var bytes: [UInt8]? {
        switch self {
        case .bulkString(let b): b
        case .simpleString(let s): Array(s.utf8)
        case .verbatim(_, let text): text
        default: nil
        }
    }

    /// The payload of a bulk, simple or verbatim string decoded as UTF-8 (invalid bytes are replaced).
    public var string: String? {
        bytes.map { String(decoding: $0, as: UTF8.self) }
    }

    public var int64: Int64? {
        if case .integer(let i) = self { return i }
        return nil
    }

    /// The elements of an array, set or push reply.
    public var elements: [RESPValue]? {
        switch self {
        case .array(let a): a
        case .set(let a), .push(let a): a
        default: nil
        }
    }
}

extension RESPValue {
    /// Deep-copies a hiredis reply tree. The caller still owns `reply` and frees it (`freeReplyObject`).
    init(copying reply: UnsafePointer<redisReply>) throws(RedisError) {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STATUS:
            self = .simpleString(Self.text(r))
        case REDIS_REPLY_ERROR:
            self = .error(Self.text(r))
        case REDIS_REPLY_INTEGER:
            self = .integer(Int64(r.integer))
        case REDIS_REPLY_STRING:
            self = .bulkString(Self.bytes(r))
        case REDIS_REPLY_NIL:
            self = .null
        case REDIS_REPLY_ARRAY:
            self = .array(try Self.children(r))
        case REDIS_REPLY_DOUBLE:
            self = .double(chiredis_reply_double(reply))
        case REDIS_REPLY_BOOL:
            self = .bool(r.integer != 0)
        case REDIS_REPLY_SET:
            self = .set(try Self.children(r))
        case REDIS_REPLY_PUSH:
            self = .push(try Self.children(r))
        case REDIS_REPLY_MAP:
            let flat = try Self.children(r)
            guard flat.count % 2 == 0 else {
                throw .protocol("map reply with an odd number of elements (\(flat.count))")
            }
            self = .map(stride(from: 0, to: flat.count, by: 2).map { RESPMapEntry(key: flat[$0], value: flat[$0 + 1]) })
        case REDIS_REPLY_VERB:
            let format = String(cString: chiredis_reply_verbatim_type(reply))
            self = .verbatim(format: format, text: Self.bytes(r))
        case REDIS_REPLY_BIGNUM:
            self = .bignum(Self.text(r))
        default:
            throw .protocol("unsupported reply type \(r.type)")
        }
    }

    private static func bytes(_ r: redisReply) -> [UInt8] {
        guard let str = r.str, r.len > 0 else { return [] }
        return str.withMemoryRebound(to: UInt8.self, capacity: r.len) {
            Array(UnsafeBufferPointer(start: $0, count: r.len))
        }
    }

    private static func text(_ r: redisReply) -> String {
        String(decoding: bytes(r), as: UTF8.self)
    }

    private static func children(_ r: redisReply) throws(RedisError) -> [RESPValue] {
        guard let element = r.element, r.elements > 0 else { return [] }
        var out: [RESPValue] = []
        out.reserveCapacity(r.elements)
        for i in 0..<r.elements {
            guard let child = element[i] else { throw .protocol("missing element \(i) in an aggregate reply") }
            out.append(try RESPValue(copying: child))
        }
        return out
    }
}
