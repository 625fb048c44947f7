import BrokerProtocol

/// The Redis engine's own storage encoding of `Publication` and `ClientInfo` (not Centrifugo's protobuf:
/// sharing a Redis with Centrifugo is not supported).
///
/// Compact and exact: every field round-trips, including `Payload.isBinary` and empty-vs-absent payloads.
/// A publication's offset is not stored (it is the stream entry ID, or a separate field of a fan-out entry).
///
/// Layout (all integers LEB128 varints, `time` zig-zag): version byte `1`, flags, then fields.
/// Publication flags: bit0 data is binary, bit1 has info. Fields: data, [info], tag count, (key, value)…, time.
/// ClientInfo flags: bit0 has connInfo, bit1 connInfo binary, bit2 has chanInfo, bit3 chanInfo binary.
/// Fields: user, client, [connInfo], [chanInfo]. Strings and byte runs are length-prefixed.
enum RedisEngineCodec {
    static let version: UInt8 = 1

    static func encode(_ p: Publication) -> [UInt8] {
        var out: [UInt8] = [version]
        out.reserveCapacity(p.data.bytes.count + 32)
        out.append((p.data.isBinary ? 1 : 0) | (p.info != nil ? 2 : 0))
        putBytes(&out, p.data.bytes)
        if let info = p.info { putInfo(&out, info) }
        putVarint(&out, UInt64(p.tags.count))
        for (k, v) in p.tags.sorted(by: { $0.key < $1.key }) {
            putBytes(&out, Array(k.utf8))
            putBytes(&out, Array(v.utf8))
        }
        putVarint(&out, UInt64(bitPattern: (p.time << 1) ^ (p.time >> 63)))
        return out
    }

    static func encode(_ info: ClientInfo) -> [UInt8] {
        var out: [UInt8] = [version]
        putInfo(&out, info)
        return out
    }

    /// Decodes a publication and gives it `offset`; nil when the bytes are not this encoding.
    static func decodePublication(_ bytes: [UInt8], offset: UInt64) -> Publication? {
        var r = Reader(input: bytes)
        guard r.byte() == version, let flags = r.byte(), let data = r.bytes() else { return nil }
        var info: ClientInfo?
        if flags & 2 != 0 {
            guard let i = r.info() else { return nil }
            info = i
        }
        guard let count = r.varint(), count <= UInt64(bytes.count) else { return nil }
        var tags: [String: String] = [:]
        for _ in 0..<count {
            guard let k = r.string(), let v = r.string() else { return nil }
            tags[k] = v
        }
        guard let z = r.varint(), r.atEnd else { return nil }
        let time = Int64(bitPattern: z >> 1) ^ -Int64(bitPattern: z & 1)
        return Publication(
            data: Payload(bytes: data, isBinary: flags & 1 != 0), info: info, offset: offset, tags: tags, time: time)
    }

    static func decodeClientInfo(_ bytes: [UInt8]) -> ClientInfo? {
        var r = Reader(input: bytes)
        guard r.byte() == version, let info = r.info(), r.atEnd else { return nil }
        return info
    }

    // MARK: Writing

    private static func putInfo(_ out: inout [UInt8], _ info: ClientInfo) {
        var flags: UInt8 = 0
        if let c = info.connInfo { flags |= 1 | (c.isBinary ? 2 : 0) }
        if let c = info.chanInfo { flags |= 4 | (c.isBinary ? 8 : 0) }
        out.append(flags)
        putBytes(&out, Array(info.user.utf8))
        putBytes(&out, Array(info.client.utf8))
        if let c = info.connInfo { putBytes(&out, c.bytes) }
        if let c = info.chanInfo { putBytes(&out, c.bytes) }
    }

    private static func putVarint(_ out: inout [UInt8], _ value: UInt64) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    private static func putBytes(_ out: inout [UInt8], _ bytes: [UInt8]) {
        putVarint(&out, UInt64(bytes.count))
        out.append(contentsOf: bytes)
    }

    // MARK: Reading

    private struct Reader {
        let input: [UInt8]
        var i = 0

        var atEnd: Bool { i == input.count }

        mutating func byte() -> UInt8? {
            guard i < input.count else { return nil }
            defer { i += 1 }
            return input[i]
        }

        mutating func varint() -> UInt64? {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while let b = byte() {
                guard shift < 64 else { return nil }
                result |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { return result }
                shift += 7
            }
            return nil
        }

        mutating func bytes() -> [UInt8]? {
            guard let n = varint(), n <= UInt64(input.count - i) else { return nil }
            let out = Array(input[i..<(i + Int(n))])
            i += Int(n)
            return out
        }

        mutating func string() -> String? {
            bytes().map { String(decoding: $0, as: UTF8.self) }
        }

        mutating func info() -> ClientInfo? {
            guard let flags = byte(), let user = string(), let client = string() else { return nil }
            var info = ClientInfo(user: user, client: client)
            if flags & 1 != 0 {
                guard let b = bytes() else { return nil }
                info.connInfo = Payload(bytes: b, isBinary: flags & 2 != 0)
            }
            if flags & 4 != 0 {
                guard let b = bytes() else { return nil }
                info.chanInfo = Payload(bytes: b, isBinary: flags & 8 != 0)
            }
            return info
        }
    }
}
