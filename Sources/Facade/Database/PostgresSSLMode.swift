/// The `sslmode` of a `DATABASE_URL`, with libpq's names and meanings.
///
/// | mode | TLS | the server's certificate |
/// |---|---|---|
/// | `disable` | never | — |
/// | `prefer` (default, as in libpq) | when the server offers it, else plain | not checked, unless `sslrootcert` is given |
/// | `require` | always | not checked, unless `sslrootcert` is given (then as `verify-ca`, as in libpq) |
/// | `verify-ca` | always | signed by a trusted CA |
/// | `verify-full` | always | signed by a trusted CA and naming the host of the URL |
///
/// The trusted CAs are those of `sslrootcert` (a PEM file), else the system's. libpq's `allow` (plain first,
/// TLS only if the server insists) is refused: postgres-nio cannot do it, and silently doing something else
/// with a security setting is worse than saying so.
enum PostgresSSLMode: String, CaseIterable, Sendable {
    case disable
    case prefer
    case require
    case verifyCA = "verify-ca"
    case verifyFull = "verify-full"

    static let `default` = PostgresSSLMode.prefer

    /// Whether a connection without TLS is refused.
    var requiresTLS: Bool { self != .disable && self != .prefer }

    /// Whether the server's certificate chain is always checked.
    var verifiesCertificate: Bool { self == .verifyCA || self == .verifyFull }

    static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
