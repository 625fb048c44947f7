import BrokerProtocol

/// Typed access to the members of a JWT header or claims object.
///
/// Mirrors how Centrifugo decodes claims with Go's `encoding/json`: a member of the wrong type makes
/// the whole token invalid, `null` counts as absent for typed claims, and raw-JSON claims (`info`,
/// `data`, `meta`) keep whatever value is there.
struct TokenClaimReader {
    let object: JSONObject

    init(_ object: JSONObject) {
        self.object = object
    }

    /// The value of `key`, nil when absent or null.
    private func present(_ key: String) -> JSONValue? {
        guard let value = object[key], !value.isNull else { return nil }
        return value
    }

    func string(_ key: String) throws(TokenError) -> String? {
        guard let value = present(key) else { return nil }
        guard let string = value.stringValue else { throw wrongType(key, "a string", value) }
        return string
    }

    func bool(_ key: String) throws(TokenError) -> Bool? {
        guard let value = present(key) else { return nil }
        guard let bool = value.boolValue else { throw wrongType(key, "a boolean", value) }
        return bool
    }

    func object(_ key: String) throws(TokenError) -> JSONObject? {
        guard let value = present(key) else { return nil }
        guard let object = value.objectValue else { throw wrongType(key, "an object", value) }
        return object
    }

    func strings(_ key: String) throws(TokenError) -> [String]? {
        guard let value = present(key) else { return nil }
        guard let items = value.arrayValue else { throw wrongType(key, "an array of strings", value) }
        var strings: [String] = []
        strings.reserveCapacity(items.count)
        for item in items {
            guard let string = item.stringValue else { throw wrongType(key, "an array of strings", value) }
            strings.append(string)
        }
        return strings
    }

    /// `aud`: a string or an array of strings (RFC 7519 §4.1.3).
    func audience() throws(TokenError) -> [String]? {
        guard let value = present("aud") else { return nil }
        if let single = value.stringValue { return [single] }
        return try strings("aud")
    }

    /// A NumericDate (`exp`, `nbf`, `iat`) in seconds, fractions allowed. Like Centrifugo's JWT
    /// library, a string holding a JSON number is accepted too.
    func numericDate(_ key: String) throws(TokenError) -> Double? {
        guard let value = present(key) else { return nil }
        switch value {
        case .number(let text):
            if let seconds = Double(text) { return seconds }
        case .string(let text):
            if Self.isNumberLiteral(text), let seconds = Double(text) { return seconds }
        default:
            break
        }
        throw wrongType(key, "a number of seconds", value)
    }

    /// An integer claim (`expire_at`); integral floats such as `1.7e9` are accepted.
    func integer(_ key: String) throws(TokenError) -> Int64? {
        guard let value = present(key) else { return nil }
        guard let integer = value.int64Value else { throw wrongType(key, "an integer", value) }
        return integer
    }

    /// The claim's JSON text, compact; nil only when absent (`null` is kept, as a Go `json.RawMessage` keeps it).
    func rawJSON(_ key: String) -> [UInt8]? {
        object[key]?.serialized
    }

    /// A payload given either as raw JSON (`jsonKey`) or as standard base64 (`base64Key`, binary).
    /// A non-empty base64 member wins. Decoding is deferred to `PayloadClaim.bytes()` because
    /// Centrifugo reports a bad base64 value only after the expiry checks.
    func payload(json jsonKey: String, base64 base64Key: String) throws(TokenError) -> PayloadClaim? {
        if let encoded = try string(base64Key), !encoded.isEmpty {
            return .base64(claim: base64Key, text: encoded)
        }
        return rawJSON(jsonKey).map(PayloadClaim.json)
    }

    /// User ID from `claim` the way Centrifugo reads it (gjson's `String()`): strings as they are,
    /// integer literals verbatim, other numbers in decimal, booleans as `true`/`false`, objects and
    /// arrays as JSON text, absent or null as "".
    func userID(claim: String) -> String {
        guard let value = present(claim) else { return "" }
        switch value {
        case .string(let string):
            return string
        case .number(let text):
            if text.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || (0x30...0x39).contains($0) }) { return text }
            guard let number = Double(text) else { return text }
            if number.rounded() == number, abs(number) < 1e15 { return String(Int64(number)) }
            return String(number)
        case .bool(let bool):
            return bool ? "true" : "false"
        default:
            return value.serializedString
        }
    }

    private func wrongType(_ key: String, _ expected: String, _ value: JSONValue) -> TokenError {
        .invalid("claim \"\(key)\" must be \(expected), not \(value.kindName)")
    }

    /// Whether `text` is exactly one JSON number literal (no whitespace around it).
    private static func isNumberLiteral(_ text: String) -> Bool {
        guard let first = text.utf8.first, let last = text.utf8.last,
              first == UInt8(ascii: "-") || (0x30...0x39).contains(first),
              (0x30...0x39).contains(last)
        else { return false }
        if case .number? = try? JSONParser.parse(text) { return true }
        return false
    }
}

/// A payload claim (`info`/`b64info`, `data`/`b64data`) read but not yet decoded.
enum PayloadClaim {
    case json([UInt8])
    case base64(claim: String, text: String)

    var isBinary: Bool {
        if case .base64 = self { return true }
        return false
    }

    func bytes() throws(TokenError) -> [UInt8] {
        switch self {
        case .json(let bytes):
            return bytes
        case .base64(let claim, let text):
            guard let bytes = TokenBase64.decodeStandard(text) else {
                throw .invalid("claim \"\(claim)\" is not valid base64")
            }
            return bytes
        }
    }
}
