import BrokerProtocol

/// The node's rule path: every "may this connection do this, and with what result" (connect, refresh, subscribe,
/// publish, history, presence, RPC) for the client protocol, the unidirectional transports, the server API and the
/// console.
///
/// Pure: what it needs of a connection (its user, client ID, whether it is subscribed) and of time (`now`, unix ms)
/// comes in as arguments, and a token's claims or a proxy's answer come in already fetched. The session only turns
/// frames into these calls and their answers back into frames; nothing else re-derives a rule.
public struct ClientRules: Sendable {
    let client: ClientConfig
    let channel: ChannelConfig
    let rpc: RPCConfig
    let hasNamedProxies: Bool
    /// A refresh proxy renews connections server-side: clients are not told to refresh.
    let refreshesConnectionsServerSide: Bool
    public let channels: ChannelRules

    /// A connection may not be granted more than a year.
    static let longestExpiry: Int64 = 365 * 24 * 3600 * 1000

    init(config: BrokerConfig, channels: ChannelRules) {
        self.client = config.client
        self.channel = config.channel
        self.rpc = config.rpc
        self.hasNamedProxies = config.proxies.contains { !$0.proxy.endpoint.isEmpty }
        self.refreshesConnectionsServerSide = config.client.proxy.refresh.enabled
        self.channels = channels
    }

    public init(config: BrokerConfig) {
        self.init(config: config, channels: ChannelRules(config: config.channel))
    }

    /// Resolves a channel name: 102 for an unknown namespace, 107 for a bad name.
    func resolve(_ channel: String) throws(ClientError) -> ResolvedChannel {
        try channels.resolve(channel)
    }

    // MARK: - Connect and refresh

    /// Expiry in unix ms (0 = never) from a token's `exp` and `expire_at` (which wins); never with `client.insecure`.
    func expiry(expiresAt: Int64?, expireAt: Int64?) -> Int64 {
        if client.insecure { return 0 }
        if let ea = expireAt { return ea > 0 ? ea * 1000 : 0 }
        if let e = expiresAt { return e * 1000 }
        return 0
    }

    /// Whether a client without a token may connect at all (when no connect proxy answers for it).
    var allowsAnonymousConnect: Bool { client.allowAnonymousConnectWithoutToken || client.insecure }

    /// What a client that proved `credentials` gets: its user, expiry and server-side subscriptions.
    ///
    /// Server-side subscriptions come from the credentials' `subs` (or `channels`), then, unless a connect proxy
    /// answered, from the channels the client asked for that it could subscribe to by itself, then the personal
    /// channel.
    func connect(_ credentials: ConnectionCredentials, request: ConnectRequest, now: Int64) -> Result<ConnectGrant, Refusal> {
        let claims = credentials.claims
        if credentials.source == .token && claims.user.isEmpty && client.disallowAnonymousConnectionTokens {
            return .failure(.disconnect(.permissionDenied))
        }
        var exp = expiry(expiresAt: claims.expiresAt, expireAt: claims.expireAt)
        if exp > 0 && exp <= now { return .failure(.error(.expired)) }
        exp = exp > 0 ? min(exp, now + ClientRules.longestExpiry) : 0
        let user = claims.user
        var grant = ConnectGrant(
            user: user, info: claims.info.map { Payload(bytes: $0, isBinary: claims.infoIsBinary) }, expiresAt: exp,
            subscriptions: [], singleConnectionChannel: nil, data: credentials.data, meta: claims.meta)

        var seen = Set<String>()
        let granted = claims.subs.isEmpty ? claims.channels.map { TokenSubscription(channel: $0) } : claims.subs
        for ts in granted where !seen.contains(ts.channel) {
            let resolved: ResolvedChannel
            do {
                resolved = try channels.resolve(ts.channel)
            } catch {
                return .failure(.error(error))
            }
            seen.insert(ts.channel)
            let position = request.subs[ts.channel] ?? SubscribeRequest()
            var plan = subscribePlan(resolved, request: position, override: ts.override, serverSide: true, user: user)
            if let info = ts.info { plan.chanInfo = Payload(bytes: info, isBinary: ts.infoIsBinary) }
            if let data = ts.data { plan.data = Payload(bytes: data, isBinary: ts.dataIsBinary) }
            grant.subscriptions.append(plan)
        }
        if credentials.source != .proxy {
            for (name, position) in request.subs.sorted(by: { $0.key < $1.key }) where !seen.contains(name) {
                guard let resolved = try? channels.resolve(name) else { return .failure(.disconnect(.badRequest)) }
                if resolved.isPrivate || resolved.options.subscribeProxyEnabled || !subscribeAllowed(resolved, user: user) {
                    continue
                }
                seen.insert(name)
                grant.subscriptions.append(subscribePlan(resolved, request: position, override: nil, serverSide: true, user: user))
            }
        }
        let personal = client.subscribeToUserPersonalChannel
        if personal.enabled && !user.isEmpty {
            let name = channels.personalChannel(user: user, namespace: personal.personalChannelNamespace)
            if personal.singleConnection { grant.singleConnectionChannel = name }
            if !seen.contains(name), let resolved = try? channels.resolve(name) {
                seen.insert(name)
                grant.subscriptions.append(
                    subscribePlan(resolved, request: request.subs[name] ?? SubscribeRequest(), override: nil, serverSide: true, user: user))
            }
        }
        if client.channelLimit > 0 && grant.subscriptions.count > client.channelLimit {
            return .failure(.disconnect(.channelLimit))
        }
        return .success(grant)
    }

