/// Client and session IDs: random (version 4) UUIDs in lowercase text, as Centrifugo's.
///
/// Made here rather than with Foundation's `UUID`: its text goes through `snprintf`, and on Linux each `UUID()` opens,
/// reads and closes `/dev/urandom` (three system calls, 1% of the broker's CPU while clients connect at full rate).
/// The system generator fills the 16 bytes with two `getrandom` calls.
enum RandomID {
    private static let hex = Array("0123456789abcdef".utf8)

    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = (generator.next() as UInt64, generator.next() as UInt64)
        return withUnsafeMutableBytes(of: &bytes) { raw in
            raw[6] = raw[6] & 0x0f | 0x40  // version 4
            raw[8] = raw[8] & 0x3f | 0x80  // RFC 4122 variant
            return String(unsafeUninitializedCapacity: 36) { out in
                var o = 0
                for (i, byte) in raw.enumerated() {
                    if i == 4 || i == 6 || i == 8 || i == 10 {
                        out[o] = UInt8(ascii: "-")
                        o += 1
                    }
                    out[o] = hex[Int(byte >> 4)]
                    out[o + 1] = hex[Int(byte & 15)]
                    o += 2
                }
                return o
            }
        }
    }
}
