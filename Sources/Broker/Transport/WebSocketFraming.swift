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

    public static func headerSize(payloadLength n: Int) -> Int {
        n < 126 ? 2 : (n <= 0xFFFF ? 4 : 10)
    }

    public static func writeHeader(opcode: UInt8, payloadLength n: Int, into buffer: inout ByteBuffer) {
        buffer.writeInteger(0x80 | opcode)
        if n < 126 {
            buffer.writeInteger(UInt8(n))
        } else if n <= 0xFFFF {
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(n))
        } else {
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(n))
        }
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
