/// `uni_websocket`: Centrifugo's unidirectional WebSocket. The client sends only its connect request
/// (first message or `?cf_connect=`); the server sends bare pushes, one per text frame.
public struct UniWebSocketConfig: Sendable, Equatable {
    public var enabled = false
    public var handlerPrefix: String = "/connection/uni_websocket"
    public var messageSizeLimit: Int = 65536
    public var writeTimeout: Duration = .milliseconds(1000)
    /// Several pushes of one loop tick share a frame, `\n`-separated (the client must split them).
    public var joinPushMessages = false
    /// No disconnect push before the close frame (which carries the same code and reason).
    public var disableDisconnectPush = false
    /// permessage-deflate, as `websocket.compression*` (see `WebSocketConfig`).
    public var compression = false
    public var compressionLevel = 1
    public var compressionMinSize = 0
    public var decompressedMessageSizeLimit = 0
    public init() {}
}

/// `uni_sse` and `uni_http_stream`: a long-lived HTTP response carrying bare pushes, as SSE
/// `data:` events or as newline-delimited JSON.
public struct UniHTTPStreamConfig: Sendable, Equatable {
    public var enabled = false
    public var handlerPrefix: String
    /// Largest POST body (the connect request) accepted; bigger → 413.
    public var maxRequestBodySize: Int = 65536
    /// Answer a failed connect with an HTTP status instead of a 200 stream holding a disconnect push.
    public var connectCodeToHTTPResponse = ConnectCodeToHTTPResponse()

    public init(handlerPrefix: String) {
        self.handlerPrefix = handlerPrefix
    }
}

/// `client.connect_code_to_unidirectional_disconnect`: which disconnect a connect error code becomes on
/// a unidirectional transport (which has no error replies), ahead of the built-in mapping.
public struct ConnectCodeToUnidirectionalDisconnect: Sendable, Equatable {
    public struct Transform: Sendable, Equatable {
        /// The connect error code (e.g. 109).
        public var code: UInt32
        public var toCode: UInt32
        public var toReason: String

        public init(code: UInt32, toCode: UInt32, toReason: String) {
            self.code = code
            self.toCode = toCode
            self.toReason = toReason
        }
    }

    public var enabled = false
    public var transforms: [Transform] = []
    public init() {}
}

/// `uni_sse.connect_code_to_http_response` / `uni_http_stream.connect_code_to_http_response`: when
/// enabled, a connect that fails is answered with a plain HTTP response: the first transform whose
/// `code` matches the error or disconnect code gives the status and body (an empty body becomes the
/// error message or disconnect reason); no match → 500 `Internal Server Error`.
public struct ConnectCodeToHTTPResponse: Sendable, Equatable {
    public struct Transform: Sendable, Equatable {
        public var code: UInt32
        public var statusCode: Int
        public var body: String

        public init(code: UInt32, statusCode: Int, body: String) {
            self.code = code
            self.statusCode = statusCode
            self.body = body
        }
    }

    public var enabled = false
    public var transforms: [Transform] = []
    public init() {}

    /// The HTTP status and body for a connect that failed with `code` (and `message`, its text).
    public func response(code: UInt32, message: String) -> (status: Int, body: String) {
        guard let t = transforms.first(where: { $0.code == code }) else { return (500, "Internal Server Error") }
        return (t.statusCode, t.body.isEmpty ? message : t.body)
    }
}
