import Logging
import NIOConcurrencyHelpers
import NIOSSL

/// TLS for one listener: the SSL context new connections get, built from the config's PEMs and rebuilt on reload
/// (SIGHUP) from the same sources, so a rotated certificate is served to new handshakes while connections made
/// before keep theirs.
final class ServerTLS: Sendable {
    let config: TLSServerConfig
    /// `http_server.tls` or `http_server.internal_tls`, for messages.
    let section: String
    private let context: NIOLockedValueBox<NIOSSLContext>

    init(config: TLSServerConfig, section: String) throws(ConfigError) {
        self.config = config
        self.section = section
        do {
            context = NIOLockedValueBox(try Self.makeContext(config, section: section))
        } catch {
            throw ConfigError(key: error.key, message: error.message)
        }
    }

    /// The context for a connection accepted now.
    var current: NIOSSLContext { context.withLockedValue { $0 } }

    /// Reads the certificate and key again; on failure the current ones stay and the error is logged.
    func reload(logger: Logger) {
        do {
            let fresh = try Self.makeContext(config, section: section)
            context.withLockedValue { $0 = fresh }
            logger.info("TLS certificate reloaded", metadata: ["listener": "\(section)"])
        } catch {
            logger.error(
                "TLS certificate not reloaded: the previous one is still served",
                metadata: ["listener": "\(section)", "key": "\(error.key)", "error": "\(error.message)"])
        }
    }

    private static func makeContext(_ c: TLSServerConfig, section: String) throws(TLSSetupError) -> NIOSSLContext {
        guard !c.certPEM.isEmpty else { throw TLSSetupError(key: section + ".cert_pem", message: "must be set when \(section).enabled is true") }
        guard !c.keyPEM.isEmpty else { throw TLSSetupError(key: section + ".key_pem", message: "must be set when \(section).enabled is true") }
        let chain = try TLSClientConfig.certificates(
            try PEMSource.bytes(c.certPEM, key: section + ".cert_pem"), key: section + ".cert_pem")
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: try PEMSource.bytes(c.keyPEM, key: section + ".key_pem"), format: .pem)
        } catch let error as TLSSetupError {
            throw error
        } catch {
            throw TLSSetupError(key: section + ".key_pem", message: "not a PEM private key (\(error))")
        }
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        if !c.clientCAPEM.isEmpty {
            let ca = try TLSClientConfig.certificates(
                try PEMSource.bytes(c.clientCAPEM, key: section + ".client_ca_pem"), key: section + ".client_ca_pem")
            tls.trustRoots = .certificates(ca)
            tls.certificateVerification = .noHostnameVerification
        }
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw TLSSetupError(
                key: section + ".key_pem", message: "the certificate and key cannot be used together (does the key match the certificate?): \(error)")
        }
    }
}
