#if canImport(BrokerProtocol)
import BrokerProtocol
#endif

/// `genconfig`: a minimal config to start with, in Centrifugo v6's layout, with fresh random secrets.
public enum GenConfig {
    /// Pretty-printed JSON (ending with a newline) with random `client.token.hmac_secret_key`,
    /// `admin.password`, `admin.secret` and `http_api.key`, `admin.enabled: false` and an empty
    /// `client.allowed_origins`. The same key lengths as Centrifugo's: 64 random bytes, 16 for the password.
    public static func generate() -> String {
        render(document(), as: .json)
    }

    /// The same config in the format of `path`'s extension (`.json`, `.yaml`/`.yml`, `.toml`), as Centrifugo's
    /// `genconfig -c` does; an unknown extension is refused.
    public static func generate(forPath path: String) throws(ConfigError) -> String {
        render(document(), as: try ConfigFile.Format.forPath(path))
    }

    /// The generated settings as a document, with fresh secrets.
    static func document() -> JSONValue {
        var rng = SystemRandomNumberGenerator()
        return JSONValue.object(JSONObject([
            ("client", .object(JSONObject([
                ("token", .object(JSONObject([
                    ("hmac_secret_key", .string(randomSecret(byteCount: 64, using: &rng))),
                ]))),
                ("allowed_origins", .array([])),
            ]))),
            ("admin", .object(JSONObject([
                ("enabled", .bool(false)),
                ("password", .string(randomSecret(byteCount: 16, using: &rng))),
                ("secret", .string(randomSecret(byteCount: 64, using: &rng))),
            ]))),
            ("http_api", .object(JSONObject([
                ("key", .string(randomSecret(byteCount: 64, using: &rng))),
            ]))),
        ]))
    }

    /// `document` as the text of a config file in `format`, ending with a newline.
    static func render(_ document: JSONValue, as format: ConfigFile.Format) -> String {
        var out = ""
        switch format {
        case .json:
            writePretty(document, indent: 0, into: &out)
            out += "\n"
        case .yaml:
            ConfigTextWriter.yaml(document, into: &out)
        case .toml:
            ConfigTextWriter.toml(document, into: &out)
        }
        return out
    }

    /// `byteCount` random bytes as unpadded URL-safe base64 (RFC 4648 §5).
    static func randomSecret(byteCount: Int, using rng: inout some RandomNumberGenerator) -> String {
        let bytes = (0..<byteCount).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
        return base64URLEncoded(bytes)
    }

    static func base64URLEncoded(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var i = 0
        while i < bytes.count {
            let b0 = UInt32(bytes[i])
            let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
            let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
            let group = b0 << 16 | b1 << 8 | b2
            let available = min(3, bytes.count - i)
            for k in 0...available {  // n input bytes give n + 1 output characters
                out.append(alphabet[Int((group >> UInt32(18 - 6 * k)) & 0x3F)])
            }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Two-space indented JSON; empty arrays and objects stay on one line.
    private static func writePretty(_ value: JSONValue, indent: Int, into out: inout String) {
        let pad = String(repeating: "  ", count: indent + 1)
        let closingPad = String(repeating: "  ", count: indent)
        switch value {
        case .array(let items) where !items.isEmpty:
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += pad
                writePretty(item, indent: indent + 1, into: &out)
                out += i + 1 < items.count ? ",\n" : "\n"
            }
            out += closingPad + "]"
        case .object(let object) where !object.isEmpty:
            out += "{\n"
            for (i, member) in object.members.enumerated() {
                out += pad + JSONValue.string(member.key).serializedString + ": "
                writePretty(member.value, indent: indent + 1, into: &out)
                out += i + 1 < object.members.count ? ",\n" : "\n"
            }
            out += closingPad + "}"
        default:
            out += value.serializedString
        }
    }
}
