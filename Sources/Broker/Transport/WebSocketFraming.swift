import NIOCore

/// Builds unmasked server-to-client WebSocket frames directly into a ByteBuffer.
///
/// The broker writes frames itself (below any frame encoder) so that one publication frame,
/// header included, is built once and the same bytes go to every subscriber.
public enum WebSocketFraming {
    public static let opcodeText: UInt8 = 0x1
    public static let opcodeBinary: UInt8 = 0x2
    public static let opcodeClose: UInt8 = 0x8
    public static let opcodePing: UInt8 = 0x9
    public static let opcodePong: UInt8 = 0xA
    /// RSV1: the message is compressed (permessage-deflate, RFC 7692 §6), set on its first frame.
    public static let compressedBit: UInt8 = 0x40

    public static func headerSize(payloadLength n: Int) -> Int {
        n < 126 ? 2 : (n <= 0xFFFF ? 4 : 10)
    }

    public static func writeHeader(opcode: UInt8, compressed: Bool = false, payloadLength n: Int, into buffer: inout ByteBuffer) {
        let index = buffer.writerIndex
        buffer.writeRepeatingByte(0, count: headerSize(payloadLength: n))
        setHeader(opcode: opcode, compressed: compressed, payloadLength: n, at: index, in: &buffer)
    }

    /// Writes a header of `headerSize(payloadLength: n)` bytes at `index` (in room left before a payload).
    public static func setHeader(opcode: UInt8, compressed: Bool = false, payloadLength n: Int, at index: Int, in buffer: inout ByteBuffer) {
        buffer.setInteger(0x80 | (compressed ? compressedBit : 0) | opcode, at: index)
        if n < 126 {
            buffer.setInteger(UInt8(n), at: index + 1)
        } else if n <= 0xFFFF {
            buffer.setInteger(UInt8(126), at: index + 1)
            buffer.setInteger(UInt16(n), at: index + 2)
        } else {
            buffer.setInteger(UInt8(127), at: index + 1)
            buffer.setInteger(UInt64(n), at: index + 2)
        }
    }

    /// The payload of a complete unmasked frame built here (a slice sharing its storage), and its opcode.
    public static func payload(of frame: ByteBuffer) -> (opcode: UInt8, payload: ByteBuffer)? {
        let start = frame.readerIndex
        guard let first = frame.getInteger(at: start, as: UInt8.self),
            let second = frame.getInteger(at: start + 1, as: UInt8.self), second & 0x80 == 0
        else { return nil }
        let headerSize: Int
        switch second & 0x7F {
        case 126: headerSize = 4
        case 127: headerSize = 10
        default: headerSize = 2
        }
        let length = frame.writerIndex - start - headerSize
        guard length >= 0, let payload = frame.getSlice(at: start + headerSize, length: length) else { return nil }
        return (first & 0x0F, payload)
    }

    /// A complete frame holding `payload`.
    public static func frame(opcode: UInt8 = opcodeText, payload: some Collection<UInt8>, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: headerSize(payloadLength: payload.count) + payload.count)
        writeHeader(opcode: opcode, payloadLength: payload.count, into: &buffer)
        buffer.writeBytes(payload)
        return buffer
    }

    /// A close frame with code and reason (the reason is cut to 123 bytes, as the RFC requires).
    public static func closeFrame(code: UInt16, reason: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        var payload: [UInt8] = [UInt8(code >> 8), UInt8(code & 0xFF)]
        payload.append(contentsOf: reason.utf8.prefix(123))
        return frame(opcode: opcodeClose, payload: payload, allocator: allocator)
    }
}
