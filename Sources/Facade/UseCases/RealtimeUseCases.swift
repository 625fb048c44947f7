import Foundation

/// Broker credentials: a connection token for any signed-in user, subscription tokens per workspace channel.
struct RealtimeUseCases {
    let db: Database
    let brokerTokens: BrokerTokens
    let now: @Sendable () -> Date

    struct ConnectionGrant: Sendable {
        var token: String
        var expiresAt: Date
        var expiresIn: Int
        var personalChannel: String
        var workspaceChannels: [String]
    }

    struct SubscriptionGrant: Sendable {
        var token: String
        var channel: String
        var expiresAt: Date
        var expiresIn: Int
    }

    /// The token carries no `channels` claim, so the broker subscribes the connection to nothing by itself:
    /// the client subscribes to the personal channel with no further token (a user-limited channel, only this
    /// user may join it) and to each workspace channel with a subscription token. Those are the workspaces the user
    /// is an active member of now; joining another one later does not need a new connection token.
    func connectionToken(for userID: UUID) async throws -> ConnectionGrant {
        let workspaceIDs = try await db.withConnection { connection in
            try await MemberQueries.activeWorkspaceIDs(connection, userID: userID, logger: db.logger)
        }
        let (token, expiresAt, expiresIn) = try await brokerTokens.connectionToken(userID: userID, now: now())
        return ConnectionGrant(
            token: token, expiresAt: expiresAt, expiresIn: expiresIn, personalChannel: Channel.personal(userID: userID),
            workspaceChannels: workspaceIDs.map(Channel.workspace))
    }

    /// Only to active members of the workspace. Short-lived (``FacadeConfiguration/subscriptionTokenLifetime``):
    /// the SDK asks again before it expires, and a member who was removed meanwhile gets 403, which ends the
    /// subscription even if the broker missed the `unsubscribe`.
    func subscriptionToken(as userID: UUID, in workspaceID: UUID) async throws -> SubscriptionGrant {
        _ = try await db.withConnection(actingAs: userID, in: workspaceID) { me, _ in me }
        let channel = Channel.workspace(workspaceID)
        let (token, expiresAt, expiresIn) = try await brokerTokens.subscriptionToken(userID: userID, channel: channel, now: now())
        return SubscriptionGrant(token: token, channel: channel, expiresAt: expiresAt, expiresIn: expiresIn)
    }
}
