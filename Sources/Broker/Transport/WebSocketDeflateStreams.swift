import CompressNIO
import NIOConcurrencyHelpers

/// zlib streams kept for reuse from one message to the next.
///
/// Setting up a deflate stream allocates about 270 KB (window and hash chains) and an inflate stream about
/// 40 KB, so each message takes a pooled stream and resets it (`deflateReset`/`inflateReset`, which is also
/// the "no context takeover" fresh start every message gets) instead of setting up a new one.
///
/// `@unchecked Sendable`: the lists are only touched under `lock`, and a stream is used by one thread at a
/// time: it leaves the pool for the duration of one message and comes back after.
final class WebSocketDeflateStreams: @unchecked Sendable {
    static let shared = WebSocketDeflateStreams()

    /// Idle streams kept per kind (and per level): a few per event loop is the steady state.
    private static let keep = 64
    private let lock = NIOLock()
    private var compressors: [Int: [ZlibCompressor]] = [:]
    private var decompressors: [ZlibDecompressor] = []

    /// Runs `body` with a raw-deflate stream of `level` (see ``WebSocketDeflate/zlibConfiguration(level:)``),
    /// reset to a fresh start.
    func withCompressor<T>(level: Int, _ body: (ZlibCompressor) throws -> T) throws -> T {
        let pooled = lock.withLock { compressors[level]?.popLast() }
        let compressor: ZlibCompressor
        if let pooled {
            try pooled.reset()
            compressor = pooled
        } else {
            compressor = try ZlibCompressor(algorithm: .deflate, configuration: WebSocketDeflate.zlibConfiguration(level: level))
        }
        defer {
            lock.withLock {
                if compressors[level, default: []].count < Self.keep { compressors[level, default: []].append(compressor) }
            }
        }
        return try body(compressor)
    }

    /// Runs `body` with a raw-inflate stream with the largest (32 KB) window, reset to a fresh start.
    func withDecompressor<T>(_ body: (ZlibDecompressor) throws -> T) throws -> T {
        let pooled = lock.withLock { decompressors.popLast() }
        let decompressor: ZlibDecompressor
        if let pooled {
            try pooled.reset()
            decompressor = pooled
        } else {
            decompressor = try ZlibDecompressor(algorithm: .deflate, windowSize: 15)
        }
        defer {
            lock.withLock {
                if decompressors.count < Self.keep { decompressors.append(decompressor) }
            }
        }
        return try body(decompressor)
    }
}
