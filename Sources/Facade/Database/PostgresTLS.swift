import NIOSSL
import PostgresNIO

/// The TLS settings a ``PostgresURL`` asks for, built once at start: the trusted CAs are read then, so a
/// missing or unreadable `sslrootcert` stops the facade instead of failing every connection later.
struct PostgresTLS: Sendable {
    let mode: PostgresSSLMode
    /// nil for `disable`.
    let configuration: TLSConfiguration?

    init(_ url: PostgresURL) throws(ConfigurationError) {
        mode = url.sslMode
        guard url.sslMode != .disable else {
            configuration = nil
            return
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        let verify = url.sslMode.verifiesCertificate || (url.sslRootCert != nil && url.sslRootCert != "system")
        tls.certificateVerification =
            url.sslMode == .verifyFull ? .fullVerification : verify ? .noHostnameVerification : .none
        if let path = url.sslRootCert, path != "system" {
            do {
                let certificates = try NIOSSLCertificate.fromPEMFile(path)
                guard !certificates.isEmpty else { throw NIOSSLError.failedToLoadCertificate }
                tls.trustRoots = .certificates(certificates)
            } catch {
                throw ConfigurationError(
                    "DATABASE_URL sslrootcert=\(path) cannot be read as PEM certificates (\(error)).")
            }
        } else {
            tls.trustRoots = .default
        }
        configuration = tls
    }

    /// For the connection pool.
    var client: PostgresClient.Configuration.TLS {
        guard let configuration else { return .disable }
        return mode.requiresTLS ? .require(configuration) : .prefer(configuration)
    }

    /// For a single connection (``DatabaseProbe``).
    func connection() throws -> PostgresConnection.Configuration.TLS {
        guard let configuration else { return .disable }
        let context = try NIOSSLContext(configuration: configuration)
        return mode.requiresTLS ? .require(context) : .prefer(context)
    }
}