    /// How a connection token that failed verification is answered: expired → 109 (the client fetches a new one),
    /// keys unavailable → 100 (temporary), anything else → disconnect 3500.
    static func connectTokenRefusal(_ error: any Error) -> Refusal {
        switch error as? TokenError {
        case .expired: return .error(.tokenExpired)
        case .unavailable: return .error(.internalError)
        default: return .disconnect(.invalidToken)
        }
    }

    /// A client's `refresh` with a new connection token: the same user, a new expiry and info.
    func refresh(with claims: ConnectionClaims, user: String, now: Int64) -> Result<RefreshGrant, Refusal> {
        guard claims.user == user else { return .failure(.disconnect(.invalidToken)) }
        let exp = expiry(expiresAt: claims.expiresAt, expireAt: claims.expireAt)
        if exp > 0 && exp <= now { return .failure(.disconnect(.expired)) }
        return .success(RefreshGrant(expiresAt: exp, info: claims.info.map { Payload(bytes: $0, isBinary: claims.infoIsBinary) }))
    }

    /// How a refresh token that failed verification is answered.
    static func refreshTokenRefusal(_ error: any Error) -> Refusal {
        switch error as? TokenError {
        case .expired: return .disconnect(.expired)
        case .unavailable: return .error(.internalError)
        default: return .disconnect(.invalidToken)
        }
    }

    // MARK: - Subscribe

    /// Who decides a client's subscribe: its subscription token, the subscribe proxy, or the channel's options.
    enum SubscribeRoute: Sendable, Equatable {
        case token
        case proxy(name: String)
        /// A stream from the subscribe_stream proxy, for this subscriber alone.
        case stream(name: String, bidirectional: Bool)
        case allowed
    }

    /// Centrifugo's order: a private channel needs a token; a token decides; a user-limited channel lets its users
    /// in; the subscribe proxy decides the rest of its namespace; then `allow_subscribe_for_*`, then `insecure`.
    func subscribeRoute(_ resolved: ResolvedChannel, hasToken: Bool, user: String) -> Result<SubscribeRoute, ClientError> {
        if hasToken { return .success(.token) }
        if resolved.isPrivate { return .failure(.permissionDenied) }
        if let users = resolved.allowedUsers, !user.isEmpty, users.contains(Substring(user)) { return .success(.allowed) }
        let o = resolved.options
        if o.subscribeProxyEnabled && resolved.allowedUsers == nil { return .success(.proxy(name: o.subscribeProxyName)) }
        if o.subscribeStreamProxyEnabled && resolved.allowedUsers == nil {
            return .success(.stream(name: o.subscribeStreamProxyName, bidirectional: o.subscribeStreamProxyBidirectional))
        }
        return subscribeAllowed(resolved, user: user) ? .success(.allowed) : .failure(.permissionDenied)
    }

