import Foundation
import PostgresNIO

/// Everything the facade reads from its environment / command line.
public struct FacadeConfiguration: Sendable {
    /// `postgres://user[:password]@host[:port]/database[?sslmode=…&sslrootcert=…]` (``PostgresURL``)
    public var databaseURL: String
    /// Loopback by default: reachable from other machines only when asked (`FACADE_HOST=0.0.0.0`), and then
    /// ``FacadeStartCheck`` insists on strong secrets.
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// The broker's HTTP API base, e.g. `http://127.0.0.1:8000/api`.
    public var brokerAPIURL: String = "http://127.0.0.1:8000/api"
    public var brokerAPIKey: String = ""
    /// The broker's `client.token.hmac_secret_key`, used to mint connection and subscription tokens.
    public var brokerTokenSecret: String
    /// Lifetime of broker connection tokens (`GET /v1/realtime/token`).
    public var brokerTokenLifetime: TimeInterval = 3600
    /// Lifetime of broker subscription tokens (`GET /v1/realtime/subscription-token`), env
    /// `BROKER_SUBSCRIPTION_TOKEN_TTL`: the longest a subscription can outlive a revocation the broker missed
    /// (clients renew through the SDK's `getToken`/`get_token`, and a removed member is refused).
    public var subscriptionTokenLifetime: TimeInterval = 300
    /// Secret for the facade's own session tokens (HS256).
    public var sessionSecret: String
    public var sessionLifetime: TimeInterval = 7 * 24 * 3600
    /// Google sign-in: the OAuth client id (the `aud` of accepted ID tokens); on when set.
    public var googleClientID: String?
    /// Google's keys as a fixed JWKS document (`GOOGLE_JWKS_FILE`), instead of fetching them.
    public var googleJWKS: String?
    /// Where Google's keys are fetched (`GOOGLE_JWKS_URL`); nil: ``GoogleJWKSCache/googleURL``.
    public var googleJWKSURL: String?
    /// Cache lifetime bounds and refetch rate of ``GoogleJWKSCache``.
    var googleKeysPolicy = GoogleJWKSCache.Policy()
    /// The monotonic clock of the key cache; tests replace it.
    var monotonicNow: @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    public var bcryptCost: UInt8 = 12
    /// Apply pending migrations before serving.
    public var migrateOnStart: Bool = true
    /// Run the outbox relay inside this process.
    public var runRelay: Bool = true
    public var relayOptions: OutboxRelay.Options = .init()
    public var maxDatabaseConnections: Int = 20
    /// The clock deciding "today" for check-ins; tests replace it.
    public var now: @Sendable () -> Date = { Date() }

    public init(databaseURL: String, brokerTokenSecret: String, sessionSecret: String) {
        self.databaseURL = databaseURL
        self.brokerTokenSecret = brokerTokenSecret
        self.sessionSecret = sessionSecret
    }

    /// Parses `databaseURL` (``PostgresURL``: `sslmode`, `sslrootcert`) into a PostgresNIO client configuration.
    public func postgresConfiguration() throws(ConfigurationError) -> PostgresClient.Configuration {
        let url = try PostgresURL.parse(databaseURL)
        var configuration = PostgresClient.Configuration(
            host: url.host, port: url.port, username: url.username, password: url.password, database: url.database,
            tls: try PostgresTLS(url).client)
        configuration.options.maximumConnections = maxDatabaseConnections
        return configuration
    }
}

public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
