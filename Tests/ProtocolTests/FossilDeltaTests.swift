import Testing
@testable import BrokerProtocol

// MARK: - Helpers

private struct FossilTestRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
    mutating func bytes(_ n: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: n)
        for i in 0..<n { out[i] = UInt8(truncatingIfNeeded: next()) }
        return out
    }
    mutating func text(_ n: Int) -> [UInt8] {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ0123456789{}\":,\n".utf8)
        var out = [UInt8](repeating: 0, count: n)
        for i in 0..<n { out[i] = alphabet[below(alphabet.count)] }
        return out
    }
}

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Mutations of a base: inserts, deletes, replacements, appends, moves.
private func mutate(_ base: [UInt8], _ rng: inout FossilTestRandom, edits: Int) -> [UInt8] {
    var out = base
    for _ in 0..<edits {
        let pos = rng.below(out.count + 1)
        switch rng.below(5) {
        case 0:
            out.insert(contentsOf: rng.bytes(rng.below(40) + 1), at: pos)
        case 1:
            let len = min(rng.below(64) + 1, out.count - pos)
            if len > 0 { out.removeSubrange(pos..<(pos + len)) }
        case 2:
            let len = min(rng.below(32) + 1, out.count - pos)
            if len > 0 { out.replaceSubrange(pos..<(pos + len), with: rng.text(len)) }
        case 3:
            out += rng.text(rng.below(100))
        default:
            let len = min(rng.below(200) + 1, out.count - pos)
            if len > 0 {
                let chunk = Array(out[pos..<(pos + len)])
                out.removeSubrange(pos..<(pos + len))
                out.insert(contentsOf: chunk, at: rng.below(out.count + 1))
            }
        }
    }
    return out
}

@discardableResult
private func roundTrip(_ source: [UInt8], _ target: [UInt8],
               sourceLocation: SourceLocation = #_sourceLocation) throws -> [UInt8] {
    let delta = FossilDelta.create(from: source, to: target)
    #expect(delta.count <= target.count + 32, sourceLocation: sourceLocation)
    #expect(FossilDelta.outputSize(of: delta) == target.count, sourceLocation: sourceLocation)
    let applied = try FossilDelta.apply(delta, to: source)
    #expect(applied == target, sourceLocation: sourceLocation)
    return delta
}

// MARK: - Format facts (vectors from Fossil SCM's delta.c / centrifuge-python)

@Suite("Fossil delta: format") struct FossilFormatTests {
    @Test(arguments: [
        ("", UInt32(0)), ("a", 1_627_389_952), ("ab", 1_633_812_480), ("abc", 1_633_837_824),
        ("abcd", 1_633_837_924), ("hello world", 1_240_614_875),
        ("héllo wörld ✓ 日本語 🚀", 257_678_030),
    ])
    func checksumMatchesReference(_ text: String, _ expected: UInt32) {
        #expect(FossilDelta.checksum(bytes(text)) == expected)
    }

    @Test func checksumAllByteValues() {
        #expect(FossilDelta.checksum(Array(0...255)) == 2_682_265_664)
    }

    @Test func encoderMatchesFossilCForSimpleEdit() throws {
        // Reference output of Fossil SCM's delta_create for this pair.
        let src = bytes("hello world, this is a test of fossil delta")
        let tgt = bytes("hello world, this is a TEST of fossil delta!")
        let delta = FossilDelta.create(from: src, to: tgt)
        #expect(delta == bytes("h\nN@0,L:TEST of fossil delta!3vfUUh;"))
        #expect(try FossilDelta.apply(delta, to: src) == tgt)
    }

