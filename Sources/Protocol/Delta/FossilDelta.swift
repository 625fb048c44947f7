// Fossil delta encoding (the "fossil" delta type used by Centrifugo / Centrifuge
// clients), written from the format description:
//
//   delta   := INT(targetLength) "\n" command* INT(checksum) ";"
//   command := INT(count) "@" INT(offset) ","   -- copy `count` bytes of source at `offset`
//            | INT(count) ":" <count raw bytes>  -- insert literal bytes
//
// INT is an unsigned 32-bit value written most-significant digit first in the
// 64-symbol alphabet "0-9 A-Z _ a-z ~" (no leading zeros, "0" for zero).
// The checksum is the wrapping sum of the target read as big-endian 32-bit
// words, the tail zero-padded to a whole word.
//
// The encoder follows the classic fossil approach: the source is cut into
// NHASH-byte blocks that are indexed by a rolling hash; the target is scanned
// with a rolling NHASH-byte window, candidate blocks are extended forwards and
// backwards, and a copy is emitted only when it is no larger than the literal
// bytes it replaces. The output is therefore never more than `target.count + 32`
// bytes and is written into one preallocated buffer.

/// Errors thrown by ``FossilDelta/apply(_:to:)`` for malformed deltas or a
/// delta applied to the wrong source.
public enum FossilDeltaError: Error, Sendable, Equatable {
    /// The delta ended before its terminating checksum command.
    case truncated
    /// The leading target-size integer is not followed by a newline.
    case sizeNotTerminated
    /// An integer does not fit in 32 bits.
    case integerOverflow
    /// A copy command is not terminated by ','.
    case copyNotTerminated
    /// A copy command reads past the end of the source.
    case copyOutOfRange
    /// An insert command claims more bytes than remain in the delta.
    case insertOutOfRange
    /// The commands produce more bytes than the declared target size.
    case outputTooLarge
    /// The commands produce fewer bytes than the declared target size.
    case sizeMismatch
    /// The checksum of the produced target does not match.
    case badChecksum
    /// An unknown command character was found.
    case unknownOperator(UInt8)
}

public enum FossilDelta {
    /// Width of the hash window / source block size.
    static let windowSize = 16
    /// How many candidate source blocks are examined per target position.
    static let maxChainSteps = 250

    // MARK: - Public API

    /// Creates a fossil delta that turns `source` into `target`.
    public static func create(from source: [UInt8], to target: [UInt8]) -> [UInt8] {
        source.withUnsafeBytes { src in
            target.withUnsafeBytes { dst in
                encode(source: src, target: dst)
            }
        }
    }

    /// Creates a fossil delta that turns `source` into `target` (contiguous bytes,
    /// e.g. from `Data.withUnsafeBytes` or a NIO `ByteBuffer`).
    public static func create(from source: UnsafeRawBufferPointer, to target: UnsafeRawBufferPointer) -> [UInt8] {
        encode(source: source, target: target)
    }

    /// Applies a fossil `delta` to `source` and returns the target.
    /// Throws ``FossilDeltaError`` for any malformed delta; never traps.
    public static func apply(_ delta: [UInt8], to source: [UInt8]) throws -> [UInt8] {
        try delta.withUnsafeBytes { d in
            try source.withUnsafeBytes { s in
                try decode(delta: d, source: s)
            }
        }
    }

    /// Applies a fossil `delta` to `source` (contiguous bytes) and returns the target.
    public static func apply(_ delta: UnsafeRawBufferPointer, to source: UnsafeRawBufferPointer) throws -> [UInt8] {
        try decode(delta: delta, source: source)
    }

    /// The target size declared in a delta's header, or `nil` if the header is malformed.
    public static func outputSize(of delta: [UInt8]) -> Int? {
        delta.withUnsafeBytes { d in
            var reader = Reader(bytes: d)
            guard let size = try? reader.readInt(), (try? reader.readByte()) == UInt8(ascii: "\n") else {
                return nil
            }
            return Int(size)
        }
    }

    /// The fossil checksum of `bytes` (as written in a delta's trailer).
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    // MARK: - Encoder