    /// Whether the channel's options alone let this user subscribe (no token, no proxy).
    func subscribeAllowed(_ resolved: ResolvedChannel, user: String) -> Bool {
        if let users = resolved.allowedUsers {
            if !user.isEmpty && users.contains(Substring(user)) { return true }
            return client.insecure
        }
        let o = resolved.options
        if o.allowSubscribeForClient && (!user.isEmpty || o.allowSubscribeForAnonymous) { return true }
        return client.insecure
    }

    /// A subscribe the subscribe proxy allowed: its result's info, data, expiry and overrides (the namespace's
    /// options otherwise).
    func subscribe(
        with answer: SubscribeProxyResult, _ resolved: ResolvedChannel, request: SubscribeRequest, user: String, now: Int64
    ) -> Result<SubscribePlan, Refusal> {
        var plan = subscribePlan(resolved, request: request, override: answer.override, serverSide: false, user: user)
        plan.chanInfo = answer.info
        plan.data = answer.data
        let exp = expiry(expiresAt: nil, expireAt: answer.expireAt)
        if exp > 0 && exp <= now { return .failure(.error(.expired)) }
        plan.expiresAt = exp
        return .success(plan)
    }

    /// A subscribe the subscribe_stream proxy allowed: as ``subscribe(with:_:request:user:now:)``, but a stream has no
    /// history, so neither positioning nor recovery.
    func subscribeStream(
        with answer: SubscribeProxyResult, _ resolved: ResolvedChannel, request: SubscribeRequest, user: String, now: Int64
    ) -> Result<SubscribePlan, Refusal> {
        subscribe(with: answer, resolved, request: request, user: user, now: now).map { plan in
            var plan = plan
            plan.positioned = false
            plan.recoverable = false
            plan.recover = false
            return plan
        }
    }

    /// A subscribe decided by a verified subscription token: it must name this channel, user and (if any) client.
    func subscribe(
        with claims: SubscriptionClaims, _ resolved: ResolvedChannel, request: SubscribeRequest, user: String,
        clientID: String, now: Int64
    ) -> Result<SubscribePlan, Refusal> {
        guard claims.channel == resolved.channel, claims.user == user, claims.client.isEmpty || claims.client == clientID
        else {
            return .failure(.disconnect(.invalidToken))
        }
        var plan = subscribePlan(resolved, request: request, override: claims.override, serverSide: false, user: user)
        if let info = claims.info { plan.chanInfo = Payload(bytes: info, isBinary: claims.infoIsBinary) }
        if let data = claims.data { plan.data = Payload(bytes: data, isBinary: claims.dataIsBinary) }
        let exp = expiry(expiresAt: claims.expiresAt, expireAt: claims.expireAt)
        if exp > 0 && exp <= now { return .failure(.error(.expired)) }
        plan.expiresAt = exp
        return .success(plan)
    }

    /// How a subscription token that failed verification is answered: a bad or foreign token refuses the
    /// subscription only (103); keys unavailable → 100, which the client retries.
    static func subscribeTokenRefusal(_ error: any Error) -> Refusal {
        switch error as? TokenError {
        case .expired: return .error(.tokenExpired)
        case .unavailable: return .error(.internalError)
        default: return .error(.permissionDenied)
        }
    }

    /// Positioning, recovery, presence and join/leave of a subscription (Centrifugo's rules), after `override`.
    func subscribePlan(
        _ resolved: ResolvedChannel, request: SubscribeRequest, override: SubscriptionOverride?, serverSide: Bool,
        user: String
    ) -> SubscribePlan {
        var o = resolved.options
        if let ov = override {
            if let v = ov.presence { o.presence = v }
            if let v = ov.joinLeave { o.joinLeave = v }
            if let v = ov.forcePushJoinLeave { o.forcePushJoinLeave = v }
            if let v = ov.forcePositioning { o.forcePositioning = v }
            if let v = ov.forceRecovery { o.forceRecovery = v }
        }
        var plan = SubscribePlan(channel: resolved.channel, options: o, serverSide: serverSide)
        let history = o.historyEnabled
        let historyPermission = historyAllowed(o, user: user, subscribed: true)
        plan.recoverable = history && (o.forceRecovery || (request.recoverable && (o.allowRecovery || historyPermission)))
        plan.positioned =
            history && (plan.recoverable || o.forcePositioning || (request.positioned && (o.allowPositioning || historyPermission)))
        plan.recover = plan.recoverable && request.recover
        plan.sinceOffset = request.offset
        plan.sinceEpoch = request.epoch
        plan.rejectUnrecovered = request.rejectUnrecovered
        plan.presence = o.presence
        plan.joinLeave = o.joinLeave
        plan.pushJoinLeave =
            o.joinLeave && (o.forcePushJoinLeave || (request.joinLeave && presenceAllowed(o, user: user, subscribed: true)))
        plan.delta = request.delta == "fossil" && o.allowedDeltaTypes.contains("fossil")
        plan.metaTTL = metaTTL(o)
        plan.subRefreshProxy = o.subRefreshProxyEnabled ? o.subRefreshProxyName : nil
        return plan
    }

