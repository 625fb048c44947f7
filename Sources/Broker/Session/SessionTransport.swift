import NIOCore

/// What a session needs from its connection. The WebSocket handlers and the unidirectional HTTP
/// stream handler implement it; tests can too.
///
/// All calls happen on the session's event loop.
protocol SessionTransport: AnyObject {
    var allocator: ByteBufferAllocator { get }
    /// False once the outbound queue holds more than `client.queue_max_size` bytes.
    var isWritable: Bool { get }
    /// Queues bytes already framed for this transport (see ``OutboundFraming``); not flushed.
    func writeFrame(_ frame: ByteBuffer)
    func flush()
    /// Ends the connection: a WebSocket close frame with the code and reason, or the end of an HTTP
    /// streaming response; flushes, and closes the connection.
    func close(code: UInt16, reason: String)
}
