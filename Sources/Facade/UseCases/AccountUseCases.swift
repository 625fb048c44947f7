import Foundation

/// Accounts with an email and a password: sign-up, sign-in, and the signed-in user.
struct AccountUseCases {
    let db: Database
    let passwords: Passwords
    let sessions: SessionTokens

    func signUp(email rawEmail: String, password: String) async throws -> SignedIn {
        let email = rawEmail.trimmed
        var validator = Validator()
        validator.check(EmailAddress.isPlausible(email), "email", .invalidFormat, "Must be a valid email address.")
        validator.check(password.count >= 8, "password", .tooShort, "Must be at least 8 characters.")
        validator.check(password.utf8.count <= 72, "password", .tooLong, "Must be at most 72 bytes.")
        try validator.throwIfInvalid()

        let hash = try await passwords.hash(password)
        let userJSON = try await db.withConnection { connection in
            try await UserCommands.create(connection, email: email, passwordHash: hash, logger: db.logger)
        }
        guard let userJSON else {
            throw APIError.conflict("email_taken", "An account with this email already exists.")
        }
        return try await SignedIn(userJSON: userJSON, sessions: sessions)
    }

    func signIn(email: String, password: String) async throws -> SignedIn {
        let found = try await db.withConnection { connection in
            try await UserQueries.withPasswordHash(connection, email: email.trimmed, logger: db.logger)
        }
        // Unknown emails still pay for a bcrypt check, so response time does not reveal which emails exist.
        let hash = found?.passwordHash ?? passwords.unknownUserHash
        let valid = try await passwords.verify(password, hash: hash)
        guard let (userJSON, storedHash) = found, storedHash != nil, valid else {
            throw APIError(.unauthorized, code: "invalid_credentials", message: "Email or password is wrong.")
        }
        return try await SignedIn(userJSON: userJSON, sessions: sessions)
    }

    /// The user as the API shows them; 401 when the session's user no longer exists.
    func me(userID: UUID) async throws -> String {
        let json = try await db.withConnection { connection in
            try await UserQueries.get(connection, userID: userID, logger: db.logger)
        }
        guard let json else { throw APIError.unauthenticated }
        return json
    }
}
