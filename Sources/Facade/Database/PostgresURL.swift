import Foundation

/// A `DATABASE_URL`, `postgres://user[:password]@host[:port]/database[?sslmode=…&sslrootcert=…]`, checked whole
/// at start: an unknown `sslmode`, an unknown parameter or an unreadable `sslrootcert` is refused with its
/// name and the accepted values, never ignored.
struct PostgresURL: Sendable, Equatable {
    var host: String
    var port: Int
    var username: String
    var password: String?
    var database: String?
    var sslMode: PostgresSSLMode
    /// `sslrootcert`: a PEM file of trusted CAs, or `system` for the system's (then `verify-full` is required,
    /// as in libpq); nil: the system's.
    var sslRootCert: String?

    static let supportedParameters = ["sslmode", "sslrootcert"]

    static func parse(_ url: String) throws(ConfigurationError) -> PostgresURL {
        guard let components = URLComponents(string: url),
            ["postgres", "postgresql"].contains(components.scheme ?? ""),
            let host = components.host, !host.isEmpty
        else {
            throw ConfigurationError("DATABASE_URL must look like postgres://user@host:port/database")
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        var parameters: [String: String] = [:]
        for item in components.queryItems ?? [] {
            guard supportedParameters.contains(item.name) else {
                throw ConfigurationError(
                    "DATABASE_URL parameter \(item.name) is not supported: the facade reads "
                        + supportedParameters.joined(separator: " and ") + " only.")
            }
            guard parameters[item.name] == nil else {
                throw ConfigurationError("DATABASE_URL names \(item.name) twice.")
            }
            parameters[item.name] = item.value ?? ""
        }
        let sslMode = try parseSSLMode(parameters["sslmode"])
        let rootCert = parameters["sslrootcert"]
        if let rootCert {
            if rootCert.isEmpty { throw ConfigurationError("DATABASE_URL sslrootcert is empty: give a PEM file's path.") }
            if sslMode == .disable {
                throw ConfigurationError(
                    "DATABASE_URL sets sslrootcert but sslmode=disable, which never uses TLS: remove one of them.")
            }
            if rootCert == "system", sslMode != .verifyFull {
                throw ConfigurationError(
                    "DATABASE_URL sslrootcert=system needs sslmode=verify-full (as in libpq): the system's CAs "
                        + "vouch for host names, so only a check of the name makes them mean anything.")
            }
        }
        return PostgresURL(
            host: host, port: components.port ?? 5432,
            username: components.user?.removingPercentEncoding ?? "postgres",
            password: components.password?.removingPercentEncoding,
            database: database.isEmpty ? nil : database,
            sslMode: sslMode, sslRootCert: rootCert)
    }

    static func parseSSLMode(_ raw: String?) throws(ConfigurationError) -> PostgresSSLMode {
        guard let raw else { return .default }
        if let mode = PostgresSSLMode(rawValue: raw) { return mode }
        if raw == "allow" {
            throw ConfigurationError(
                "DATABASE_URL sslmode=allow is not supported (it connects without TLS unless the server insists): "
                    + "use sslmode=prefer, or require, verify-ca or verify-full to insist on TLS.")
        }
        throw ConfigurationError(
            "DATABASE_URL sslmode=\(raw) is not a known mode: use one of \(PostgresSSLMode.names).")
    }
}
