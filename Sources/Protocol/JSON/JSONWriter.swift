/// Appends compact JSON text to a byte array.
///
/// The writer does not track structure: callers emit `{`, `,` and `:` through the helpers below,
/// which keeps encoding of the protocol's fixed shapes branch-light.
public struct JSONWriter: Sendable {
    public var bytes: [UInt8]

    public init(capacity: Int = 128) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inline(__always) public mutating func raw(_ byte: UInt8) { bytes.append(byte) }
    @inline(__always) public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }
    @inline(__always) public mutating func raw<C: Collection>(_ data: C) where C.Element == UInt8 {
        bytes.append(contentsOf: data)
    }

    /// Writes `"key":` (the key is emitted verbatim; protocol keys need no escaping).
    @inline(__always) public mutating func key(_ key: StaticString) {
        bytes.append(0x22)
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(0x22)
        bytes.append(0x3A)
    }

    /// Writes `,"key":` or `"key":` depending on whether a member was already written, and marks `first` false.
    @inline(__always) public mutating func member(_ key: StaticString, first: inout Bool) {
        if !first { bytes.append(0x2C) }
        first = false
        self.key(key)
    }

    /// `"key":true` when `value` is true (protobuf-style omitempty for booleans).
    @inline(__always) public mutating func trueMember(_ key: StaticString, _ value: Bool, first: inout Bool) {
        guard value else { return }
        member(key, first: &first)
        raw("true")
    }

    /// `"key":N` when `value` is not zero.
    @inline(__always) public mutating func nonZeroMember<T: BinaryInteger>(_ key: StaticString, _ value: T, first: inout Bool) {
        guard value != 0 else { return }
        member(key, first: &first)
        int(value)
    }

    /// `"key":"…"` when `value` is not empty.
    @inline(__always) public mutating func nonEmptyMember(_ key: StaticString, _ value: String, first: inout Bool) {
        guard !value.isEmpty else { return }
        member(key, first: &first)
        string(value)
    }

    public mutating func string(_ s: String) {
        bytes.append(0x22)
        var s = s
        s.withUTF8 { utf8 in
            var runStart = 0
            for i in 0..<utf8.count {
                let b = utf8[i]
                if b >= 0x20 && b != 0x22 && b != 0x5C { continue }
                if runStart < i { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i])) }
                runStart = i + 1
                switch b {
                case 0x22: bytes.append(0x5C); bytes.append(0x22)
                case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
                case 0x0A: bytes.append(0x5C); bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(0x5C); bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(0x5C); bytes.append(UInt8(ascii: "t"))
                case 0x08: bytes.append(0x5C); bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(0x5C); bytes.append(UInt8(ascii: "f"))
                default:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
                }
            }
            if runStart < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count])) }
        }
        bytes.append(0x22)
    }

    public mutating func int<T: BinaryInteger>(_ v: T) {
        if v == 0 { bytes.append(0x30); return }
        var digits: [UInt8] = []
        var magnitude = v.magnitude
        while magnitude > 0 {
            digits.append(UInt8(truncatingIfNeeded: magnitude % 10) + 0x30)
            magnitude /= 10
        }
        if v < 0 { bytes.append(0x2D) }
        bytes.append(contentsOf: digits.reversed())
    }

    public mutating func bool(_ b: Bool) {
        if b { raw("true") } else { raw("false") }
    }

    public mutating func value(_ v: JSONValue) {
        switch v {
        case .null: raw("null")
        case .bool(let b): bool(b)
        case .number(let n): raw(Array(n.utf8))
        case .string(let s): string(s)
        case .array(let items):
            raw(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { raw(UInt8(ascii: ",")) }
                value(item)
            }
            raw(UInt8(ascii: "]"))
        case .object(let o):
            raw(UInt8(ascii: "{"))
            for (i, m) in o.members.enumerated() {
                if i > 0 { raw(UInt8(ascii: ",")) }
                string(m.key)
                raw(UInt8(ascii: ":"))
                value(m.value)
            }
            raw(UInt8(ascii: "}"))
        }
    }
}
