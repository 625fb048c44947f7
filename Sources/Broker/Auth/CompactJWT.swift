import BrokerProtocol

/// A compact-serialised JWS (`header.payload.signature`) split and decoded, not yet verified.
struct CompactJWT {
    /// The header's `alg` ("" when absent).
    let algorithm: String
    /// The header's `kid` ("" when absent): which key of a JWKS signed it.
    let keyID: String
    let claims: JSONObject
    /// `header.payload` as it appears in the token: what the signature covers.
    let signingInput: ArraySlice<UInt8>
    let signature: [UInt8]

    /// Throws `.invalid` unless the token has three base64url segments whose header and payload are JSON objects.
    init(_ token: String) throws(TokenError) {
        let bytes = Array(token.utf8)
        // Every JWS header starts with `{"`, i.e. "eyJ" in base64url; Centrifugo refuses anything else up front.
        guard bytes.starts(with: Array("eyJ".utf8)) else { throw .invalid("token is not a JWT") }
        let dots = bytes.indices.filter { bytes[$0] == UInt8(ascii: ".") }
        guard dots.count == 2 else { throw .invalid("token must have 3 segments") }
        let (dot1, dot2) = (dots[0], dots[1])

        guard let headerBytes = TokenBase64.decodeURL(bytes[..<dot1]),
              let payloadBytes = TokenBase64.decodeURL(bytes[(dot1 + 1)..<dot2]),
              let signature = TokenBase64.decodeURL(bytes[(dot2 + 1)...])
        else { throw .invalid("token segment is not base64url") }

        let header = try Self.object(headerBytes, what: "header")
        let headerReader = TokenClaimReader(header)
        algorithm = try headerReader.string("alg") ?? ""
        // The other registered header fields must at least have their registered type.
        for field in ["typ", "cty"] { _ = try headerReader.string(field) }
        keyID = try headerReader.string("kid") ?? ""

        claims = try Self.object(payloadBytes, what: "payload")
        signingInput = bytes[..<dot2]
        self.signature = signature
    }

    private static func object(_ bytes: [UInt8], what: String) throws(TokenError) -> JSONObject {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw .invalid("token \(what) is not valid JSON: \(error)")
        }
        guard let object = value.objectValue else { throw .invalid("token \(what) is not a JSON object") }
        return object
    }
}
