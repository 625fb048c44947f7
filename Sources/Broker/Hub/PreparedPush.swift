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

    init(channel: String, kind: Kind, offset: UInt64, epoch: String, push: Push, allocator: ByteBufferAllocator) {
        self.channel = channel
        self.kind = kind
        self.offset = offset
        self.epoch = epoch
        self.push = push
        self.allocator = allocator
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

    static func publication(channel: String, publication: Publication, epoch: String, allocator: ByteBufferAllocator) -> PreparedPush {
        PreparedPush(
            channel: channel, kind: .publication, offset: publication.offset, epoch: epoch,
            push: Push(channel: channel, body: .publication(publication)), allocator: allocator)
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
