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
            // No channels claim: the response names the channels the client subscribes to itself.
            #expect(connection.string("personal_channel") == "personal:#\(owner.userID)")
            #expect(connection["workspace_channels"] as? [String] == ["workspace:\(workspace.id)"])
            #expect(connection["channels"] == nil)
            #expect(connection["expires_in"] as? Int == 3600)
            let connectionExpiry = try Date(try #require(connection.string("expires_at")), strategy: .iso8601)
            #expect(connectionExpiry == claims.exp.value)
            let payload = try #require(connection.string("token")?.split(separator: ".").dropFirst().first)
            #expect(!String(decoding: try #require(Data(base64URL: String(payload))), as: UTF8.self).contains("channels"))

            let channel = "workspace:\(workspace.id)"
            let subscription = try await api.call(.get, "/v1/realtime/subscription-token?channel=\(channel)", token: owner.token)
            #expect(subscription.status == .ok)
            let subClaims = try await verifier.verify(try #require(subscription.string("token")), as: BrokerSubscriptionClaims.self)
            #expect(subClaims.channel == channel)
            #expect(subClaims.sub.value == owner.userID)
            let expiresAt = try #require(subscription.string("expires_at"))
            #expect(try Date(expiresAt, strategy: .iso8601) == subClaims.exp.value)
            #expect(try Date(expiresAt, strategy: .iso8601) > Date())
            // Subscription tokens are the short-lived ones (300 s by default), connection tokens last an hour.
            #expect(subscription["expires_in"] as? Int == 300)
            #expect(subClaims.exp.value.timeIntervalSince(subClaims.iat.value) == 300)
            #expect(subscription.string("channel") == channel)

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

extension Data {
    /// Decodes base64url without padding (JWT segments).
    init?(base64URL: String) {
        var base64 = base64URL.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        self.init(base64Encoded: base64)
    }
}
