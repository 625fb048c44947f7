import Foundation

/// A signed-in user: a new session token and the user as the API shows it.
struct SignedIn: Sendable {
    var token: String
    var userJSON: String

    /// Issues the session of the user `userJSON` describes.
    init(userJSON: String, sessions: SessionTokens) async throws {
        struct UserID: Decodable { var id: UUID }
        let user = try JSONDecoder().decode(UserID.self, from: Data(userJSON.utf8))
        self.token = try await sessions.issue(userID: user.id)
        self.userJSON = userJSON
    }
}
