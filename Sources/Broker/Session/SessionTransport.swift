import NIOCore

/// What a session needs from its connection. The WebSocket handler implements it; tests can too.
///
/// All calls happen on the session's event loop.
protocol SessionTransport: AnyObject {
    var allocator: ByteBufferAllocator { get }
    /// False once the outbound queue holds more than `client.queue_max_size` bytes.
    var isWritable: Bool { get }
    /// Queues a complete WebSocket frame (not flushed).
    func writeFrame(_ frame: ByteBuffer)
    func flush()
    /// Sends a close frame with the code and reason, flushes, and closes the connection.
    func close(code: UInt16, reason: String)
}
