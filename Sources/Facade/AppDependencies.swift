import Foundation
import Hummingbird
import Logging

/// The request context used by every route.
public typealias AppRequestContext = BasicRequestContext

/// Everything a route needs, built once at start-up.
struct AppDependencies: Sendable {
    let db: Database
    let sessions: SessionTokens
    let passwords: Passwords
    /// nil when Google sign-in is not configured (the endpoint then answers 501 `google_sign_in_disabled`).
    let google: GoogleSignIn?
    let brokerTokens: BrokerTokens
    /// Injected clock: decides "today" for check-ins, so tests can cross day boundaries.
    let now: @Sendable () -> Date

    var logger: Logger { db.logger }

    func authenticate(_ request: Request) async throws -> UUID {
        try await sessions.authenticate(request)
    }
}