    /// A client's `sub_refresh` with a new subscription token for a channel it is subscribed to.
    func subRefresh(
        with claims: SubscriptionClaims, channel: String, user: String, clientID: String, now: Int64
    ) -> Result<RefreshGrant, Refusal> {
        guard claims.channel == channel, claims.user == user, claims.client.isEmpty || claims.client == clientID else {
            return .failure(.disconnect(.invalidToken))
        }
        let exp = expiry(expiresAt: claims.expiresAt, expireAt: claims.expireAt)
        if exp > 0 && exp <= now { return .failure(.error(.expired)) }
        return .success(RefreshGrant(expiresAt: exp, info: claims.info.map { Payload(bytes: $0, isBinary: claims.infoIsBinary) }))
    }

    /// How a subscription refresh token that failed verification is answered (Centrifugo disconnects on an
    /// invalid one here, unlike on subscribe).
    static func subRefreshTokenRefusal(_ error: any Error) -> Refusal {
        switch error as? TokenError {
        case .expired: return .error(.expired)
        case .unavailable: return .error(.internalError)
        default: return .disconnect(.invalidToken)
        }
    }

    // MARK: - Publish

    /// Who decides a client's publication: the channel's options (then the engine publishes it) or the publish proxy.
    enum PublishRoute: Sendable, Equatable {
        case engine
        case proxy(name: String)
        /// Into the client's bidirectional subscribe stream.
        case stream
    }

    /// A client publication: data required and in the namespace's format (107), then the proxy or the options decide.
    func publishRoute(_ resolved: ResolvedChannel, data: Payload, user: String, subscribed: Bool) -> Result<PublishRoute, ClientError> {
        if data.bytes.isEmpty { return .failure(.badRequest) }
        do {
            try checkData(data, resolved)
        } catch {
            return .failure(error)
        }
        let o = resolved.options
        if o.publishProxyEnabled { return .success(.proxy(name: o.publishProxyName)) }
        if o.subscribeStreamProxyEnabled { return o.subscribeStreamProxyBidirectional ? .success(.stream) : .failure(.notAvailable) }
        let anonymousOK = !user.isEmpty || o.allowPublishForAnonymous
        if (o.allowPublishForClient && anonymousOK) || (o.allowPublishForSubscriber && subscribed && anonymousOK) || client.insecure {
            return .success(.engine)
        }
        return .failure(.permissionDenied)
    }

    /// Checks data against the namespace's `publication_data_format` (107 when it does not fit).
    func checkData(_ data: Payload, _ resolved: ResolvedChannel) throws(ClientError) {
        switch resolved.options.publicationDataFormat ?? channel.publicationDataFormat {
        case "binary":
            return
        case "json":
            guard (try? JSONParser.parse(data.bytes)) != nil else { throw .badRequest }
        case "json_object":
            guard let v = try? JSONParser.parse(data.bytes), v.objectValue != nil else { throw .badRequest }
        default:
            // "": anything but empty data (JSON clients then get only what is valid JSON).
            if data.bytes.isEmpty { throw .badRequest }
        }
    }

    /// The one way a publication is built, for a client, the publish proxy's rewrite and the server API alike.
    func publication(
        _ resolved: ResolvedChannel, data: Payload, info: ClientInfo?, tags: [String: String] = [:], skipHistory: Bool = false,
        idempotencyKey: String = ""
    ) -> (Publication, PublishOptions) {
        var options = publishOptions(for: resolved)
        options.skipHistory = skipHistory
        options.idempotencyKey = idempotencyKey
        return (Publication(data: data, info: info, tags: tags), options)
    }

