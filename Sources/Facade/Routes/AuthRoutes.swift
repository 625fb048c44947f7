import Foundation
import Hummingbird
import PostgresNIO

/// Sign-up, sign-in (email + password or Google ID token) and `GET /v1/me`.
struct AuthRoutes {
    let deps: AppDependencies

    struct SignUpRequest: Decodable {
        var email: String
        var password: String
    }

    struct SignInRequest: Decodable {
        var email: String
        var password: String
    }

    struct GoogleRequest: Decodable {
        var id_token: String
    }

    func register(_ group: RouterGroup<AppRequestContext>) {
        group.post("auth/signup") { request, context in try await self.signUp(request, context) }
        group.post("auth/signin") { request, context in try await self.signIn(request, context) }
        group.post("auth/google") { request, context in try await self.google(request, context) }
        group.get("me") { request, _ in try await self.me(request) }
    }

    static func isPlausibleEmail(_ email: String) -> Bool {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !email.contains(" ")
            && email.count <= 254
    }

    func signUp(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let body = try await request.decodeJSON(SignUpRequest.self, context: context)
        let email = body.email.trimmed
        var validator = Validator()
        validator.check(Self.isPlausibleEmail(email), "email", .invalidFormat, "Must be a valid email address.")
        validator.check(body.password.count >= 8, "password", .tooShort, "Must be at least 8 characters.")
        validator.check(body.password.utf8.count <= 72, "password", .tooLong, "Must be at most 72 bytes.")
        try validator.throwIfInvalid()

        let hash = try await deps.passwords.hash(body.password)
        let userJSON = try await deps.db.withConnection { connection -> String? in
            try await connection.jsonRow(
                """
                INSERT INTO users (email, password_hash) VALUES (\(email), \(hash))
                ON CONFLICT DO NOTHING
                RETURNING \(unescaped: Projection.user("users"))::text
                """, logger: deps.logger)
        }
        guard let userJSON else {
            throw APIError.conflict("email_taken", "An account with this email already exists.")
        }
        return try await sessionResponse(userJSON: userJSON, status: .created)
    }

    func signIn(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let body = try await request.decodeJSON(SignInRequest.self, context: context)
        let found = try await deps.db.withConnection { connection -> (String, String?)? in
            let rows = try await connection.query(
                "SELECT \(unescaped: Projection.user("u"))::text, u.password_hash FROM users u WHERE lower(u.email) = lower(\(body.email.trimmed))",
                logger: deps.logger)
            for try await row in rows.decode((String, String?).self) { return row }
            return nil
        }
        // Unknown emails still pay for a bcrypt check, so response time does not reveal which emails exist.
        let hash = found?.1 ?? deps.passwords.unknownUserHash
        let valid = try await deps.passwords.verify(body.password, hash: hash)
        guard let (userJSON, storedHash) = found, storedHash != nil, valid else {
            throw APIError(.unauthorized, code: "invalid_credentials", message: "Email or password is wrong.")
        }
        return try await sessionResponse(userJSON: userJSON, status: .ok)
    }

    /// Signs in with a Google ID token: finds the user by Google subject, else links the account with the
    /// same verified email, else creates a user.
    func google(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard let google = deps.google else { throw APIError.googleSignInDisabled }
        let body = try await request.decodeJSON(GoogleRequest.self, context: context)
        let identity = try await google.verify(body.id_token)
        guard let email = identity.email, identity.emailVerified else {
            throw APIError(.unauthorized, code: "invalid_google_token", message: "The Google account has no verified email.")
        }
        let userJSON = try await deps.db.transaction { connection -> String in
            if let json = try await connection.jsonRow(
                "SELECT \(unescaped: Projection.user("u"))::text FROM users u WHERE u.google_subject = \(identity.subject)",
                logger: deps.logger)
            {
                return json
            }
            if let json = try await connection.jsonRow(
                """
                UPDATE users u SET google_subject = \(identity.subject)
                WHERE lower(u.email) = lower(\(email)) AND u.google_subject IS NULL
                RETURNING \(unescaped: Projection.user("u"))::text
                """, logger: deps.logger)
            {
                return json
            }
            guard let json = try await connection.jsonRow(
                """
                INSERT INTO users (email, google_subject) VALUES (\(email), \(identity.subject))
                ON CONFLICT DO NOTHING
                RETURNING \(unescaped: Projection.user("users"))::text
                """, logger: deps.logger)
            else {
                throw APIError.conflict("email_taken", "This email belongs to an account linked to another Google identity.")
            }
            return json
        }
        return try await sessionResponse(userJSON: userJSON, status: .ok)
    }

    func me(_ request: Request) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let json = try await deps.db.withConnection { connection in
            try await connection.jsonRow(
                "SELECT \(unescaped: Projection.user("u"))::text FROM users u WHERE u.id = \(userID)", logger: deps.logger)
        }
        guard let json else { throw APIError.unauthenticated }
        return JSONResponse.raw(json)
    }

    /// `{"token": "...", "user": {...}}`
    private func sessionResponse(userJSON: String, status: HTTPResponse.Status) async throws -> Response {
        struct UserID: Decodable { var id: UUID }
        let user = try JSONDecoder().decode(UserID.self, from: Data(userJSON.utf8))
        let token = try await deps.sessions.issue(userID: user.id)
        return JSONResponse.raw("{\"token\":\(JSONResponse.quote(token)),\"user\":\(userJSON)}", status: status)
    }
}
