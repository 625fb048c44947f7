#if canImport(Glibc)
import Glibc
#endif

/// Minimal scanning of incoming frames: no JSON library on the hot path. A publication's payload carries
/// `"seq":<n>` and `"ts":<n>` (see `PayloadTemplate`); a Centrifugo frame may hold several pushes separated by `\n`,
/// and an nchan frame is the raw payload, so the same scan serves both.
enum ByteScan {
    private static let seqKey: [UInt8] = Array(#""seq":"#.utf8)
    private static let tsKey: [UInt8] = Array(#""ts":"#.utf8)

    /// Offset of `needle` in `hay[from...]`, or nil.
    @inline(__always)
    static func find(_ needle: [UInt8], in hay: UnsafeRawBufferPointer, from: Int) -> Int? {
        guard from < hay.count, let base = hay.baseAddress else { return nil }
        let first = Int32(needle[0])
        let n = needle.count
        var at = from
        return needle.withUnsafeBytes { nb -> Int? in
            // memchr for the first byte, memcmp for the rest (memmem is not exported by the Glibc module).
            while at + n <= hay.count {
                guard let hit = memchr(base + at, first, hay.count - at - n + 1) else { return nil }
                let off = base.distance(to: UnsafeRawPointer(hit))
                if memcmp(hit, nb.baseAddress!, n) == 0 { return off }
                at = off + 1
            }
            return nil
        }
    }

    /// Parses an unsigned decimal at `i` after optional spaces; returns the value and the offset past it.
    @inline(__always)
    static func number(_ p: UnsafeRawBufferPointer, at start: Int) -> (UInt64, Int)? {
        var i = start
        while i < p.count && p[i] == 0x20 { i += 1 }
        var v: UInt64 = 0
        let first = i
        while i < p.count {
            let d = p[i] &- 0x30
            if d > 9 { break }
            v = v &* 10 &+ UInt64(d)
            i += 1
        }
        return i > first ? (v, i) : nil
    }

    /// Calls `body(seq, ts)` for every publication payload in `p`; returns how many it found.
    @inline(__always)
    static func forEachPublication(_ p: UnsafeRawBufferPointer, _ body: (UInt64, UInt64) -> Void) -> Int {
        var pos = 0
        var found = 0
        while let s = find(seqKey, in: p, from: pos) {
            guard let (seq, afterSeq) = number(p, at: s + seqKey.count),
                  let t = find(tsKey, in: p, from: afterSeq),
                  let (ts, afterTs) = number(p, at: t + tsKey.count) else { break }
            body(seq, ts)
            found += 1
            pos = afterTs
        }
        return found
    }

    /// Number of lines that are exactly `{}` (Centrifugo's JSON ping; several messages in a frame are `\n`-separated).
    @inline(__always)
    static func pingLines(_ p: UnsafeRawBufferPointer) -> Int {
        let n = p.count
        if n == 2 { return p[0] == 0x7B && p[1] == 0x7D ? 1 : 0 }
        var count = 0
        var lineStart = 0
        while lineStart < n {
            var end = lineStart
            if let base = p.baseAddress, let nl = memchr(base + lineStart, 0x0A, n - lineStart) {
                end = base.distance(to: UnsafeRawPointer(nl))
            } else {
                end = n
            }
            if end - lineStart == 2 && p[lineStart] == 0x7B && p[lineStart + 1] == 0x7D { count += 1 }
            lineStart = end + 1
        }
        return count
    }

    @inline(__always)
    static func hasNewline(_ p: UnsafeRawBufferPointer) -> Bool {
        guard let base = p.baseAddress, p.count > 0 else { return false }
        return memchr(base, 0x0A, p.count) != nil
    }

    /// The status code of an HTTP response head (`HTTP/1.1 101 ...`), or 0 when it is not one.
    static func statusCode(_ p: UnsafeRawBufferPointer) -> Int {
        let prefix = Array("HTTP/1.".utf8)
        guard p.count >= 12, prefix.indices.allSatisfy({ p[$0] == prefix[$0] }), p[8] == 0x20 else { return 0 }
        return number(p, at: 9).map { Int($0.0) } ?? 0
    }

    /// Whether `p[range]` is `lowercase` in ASCII, ignoring case (HTTP header names).
    static func equalsIgnoringCase(_ p: UnsafeRawBufferPointer, _ range: Range<Int>, _ lowercase: StaticString) -> Bool {
        guard range.count == lowercase.utf8CodeUnitCount else { return false }
        let expected = lowercase.utf8Start
        for (i, at) in range.enumerated() where p[at] | 0x20 != expected[i] { return false }
        return true
    }

    /// Whether `p[range]` contains `lowercase`, ignoring ASCII case (HTTP header values).
    static func containsIgnoringCase(_ p: UnsafeRawBufferPointer, _ range: Range<Int>, _ lowercase: StaticString) -> Bool {
        let n = lowercase.utf8CodeUnitCount
        guard n <= range.count else { return false }
        for start in range.lowerBound...(range.upperBound - n)
        where equalsIgnoringCase(p, start..<(start + n), lowercase) {
            return true
        }
        return false
    }

    /// Whether `p` contains `needle` (setup replies only; not the hot path).
    static func contains(_ p: UnsafeRawBufferPointer, _ needle: String) -> Bool {
        find(Array(needle.utf8), in: p, from: 0) != nil
    }
}
