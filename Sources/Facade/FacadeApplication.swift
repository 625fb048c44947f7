import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// Assembles the facade: database pool, migrations, routes and the outbox relay.
public enum FacadeApplication {
    /// Builds the application. Migrations (if enabled) run before the server accepts requests.
    ///
    /// Throws ``FacadeStartError`` first thing, before any connection, when ``FacadeStartCheck`` refuses the
    /// configuration; logs its warnings and which optional features are off.
    public static func build(
        configuration: FacadeConfiguration, logger: Logger = Logger(label: "facade")
    ) async throws -> some ApplicationProtocol {
        for warning in try FacadeStartCheck.check(configuration) {
            logger.warning("weak secret (development mode): \(warning)")
        }
        if configuration.googleClientID == nil {
            logger.info("Google sign-in is off (POST /v1/auth/google answers 501): set GOOGLE_CLIENT_ID to turn it on")
        } else if configuration.googleJWKS == nil {
            logger.info("Google sign-in is on; keys from \(configuration.googleJWKSURL ?? GoogleJWKSCache.googleURL), cached")
        }
        if !configuration.runRelay {
            logger.info("The outbox relay is off in this process (FACADE_NO_RELAY=1): events wait in the outbox until a facade with the relay runs")
        }
        let postgres = PostgresClient(configuration: try configuration.postgresConfiguration(), backgroundLogger: logger)
        let db = Database(client: postgres, logger: logger)
        let router = try await makeRouter(configuration: configuration, db: db)

        var app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "facade"),
            logger: logger)
        app.addServices(postgres)
        let startupGate = StartupGate()
        if configuration.runRelay {
            let publisher = BrokerPublisher(apiURL: configuration.brokerAPIURL, apiKey: configuration.brokerAPIKey)
            app.addServices(OutboxRelay(
                db: db, publisher: publisher, options: configuration.relayOptions, logger: logger, startupGate: startupGate))
        }
        app.beforeServerStarts {
            try await DatabaseProbe.check(configuration, logger: logger)
            if configuration.migrateOnStart {
                try await Migrator.bundled().migrate(client: postgres, logger: logger)
            }
            startupGate.open()
        }
        return app
    }

    static func makeRouter(configuration: FacadeConfiguration, db: Database) async throws -> Router<AppRequestContext> {
        let google = try await makeGoogleSignIn(configuration: configuration, logger: db.logger)
        let deps = AppDependencies(
            db: db,
            sessions: await SessionTokens(
                secret: configuration.sessionSecret, lifetime: configuration.sessionLifetime, now: configuration.now),
            passwords: Passwords(cost: configuration.bcryptCost),
            google: google,
            brokerTokens: await BrokerTokens(
                secret: configuration.brokerTokenSecret, connectionLifetime: configuration.brokerTokenLifetime,
                subscriptionLifetime: configuration.subscriptionTokenLifetime),
            now: configuration.now)

        let router = Router(context: AppRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        SystemRoutes(deps: deps, openAPIDocument: try SystemRoutes.loadOpenAPIDocument()).register(router)
        let v1 = router.group("v1")
        AuthRoutes(deps: deps).register(v1)
        WorkspaceRoutes(deps: deps).register(v1)
        MemberRoutes(deps: deps).register(v1)
        InviteRoutes(deps: deps).register(v1)
        PostRoutes(deps: deps).register(v1)
        CommentRoutes(deps: deps).register(v1)
        ReactionRoutes(deps: deps).register(v1)
        TodoRoutes(deps: deps).register(v1)
        NotificationRoutes(deps: deps).register(v1)
        RealtimeRoutes(deps: deps).register(v1)
        router.add(middleware: MethodNotAllowedMiddleware(routes: router.routes))
        return router
    }

    /// nil when `GOOGLE_CLIENT_ID` is unset; keys from `GOOGLE_JWKS_FILE` when given, else from the JWKS URL.
    static func makeGoogleSignIn(configuration: FacadeConfiguration, logger: Logger) async throws -> GoogleSignIn? {
        guard let clientID = configuration.googleClientID else { return nil }
        if let jwks = configuration.googleJWKS {
            do {
                return GoogleSignIn(clientID: clientID, keySource: try await StaticGoogleKeys(jwksJSON: jwks))
            } catch {
                throw ConfigurationError("GOOGLE_JWKS_FILE is not a usable JWKS document: \(error.description).")
            }
        }
        let cache = GoogleJWKSCache(
            url: configuration.googleJWKSURL ?? GoogleJWKSCache.googleURL, policy: configuration.googleKeysPolicy,
            now: configuration.monotonicNow, logger: logger)
        return GoogleSignIn(clientID: clientID, keySource: cache)
    }
}
