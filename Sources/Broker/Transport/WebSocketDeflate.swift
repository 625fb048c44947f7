import CompressNIO
import NIOCore

/// permessage-deflate (RFC 7692) as one WebSocket endpoint is configured for it: `websocket.compression*` or
/// `uni_websocket.compression*`. A connection that negotiated it (see ``WebSocketDeflateOffer``) carries this
/// value; one that did not carries nil.
///
/// Without context takeover, as Centrifugo: every message is deflated and inflated on a fresh stream, so a
/// compressed frame depends on nothing the connection sent before and one frame can go to every subscriber.
struct WebSocketDeflate: Sendable, Equatable {
    /// zlib level as Centrifugo takes it: -2 Huffman coding only, -1 zlib's default (6), 0 stored, 1...9.
    var level: Int
    /// Payloads of at most this many bytes go out uncompressed (0: every payload is compressed).
    var minSize: Int
    /// Largest client message once inflated.
    var inflatedLimit: Int

    /// The levels `websocket.compression_level` accepts: Go's `compress/flate` range, as Centrifugo.
    static let levels = -2...9
    /// `decompressed_message_size_limit` 0: this many times `message_size_limit` (Centrifugo's default).
    static let inflatedLimitMultiplier = 10

    /// The settings of an endpoint, or nil when its `compression` is off.
    init?(compression: Bool, level: Int, minSize: Int, messageSizeLimit: Int, decompressedMessageSizeLimit: Int) {
        guard compression else { return nil }
        self.level = level
        self.minSize = minSize
        self.inflatedLimit = decompressedMessageSizeLimit > 0
            ? decompressedMessageSizeLimit : messageSizeLimit * Self.inflatedLimitMultiplier
    }

    init(level: Int, minSize: Int, inflatedLimit: Int) {
        self.level = level
        self.minSize = minSize
        self.inflatedLimit = inflatedLimit
    }

    /// Whether a payload of `n` bytes is sent compressed: Centrifugo compresses every message when the
    /// minimum size is 0, otherwise only those longer than it.
    func compresses(payloadLength n: Int) -> Bool {
        minSize <= 0 || n > minSize
    }

    /// The zlib parameters of `level`: raw deflate, 32 KB window, zlib's default memory level.
    static func zlibConfiguration(level: Int) -> ZlibConfiguration {
        let huffmanOnly = level == -2
        let zlibLevel: Int32 = huffmanOnly ? 1 : Int32(clamping: level)
        let window: Int32 = 15
        let memory: Int32 = 8
        return ZlibConfiguration(
            windowSize: window, compressionLevel: zlibLevel, memoryLevel: memory,
            strategy: huffmanOnly ? .huffmanOnly : .default)
    }

    // MARK: Outbound

    /// The tail a sync flush ends with, which RFC 7692 §7.2.1 has the sender remove.
    private static let syncTail: UInt32 = 0x0000_FFFF
    /// Room left in front of the compressed bytes for the longest frame header.
    private static let headerRoom = 10

    /// A complete frame (RSV1 set) holding `payload` deflated at `level`, or nil if zlib failed (send the
    /// payload uncompressed then). One allocation: the header goes in front of the compressed bytes.
    static func frame(opcode: UInt8, payload: ByteBuffer, level: Int, allocator: ByteBufferAllocator) -> ByteBuffer? {
        try? WebSocketDeflateStreams.shared.withCompressor(level: level) { compressor -> ByteBuffer? in
            var input = payload
            var output = allocator.buffer(capacity: headerRoom + compressor.maxSize(from: input))
            output.moveWriterIndex(to: headerRoom)
            output.moveReaderIndex(to: headerRoom)
            try compressor.deflate(from: &input, to: &output, flush: .sync)
            guard input.readableBytes == 0 else { return nil }
            if output.readableBytes >= 4, output.getInteger(at: output.writerIndex - 4, as: UInt32.self) == syncTail {
                output.moveWriterIndex(to: output.writerIndex - 4)
            }
            let length = output.readableBytes
            let start = headerRoom - WebSocketFraming.headerSize(payloadLength: length)
            WebSocketFraming.setHeader(opcode: opcode, compressed: true, payloadLength: length, at: start, in: &output)
            output.moveReaderIndex(to: start)
            return output
        } ?? nil
    }

    // MARK: Inbound

    enum InflateFailure: Error, Equatable {
        /// The message inflates to more than the limit (a "decompression bomb" among others).
        case tooBig
        /// Not a valid raw deflate stream.
        case corrupt
    }

    /// The message a client sent compressed (the payloads of its frames, concatenated), inflated. Inflating
    /// stops once the output passes `limit`, so memory stays bounded (by about twice the limit, the output
    /// buffer's growth) however small the input.
    static func inflate(
        _ message: ByteBuffer, limit: Int, allocator: ByteBufferAllocator
    ) throws(InflateFailure) -> ByteBuffer {
        // The sender removed the sync flush's tail (RFC 7692 §7.2.2): put it back so the stream ends cleanly.
        var input = allocator.buffer(capacity: message.readableBytes + 4)
        input.writeImmutableBuffer(message)
        input.writeInteger(syncTail)
        do {
            return try WebSocketDeflateStreams.shared.withDecompressor { decompressor in
                var output = allocator.buffer(capacity: min(limit + 1, max(256, input.readableBytes * 4)))
                while true {
                    do {
                        try decompressor.inflate(from: &input, to: &output)
                        // Output space left over: zlib used up the input.
                        if output.readableBytes > limit { throw InflateFailure.tooBig }
                        return output
                    } catch let error as CompressNIOError where error == .bufferOverflow {
                        // The output filled up: one byte over the limit is enough to refuse the message.
                        if output.readableBytes > limit { throw InflateFailure.tooBig }
                        let room = min(limit + 1 - output.readableBytes, max(output.readableBytes, 4096))
                        output.reserveCapacity(minimumWritableBytes: room)
                    } catch let error as CompressNIOError where error == .inputBufferOverflow {
                        // No progress possible with the input used up: everything it held is out.
                        if output.readableBytes > limit { throw InflateFailure.tooBig }
                        return output
                    }
                }
            }
        } catch let failure as InflateFailure {
            throw failure
        } catch {
            throw .corrupt
        }
    }
}
