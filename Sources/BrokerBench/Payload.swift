/// A publication's data: a JSON object of exactly `size` bytes,
/// `{"seq":<12 chars>,"ts":<20 chars>,"pad":"xxx…"}`, whose numbers sit in fixed-width slots, right-aligned and
/// space-padded (still valid JSON). Publish request bodies are encoded once around it; each publication only
/// overwrites the digits of `seq` (when it is queued) and `ts` (when it is written to the socket).
struct PayloadTemplate: Sendable {
    static let seqWidth = 12
    static let tsWidth = 20
    static let minimumSize = 64

    let bytes: [UInt8]
    /// Offsets of the slots within `bytes`.
    let seqOffset: Int
    let tsOffset: Int

    init(size: Int) {
        let size = max(size, Self.minimumSize)
        var b = Array(#"{"seq":"#.utf8)
        let seqOffset = b.count
        b += [UInt8](repeating: 0x20, count: Self.seqWidth)
        b += Array(#","ts":"#.utf8)
        let tsOffset = b.count
        b += [UInt8](repeating: 0x20, count: Self.tsWidth)
        b += Array(#","pad":""#.utf8)
        let tail = Array(#""}"#.utf8)
        b += [UInt8](repeating: UInt8(ascii: "x"), count: size - b.count - tail.count)
        b += tail
        b[seqOffset + Self.seqWidth - 1] = UInt8(ascii: "0")
        b[tsOffset + Self.tsWidth - 1] = UInt8(ascii: "0")
        self.bytes = b
        self.seqOffset = seqOffset
        self.tsOffset = tsOffset
    }

    /// Writes `value` right-aligned into the `width` bytes at `p`, padding with spaces on the left.
    @inline(__always)
    static func writeNumber(_ value: UInt64, into p: UnsafeMutableRawBufferPointer, at offset: Int, width: Int) {
        var v = value
        var i = offset + width - 1
        repeat {
            p[i] = UInt8(truncatingIfNeeded: 0x30 &+ v % 10)
            v /= 10
            i -= 1
        } while v > 0 && i >= offset
        while i >= offset {
            p[i] = 0x20
            i -= 1
        }
    }
}
