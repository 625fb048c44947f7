import Logging
import NIOCertificateReloading
import NIOConcurrencyHelpers
import NIOSSL

/// TLS for one listener: the SSL context new connections get, built from the config's PEMs and rebuilt on reload
/// (SIGHUP) from the same sources, so a rotated certificate is served to new handshakes while connections made
/// before keep theirs.
///
/// The gRPC API's transport builds its own context; it asks this object for the current certificate and key at
/// each handshake (``CertificateReloader``), so a reload reaches it too.
final class ServerTLS: CertificateReloader, Sendable {
    let config: TLSServerConfig
    /// `http_server.tls`, `http_server.internal_tls` or `grpc_api.tls`, for messages.
    let section: String
    private let state: NIOLockedValueBox<Loaded>

    private struct Loaded {
        var context: NIOSSLContext
        var override: NIOSSLContextConfigurationOverride
    }

    init(config: TLSServerConfig, section: String) throws(ConfigError) {
        self.config = config
        self.section = section
        do {
            state = NIOLockedValueBox(try Self.load(config, section: section))
        } catch {
            throw ConfigError(key: error.key, message: error.message)
        }
    }

    /// The context for a connection accepted now.
    var current: NIOSSLContext { state.withLockedValue { $0.context } }

    /// The certificate chain and key for a handshake now.
    var sslContextConfigurationOverride: NIOSSLContextConfigurationOverride { state.withLockedValue { $0.override } }

    /// Reads the certificate and key again; on failure the current ones stay and the error is logged.
    func reload(logger: Logger) {
        do {
            let fresh = try Self.load(config, section: section)
            state.withLockedValue { $0 = fresh }
            logger.info("TLS certificate reloaded", metadata: ["listener": "\(section)"])
        } catch {
            logger.error(
                "TLS certificate not reloaded: the previous one is still served",
                metadata: ["listener": "\(section)", "key": "\(error.key)", "error": "\(error.message)"])
        }
    }

    private static func load(_ c: TLSServerConfig, section: String) throws(TLSSetupError) -> Loaded {
        let (chain, key) = try identity(c, section: section)
        var override = NIOSSLContextConfigurationOverride()
        override.certificateChain = chain.map { .certificate($0) }
        override.privateKey = .privateKey(key)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        if let ca = try clientCA(c, section: section) {
            tls.trustRoots = .certificates(ca)
            tls.certificateVerification = .noHostnameVerification
        }
        do {
            return Loaded(context: try NIOSSLContext(configuration: tls), override: override)
        } catch {
            throw TLSSetupError(
                key: section + ".key_pem", message: "the certificate and key cannot be used together (does the key match the certificate?): \(error)")
        }
    }

    /// The certificate chain and private key of `section`, read from their sources now.
    static func identity(
        _ c: TLSServerConfig, section: String
    ) throws(TLSSetupError) -> (chain: [NIOSSLCertificate], key: NIOSSLPrivateKey) {
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
        return (chain, key)
    }

    /// The CA that client certificates must chain to (mutual TLS); nil without `client_ca_pem`.
    static func clientCA(_ c: TLSServerConfig, section: String) throws(TLSSetupError) -> [NIOSSLCertificate]? {
        guard !c.clientCAPEM.isEmpty else { return nil }
        return try TLSClientConfig.certificates(
            try PEMSource.bytes(c.clientCAPEM, key: section + ".client_ca_pem"), key: section + ".client_ca_pem")
    }
}
