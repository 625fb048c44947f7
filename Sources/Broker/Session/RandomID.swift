import Foundation

/// Client and session IDs: random (version 4) UUIDs in lowercase text, as Centrifugo's.
///
/// Formatted here because Foundation's `uuidString` goes through `snprintf`, which showed up in profiles
/// of connection churn; the 16 random bytes still come from `UUID()` (one system call).
enum RandomID {
    private static let hex = Array("0123456789abcdef".utf8)

    static func make() -> String {
        withUnsafeBytes(of: UUID().uuid) { raw in
            String(unsafeUninitializedCapacity: 36) { out in
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