    @Test func decodesReferenceDeltas() throws {
        // Deltas produced by Fossil SCM's C encoder.
        let json = bytes(#"{"id": 1, "name": "Alice", "tags": ["a", "b", "c"], "bio": "lorem ipsum dolor sit amet lorem ipsum dolor sit amet lorem ipsum dolor sit amet "}"#)
        let jsonTarget = bytes(#"{"id": 1, "name": "Alicia", "tags": ["a", "b", "c"], "bio": "lorem ipsum dolor sit amet lorem ipsum dolor sit amet lorem ipsum dolor sit amet "}"#)
        #expect(try FossilDelta.apply(bytes("2G\nN@0,2:ia1s@O,3epnxg;"), to: json) == jsonTarget)

        let fox = bytes("The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog.")
        let foxTarget = bytes("The quick brown cat jumps over the lazy dog. The quick brown fox leaps over the lazy dog!")
        #expect(try FossilDelta.apply(bytes("1P\nG@0,3:catP@10,1: K@0,O:leaps over the lazy dog!3Lf3qF;"), to: fox) == foxTarget)

        // Fossil C writes an empty literal for an empty target.
        #expect(try FossilDelta.apply(bytes("0\n0:0;"), to: bytes("abc")) == [])
    }

    @Test func emptyTargetDelta() throws {
        #expect(FossilDelta.create(from: [], to: []) == bytes("0\n0;"))
        #expect(FossilDelta.create(from: bytes("some source text here!"), to: []) == bytes("0\n0;"))
    }

    @Test func base64Integers() throws {
        // 64 = "10", 4095 = "~~", 4096 = "100" in fossil's digit alphabet.
        for n in [0, 1, 9, 10, 35, 36, 37, 62, 63, 64, 4095, 4096, 262_143, 262_144] {
            let target = [UInt8](repeating: 0x41, count: n)
            let delta = try roundTrip([], target)
            let header = Array(delta.prefix { $0 != UInt8(ascii: "\n") })
            let expected: [UInt8]
            switch n {
            case 0: expected = bytes("0")
            case 10: expected = bytes("A")
            case 36: expected = bytes("_")
            case 37: expected = bytes("a")
            case 63: expected = bytes("~")
            case 64: expected = bytes("10")
            case 4095: expected = bytes("~~")
            case 4096: expected = bytes("100")
            case 262_144: expected = bytes("1000")
            default: expected = header
            }
            #expect(header == expected, "n=\(n)")
        }
    }
}

// MARK: - Round trips

@Suite("Fossil delta: round trips") struct FossilRoundTripTests {
    @Test func edgeCases() throws {
        let text = bytes("The quick brown fox jumps over the lazy dog, again and again and again.")
        try roundTrip([], [])
        try roundTrip([], text)
        try roundTrip(text, [])
        try roundTrip(text, text)
        try roundTrip([0], [1])
        try roundTrip(Array(text.prefix(16)), Array(text.prefix(16)))
        try roundTrip(Array(text.prefix(17)), Array(text.prefix(17)))
        try roundTrip(Array(text.prefix(16)), text)
        try roundTrip(text, Array(text.prefix(16)))
        try roundTrip(text, Array(text.prefix(17)))
        try roundTrip(text, text + text)
        try roundTrip(text + text, text)
        try roundTrip(text, Array(text.reversed()))
        try roundTrip(Array(0...255), Array((0...255).reversed()))
        try roundTrip(Array(0...255) + Array(0...255), Array(0...255))
        try roundTrip([UInt8](repeating: 0, count: 1000), [UInt8](repeating: 0, count: 1001))
        try roundTrip([UInt8](repeating: 7, count: 33), [UInt8](repeating: 7, count: 5000))
    }

    @Test func identicalIsOneCopy() throws {
        var rng = FossilTestRandom(seed: 7)
        let data = rng.text(10_000)
        let delta = try roundTrip(data, data)
        // header + one copy command + checksum
        #expect(delta.count < 20, "\(String(decoding: delta, as: UTF8.self))")
    }

    @Test func rawBufferOverloads() throws {
        let a = bytes(String(repeating: "0123456789abcdefghij", count: 20))
        var b = a
        b.replaceSubrange(100..<105, with: bytes("XYZ"))
        let delta = a.withUnsafeBytes { src in b.withUnsafeBytes { dst in FossilDelta.create(from: src, to: dst) } }
        #expect(delta == FossilDelta.create(from: a, to: b))
        let out = try delta.withUnsafeBytes { d in try a.withUnsafeBytes { s in try FossilDelta.apply(d, to: s) } }
        #expect(out == b)
        // Empty buffers (nil base address).
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        #expect(try FossilDelta.apply(FossilDelta.create(from: empty, to: empty), to: []) == [])
    }

    @Test func utf8MultibyteText() throws {
        let a = bytes("Привет, мир! こんにちは世界 🚀🚀🚀 — café naïve résumé ✓✓ 日本語テキスト、さらに長い文字列を追加します。")
        let b = bytes("Привет, мир! こんにちは世界 🚀🛰️🚀 — café naïve résumé ✓✓ 日本語テキスト、さらに長い文字列を追加しました。🎉")
        try roundTrip(a, b)
        try roundTrip(b, a)
        // Cutting in the middle of a multi-byte sequence is fine: the format is byte based.
        try roundTrip(Array(a.prefix(31)), Array(b.prefix(47)))
    }

    @Test func binaryData() throws {
        var rng = FossilTestRandom(seed: 99)
        let a = rng.bytes(5000)
        var b = a
        b[100] ^= 0xFF
        b.insert(contentsOf: [0, 0, 0, 10, 59, 58, 64, 44], at: 2000)  // digits and command chars
        try roundTrip(a, b)
        try roundTrip(a, rng.bytes(5000))  // unrelated
    }

    @Test(arguments: 0..<40)
    func randomizedMutations(seed: Int) throws {
        var rng = FossilTestRandom(seed: UInt64(seed) &* 0x1234_5678_9ABC)
        for _ in 0..<10 {
            let size: Int
            switch rng.below(4) {
            case 0: size = rng.below(40)
            case 1: size = rng.below(600)
            default: size = rng.below(8000)
            }
            let base = rng.below(2) == 0 ? rng.bytes(size) : rng.text(size)
            let target = mutate(base, &rng, edits: rng.below(10))
            try roundTrip(base, target)
            try roundTrip(target, base)
        }
    }

    @Test func largeOneMegabyte() throws {
        var rng = FossilTestRandom(seed: 2024)
        let base = rng.bytes(1 << 20)
        let target = mutate(base, &rng, edits: 50)
        let delta = try roundTrip(base, target)
        #expect(delta.count < 20_000, "delta \(delta.count) bytes")

        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        var zTarget = zeros
        zTarget[500_000] = 1
        let zDelta = try roundTrip(zeros, zTarget)
        #expect(zDelta.count < 40, "delta \(zDelta.count) bytes")

        try roundTrip([], base)
        try roundTrip(base, [])
    }
}

// MARK: - Size

@Suite("Fossil delta: size") struct FossilSizeTests {
    static func jsonDocument(name: String, score: Int) -> [UInt8] {
        var s = #"{"user":{"id":12345,"name":"\#(name)","email":"someone@example.com","score":\#(score),"#
        s += #""roles":["admin","editor","viewer"],"settings":{"theme":"dark","lang":"en-US","notifications":true}},"#
        s += #""items":["#
        for i in 0..<12 {
            s += #"{"sku":"SKU-\#(1000 + i)","title":"Product number \#(i)","qty":\#(i % 5 + 1),"price":\#(i * 3 + 10).99},"#
        }
        s += #"{}],"updated_at":"2026-11-25T20:36:25Z"}"#
        return bytes(s)
    }

    @Test func smallJsonEditIsTiny() throws {
        let a = Self.jsonDocument(name: "Alice", score: 100)
        let b = Self.jsonDocument(name: "Alice", score: 101)
        #expect(a.count > 1000)
        let delta = try roundTrip(a, b)
        #expect(delta.count * 20 < b.count, "delta \(delta.count) vs target \(b.count)")

        let c = Self.jsonDocument(name: "Bob", score: 100)
        let delta2 = try roundTrip(a, c)
        #expect(delta2.count * 20 < c.count, "delta \(delta2.count) vs target \(c.count)")
    }
}

// MARK: - Malformed input

@Suite("Fossil delta: malformed input") struct FossilMalformedTests {
    static let source = bytes("The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog.")
    static let target = bytes("The quick brown cat jumps over the lazy dog. The quick brown fox leaps over the lazy dog!")

    @Test func badChecksum() throws {
        var delta = FossilDelta.create(from: Self.source, to: Self.target)
        // Change the last checksum digit (before ';').
        let i = delta.count - 2
        delta[i] = delta[i] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        #expect(throws: FossilDeltaError.badChecksum) { try FossilDelta.apply(delta, to: Self.source) }
        // Right delta, wrong source of the same length.
        var otherSource = Self.source
        otherSource[0] = UInt8(ascii: "t")
        let good = FossilDelta.create(from: Self.source, to: Self.target)
        #expect(throws: FossilDeltaError.badChecksum) { try FossilDelta.apply(good, to: otherSource) }
    }

    @Test func everyTruncationThrows() throws {
        let delta = FossilDelta.create(from: Self.source, to: Self.target)
        for n in 0..<delta.count {
            #expect(throws: FossilDeltaError.self) { try FossilDelta.apply(Array(delta.prefix(n)), to: Self.source) }
        }
    }

    @Test func specificErrors() {
        let src = bytes("0123456789abcdefghij")
        func check(_ delta: String, _ error: FossilDeltaError, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(throws: error, sourceLocation: sourceLocation) { try FossilDelta.apply(bytes(delta), to: src) }
        }
        check("", .truncated)
        check("5", .truncated)
        check("5!", .sizeNotTerminated)
        check("5\n", .truncated)
        check("5\n5@100,0;", .copyOutOfRange)          // offset past source
        check("5\n5@G,0;", .copyOutOfRange)            // 16 + 5 > 20
        check("5\n5@0;", .copyNotTerminated)
        check("5\n5@0", .truncated)
        check("5\n6@0,0;", .outputTooLarge)
        check("5\n4@0,0;", .sizeMismatch)
        check("5\n5:abc", .insertOutOfRange)
        check("5\n9:abcdefghi0;", .outputTooLarge)
        check("5\n5#abcde0;", .unknownOperator(UInt8(ascii: "#")))
        check("5\n5:abcde", .truncated)
        check("~~~~~~~\n", .integerOverflow)
        check("5\n5:abcde0;", .badChecksum)
        check("5\n5@~~~~~,0;", .copyOutOfRange)        // large offset, no overflow trap
    }

    @Test func hugeDeclaredSizeDoesNotAllocate() {
        // Declares a ~4 GiB target but provides nothing: must fail fast in validation.
        #expect(throws: FossilDeltaError.truncated) { try FossilDelta.apply(bytes("3~~~~~\n"), to: []) }
        #expect(throws: FossilDeltaError.sizeMismatch) { try FossilDelta.apply(bytes("3~~~~~\n0;"), to: []) }
    }

    @Test(arguments: 0..<8)
    func randomCorruptionNeverCrashes(seed: Int) {
        var rng = FossilTestRandom(seed: UInt64(seed) + 1000)
        let base = rng.text(2000)
        let target = mutate(base, &rng, edits: 8)
        let delta = FossilDelta.create(from: base, to: target)
        var decodedWrong = 0
        for _ in 0..<300 {
            var bad = delta
            for _ in 0..<(rng.below(3) + 1) {
                switch rng.below(3) {
                case 0: bad[rng.below(bad.count)] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bad.remove(at: rng.below(bad.count))
                default: bad.insert(UInt8(truncatingIfNeeded: rng.next()), at: rng.below(bad.count + 1))
                }
            }
            if let out = try? FossilDelta.apply(bad, to: base), out != target {
                decodedWrong += 1
            }
        }
        // A corrupted delta may only decode (to something else) on a checksum collision,
        // which should essentially never happen.
        #expect(decodedWrong == 0)
    }
}
