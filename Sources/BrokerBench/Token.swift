import Crypto

/// HS256 connection tokens (`{"sub":"<user>"}`) signed with the server's `client.token.hmac_secret_key`. With
/// `channels`, the token carries them in its `channels` claim: the server subscribes the connection to them while
/// it connects (server-side subscriptions), with no subscribe command.
enum Token {
    static func make(user: String, secret: String, channels: [String] = []) -> String {
        let head = base64url(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let claim = channels.isEmpty ? "" : #","channels":[\#(channels.map { "\"\($0)\"" }.joined(separator: ","))]"#
        let body = base64url(Array(#"{"sub":"\#(user)"\#(claim)}"#.utf8))
        let signingInput = head + "." + body
        let mac = HMAC<SHA256>.authenticationCode(for: Array(signingInput.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return signingInput + "." + base64url(Array(mac))
    }

    /// Standard base64 with padding (the WebSocket handshake's key and accept values).
    static func base64(_ bytes: [UInt8]) -> String {
        let url = base64url(bytes)
        let standard = String(url.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        return standard + String(repeating: "=", count: (4 - standard.count % 4) % 4)
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func base64url(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 2 < bytes.count {
            let n = (UInt32(bytes[i]) << 16) | (UInt32(bytes[i + 1]) << 8) | UInt32(bytes[i + 2])
            out += [alphabet[Int(n >> 18)], alphabet[Int((n >> 12) & 63)], alphabet[Int((n >> 6) & 63)], alphabet[Int(n & 63)]]
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let n = UInt32(bytes[i]) << 16
            out += [alphabet[Int(n >> 18)], alphabet[Int((n >> 12) & 63)]]
        } else if rest == 2 {
            let n = (UInt32(bytes[i]) << 16) | (UInt32(bytes[i + 1]) << 8)
            out += [alphabet[Int(n >> 18)], alphabet[Int((n >> 12) & 63)], alphabet[Int((n >> 6) & 63)]]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
