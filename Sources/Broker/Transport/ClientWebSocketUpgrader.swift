import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// The WebSocket handshake for client connections, on every client WebSocket path (the bidirectional
/// `websocket` and the unidirectional `uni_websocket`): NIO keeps one upgrader per protocol name.
///
/// Unlike NIO's stock upgrader it installs only the frame *decoder*: outbound, the broker writes
/// complete frames itself, so that one pre-built publication frame can be shared by every subscriber.
/// A request it declines (wrong path, disallowed Origin, bad headers, a bad `cf_connect`) falls through
/// to the plain HTTP handler, which answers 403/400.
final class ClientWebSocketUpgrader: HTTPServerProtocolUpgrader, @unchecked Sendable {
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

    let supportedProtocol = "websocket"
    let requiredUpgradeHeaders: [String] = []

    private let routes: [String: Route]
    private let origins: OriginCheck

    struct Declined: Error {}

    init(routes: [String: Route], origins: OriginCheck) {
        self.routes = routes
        self.origins = origins
    }

    func buildUpgradeResponse(channel: any Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders)
        -> EventLoopFuture<HTTPHeaders>
    {
        let (requestPath, _) = HTTPRouter.split(upgradeRequest.uri)
        let h = upgradeRequest.headers
        guard let route = routes[requestPath], origins.allows(h.first(name: "Origin")),
            let key = h.first(name: "Sec-WebSocket-Key"), h.first(name: "Sec-WebSocket-Version") == "13",
            route.accepts(upgradeRequest)
        else {
            return channel.eventLoop.makeFailedFuture(Declined())
        }
        var headers = initialResponseHeaders
        let digest = Insecure.SHA1.hash(data: Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))
        headers.add(name: "Sec-WebSocket-Accept", value: Data(digest).base64EncodedString())
        if route.negotiatesSubprotocol {
            let offered = h[canonicalForm: "Sec-WebSocket-Protocol"].map { String($0) }
            if offered.contains("centrifuge-protobuf") {
                headers.add(name: "Sec-WebSocket-Protocol", value: "centrifuge-protobuf")
            } else if offered.contains("centrifuge-json") {
                headers.add(name: "Sec-WebSocket-Protocol", value: "centrifuge-json")
            }
        }
        return channel.eventLoop.makeSucceededFuture(headers)
    }

    func upgrade(context: ChannelHandlerContext, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<Void> {
        let channel = context.channel
        guard let route = routes[HTTPRouter.split(upgradeRequest.uri).path] else {
            return channel.eventLoop.makeFailedFuture(Declined())
        }
        let handler = route.makeHandler(upgradeRequest)
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: route.maxFrameSize)))
            try channel.pipeline.syncOperations.addHandler(handler)
        }
    }
}
