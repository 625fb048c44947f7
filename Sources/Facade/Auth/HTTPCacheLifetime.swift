import Foundation

/// How long a response may be cached, from its `Cache-Control` header (RFC 9111): `max-age=N`, or zero for
/// `no-store`/`no-cache`; nil when the header says neither. Google's JWKS answers with
/// `Cache-Control: public, max-age=<seconds until its next key rotation>, must-revalidate, no-transform`.
///
/// Pure: the caller decides the default and the bounds.
enum HTTPCacheLifetime {
    static func maxAge(cacheControl: String?) -> Duration? {
        guard let cacheControl else { return nil }
        var result: Duration?
        for directive in cacheControl.split(separator: ",") {
            let parts = directive.split(separator: "=", maxSplits: 1)
            let name = parts[0].trimmingCharacters(in: .whitespaces).lowercased()
            switch name {
            case "no-store", "no-cache":
                return .zero
            case "max-age" where parts.count == 2:
                let value = parts[1].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                if let seconds = Int64(value), seconds >= 0 { result = .seconds(seconds) }
            default:
                continue
            }
        }
        return result
    }
}
