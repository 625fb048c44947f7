import Foundation
import Hummingbird
import PostgresNIO

/// Broker credentials: a connection token for any signed-in user, subscription tokens per workspace channel.
struct RealtimeRoutes {
    let deps: AppDependencies

    func register(_ group: RouterGroup<AppRequestContext>) {
        group.get("realtime/token") { request, _ in try await self.connectionToken(request) }
        group.get("realtime/subscription-token") { request, _ in try await self.subscriptionToken(request) }
    }

    /// `{"token", "expires_at", "channels"}`: `channels` lists the personal channel (subscribe directly,
    /// it is user-limited) and the workspace channels (each needs a subscription token).
    func connectionToken(_ request: Request) async throws -> Response {
        let userID = try await deps.authenticate(request)
        let workspaceIDs = try await deps.db.withConnection { connection -> [UUID] in
            var ids: [UUID] = []
            let rows = try await connection.query(
                "SELECT workspace_id FROM members WHERE user_id = \(userID) AND status = 'active' ORDER BY joined_at",
                logger: deps.logger)
            for try await id in rows.decode(UUID.self) { ids.append(id) }
            return ids
        }
        let (token, expiresAt) = try await deps.brokerTokens.connectionToken(userID: userID, now: deps.now())
        struct Body: Encodable {
            var token: String
            var expires_at: Date
            var channels: [String]
        }
        let channels = [Channel.personal(userID: userID)] + workspaceIDs.map(Channel.workspace)
        return JSONResponse.encode(Body(token: token, expires_at: expiresAt, channels: channels))
    }

    /// Only for `workspace:<id>` channels, and only to active members of that workspace.
    func subscriptionToken(_ request: Request) async throws -> Response {
        let userID = try await deps.authenticate(request)
        guard let channel = request.uri.queryParameters["channel"].map(String.init) else {
            throw APIError.validation(field: "channel", "The channel query parameter is required.")
        }
        guard channel.hasPrefix("workspace:"), let workspaceID = UUID(uuidString: String(channel.dropFirst("workspace:".count)))
        else {
            throw APIError.validation(field: "channel", "Must be workspace:<workspace id>.")
        }
        try await deps.db.withConnection { connection in
            _ = try await Membership.require(connection, workspaceID: workspaceID, userID: userID, logger: deps.logger)
        }
        let (token, expiresAt) = try await deps.brokerTokens.subscriptionToken(
            userID: userID, channel: Channel.workspace(workspaceID), now: deps.now())
        struct Body: Encodable {
            var token: String
            var channel: String
            var expires_at: Date
        }
        return JSONResponse.encode(Body(token: token, channel: Channel.workspace(workspaceID), expires_at: expiresAt))
    }
}
