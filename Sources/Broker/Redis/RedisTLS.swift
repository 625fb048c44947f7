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
        do {
            context = try NIOSSLContext(configuration: try config.nioConfiguration(keyPrefix: keyPrefix))
        } catch let e as TLSSetupError {
            throw .badTLS(e.description)
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
