import NIOSSL

/// A client TLS object of the config that cannot be used, with the key to fix.
struct TLSSetupError: Error, CustomStringConvertible {
    var key: String
    var message: String
    var description: String { "\(key): \(message)" }
}

extension TLSClientConfig {
    /// NIO's client TLS configuration for this object (TLS 1.2+, the CA or the system's roots, an optional client
    /// certificate); a PEM that does not load is reported with the config key it came from (`keyPrefix`).
    func nioConfiguration(keyPrefix: String) throws(TLSSetupError) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let ca = try Self.pem(inline: serverCAPEM, file: serverCAPEMFile, key: "\(keyPrefix).server_ca_pem") {
            tls.trustRoots = .certificates(try Self.certificates(ca, key: "\(keyPrefix).server_ca_pem"))
        }
        if (certPEM.isEmpty && certPEMFile.isEmpty) != (keyPEM.isEmpty && keyPEMFile.isEmpty) {
            throw TLSSetupError(key: keyPrefix, message: "cert_pem and key_pem must be given together")
        }
        let cert = try Self.pem(inline: certPEM, file: certPEMFile, key: "\(keyPrefix).cert_pem")
        let key = try Self.pem(inline: keyPEM, file: keyPEMFile, key: "\(keyPrefix).key_pem")
        if let cert, let key {
            tls.certificateChain = try Self.certificates(cert, key: "\(keyPrefix).cert_pem").map { .certificate($0) }
            do {
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
            } catch {
                throw TLSSetupError(key: "\(keyPrefix).key_pem", message: "not a PEM private key (\(error))")
            }
        }
        tls.certificateVerification = insecureSkipVerify ? .none : .fullVerification
        return tls
    }

    /// A PEM inline or from its file; nil when neither is set.
    static func pem(inline: String, file: String, key: String) throws(TLSSetupError) -> [UInt8]? {
        if !inline.isEmpty { return try PEMSource.bytes(inline, key: key) }
        if file.isEmpty { return nil }
        guard let data = try? ConfigFile.readBytes(atPath: file) else {
            throw TLSSetupError(key: "\(key)_file", message: "cannot read \(file)")
        }
        return data
    }

    static func certificates(_ pem: [UInt8], key: String) throws(TLSSetupError) -> [NIOSSLCertificate] {
        guard let certs = try? NIOSSLCertificate.fromPEMBytes(pem), !certs.isEmpty else {
            throw TLSSetupError(key: key, message: "no PEM certificate found")
        }
        return certs
    }

    /// A PEM as text, inline or read from its file; nil when neither is set.
    func pemText(inline: String, file: String, key: String) throws(TLSSetupError) -> String? {
        try Self.pem(inline: inline, file: file, key: key).map { String(decoding: $0, as: UTF8.self) }
    }
}
