import BrokerProtocol

/// Creates HS256 tokens, for `broker gentoken` / `gensubtoken` and for tests.
public enum TokenMinter {
    /// A compact JWS with header `{"alg":"HS256","typ":"JWT"}` over `claims` (compact JSON, member order kept).
    public static func hs256(claims: JSONObject, secret: String) -> String {
        let header = JSONValue.object(JSONObject([("alg", .string("HS256")), ("typ", .string("JWT"))]))
        let signingInput = TokenBase64.encodeURL(header.serialized) + "." + TokenBase64.encodeURL(JSONValue.object(claims).serialized)
        let signature = TokenHMAC.signature(.sha256, of: Array(signingInput.utf8)[...], secret: secret)
        return signingInput + "." + TokenBase64.encodeURL(signature)
    }
}
