import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// The WebSocket handshake for client connections.
///
/// Unlike NIO's stock upgrader it installs only the frame *decoder*: outbound, the broker writes
/// complete frames itself, so that one pre-built publication frame can be shared by every subscriber.
/// A request it declines (wrong path, disallowed Origin, bad headers) falls through to the plain
/// HTTP handler, which answers 403/400.
final class ClientWebSocketUpgrader: HTTPServerProtocolUpgrader, @unchecked Sendable {
    let supportedProtocol = "websocket"
    let requiredUpgradeHeaders: [String] = []

    private let path: String
    private let origins: OriginCheck
    private let maxFrameSize: Int
    private let makeHandler: @Sendable (WireFormat, Bool) -> any ChannelHandler

    struct Declined: Error {}

    /// `makeHandler(format, nativePing)` builds the connection's handler.
    init(path: String, origins: OriginCheck, maxFrameSize: Int, makeHandler: @escaping @Sendable (WireFormat, Bool) -> any ChannelHandler) {
        self.path = path
        self.origins = origins
        self.maxFrameSize = maxFrameSize
        self.makeHandler = makeHandler
    }

    func buildUpgradeResponse(channel: any Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders)
        -> EventLoopFuture<HTTPHeaders>
    {
        let (requestPath, _) = HTTPRouter.split(upgradeRequest.uri)
        let h = upgradeRequest.headers
        guard requestPath == path, origins.allows(h.first(name: "Origin")),
            let key = h.first(name: "Sec-WebSocket-Key"), h.first(name: "Sec-WebSocket-Version") == "13"
        else {
            return channel.eventLoop.makeFailedFuture(Declined())
        }
        var headers = initialResponseHeaders
        let digest = Insecure.SHA1.hash(data: Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))
        headers.add(name: "Sec-WebSocket-Accept", value: Data(digest).base64EncodedString())
        let offered = h[canonicalForm: "Sec-WebSocket-Protocol"].map { String($0) }
        if offered.contains("centrifuge-protobuf") {
            headers.add(name: "Sec-WebSocket-Protocol", value: "centrifuge-protobuf")
        } else if offered.contains("centrifuge-json") {
            headers.add(name: "Sec-WebSocket-Protocol", value: "centrifuge-json")
        }
        return channel.eventLoop.makeSucceededFuture(headers)
    }

    func upgrade(context: ChannelHandlerContext, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<Void> {
        let channel = context.channel
        let maxFrameSize = self.maxFrameSize
        let offered = upgradeRequest.headers[canonicalForm: "Sec-WebSocket-Protocol"].map { String($0) }
        let query = HTTPRouter.split(upgradeRequest.uri).query
        let format = WireFormat.select(offeredSubprotocols: offered, query: query)
        let nativePing = query.split(separator: "&").contains("cf_ws_frame_ping_pong=true")
        let handler = makeHandler(format, nativePing)
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxFrameSize)))
            try channel.pipeline.syncOperations.addHandler(handler)
        }
    }
}
