import Foundation
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import Facade

/// `DATABASE_URL` sslmodes against real PostgreSQL servers: a TLS-only cluster started for each test
/// (``TLSPostgres``) and the plain test cluster (FACADE_TEST_DATABASE_URL).
@Suite("PostgreSQL TLS")
struct PostgresTLSTests {
    /// Whether the server sees this client's connection as TLS (`pg_stat_ssl`).
    static func connectionUsesTLS(_ url: String) async throws -> Bool {
        try await TestDatabase.withClient(url: url, maxConnections: 1) { client in
            let rows = try await client.query(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", logger: TestDatabase.logger)
            for try await ssl in rows.decode(Bool.self) { return ssl }
            return false
        }
    }

    static func probeFailure(_ url: String) async -> String? {
        let configuration = FacadeConfiguration(databaseURL: url, brokerTokenSecret: "", sessionSecret: "")
        do {
            try await DatabaseProbe.check(configuration, logger: TestDatabase.logger)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("prefer, require, verify-ca and verify-full (with the server's CA, host localhost) connect over TLS, and the facade migrates and serves through it")
    func tlsModesConnect() async throws {
        try await TLSPostgres.with { server in
            let ca = server.caPath
            for url in [
                server.url("sslmode=prefer"),
                server.url("sslmode=require"),
                server.url("sslmode=verify-ca&sslrootcert=\(ca)"),
                server.url(host: "localhost", "sslmode=verify-full&sslrootcert=\(ca)"),
            ] {
                #expect(await Self.probeFailure(url) == nil, "\(url)")
                #expect(try await Self.connectionUsesTLS(url), "\(url)")
            }

            _ = try await TestDatabase.withClient(url: server.url("sslmode=require")) { client in
                try await client.query("CREATE DATABASE facade_tls", logger: TestDatabase.logger)
            }
            var configuration = FacadeConfiguration(
                databaseURL: server.url(host: "localhost", database: "facade_tls", "sslmode=verify-full&sslrootcert=\(ca)"),
                brokerTokenSecret: TestSecrets.broker, sessionSecret: TestSecrets.session)
            configuration.bcryptCost = 4
            configuration.runRelay = false
            configuration.maxDatabaseConnections = 2
            let app = try await FacadeApplication.build(configuration: configuration, logger: TestDatabase.logger)
            try await app.test(.router) { client in
                let session = try await API(client: client).signUp()
                #expect(!session.userID.isEmpty)
            }
        }
    }

    @Test("verify-full refuses a host the certificate does not name and a CA that did not sign it; disable is refused by a TLS-only server, require by a server without TLS; each says why and what to change")
    func refusals() async throws {
        try await TLSPostgres.with { server in
            let ca = server.caPath
            let wrongHost = try #require(await Self.probeFailure(server.url("sslmode=verify-full&sslrootcert=\(ca)")))
            #expect(wrongHost.hasPrefix("cannot connect to PostgreSQL at 127.0.0.1:\(server.port) (sslmode=verify-full): the TLS handshake failed"), "\(wrongHost)")
            #expect(wrongHost.contains("must be signed by the CA in sslrootcert=\(ca) and name the host 127.0.0.1"), "\(wrongHost)")

            let otherCA = try await TLSPostgres.unrelatedCA(in: server.directory)
            let wrongCA = try #require(await Self.probeFailure(server.url(host: "localhost", "sslmode=verify-full&sslrootcert=\(otherCA)")))
            #expect(wrongCA.contains("(sslmode=verify-full): the TLS handshake failed"), "\(wrongCA)")
            #expect(wrongCA.contains("signed by the CA in sslrootcert=\(otherCA)"), "\(wrongCA)")
            let wrongCAForVerifyCA = try #require(await Self.probeFailure(server.url("sslmode=verify-ca&sslrootcert=\(otherCA)")))
            #expect(wrongCAForVerifyCA.contains("the TLS handshake failed"), "\(wrongCAForVerifyCA)")

            let systemCAs = try #require(await Self.probeFailure(server.url(host: "localhost", "sslmode=verify-full")))
            #expect(systemCAs.contains("a CA the system trusts (set sslrootcert=<PEM file> for a private CA)"), "\(systemCAs)")

            let plain = try #require(await Self.probeFailure(server.url("sslmode=disable")))
            #expect(plain.hasPrefix("cannot connect to PostgreSQL at 127.0.0.1:\(server.port) (sslmode=disable): the server refused a connection without TLS"), "\(plain)")
            #expect(plain.contains("set sslmode=require, verify-ca or verify-full"), "\(plain)")
        }

        var plainServer = try #require(URLComponents(string: try TestDatabase.adminURL()))
        plainServer.queryItems = [URLQueryItem(name: "sslmode", value: "require")]
        let noTLS = try #require(await Self.probeFailure(plainServer.string!))
        #expect(noTLS.contains("(sslmode=require): the server does not accept TLS"), "\(noTLS)")
    }
}
