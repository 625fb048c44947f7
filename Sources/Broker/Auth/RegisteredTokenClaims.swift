/// The RFC 7519 claims Centrifugo decodes for every token: their types are checked even where
/// their values are not used (`iat`, `jti`).
struct RegisteredTokenClaims {
    var subject: String
    var expiresAt: Double?
    var notBefore: Double?
    var audience: [String]?
    var issuer: String?

    init(_ reader: TokenClaimReader) throws(TokenError) {
        subject = try reader.string("sub") ?? ""
        expiresAt = try reader.numericDate("exp")
        notBefore = try reader.numericDate("nbf")
        _ = try reader.numericDate("iat")
        _ = try reader.string("jti")
        audience = try reader.audience()
        issuer = try reader.string("iss")
    }

    /// `.expired` once `exp` is reached (Centrifugo requires `exp` to lie strictly after now)
    /// or while `nbf` is still in the future.
    func checkTime(now: Int64) throws(TokenError) {
        if let expiresAt, expiresAt <= Double(now) { throw .expired }
        if let notBefore, notBefore > Double(now) { throw .expired }
    }

    /// `exp` as whole unix seconds (fractions dropped, absurd values clamped).
    var expiresAtSeconds: Int64? {
        expiresAt.map { seconds in
            if seconds >= 9.2e18 { return Int64.max }
            if seconds <= -9.2e18 { return Int64.min }
            return Int64(seconds.rounded(.down))
        }
    }
}
