import CHiredis
import NIOCore

/// Turns a command's arguments into RESP bytes with hiredis's `redisFormatCommandArgv`.
///
/// Binary-safe: every argument's length is passed explicitly, so values may hold `\0`, `\r\n` or any byte.
enum RESPCommandEncoder {
    static func encode(_ args: [[UInt8]]) -> [UInt8] {
        withFormatted(args) { Array($0) }
    }

    /// Appends the encoded command to `buffer` (one copy fewer than `encode(_:)` on the write path).
    static func encode(_ args: [[UInt8]], into buffer: inout ByteBuffer) {
        withFormatted(args) { _ = buffer.writeBytes($0) }
    }

    /// Calls `body` with hiredis's formatted command; the bytes are freed when `body` returns.
    ///
    /// The arguments are first laid end to end in one array so that a single pointer scope covers them all
    /// (a trailing byte keeps every argument pointer, even an empty last one, inside the allocation).
    private static func withFormatted<R>(_ args: [[UInt8]], _ body: (UnsafeRawBufferPointer) -> R) -> R {
        precondition(args.count <= Int(Int32.max), "too many arguments for one Redis command")
        var flat: [UInt8] = []
        flat.reserveCapacity(args.reduce(1) { $0 + $1.count })
        var offsets: [Int] = []
        var lengths: [Int] = []
        offsets.reserveCapacity(args.count)
        lengths.reserveCapacity(args.count)
        for arg in args {
            offsets.append(flat.count)
            lengths.append(arg.count)
            flat.append(contentsOf: arg)
        }
        flat.append(0)

        return flat.withUnsafeBytes { raw in
            let chars = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
            var argv: [UnsafePointer<CChar>?] = offsets.map { UnsafePointer(chars + $0) }
            var target: UnsafeMutablePointer<CChar>?
            let length = argv.withUnsafeMutableBufferPointer { argvBuffer in
                lengths.withUnsafeBufferPointer { lengthBuffer in
                    redisFormatCommandArgv(&target, Int32(args.count), argvBuffer.baseAddress, lengthBuffer.baseAddress)
                }
            }
            // hiredis fails only when malloc does; Swift treats running out of memory as fatal as well.
            guard length >= 0, let target else { fatalError("redisFormatCommandArgv: out of memory") }
            defer { redisFreeCommand(target) }
            return body(UnsafeRawBufferPointer(start: target, count: Int(length)))
        }
    }
}