    private static func encode(source src: UnsafeRawBufferPointer, target dst: UnsafeRawBufferPointer) -> [UInt8] {
        let lenSrc = src.count
        let lenOut = dst.count
        precondition(lenSrc <= Int(UInt32.max) && lenOut <= Int(UInt32.max),
                     "fossil deltas are limited to 4 GiB inputs")
        // Each emitted (insert, copy) pair is strictly smaller than the bytes it
        // covers; the rest is at most: header (6+1), final insert header (6+1),
        // checksum (6+1) = 21 bytes.
        let capacity = lenOut + 32

        return [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initializedCount in
            var w = Writer(base: buffer.baseAddress!, capacity: capacity)
            w.putInt(UInt32(truncatingIfNeeded: lenOut))
            w.putByte(UInt8(ascii: "\n"))

            let n = windowSize
            if lenSrc > n && lenOut > n, let s = src.baseAddress, let t = dst.baseAddress {
                encodeBody(src: s.assumingMemoryBound(to: UInt8.self), lenSrc: lenSrc,
                           dst: t.assumingMemoryBound(to: UInt8.self), lenOut: lenOut, writer: &w)
            } else if lenOut > 0 {
                // Nothing worth indexing (or nothing to scan): one literal insert.
                w.putInsert(dst.baseAddress!.assumingMemoryBound(to: UInt8.self), count: lenOut)
            }

            w.putInt(checksum(dst))
            w.putByte(UInt8(ascii: ";"))
            initializedCount = w.count
        }
    }

    @inline(__always)
    private static func hashWindow(_ z: UnsafePointer<UInt8>) -> (a: UInt16, b: UInt16) {
        var a = UInt16(z[0])
        var b = a
        for k in 1..<windowSize {
            a &+= UInt16(z[k])
            b &+= a
        }
        return (a, b)
    }

    /// Bucket index for a window hash. Fossil reduces `a | b << 16` modulo the
    /// table size directly, which for a table of 65536 (or any power-of-two)
    /// buckets keeps only `a`, a plain byte sum with a few thousand likely
    /// values: chains grow to hundreds of entries and scanning unrelated data
    /// becomes ~100x slower. Mixing the bits first keeps chains short; the
    /// bucket choice is internal and does not affect the delta format.
    @inline(__always)
    private static func bucket(_ a: UInt16, _ b: UInt16, _ buckets: UInt64) -> Int {
        let h = UInt64(a) | (UInt64(b) << 16)
        let mixed = (h &* 0x9E37_79B9_7F4A_7C15) >> 32  // 32 well-mixed bits
        return Int((mixed &* buckets) >> 32)             // map to 0..<buckets without a division
    }

    @inline(__always)
    private static func digitCount(_ v: Int) -> Int {
        var digits = 1
        var x = 64
        while v >= x {
            digits += 1
            x <<= 6
        }
        return digits
    }

