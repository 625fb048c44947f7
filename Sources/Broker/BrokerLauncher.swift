import BrokerProtocol
import Foundation
import Logging
import Metrics
import NIOCore
import Prometheus

/// Runs the broker as a process: logging and metrics set up, listeners started, SIGTERM/SIGINT
/// handled (stop accepting, disconnect clients with 3001 so SDKs reconnect elsewhere, exit 0).
public enum BrokerLauncher {
    public static func serve(config: BrokerConfig) async throws {
        let level = logLevel(config.log.level)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "broker")
        logger.logLevel = level
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        for key in config.unknownKeys {
            logger.warning("unknown config key ignored", metadata: ["key": "\(key)"])
        }
        for warning in try ExposedSecrets.check(config) {
            logger.warning("weak secret (development mode): \(warning)")
        }

        if config.admin.enabled && config.admin.insecure {
            logger.warning("admin.insecure is on: the admin console and its API need no sign-in; use it only on a trusted network")
        }
        let server = try await BrokerServer.start(config: config, logger: logger, metricsRegistry: registry)
        logger.info(
            "broker started",
            metadata: [
                "version": "\(Node.version)", "engine": "\(config.engine.type)",
                "addresses": "\(server.localAddresses.map { "\($0)" }.joined(separator: ","))",
                "node": "\(server.node.name)",
            ])

        reloadTLSOnHangup(server)
        let signal = await waitForTerminationSignal()
        logger.info("shutting down", metadata: ["signal": "\(signal)"])
        await server.shutdown()
        logger.info("stopped")
    }

    /// Suspends until SIGTERM or SIGINT arrives; returns its name.
    static func waitForTerminationSignal() async -> String {
        await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
            let queue = DispatchQueue(label: "broker.signals")
            let once = SignalOnce(continuation)
            for (sig, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
                source.setEventHandler { once.fire(name) }
                source.resume()
                SignalOnce.keep(source)
            }
        }
    }

    /// SIGHUP re-reads the listeners' certificates (see ``BrokerServer/reloadTLS()``); without TLS it is ignored.
    static func reloadTLSOnHangup(_ server: BrokerServer) {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "broker.sighup"))
        source.setEventHandler { server.reloadTLS() }
        source.resume()
        SignalOnce.keep(source)
    }

    static func logLevel(_ text: String) -> Logger.Level {
        switch text {
        case "trace": return .trace
        case "debug": return .debug
        case "warn": return .warning
        case "error": return .error
        case "none": return .critical
        default: return .info
        }
    }
}

/// Resumes a continuation once, from whichever signal comes first.
private final class SignalOnce: @unchecked Sendable {
    private var continuation: CheckedContinuation<String, Never>?
    private static let sourcesLock = NSLock()
    private nonisolated(unsafe) static var sources: [any DispatchSourceSignal] = []

    init(_ c: CheckedContinuation<String, Never>) { continuation = c }

    /// Called on the serial signal queue only.
    func fire(_ name: String) {
        continuation?.resume(returning: name)
        continuation = nil
    }

    static func keep(_ source: any DispatchSourceSignal) {
        sourcesLock.lock()
        sources.append(source)
        sourcesLock.unlock()
    }
}
