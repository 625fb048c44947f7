import NIOSSL
import PostgresNIO

/// The facade could not open its first connection to PostgreSQL. The description says where it connected, with
/// which `sslmode`, what went wrong in words (TLS handshake, certificate, host name, the server's refusal) and
/// what to change; the driver's own error follows for the details.
public struct DatabaseConnectError: Error, Sendable, CustomStringConvertible {
    public let description: String

    init(url: PostgresURL, error: any Error) {
        let target = "PostgreSQL at \(url.host):\(url.port) (sslmode=\(url.sslMode.rawValue))"
        description = "cannot connect to \(target): \(Self.explain(error, url: url))"
    }

    static func explain(_ error: any Error, url: PostgresURL) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if error.code == .sslUnsupported {
            return "the server does not accept TLS, and sslmode=\(url.sslMode.rawValue) requires it: turn ssl on "
                + "in the server's configuration, or use sslmode=prefer or disable."
        }
        if let message = error.serverInfo?[.message] {
            if message.contains("no encryption") {
                return "the server refused a connection without TLS (\(message)): it accepts TLS only "
                    + "(hostssl in pg_hba.conf); set sslmode=require, verify-ca or verify-full."
            }
            return "the server refused the connection: \(message)."
        }
        if let underlying = error.underlying, isTLS(underlying) {
            return "the TLS handshake failed (\(underlying)): " + tlsAdvice(url)
        }
        if let underlying = error.underlying { return "\(underlying)" }
        return String(reflecting: error)
    }

    static func isTLS(_ error: any Error) -> Bool {
        error is NIOSSLError || error is NIOSSLExtraError || error is BoringSSLError
    }

    static func tlsAdvice(_ url: PostgresURL) -> String {
        let authority = url.sslRootCert.map { $0 == "system" ? "a CA the system trusts" : "the CA in sslrootcert=\($0)" }
            ?? "a CA the system trusts (set sslrootcert=<PEM file> for a private CA)"
        switch url.sslMode {
        case .verifyFull:
            return "the server's certificate must be signed by \(authority) and name the host \(url.host)."
        case .verifyCA, .require, .prefer:
            return "the server's certificate must be signed by \(authority)."
        case .disable:
            return "TLS is off (sslmode=disable)."
        }
    }
}
