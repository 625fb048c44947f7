import Foundation
import PostgresNIO
import Testing

@testable import Facade

/// `DATABASE_URL` parsing: `sslmode` and `sslrootcert` (pure; reading a certificate file aside).
@Suite("DATABASE_URL")
struct PostgresURLTests {
    static func refusal(_ url: String) -> String? {
        do {
            let parsed = try PostgresURL.parse(url)
            _ = try PostgresTLS(parsed)
            return nil
        } catch {
            return error.description
        }
    }

    @Test("each libpq sslmode is read; without one the mode is prefer, as in libpq")
    func modes() throws {
        #expect(try PostgresURL.parse("postgres://u:p%40ss@db.example.com:6543/app").sslMode == .prefer)
        let parsed = try PostgresURL.parse("postgres://u:p%40ss@db.example.com:6543/app")
        #expect(parsed == PostgresURL(
            host: "db.example.com", port: 6543, username: "u", password: "p@ss", database: "app", sslMode: .prefer, sslRootCert: nil))
        for mode in PostgresSSLMode.allCases {
            #expect(try PostgresURL.parse("postgresql://u@h/d?sslmode=\(mode.rawValue)").sslMode == mode)
        }
        #expect(try PostgresTLS(PostgresURL.parse("postgres://u@h/d?sslmode=disable")).configuration == nil)
        let full = try PostgresTLS(PostgresURL.parse("postgres://u@h/d?sslmode=verify-full"))
        #expect(full.configuration?.certificateVerification == .fullVerification)
        let require = try PostgresTLS(PostgresURL.parse("postgres://u@h/d?sslmode=require"))
        #expect(require.configuration?.certificateVerification == CertificateVerification.none)
        let system = try PostgresURL.parse("postgres://u@h/d?sslmode=verify-full&sslrootcert=system")
        #expect(system.sslRootCert == "system")
    }

    @Test("an unknown sslmode, allow, an unknown parameter or a repeated one is refused at start, naming it and what is accepted")
    func refused() {
        #expect(Self.refusal("postgres://u@h/d?sslmode=required")
            == "DATABASE_URL sslmode=required is not a known mode: use one of disable, prefer, require, verify-ca, verify-full.")
        #expect(Self.refusal("postgres://u@h/d?sslmode=allow")?.hasPrefix("DATABASE_URL sslmode=allow is not supported") == true)
        #expect(Self.refusal("postgres://u@h/d?sslcert=/x.pem")
            == "DATABASE_URL parameter sslcert is not supported: the facade reads sslmode and sslrootcert only.")
        #expect(Self.refusal("postgres://u@h/d?sslmode=require&sslmode=disable") == "DATABASE_URL names sslmode twice.")
        #expect(Self.refusal("postgres://u@h/d?sslmode=disable&sslrootcert=/ca.pem")?.contains("sslmode=disable") == true)
        #expect(Self.refusal("postgres://u@h/d?sslmode=require&sslrootcert=system")?.contains("needs sslmode=verify-full") == true)
        #expect(Self.refusal("mysql://u@h/d")?.hasPrefix("DATABASE_URL must look like") == true)
    }

    @Test("an sslrootcert that is missing or not PEM stops the facade at start, naming the file")
    func unreadableRootCert() throws {
        let missing = "/nonexistent/ca.pem"
        #expect(Self.refusal("postgres://u@h/d?sslmode=verify-full&sslrootcert=\(missing)")?
            .hasPrefix("DATABASE_URL sslrootcert=\(missing) cannot be read as PEM certificates") == true)
        let garbage = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-cert-\(UUID()).pem")
        try Data("hello".utf8).write(to: garbage)
        defer { try? FileManager.default.removeItem(at: garbage) }
        #expect(Self.refusal("postgres://u@h/d?sslmode=verify-ca&sslrootcert=\(garbage.path)")?
            .hasPrefix("DATABASE_URL sslrootcert=\(garbage.path) cannot be read") == true)
    }
}
