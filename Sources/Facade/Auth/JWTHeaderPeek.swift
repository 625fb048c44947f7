import Foundation

/// The `kid` and `alg` of a compact JWT's header, read before any key is chosen (a key source needs the
/// `kid` to know whether to refetch). Nothing here is trusted: the signature check that follows is.
struct JWTHeaderPeek: Sendable, Equatable {
    var kid: String?
    var alg: String?

    init(kid: String?, alg: String?) {
        self.kid = kid
        self.alg = alg
    }

    /// nil when the token is not three dot-separated parts or its header is not a base64url JSON object.
    init?(token: String) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let data = Self.base64URLDecode(parts[0]),
            let header = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        kid = header["kid"] as? String
        alg = header["alg"] as? String
    }

    static func base64URLDecode(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}
