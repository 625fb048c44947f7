/// The two base64 flavours that JWTs involve.
///
/// * JWS segments use the URL alphabet without padding (RFC 7515 §2); a `=` is refused, as Go's
///   `base64.RawURLEncoding` (what Centrifugo parses tokens with) does.
/// * `b64info`/`b64data` claims use the standard alphabet with padding, as Go's `base64.StdEncoding`:
///   padding is required, CR/LF are skipped.
///
/// Both decoders ignore non-zero trailing bits, like Go's non-strict decoders.
enum TokenBase64 {
    /// Decodes an unpadded base64url JWS segment; nil when it is not valid base64url.
    static func decodeURL(_ text: some Collection<UInt8>) -> [UInt8]? {
        decode(text, table: urlTable, padded: false)
    }

    /// Decodes padded standard base64 (a `b64info`/`b64data` claim); nil when it is not valid.
    static func decodeStandard(_ text: String) -> [UInt8]? {
        decode(text.utf8, table: standardTable, padded: true)
    }

    /// Encodes bytes as unpadded base64url, for JWS segments.
    static func encodeURL(_ bytes: some Collection<UInt8>) -> String {
        let alphabet = urlAlphabet
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var iterator = bytes.makeIterator()
        while let b0 = iterator.next() {
            let b1 = iterator.next()
            let b2 = iterator.next()
            let group = UInt32(b0) << 16 | UInt32(b1 ?? 0) << 8 | UInt32(b2 ?? 0)
            out.append(alphabet[Int(group >> 18 & 0x3F)])
            out.append(alphabet[Int(group >> 12 & 0x3F)])
            if b1 != nil { out.append(alphabet[Int(group >> 6 & 0x3F)]) }
            if b2 != nil { out.append(alphabet[Int(group & 0x3F)]) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let urlAlphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let standardAlphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlTable = reverseTable(urlAlphabet)
    private static let standardTable = reverseTable(standardAlphabet)

    /// Maps each byte to its 6-bit value, or -1 when the byte is not in the alphabet.
    private static func reverseTable(_ alphabet: [UInt8]) -> [Int8] {
        var table = [Int8](repeating: -1, count: 256)
        for (value, byte) in alphabet.enumerated() { table[Int(byte)] = Int8(value) }
        return table
    }

    private static func decode(_ text: some Collection<UInt8>, table: [Int8], padded: Bool) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.count * 3 / 4)
        var accumulator: UInt32 = 0
        var sextets = 0
        var padding = 0
        for byte in text {
            if padded && (byte == 0x0D || byte == 0x0A) { continue }
            if byte == UInt8(ascii: "=") {
                guard padded else { return nil }
                padding += 1
                continue
            }
            // Nothing may follow padding.
            guard padding == 0 else { return nil }
            let value = table[Int(byte)]
            guard value >= 0 else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            sextets += 1
            if sextets == 4 {
                out.append(UInt8(truncatingIfNeeded: accumulator >> 16))
                out.append(UInt8(truncatingIfNeeded: accumulator >> 8))
                out.append(UInt8(truncatingIfNeeded: accumulator))
                accumulator = 0
                sextets = 0
            }
        }
        if padded {
            // A final group of 2 or 3 characters needs exactly 2 or 1 `=`; a full group none.
            guard (sextets == 0 && padding == 0) || (sextets >= 2 && sextets + padding == 4) else { return nil }
        }
        switch sextets {
        case 0:
            break
        case 2:
            out.append(UInt8(truncatingIfNeeded: accumulator >> 4))
        case 3:
            out.append(UInt8(truncatingIfNeeded: accumulator >> 10))
            out.append(UInt8(truncatingIfNeeded: accumulator >> 2))
        default:
            // A single leftover character cannot encode a whole byte.
            return nil
        }
        return out
    }
}
