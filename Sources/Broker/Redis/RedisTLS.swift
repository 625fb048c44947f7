import NIOCore
import NIOSSL
import NIOTLS

/// TLS for connections to Redis: the SSL context is built once from the config and shared by every
/// connection to the deployment.
public final class RedisTLS: Sendable, Equatable {
    let context: NIOSSLContext
    /// Checked against the server's certificate and sent as SNI; nil: the host when it is a name.
    let serverName: String?

    /// Builds the context; a PEM that does not load is reported with the config key it came from.
    public init(config: TLSClientConfig, keyPrefix: String) throws(RedisEngineSetupError) {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        do {
            if let ca = try Self.pem(inline: config.serverCAPEM, file: config.serverCAPEMFile, key: "\(keyPrefix).server_ca_pem") {
                tls.trustRoots = .certificates(try Self.certificates(ca, key: "\(keyPrefix).server_ca_pem"))
            }
            let cert = try Self.pem(inline: config.certPEM, file: config.certPEMFile, key: "\(keyPrefix).cert_pem")
            let key = try Self.pem(inline: config.keyPEM, file: config.keyPEMFile, key: "\(keyPrefix).key_pem")
            if (cert == nil) != (key == nil) {
                throw RedisEngineSetupError.badTLS("\(keyPrefix): cert_pem and key_pem must be given together")
            }
            if let cert, let key {
                tls.certificateChain = try Self.certificates(cert, key: "\(keyPrefix).cert_pem").map { .certificate($0) }
                do {
                    tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
                } catch {
                    throw RedisEngineSetupError.badTLS("\(keyPrefix).key_pem: not a PEM private key (\(error))")
                }
            }
            tls.certificateVerification = config.insecureSkipVerify ? .none : .fullVerification
            context = try NIOSSLContext(configuration: tls)
        } catch let e as RedisEngineSetupError {
            throw e
        } catch {
            throw .badTLS("\(keyPrefix): \(error)")
        }
        serverName = config.serverName.isEmpty ? nil : config.serverName
    }

    public static func == (a: RedisTLS, b: RedisTLS) -> Bool { a === b }

    /// The SNI / verification name for `host`: NIO refuses IP addresses there (the certificate's IP SAN is
    /// still checked against the connected address).
    func hostname(for host: String) -> String? {
        if let serverName { return serverName }
        let isIP = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        return isIP ? nil : host
    }

    private static func pem(inline: String, file: String, key: String) throws(RedisEngineSetupError) -> [UInt8]? {
        if !inline.isEmpty { return Array(inline.utf8) }
        if file.isEmpty { return nil }
        guard let data = try? ConfigFile.readBytes(atPath: file) else { throw .badTLS("\(key)_file: cannot read \(file)") }
        return data
    }

    private static func certificates(_ pem: [UInt8], key: String) throws(RedisEngineSetupError) -> [NIOSSLCertificate] {
        guard let certs = try? NIOSSLCertificate.fromPEMBytes(pem), !certs.isEmpty else {
            throw .badTLS("\(key): no PEM certificate found")
        }
        return certs
    }
}

/// Completes `promise` when the TLS handshake is done (or failed), so a connection reports a certificate
/// problem as such instead of as a closed connection on its first command.
final class TLSHandshakeWatcher: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let promise: EventLoopPromise<Void>

    init(promise: EventLoopPromise<Void>) {
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event { promise.succeed() }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.eof)
        context.fireChannelInactive()
    }
}
