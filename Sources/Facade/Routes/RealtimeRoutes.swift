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

    /// `{"token", "expires_at", "expires_in", "personal_channel", "workspace_channels"}`.
    ///
    /// The token carries no `channels` claim, so the broker subscribes the connection to nothing by itself:
    /// the client subscribes to `personal_channel` with no further token (a user-limited channel, only this
    /// user may join it) and to each of `workspace_channels` with a token from `/v1/realtime/subscription-token`.
    /// Those are the workspaces the user is an active member of now; joining another one later does not need
    /// a new connection token.
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
        let (token, expiresAt, expiresIn) = try await deps.brokerTokens.connectionToken(userID: userID, now: deps.now())
        struct Body: Encodable {
            var token: String
            var expires_at: Date
            var expires_in: Int
            var personal_channel: String
            var workspace_channels: [String]
        }
        return JSONResponse.encode(Body(
            token: token, expires_at: expiresAt, expires_in: expiresIn,
            personal_channel: Channel.personal(userID: userID), workspace_channels: workspaceIDs.map(Channel.workspace)))
    }

    /// Only for `workspace:<id>` channels, and only to active members of that workspace. Short-lived
    /// (``FacadeConfiguration/subscriptionTokenLifetime``): the SDK asks again before it expires, and a member who
    /// was removed meanwhile gets 403, which ends the subscription even if the broker missed the `unsubscribe`.
    func subscriptionToken(_ request: Request) async throws -> Response {
        let userID = try await deps.authenticate(request)
        guard let channel = request.uri.queryParameters["channel"].map(String.init) else {
            throw APIError.validation(field: "channel", .required, "The channel query parameter is required.")
        }
        guard let workspaceID = Channel.workspaceID(of: channel) else {
            throw APIError.validation(field: "channel", .invalidFormat, "Must be workspace:<workspace id>.")
        }
        try await deps.db.withConnection { connection in
            _ = try await Membership.require(connection, workspaceID: workspaceID, userID: userID, logger: deps.logger)
        }
        let (token, expiresAt, expiresIn) = try await deps.brokerTokens.subscriptionToken(
            userID: userID, channel: Channel.workspace(workspaceID), now: deps.now())
        struct Body: Encodable {
            var token: String
            var channel: String
            var expires_at: Date
            var expires_in: Int
        }
        return JSONResponse.encode(Body(
            token: token, channel: Channel.workspace(workspaceID), expires_at: expiresAt, expires_in: expiresIn))
    }
}
