import Logging
import PostgresNIO

/// Opens one connection with the settings of `DATABASE_URL` and runs `SELECT 1`, before migrations and
/// before the server accepts requests. The connection pool retries a failing connection with backoff and
/// then reports only that it gave up; this reports the first failure itself (a certificate that does not
/// verify, a server that wants TLS), as a ``DatabaseConnectError`` naming the fix.
public enum DatabaseProbe {
    public static func check(_ configuration: FacadeConfiguration, logger: Logger) async throws {
        let url = try PostgresURL.parse(configuration.databaseURL)
        try await check(url: url, tls: try PostgresTLS(url), logger: logger)
    }

    static func check(url: PostgresURL, tls: PostgresTLS, logger: Logger) async throws(DatabaseConnectError) {
        do {
            let connection = try await PostgresConnection.connect(
                configuration: .init(
                    host: url.host, port: url.port, username: url.username, password: url.password,
                    database: url.database, tls: try tls.connection()),
                id: 0, logger: logger)
            do {
                try await connection.query("SELECT 1", logger: logger)
            } catch {
                try? await connection.close()
                throw error
            }
            try await connection.close()
        } catch {
            throw DatabaseConnectError(url: url, error: error)
        }
    }
}
