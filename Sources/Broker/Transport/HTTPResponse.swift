import NIOCore
import NIOHTTP1

/// A response for a plain HTTP request.
struct HTTPResponse: Sendable {
    var status: HTTPResponseStatus
    var contentType: String
    var body: [UInt8]
    /// Further response headers (e.g. the console's Set-Cookie and security headers).
    var headers: [(String, String)] = []
    /// The answer to a HEAD request: its headers (Content-Length included) without the body.
    var omitsBody = false

    static func json(_ body: [UInt8], status: HTTPResponseStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "application/json", body: body)
    }

    static func empty(_ status: HTTPResponseStatus) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "", body: [])
    }

    /// The response as it goes on the wire, head and body in one buffer (one write).
    ///
    /// The HTTP port has no NIO response encoder: building `HTTPHeaders` and sending head, body and end
    /// through it as three writes was about a tenth of the CPU of a server-API publish. A status that
    /// cannot have a body (1xx, 204, 304) gets neither a body nor a Content-Length, as NIO's encoder did.
    func encoded(keepAlive: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        let hasBody = status.mayHaveResponseBody
        var buffer = allocator.buffer(capacity: 160 + body.count + headers.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count + 4 })
        buffer.writeStaticString("HTTP/1.1 ")
        buffer.writeString(String(status.code))
        buffer.writeStaticString(" ")
        buffer.writeString(status.reasonPhrase)
        buffer.writeStaticString("\r\n")
        if !contentType.isEmpty {
            buffer.writeStaticString("Content-Type: ")
            buffer.writeString(contentType)
            buffer.writeStaticString("\r\n")
        }
        if hasBody {
            buffer.writeStaticString("Content-Length: ")
            buffer.writeString(String(body.count))
            buffer.writeStaticString("\r\n")
        }
        if !keepAlive { buffer.writeStaticString("Connection: close\r\n") }
        for (name, value) in headers {
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("\r\n")
        if hasBody && !omitsBody { buffer.writeBytes(body) }
        return buffer
    }
}