    private static func encodeBody(src: UnsafePointer<UInt8>, lenSrc: Int,
                                   dst: UnsafePointer<UInt8>, lenOut: Int,
                                   writer w: inout Writer) {
        let n = windowSize
        let nHash = lenSrc / n  // >= 1 because lenSrc > n

        // table[0..<nHash] is the collision chain (per block),
        // table[nHash..<2*nHash] the bucket heads ("landmarks"). -1 = empty.
        var table = [Int32](repeating: -1, count: nHash * 2)
        table.withUnsafeMutableBufferPointer { tbl in
            let collide = tbl.baseAddress!
            let landmark = collide + nHash
            let buckets = UInt64(nHash)

            // Index every whole block. Insert from the last block to the first so
            // each chain lists blocks in ascending offset order: for repetitive data
            // the earliest blocks allow the longest forward extension, and the
            // chain walk (capped at maxChainSteps) sees them first.
            var block = nHash - 1
            while block >= 0 {
                let h = hashWindow(src + block * n)
                let hv = bucket(h.a, h.b, buckets)
                collide[block] = landmark[hv]
                landmark[hv] = Int32(block)
                block -= 1
            }

            var base = 0  // everything before dst[base] has been emitted
            while base + n < lenOut {
                var (a, b) = hashWindow(dst + base)
                var i = 0  // trying to match a source block against dst[base + i]
                let maxPossible = lenOut - base
                while true {
                    var bestCnt = 0
                    var bestOfst = 0
                    var bestLitsz = 0
                    let hv = bucket(a, b, buckets)
                    var iBlock = Int(landmark[hv])
                    var steps = maxChainSteps
                    let y = base + i
                    while iBlock >= 0 && steps > 0 {
                        steps -= 1
                        let iSrc = iBlock * n
                        let fwdLimit = min(lenSrc - iSrc, lenOut - y)
                        // Extend backwards from (iSrc, y), not before dst[base] nor src[0].
                        let backLimit = min(iSrc, i)
                        var k = 0
                        while k < backLimit && src[iSrc - k - 1] == dst[y - k - 1] { k += 1 }
                        // Exact pruning (zlib's best_len probe): to beat bestCnt the
                        // forward run must be longer than `need`, so byte `need` must match.
                        let need = bestCnt - k
                        if need >= 0 && (need >= fwdLimit || src[iSrc + need] != dst[y + need]) {
                            iBlock = Int(collide[iBlock])
                            continue
                        }
                        // Extend forwards from (iSrc, y).
                        var j = 0
                        while j < fwdLimit && src[iSrc + j] == dst[y + j] { j += 1 }

                        let cnt = j + k
                        let ofst = iSrc - k
                        let litsz = i - k
                        // Overhead of the insert header plus the copy command.
                        let cost = digitCount(litsz) + digitCount(cnt) + digitCount(ofst) + 3
                        if cnt >= cost && cnt > bestCnt {
                            bestCnt = cnt
                            bestOfst = ofst
                            bestLitsz = litsz
                            if cnt == maxPossible { break }  // cannot do better
                        }
                        iBlock = Int(collide[iBlock])
                    }

                    if bestCnt > 0 {
                        if bestLitsz > 0 {
                            w.putInsert(dst + base, count: bestLitsz)
                            base += bestLitsz
                        }
                        w.putCopy(count: bestCnt, offset: bestOfst)
                        base += bestCnt
                        break
                    }
                    if y + n >= lenOut {
                        // Reached the end without a match: the rest is literal.
                        w.putInsert(dst + base, count: lenOut - base)
                        base = lenOut
                        break
                    }
                    // Roll the window one byte forward.
                    let old = UInt16(dst[y])
                    a = a &- old &+ UInt16(dst[y + n])
                    b = b &- old &* UInt16(n) &+ a
                    i += 1
                }
            }
            if base < lenOut {
                w.putInsert(dst + base, count: lenOut - base)
            }
        }
    }

    // MARK: - Checksum

    private static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let p = bytes.baseAddress else { return 0 }
        let count = bytes.count
        var sum: UInt32 = 0
        var i = 0
        let whole = count & ~3
        while i < whole {
            sum &+= UInt32(bigEndian: p.loadUnaligned(fromByteOffset: i, as: UInt32.self))
            i += 4
        }
        let bytePtr = p.assumingMemoryBound(to: UInt8.self)
        switch count & 3 {
        case 3:
            sum &+= UInt32(bytePtr[i]) << 24 | UInt32(bytePtr[i + 1]) << 16 | UInt32(bytePtr[i + 2]) << 8
        case 2:
            sum &+= UInt32(bytePtr[i]) << 24 | UInt32(bytePtr[i + 1]) << 16
        case 1:
            sum &+= UInt32(bytePtr[i]) << 24
        default:
            break
        }
        return sum
    }

    // MARK: - Decoder

    private static func decode(delta: UnsafeRawBufferPointer, source: UnsafeRawBufferPointer) throws -> [UInt8] {
        var reader = Reader(bytes: delta)
        let limit = Int(try reader.readInt())
        guard try reader.readByte() == UInt8(ascii: "\n") else { throw FossilDeltaError.sizeNotTerminated }
        let bodyStart = reader.position

        // Pass 1: validate every command and the total size without producing output,
        // so a bogus header never causes a large allocation.
        var total = 0
        let expectedChecksum: UInt32
        validate: while true {
            let cnt = Int(try reader.readInt())
            let op = try reader.readByte()
            switch op {
            case UInt8(ascii: "@"):
                let ofst = Int(try reader.readInt())
                guard try reader.readByte() == UInt8(ascii: ",") else { throw FossilDeltaError.copyNotTerminated }
                total += cnt
                guard total <= limit else { throw FossilDeltaError.outputTooLarge }
                guard ofst + cnt <= source.count else { throw FossilDeltaError.copyOutOfRange }
            case UInt8(ascii: ":"):
                total += cnt
                guard total <= limit else { throw FossilDeltaError.outputTooLarge }
                guard cnt <= delta.count - reader.position else { throw FossilDeltaError.insertOutOfRange }
                reader.position += cnt
            case UInt8(ascii: ";"):
                guard total == limit else { throw FossilDeltaError.sizeMismatch }
                expectedChecksum = UInt32(cnt)
                break validate
            default:
                throw FossilDeltaError.unknownOperator(op)
            }
        }

        // Pass 2: the commands are known to be well formed; copy the bytes.
        let output = try [UInt8](unsafeUninitializedCapacity: limit) { buffer, initializedCount in
            var r = Reader(bytes: delta)
            r.position = bodyStart
            var out = 0
            while out < limit {
                let cnt = Int(try r.readInt())
                let op = try r.readByte()
                if op == UInt8(ascii: "@") {
                    let ofst = Int(try r.readInt())
                    r.position += 1  // ','
                    if cnt > 0 {
                        UnsafeMutableRawPointer(buffer.baseAddress! + out)
                            .copyMemory(from: source.baseAddress! + ofst, byteCount: cnt)
                    }
                } else {  // ':' (validated above)
                    if cnt > 0 {
                        UnsafeMutableRawPointer(buffer.baseAddress! + out)
                            .copyMemory(from: delta.baseAddress! + r.position, byteCount: cnt)
                    }
                    r.position += cnt
                }
                out += cnt
            }
            initializedCount = out
        }

        guard output.withUnsafeBytes({ checksum($0) }) == expectedChecksum else {
            throw FossilDeltaError.badChecksum
        }
        return output
    }
}

