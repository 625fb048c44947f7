import Foundation

/// Sign-in with a Google ID token (only when Google sign-in is configured).
struct GoogleSignInUseCase {
    let db: Database
    let google: GoogleSignIn
    let sessions: SessionTokens

    /// Finds the user by Google subject, else links the account with the same verified email, else creates a user.
    func signIn(idToken: String) async throws -> SignedIn {
        let identity = try await google.verify(idToken)
        guard let email = identity.email, identity.emailVerified else {
            throw APIError(.unauthorized, code: "invalid_google_token", message: "The Google account has no verified email.")
        }
        let userJSON = try await db.transaction { connection -> String in
            if let json = try await UserQueries.byGoogleSubject(connection, identity.subject, logger: db.logger) {
                return json
            }
            if let json = try await UserCommands.linkGoogle(connection, subject: identity.subject, email: email, logger: db.logger) {
                return json
            }
            guard let json = try await UserCommands.createFromGoogle(
                connection, email: email, subject: identity.subject, logger: db.logger)
            else {
                throw APIError.conflict("email_taken", "This email belongs to an account linked to another Google identity.")
            }
            return json
        }
        return try await SignedIn(userJSON: userJSON, sessions: sessions)
    }
}
