import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// The WebSocket opening handshake for client connections, on every client WebSocket path (the bidirectional
/// `websocket` and the unidirectional `uni_websocket`).
///
/// `HTTPRequestHandler` runs it on a connection's first request rather than NIO's upgrade handler, which
/// sits in every new connection's pipeline, decides through a chain of futures and removes four handlers
/// one future at a time: about a fifth of the broker's CPU per connection under connect churn.
///
/// Only the frame *decoder* is installed: outbound, the broker writes complete frames itself, so that one
/// pre-built publication frame can be shared by every subscriber. A request it declines (wrong path,
/// disallowed Origin, bad headers, a bad `cf_connect`) is answered as a plain request: 403 or 400.
struct ClientWebSocketHandshake: Sendable {
    /// One WebSocket endpoint.
    struct Route: Sendable {
        var maxFrameSize: Int
        /// Answer a `centrifuge-json`/`centrifuge-protobuf` subprotocol offer (the bidirectional endpoint).
        var negotiatesSubprotocol: Bool
        /// Checks the request before the handshake is accepted (false: declined).
        var accepts: @Sendable (HTTPRequestHead) -> Bool = { _ in true }
        /// Builds the connection's handler from the upgrade request.
        var makeHandler: @Sendable (HTTPRequestHead) -> any ChannelHandler
    }

    /// A handshake to complete once the request has ended.
    struct Accepted {
        let route: Route
        let request: HTTPRequestHead
        let responseHeaders: HTTPHeaders
    }

    let routes: [String: Route]
    let origins: OriginCheck

    /// The handshake `request` asks for, or nil when it is not an acceptable WebSocket upgrade.
    func accept(_ request: HTTPRequestHead) -> Accepted? {
        let h = request.headers
        guard h[canonicalForm: "Upgrade"].contains(where: { $0.lowercased() == "websocket" }),
            h[canonicalForm: "Connection"].contains(where: { $0.lowercased() == "upgrade" }),
            let route = routes[HTTPRouter.split(request.uri).path], origins.allows(h.first(name: "Origin")),
            let key = h.first(name: "Sec-WebSocket-Key"), h.first(name: "Sec-WebSocket-Version") == "13",
            route.accepts(request)
        else { return nil }
        var headers = HTTPHeaders([("Upgrade", "websocket"), ("Connection", "Upgrade")])
        let digest = Insecure.SHA1.hash(data: Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))
        headers.add(name: "Sec-WebSocket-Accept", value: Data(digest).base64EncodedString())
        if route.negotiatesSubprotocol {
            let offered = h[canonicalForm: "Sec-WebSocket-Protocol"]
            if offered.contains("centrifuge-protobuf") {
                headers.add(name: "Sec-WebSocket-Protocol", value: "centrifuge-protobuf")
            } else if offered.contains("centrifuge-json") {
                headers.add(name: "Sec-WebSocket-Protocol", value: "centrifuge-json")
            }
        }
        return Accepted(route: route, request: request, responseHeaders: headers)
    }
}

/// NIO's HTTP/1 server codec, added by hand (not `configureHTTPServerPipeline`) so that the handler after
/// it can take both halves out again when a WebSocket handshake completes.
struct HTTPServerCodec {
    let encoder: HTTPResponseEncoder
    let decoder: ByteToMessageHandler<HTTPRequestDecoder>

    /// `forwardingLeftovers`: when the decoder leaves after a handshake, bytes it holds beyond the request
    /// (frames a client sent without waiting for the 101) go on to the frame decoder instead of being dropped.
    static func add(to pipeline: ChannelPipeline.SynchronousOperations, forwardingLeftovers: Bool) throws -> HTTPServerCodec {
        let codec = HTTPServerCodec(
            encoder: HTTPResponseEncoder(),
            decoder: ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: forwardingLeftovers ? .forwardBytes : .dropBytes)))
        try pipeline.addHandler(codec.encoder)
        try pipeline.addHandler(codec.decoder)
        return codec
    }

    /// Sends the 101 for `handshake` and gives the connection to its route's handler, after `httpHandler`'s
    /// place: the encoder and `httpHandler` leave now, the decoder at the end of this tick (NIO defers it),
    /// handing on what it holds beyond the request.
    func switchProtocols(
        _ handshake: ClientWebSocketHandshake.Accepted, context: ChannelHandlerContext, httpHandler: any RemovableChannelHandler
    ) throws {
        let head = HTTPResponseHead(version: .http1_1, status: .switchingProtocols, headers: handshake.responseHeaders)
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        let pipeline = context.pipeline.syncOperations
        let frames = ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: handshake.route.maxFrameSize))
        try pipeline.addHandler(frames, position: .after(httpHandler))
        try pipeline.addHandler(handshake.route.makeHandler(handshake.request), position: .after(frames))
        pipeline.removeHandler(httpHandler, promise: nil)
        pipeline.removeHandler(encoder, promise: nil)
        pipeline.removeHandler(decoder, promise: nil)
    }
}
