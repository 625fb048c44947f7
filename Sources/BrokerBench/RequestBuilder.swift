import NIOCore

/// Pre-encodes publish requests for a server: for every channel the bytes around the payload are built once, and a
/// request is assembled by copying pieces and writing the sequence number into its slot; the send timestamp is
/// written later, just before the request goes out (`HTTPPool.pump`).
struct RequestBuilder: Sendable {
    /// Bytes with payload slots; `seq`/`ts` are offsets of the payload's number slots within `bytes`.
    struct Piece: Sendable {
        var bytes: [UInt8]
        var seq: Int
        var ts: Int
    }

    let server: ServerSpec
    let payload: PayloadTemplate
    let channels: [String]
    /// Per channel: the `{"publish":…}` command of a Centrifugo batch.
    private let batchPieces: [Piece]
    /// Per channel: the whole single-publication request (head and body), so that a publish only copies it.
    private let singles: [Piece]

    init(server: ServerSpec, payload: PayloadTemplate, channels: [String]) {
        self.server = server
        self.payload = payload
        self.channels = channels
        func wrap(_ prefix: String, _ suffix: String) -> Piece {
            let pre = Array(prefix.utf8)
            return Piece(bytes: pre + payload.bytes + Array(suffix.utf8), seq: pre.count + payload.seqOffset, ts: pre.count + payload.tsOffset)
        }
        // Per channel, the body of a single publication: Centrifugo `{"channel":"c","data":P}`; nchan: P.
        let pieces: [Piece]
        switch server.target {
        case .centrifugo:
            pieces = channels.map { wrap(#"{"channel":"\#($0)","data":"#, "}") }
            batchPieces = channels.map { wrap(#"{"publish":{"channel":"\#($0)","data":"#, "}}") }
        case .nchan:
            pieces = channels.map { _ in wrap("", "") }
            batchPieces = []
        }
        singles = zip(channels, pieces).map { channel, piece in
            let path = server.target == .centrifugo ? server.api.path + "/publish" : server.api.path + channel
            let h = RequestBuilder.head(server: server, path: path, contentLength: piece.bytes.count)
            return Piece(bytes: h + piece.bytes, seq: h.count + piece.seq, ts: h.count + piece.ts)
        }
    }

    private static func head(server: ServerSpec, path: String, contentLength: Int) -> [UInt8] {
        var h = "POST \(path) HTTP/1.1\r\nHost: \(server.api.host):\(server.api.port)\r\n"
        if server.target == .centrifugo { h += "X-API-Key: \(server.apiKey)\r\n" }
        h += "Content-Type: application/json\r\nContent-Length: \(contentLength)\r\n\r\n"
        return Array(h.utf8)
    }

    /// Whether several publications can share one request (`/api/batch`).
    var canBatch: Bool { server.target == .centrifugo }
    var canBroadcast: Bool { server.target == .centrifugo }

    /// One request publishing to `channel` with sequence number `seq`.
    func single(channel: Int, seq: UInt64, allocator: ByteBufferAllocator) -> (ByteBuffer, [Int]) {
        let request = singles[channel]
        var buf = allocator.buffer(bytes: request.bytes)
        buf.withUnsafeMutableReadableBytes { p in
            PayloadTemplate.writeNumber(seq, into: p, at: request.seq, width: PayloadTemplate.seqWidth)
        }
        return (buf, [request.ts])
    }

    /// One `/api/batch` request with a publish command per (channel, seq).
    func batch(_ items: [(channel: Int, seq: UInt64)], allocator: ByteBufferAllocator) -> (ByteBuffer, [Int]) {
        let open = Array(#"{"commands":["#.utf8)
        let close = Array("]}".utf8)
        let length = open.count + close.count + items.reduce(0) { $0 + batchPieces[$1.channel].bytes.count } + max(0, items.count - 1)
        let h = RequestBuilder.head(server: server, path: server.api.path + "/batch", contentLength: length)
        var buf = allocator.buffer(capacity: h.count + length)
        buf.writeBytes(h)
        buf.writeBytes(open)
        var seqOffsets: [(Int, UInt64)] = []
        var tsOffsets: [Int] = []
        for (i, item) in items.enumerated() {
            if i > 0 { buf.writeInteger(UInt8(ascii: ",")) }
            let piece = batchPieces[item.channel]
            let at = buf.writerIndex - buf.readerIndex
            seqOffsets.append((at + piece.seq, item.seq))
            tsOffsets.append(at + piece.ts)
            buf.writeBytes(piece.bytes)
        }
        buf.writeBytes(close)
        buf.withUnsafeMutableReadableBytes { p in
            for (o, s) in seqOffsets { PayloadTemplate.writeNumber(s, into: p, at: o, width: PayloadTemplate.seqWidth) }
        }
        return (buf, tsOffsets)
    }

    /// One `/api/broadcast` request to every channel with the same `seq`.
    func broadcast(seq: UInt64, allocator: ByteBufferAllocator) -> (ByteBuffer, [Int]) {
        let names = channels.map { "\"\($0)\"" }.joined(separator: ",")
        let pre = Array(#"{"channels":[\#(names)],"data":"#.utf8)
        let body = pre + payload.bytes + Array("}".utf8)
        let h = RequestBuilder.head(server: server, path: server.api.path + "/broadcast", contentLength: body.count)
        var buf = allocator.buffer(capacity: h.count + body.count)
        buf.writeBytes(h)
        buf.writeBytes(body)
        buf.withUnsafeMutableReadableBytes { p in
            PayloadTemplate.writeNumber(seq, into: p, at: h.count + pre.count + payload.seqOffset, width: PayloadTemplate.seqWidth)
        }
        return (buf, [h.count + pre.count + payload.tsOffset])
    }
}
