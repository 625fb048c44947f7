import BrokerProtocol
import NIOConcurrencyHelpers
import NIOCore

/// A push for one channel, encoded once for every subscriber on every event loop.
///
/// `jsonFrame` is the complete WebSocket text frame (header + `{"push":...}`); a copy of a
/// ByteBuffer shares its storage, so writing it to N connections copies no payload bytes.
/// It is nil when the payload is binary and cannot be carried by JSON (such subscribers get 3506).
public final class PreparedPush: Sendable {
    public enum Kind: Sendable { case publication, join, leave }

    public let channel: String
    public let kind: Kind
    /// Stream offset (0 without history) and epoch ("" without history) of a publication.
    public let offset: UInt64
    public let epoch: String
    public let jsonFrame: ByteBuffer?
    private let push: Push
    private let allocator: ByteBufferAllocator
    /// Built on first use: most channels have no Protobuf subscriber.
    private let protobufFrameBox = NIOLockedValueBox<ByteBuffer?>(nil)
    /// The previous publication's data, when a fossil patch against it is valid (see ``DeltaBases``).
    private let deltaBase: Payload?
    /// Frames for delta subscribers, built on first use, once per channel: the patch is computed once and
    /// each of the four forms (JSON/Protobuf × full/patch) encoded once. Deflated frames for permessage-deflate
    /// subscribers are kept in the same box (one allocation per push for both), each form deflated once.
    private let deltaFrames = NIOLockedValueBox(DeltaFrames())

    private struct DeltaFrames {
        var patch: [UInt8]?
        var frames: [DeltaFrameKey: ByteBuffer?] = [:]
        /// nil values: that form goes out uncompressed (not longer than the minimum size, or zlib failed).
        var deflated: [DeflatedFrameKey: ByteBuffer?] = [:]
    }

    /// Which of this push's frames a subscriber gets, for ``deflatedFrame(_:form:deflate:)``.
    struct DeflatedForm: Hashable {
        /// The frame came from ``frame(for:)`` (nil) or ``deltaFrame(for:patched:)`` (the `patched` asked for).
        var delta: Bool?
        var json: Bool
        /// `uni_websocket`: the bare push object is the payload (see ``OutboundFraming``).
        var uni: Bool
    }

    /// The form and the endpoint settings that decide the deflated frame (whether it is compressed at all).
    private struct DeflatedFrameKey: Hashable {
        var form: DeflatedForm
        var level: Int
        var minSize: Int
    }

    private struct DeltaFrameKey: Hashable {
        var json: Bool
        var patched: Bool
    }

    init(
        channel: String, kind: Kind, offset: UInt64, epoch: String, push: Push, allocator: ByteBufferAllocator,
        deltaBase: Payload? = nil
    ) {
        self.channel = channel
        self.kind = kind
        self.offset = offset
        self.epoch = epoch
        self.push = push
        self.allocator = allocator
        self.deltaBase = deltaBase
        if let payload = try? JSONProtocolEncoder.encode(push) {
            self.jsonFrame = WebSocketFraming.frame(payload: payload, allocator: allocator)
        } else {
            self.jsonFrame = nil
        }
    }

    /// The frame for subscribers speaking `format` (nil: the payload cannot be carried by JSON).
    func frame(for format: WireFormat) -> ByteBuffer? {
        switch format {
        case .json:
            return jsonFrame
        case .protobuf:
            return protobufFrameBox.withLockedValue { cached in
                if let cached { return cached }
                let frame = WebSocketFraming.frame(
                    opcode: WebSocketFraming.opcodeBinary, payload: ProtobufProtocolEncoder.encode(push), allocator: allocator)
                cached = frame
                return frame
            }
        }
    }

    /// The frame for a subscriber that negotiated fossil deltas: the publication patched against the previous
    /// one when `patched` (the subscriber holds that previous data) and a base exists, else in full, in the
    /// delta form (see ``DeltaPublication``). Nil: the payload cannot be carried by JSON.
    func deltaFrame(for format: WireFormat, patched: Bool) -> ByteBuffer? {
        guard case .publication(let publication) = push.body else { return frame(for: format) }
        let json = format == .json
        let usePatch = patched && deltaBase != nil
        return deltaFrames.withLockedValue { state -> ByteBuffer? in
            let key = DeltaFrameKey(json: json, patched: usePatch)
            if let cached = state.frames[key] { return cached }
            let shaped: Publication?
            if usePatch, let base = deltaBase {
                let patch = state.patch ?? FossilDelta.create(from: base.bytes, to: publication.data.bytes)
                state.patch = patch
                shaped = DeltaPublication.patched(publication, patch: patch, json: json)
            } else {
                shaped = DeltaPublication.full(publication, json: json)
            }
            var frame: ByteBuffer?
            if let shaped {
                let push = Push(channel: channel, body: .publication(shaped))
                if json {
                    if let payload = try? JSONProtocolEncoder.encode(push) {
                        frame = WebSocketFraming.frame(payload: payload, allocator: allocator)
                    }
                } else {
                    frame = WebSocketFraming.frame(
                        opcode: WebSocketFraming.opcodeBinary, payload: ProtobufProtocolEncoder.encode(push), allocator: allocator)
                }
            }
            state.frames[key] = frame
            return frame
        }
    }

    /// `frame` (this push's frame for `form`) deflated for subscribers that negotiated permessage-deflate:
    /// decided and built on the first request for each form and endpoint setting and shared after, so one publication
    /// costs one deflate however many subscribers take it, and the others only a lookup. Nil when the payload is
    /// not longer than `deflate.minSize` (or zlib failed): the caller writes `frame` as it is. `built` is true
    /// for the one caller that deflated.
    func deflatedFrame(_ frame: ByteBuffer, form: DeflatedForm, deflate: WebSocketDeflate) -> (frame: ByteBuffer, built: Bool)? {
        let key = DeflatedFrameKey(form: form, level: deflate.level, minSize: deflate.minSize)
        return deltaFrames.withLockedValue { state -> (frame: ByteBuffer, built: Bool)? in
            if let cached = state.deflated[key] { return cached.map { ($0, false) } }
            var built: ByteBuffer?
            if let source = form.uni
                ? UniPushSlice.pushObject(in: frame).map({ (opcode: WebSocketFraming.opcodeText, payload: $0) })
                : WebSocketFraming.payload(of: frame),
                deflate.compresses(payloadLength: source.payload.readableBytes)
            {
                built = WebSocketDeflate.frame(
                    opcode: source.opcode, payload: source.payload, level: deflate.level, allocator: allocator)
            }
            state.deflated[key] = .some(built)
            return built.map { ($0, true) }
        }
    }

    static func publication(
        channel: String, publication: Publication, epoch: String, deltaBase: Payload? = nil, allocator: ByteBufferAllocator
    ) -> PreparedPush {
        PreparedPush(
            channel: channel, kind: .publication, offset: publication.offset, epoch: epoch,
            push: Push(channel: channel, body: .publication(publication)), allocator: allocator, deltaBase: deltaBase)
    }

    static func join(channel: String, info: ClientInfo, allocator: ByteBufferAllocator) -> PreparedPush {
        PreparedPush(
            channel: channel, kind: .join, offset: 0, epoch: "",
            push: Push(channel: channel, body: .join(info)), allocator: allocator)
    }

    static func leave(channel: String, info: ClientInfo, allocator: ByteBufferAllocator) -> PreparedPush {
        PreparedPush(
            channel: channel, kind: .leave, offset: 0, epoch: "",
            push: Push(channel: channel, body: .leave(info)), allocator: allocator)
    }
}
