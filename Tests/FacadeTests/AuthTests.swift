import Foundation
import Testing

@testable import Facade

@Suite("Email and password authentication")
struct AuthTests {
    @Test("sign-up, sign-in, wrong password, no session")
    func signUpAndSignIn() async throws {
        try await withFacade { api, _ in
            let session = try await api.signUp("Ada@Example.com", password: "correct horse")
            #expect(!session.token.isEmpty)

            let duplicate = try await api.call(.post, "/v1/auth/signup", json: ["email": "ada@example.com", "password": "another one"])
            #expect(duplicate.status == .conflict)
            #expect(duplicate.errorCode == "email_taken")

            let signIn = try await api.call(.post, "/v1/auth/signin", json: ["email": "ada@example.com", "password": "correct horse"])
            #expect(signIn.status == .ok)
            let token = try #require(signIn.string("token"))

            let me = try await api.call(.get, "/v1/me", token: token)
            #expect(me.status == .ok)
            #expect(me.string("id") == session.userID)

            let wrong = try await api.call(.post, "/v1/auth/signin", json: ["email": "ada@example.com", "password": "wrong password"])
            #expect(wrong.status == .unauthorized)
            #expect(wrong.errorCode == "invalid_credentials")

            let unknown = try await api.call(.post, "/v1/auth/signin", json: ["email": "nobody@example.com", "password": "whatever1"])
            #expect(unknown.status == .unauthorized)

            #expect(try await api.call(.get, "/v1/me").status == .unauthorized)
            #expect(try await api.call(.get, "/v1/me", token: "not-a-jwt").status == .unauthorized)
        }
    }

    @Test("validation and malformed bodies use the error shape")
    func errorsShape() async throws {
        try await withFacade { api, _ in
            let invalid = try await api.call(.post, "/v1/auth/signup", json: ["email": "nope", "password": "short"])
            #expect(invalid.status == .unprocessableContent)
            #expect(invalid.errorCode == "validation_failed")
            let fields = (invalid["error"] as? [String: Any])?["fields"] as? [[String: Any]] ?? []
            #expect(Set(fields.compactMap { $0["field"] as? String }) == ["email", "password"])

            let malformed = try await api.call(.post, "/v1/auth/signup", json: ["email": "a@b.co"])
            #expect(malformed.status == .badRequest)
            #expect(malformed.errorCode == "malformed_request")

            let session = try await api.signUp()
            let nul = try await api.call(.post, "/v1/workspaces", token: session.token, json: ["name": "a\u{0}b", "time_zone": "UTC"])
            #expect(nul.status == .unprocessableContent)

            let notFound = try await api.call(.get, "/v1/nothing-here")
            #expect(notFound.status == .notFound)
        }
    }

    @Test("expired session tokens are refused")
    func expiredSession() async throws {
        let clock = TestClock()
        try await withFacade(clock: clock) { api, _ in
            let session = try await api.signUp()
            #expect(try await api.call(.get, "/v1/me", token: session.token).status == .ok)
            clock.set(clock.now.addingTimeInterval(8 * 24 * 3600))
            #expect(try await api.call(.get, "/v1/me", token: session.token).status == .unauthorized)
        }
    }
}
