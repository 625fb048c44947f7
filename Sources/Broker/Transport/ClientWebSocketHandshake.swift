import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// The WebSocket opening handshake for client connections, on every client WebSocket path (the bidirectional
/// `websocket` and the unidirectional `uni_websocket`).
///
/// `HTTPRequestHandler` runs it on a connection's first request (see its `switchProtocols`) rather than
/// NIO's upgrade handler, which sits in every new connection's pipeline, decides through a chain of
/// futures and removes four handlers one future at a time: about 15% of the broker's CPU per connection
/// under connect churn.
///
/// Only the frame *decoder* is installed: outbound, the broker writes complete frames itself, so that one
/// pre-built publication frame can be shared by every subscriber. A request it declines (wrong path,
/// disallowed Origin, bad headers, a bad `cf_connect`) is answered as a plain request: 403 or 400.
///
/// The connection's handler is built here, before the 101 is written, because it holds the endpoint's
/// permessage-deflate settings: it answers the client's `Sec-WebSocket-Extensions` offer (see
/// ``WebSocketConnectionHandler/negotiateCompression(offers:)``), and the answer goes into the 101.
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
        /// The 101 Switching Protocols.
        let response: HTTPResponse
        /// The connection's handler, from `route.makeHandler(request)`.
        let handler: any ChannelHandler
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
        let digest = Insecure.SHA1.hash(data: Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))
        var headers = [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", Data(digest).base64EncodedString())]
        if route.negotiatesSubprotocol {
            let offered = h[canonicalForm: "Sec-WebSocket-Protocol"]
            if offered.contains("centrifuge-protobuf") {
                headers.append(("Sec-WebSocket-Protocol", "centrifuge-protobuf"))
            } else if offered.contains("centrifuge-json") {
                headers.append(("Sec-WebSocket-Protocol", "centrifuge-json"))
            }
        }
        let handler = route.makeHandler(request)
        if let webSocket = handler as? WebSocketConnectionHandler,
            let answer = webSocket.negotiateCompression(offers: h[canonicalForm: "Sec-WebSocket-Extensions"].map(String.init))
        {
            headers.append(("Sec-WebSocket-Extensions", answer))
        }
        let response = HTTPResponse(status: .switchingProtocols, contentType: "", body: [], headers: headers)
        return Accepted(route: route, request: request, response: response, handler: handler)
    }
}