    /// The namespace's history settings for a publication.
    func publishOptions(for resolved: ResolvedChannel) -> PublishOptions {
        var options = PublishOptions()
        options.historySize = resolved.options.historySize
        options.historyTTL = resolved.options.historyTTL
        options.historyMetaTTL = metaTTL(resolved.options)
        return options
    }

    /// The namespace's `history_meta_ttl`, else `channel.history_meta_ttl`.
    func metaTTL(_ options: ChannelOptions) -> Duration {
        options.historyMetaTTL > .zero ? options.historyMetaTTL : channel.historyMetaTTL
    }

    // MARK: - RPC

    /// Who answers a client's RPC: the broker itself (`rpc.ping`) or an RPC proxy.
    enum RPCRoute: Sendable, Equatable {
        case ping
        case proxy(name: String)
    }

    /// `rpc.ping`'s method first; then the method's RPC namespace (`ns:method`; 104 when unknown) or
    /// `rpc.without_namespace`, whose proxy must be enabled (108). With no RPC handler at all: 108.
    func rpcRoute(method: String) -> Result<RPCRoute, ClientError> {
        if rpc.ping.enabled && method == rpc.ping.method { return .success(.ping) }
        guard hasRPCHandler else { return .failure(.notAvailable) }
        var options = rpc.withoutNamespace
        if !rpc.namespaceBoundary.isEmpty, let r = method.range(of: rpc.namespaceBoundary) {
            let name = String(method[..<r.lowerBound])
            guard let ns = rpc.namespaces.first(where: { $0.name == name }) else { return .failure(.methodNotFound) }
            options = ns.options
        }
        guard options.proxyEnabled else { return .failure(.notAvailable) }
        return .success(.proxy(name: options.proxyName))
    }

    /// Whether RPC is served at all (as in Centrifugo, where RPC needs a configured RPC proxy or `rpc.ping`).
    private var hasRPCHandler: Bool { rpc.ping.enabled || !rpc.proxy.endpoint.isEmpty || hasNamedProxies }

    // MARK: - History and presence

    /// A client's history request: history on (108), permission (103), the limit capped by
    /// `client.history_max_publication_limit`.
    func history(_ resolved: ResolvedChannel, request: HistoryRequest, user: String, subscribed: Bool) -> Result<HistoryQuery, ClientError> {
        guard resolved.options.historyEnabled else { return .failure(.notAvailable) }
        guard historyAllowed(resolved.options, user: user, subscribed: subscribed) else { return .failure(.permissionDenied) }
        let maxLimit = client.historyMaxPublicationLimit
        var limit = Int(clamping: request.limit)
        if maxLimit > 0 && (limit < 0 || limit > maxLimit) { limit = maxLimit }
        return .success(HistoryQuery(since: request.since, limit: limit, reverse: request.reverse, metaTTL: metaTTL(resolved.options)))
    }

    /// A client's presence or presence stats request: presence on (108) and permission (103).
    func presence(_ resolved: ResolvedChannel, user: String, subscribed: Bool) -> Result<Void, ClientError> {
        guard resolved.options.presence else { return .failure(.notAvailable) }
        guard presenceAllowed(resolved.options, user: user, subscribed: subscribed) else { return .failure(.permissionDenied) }
        return .success(())
    }

    func historyAllowed(_ o: ChannelOptions, user: String, subscribed: Bool) -> Bool {
        if o.allowHistoryForSubscriber && subscribed { return true }
        if o.allowHistoryForClient && (!user.isEmpty || o.allowHistoryForAnonymous) { return true }
        return client.insecure
    }

    func presenceAllowed(_ o: ChannelOptions, user: String, subscribed: Bool) -> Bool {
        if o.allowPresenceForSubscriber && subscribed { return true }
        if o.allowPresenceForClient && (!user.isEmpty || o.allowPresenceForAnonymous) { return true }
        return client.insecure
    }
}

/// A new expiry (unix ms, 0 = never) and, when given, new info.
struct RefreshGrant: Sendable, Equatable {
    var expiresAt: Int64
    var info: Payload?
}
