import Foundation
import Hummingbird

/// Broker credentials (``RealtimeUseCases``).
struct RealtimeRoutes {
    let deps: AppDependencies

    func register(_ group: RouterGroup<AppRequestContext>) {
        group.get("realtime/token") { request, _ in try await self.connectionToken(request) }
        group.get("realtime/subscription-token") { request, _ in try await self.subscriptionToken(request) }
    }

    /// `{"token", "expires_at", "expires_in", "personal_channel", "workspace_channels"}`: the client subscribes to
    /// `personal_channel` with no further token and to each of `workspace_channels` with a token from
    /// `/v1/realtime/subscription-token`.
    func connectionToken(_ request: Request) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let grant = try await deps.realtime.connectionToken(for: userID)
        struct Body: Encodable {
            var token: String
            var expires_at: Date
            var expires_in: Int
            var personal_channel: String
            var workspace_channels: [String]
        }
        return JSONResponse.encode(Body(
            token: grant.token, expires_at: grant.expiresAt, expires_in: grant.expiresIn,
            personal_channel: grant.personalChannel, workspace_channels: grant.workspaceChannels))
    }

    /// `?channel=workspace:<id>`: `{"token", "channel", "expires_at", "expires_in"}`, for active members only.
    func subscriptionToken(_ request: Request) async throws -> Response {
        let userID = try await deps.authenticate(request)
        guard let channel = request.uri.queryParameters["channel"].map(String.init) else {
            throw APIError.validation(field: "channel", .required, "The channel query parameter is required.")
        }
        guard let workspaceID = Channel.workspaceID(of: channel) else {
            throw APIError.validation(field: "channel", .invalidFormat, "Must be \(Channel.workspacePrefix)<workspace id>.")
        }
        let grant = try await deps.realtime.subscriptionToken(as: userID, in: workspaceID)
        struct Body: Encodable {
            var token: String
            var channel: String
            var expires_at: Date
            var expires_in: Int
        }
        return JSONResponse.encode(Body(
            token: grant.token, channel: grant.channel, expires_at: grant.expiresAt, expires_in: grant.expiresIn))
    }
}
