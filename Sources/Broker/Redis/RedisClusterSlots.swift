/// Redis Cluster's key → slot mapping (CRC16/XMODEM of the key, or of its hash tag, modulo 16384), and the hash
/// tags the engine gives its fan-out streams.
public enum RedisClusterSlots {
    public static let count = 16384

    /// The slot of `key`: when the key holds `{…}` with at least one byte between the first `{` and the next
    /// `}`, only those bytes are hashed (so keys sharing a tag share a slot, as multi-key scripts need).
    public static func slot(of key: [UInt8]) -> Int {
        key.withUnsafeBufferPointer { b in
            if let open = b.firstIndex(of: UInt8(ascii: "{")),
                let close = b[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1
            {
                return Int(crc16(UnsafeBufferPointer(rebasing: b[(open + 1)..<close])) % UInt16(count))
            }
            return Int(crc16(b) % UInt16(count))
        }
    }

    public static func slot(of key: String) -> Int { slot(of: Array(key.utf8)) }

    /// `count` hash tags whose slots lie in `count` equal, consecutive parts of the slot space, the first in
    /// the first part and so on: a cluster whose masters own contiguous ranges (as `redis-cli --cluster create`
    /// assigns them) gets a share of the tags on every master. Deterministic: every node computes the same tags.
    public static func spreadTags(_ count: Int) -> [String] {
        (0..<count).map { i in
            let low = i * Self.count / count
            let high = (i + 1) * Self.count / count
            var n = 0
            while true {
                let tag = "f\(i)-\(n)"
                let s = slot(of: tag)
                if s >= low && s < high { return tag }
                n += 1
            }
        }
    }

    /// CRC16/XMODEM (polynomial 0x1021, initial 0), as in the Redis Cluster specification.
    static func crc16(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
        }
        return crc
    }

    private static let table: [UInt16] = (0..<256).map { i in
        var c = UInt16(i) << 8
        for _ in 0..<8 { c = (c & 0x8000) != 0 ? (c << 1) ^ 0x1021 : c << 1 }
        return c
    }
}