// MARK: - Helpers

/// Bounds-checked reader over the delta bytes.
private struct Reader {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    @inline(__always)
    static func digitValue(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - UInt8(ascii: "0"))
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return UInt32(c - UInt8(ascii: "A")) + 10
        case UInt8(ascii: "_"): return 36
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return UInt32(c - UInt8(ascii: "a")) + 37
        case UInt8(ascii: "~"): return 63
        default: return nil
        }
    }

    /// Reads a base-64 integer (possibly zero digits, which yields 0, as in fossil).
    mutating func readInt() throws -> UInt32 {
        var v: UInt32 = 0
        while position < bytes.count, let d = Reader.digitValue(bytes[position]) {
            guard v <= (UInt32.max >> 6) else { throw FossilDeltaError.integerOverflow }
            v = (v << 6) | d
            position += 1
        }
        return v
    }

    mutating func readByte() throws -> UInt8 {
        guard position < bytes.count else { throw FossilDeltaError.truncated }
        let b = bytes[position]
        position += 1
        return b
    }
}

/// Writer into the preallocated delta buffer.
private struct Writer {
    let base: UnsafeMutablePointer<UInt8>
    let capacity: Int
    var count = 0

    init(base: UnsafeMutablePointer<UInt8>, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    @inline(__always)
    mutating func putByte(_ b: UInt8) {
        assert(count < capacity)
        base[count] = b
        count += 1
    }

    @inline(__always)
    static func digit(_ v: UInt32) -> UInt8 {
        // "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~"
        switch v {
        case 0..<10: return UInt8(ascii: "0") + UInt8(v)
        case 10..<36: return UInt8(ascii: "A") + UInt8(v - 10)
        case 36: return UInt8(ascii: "_")
        case 37..<63: return UInt8(ascii: "a") + UInt8(v - 37)
        default: return UInt8(ascii: "~")
        }
    }

    mutating func putInt(_ value: UInt32) {
        // Most significant digit first, no leading zeros.
        var shift = 30
        while shift > 0 && (value >> UInt32(shift)) == 0 { shift -= 6 }
        while shift >= 0 {
            putByte(Writer.digit((value >> UInt32(shift)) & 0x3F))
            shift -= 6
        }
    }

    @inline(__always)
    mutating func putInt(_ value: Int) {
        putInt(UInt32(truncatingIfNeeded: value))
    }

    mutating func putInsert(_ bytes: UnsafePointer<UInt8>, count n: Int) {
        putInt(n)
        putByte(UInt8(ascii: ":"))
        assert(count + n <= capacity)
        (base + count).initialize(from: bytes, count: n)
        count += n
    }

    mutating func putCopy(count n: Int, offset: Int) {
        putInt(n)
        putByte(UInt8(ascii: "@"))
        putInt(offset)
        putByte(UInt8(ascii: ","))
    }
}
