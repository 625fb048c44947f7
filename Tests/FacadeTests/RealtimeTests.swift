import Foundation
import JWTKit
import Testing

@testable import Facade

@Suite("Broker tokens")
struct RealtimeTests {
    @Test("connection token for the user; subscription token only for active members")
    func tokens() async throws {
        try await withFacade { api, _ in
            let owner = try await api.signUp()
            let stranger = try await api.signUp()
            let workspace = try await api.createWorkspace(owner)
            let verifier = JWTKeyCollection()
            await verifier.add(hmac: HMACKey(from: TestSecrets.broker), digestAlgorithm: .sha256)

            let connection = try await api.call(.get, "/v1/realtime/token", token: owner.token)
            #expect(connection.status == .ok)
            let claims = try await verifier.verify(try #require(connection.string("token")), as: BrokerConnectionClaims.self)
            #expect(claims.sub.value == owner.userID)
            #expect(connection["channels"] as? [String] == ["personal:#\(owner.userID)", "workspace:\(workspace.id)"])

            let channel = "workspace:\(workspace.id)"
            let subscription = try await api.call(.get, "/v1/realtime/subscription-token?channel=\(channel)", token: owner.token)
            #expect(subscription.status == .ok)
            let subClaims = try await verifier.verify(try #require(subscription.string("token")), as: BrokerSubscriptionClaims.self)
            #expect(subClaims.channel == channel)
            #expect(subClaims.sub.value == owner.userID)
            let expiresAt = try #require(subscription.string("expires_at"))
            #expect(try Date(expiresAt, strategy: .iso8601) > Date())

            let refused = try await api.call(.get, "/v1/realtime/subscription-token?channel=\(channel)", token: stranger.token)
            #expect(refused.status == .forbidden)
            #expect(try await api.call(.get, "/v1/realtime/subscription-token?channel=personal:#x", token: owner.token).status
                == .unprocessableContent)
            #expect(try await api.call(.get, "/v1/realtime/token").status == .unauthorized)
        }
    }

    @Test("health and openapi.json")
    func system() async throws {
        try await withFacade { api, _ in
            #expect(try await api.call(.get, "/health").status == .ok)
            let document = try await api.call(.get, "/openapi.json")
            #expect(document.status == .ok)
            #expect(document.string("openapi")?.hasPrefix("3.1") == true)
        }
    }
}
