import Foundation
import JWTKit

/// A parsed JWKS document (RFC 7517): its RSA signing keys by `kid`.
///
/// Only `kty: RSA` keys with a non-empty `kid` and `use` absent or `sig` are kept (Google signs ID tokens
/// with RS256; a symmetric or encryption key must never verify a token). One malformed key does not spoil
/// the others; a document with no usable key is an error, so a broken download never replaces good keys.
struct JWKSDocument: Sendable {
    let keys: JWTKeyCollection
    let keyIDs: Set<String>

    struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        let description: String
    }

    static func parse(_ bytes: [UInt8]) async throws(ParseError) -> JWKSDocument {
        guard let root = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            let list = root["keys"] as? [[String: Any]]
        else {
            throw ParseError(description: "not a JWKS document (no \"keys\" array)")
        }
        let keys = JWTKeyCollection()
        var ids: Set<String> = []
        for entry in list {
            guard let kid = entry["kid"] as? String, !kid.isEmpty, entry["kty"] as? String == "RSA",
                (entry["use"] as? String).map({ $0 == "sig" }) ?? true,
                let json = try? JSONSerialization.data(withJSONObject: entry),
                let jwk = try? JSONDecoder().decode(JWK.self, from: json)
            else { continue }
            do {
                try await keys.add(jwk: jwk)
                ids.insert(kid)
            } catch {
                continue
            }
        }
        guard !ids.isEmpty else {
            throw ParseError(description: "no RSA signing key with a kid in the JWKS document")
        }
        return JWKSDocument(keys: keys, keyIDs: ids)
    }
}
