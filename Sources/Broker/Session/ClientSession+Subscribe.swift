import BrokerProtocol

extension ClientSession {
    /// Whether this connection may subscribe to `resolved` without a subscription token.
    func canSubscribeWithoutToken(_ resolved: ResolvedChannel) -> Bool {
        if let users = resolved.allowedUsers {
            return !user.isEmpty && users.contains(Substring(user))
        }
        let o = resolved.options
        if o.allowSubscribeForClient && (!user.isEmpty || o.allowSubscribeForAnonymous) { return true }
        return config.insecure
    }

    func hasHistoryPermission(_ o: ChannelOptions, subscribed: Bool) -> Bool {
        if o.allowHistoryForSubscriber && subscribed { return true }
        if o.allowHistoryForClient && (!user.isEmpty || o.allowHistoryForAnonymous) { return true }
        return config.insecure
    }

    func hasPresencePermission(_ o: ChannelOptions, subscribed: Bool) -> Bool {
        if o.allowPresenceForSubscriber && subscribed { return true }
        if o.allowPresenceForClient && (!user.isEmpty || o.allowPresenceForAnonymous) { return true }
        return config.insecure
    }

    /// Decides positioning, recovery, presence and join/leave for a subscription (Centrifugo's rules).
    func makePlan(resolved: ResolvedChannel, request: SubscribeRequest, override: SubscriptionOverride?, serverSide: Bool) -> SubscribePlan {
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
        let historyPermission = hasHistoryPermission(o, subscribed: true)
        plan.recoverable = history && (o.forceRecovery || (request.recoverable && (o.allowRecovery || historyPermission)))
        plan.positioned =
            history
            && (plan.recoverable || o.forcePositioning || (request.positioned && (o.allowPositioning || historyPermission)))
        plan.recover = plan.recoverable && request.recover
        plan.sinceOffset = request.offset
        plan.sinceEpoch = request.epoch
        plan.rejectUnrecovered = request.rejectUnrecovered
        plan.presence = o.presence
        plan.joinLeave = o.joinLeave
        plan.pushJoinLeave = o.joinLeave && (o.forcePushJoinLeave || (request.joinLeave && hasPresencePermission(o, subscribed: true)))
        plan.delta = request.delta == "fossil" && o.allowedDeltaTypes.contains("fossil")
        return plan
    }

    /// Adds the subscription in its `subscribing` state: from now on its pushes are held.
    func beginSubscription(_ plan: SubscribePlan) -> Subscription {
        let sub = Subscription(channel: plan.channel, session: self, serverSide: plan.serverSide, delta: plan.delta)
        sub.positioned = plan.positioned
        sub.recoverable = plan.recoverable
        sub.presence = plan.presence
        sub.joinLeave = plan.joinLeave
        sub.pushJoinLeave = plan.pushJoinLeave
        sub.chanInfo = plan.chanInfo
        sub.expiresAt = plan.expiresAt
        subs[plan.channel] = sub
        loopHub.add(sub)
        node.metrics.subscriptions.increment()
        return sub
    }

    /// Marks the subscription live and returns the pushes held meanwhile (to deliver after the reply).
    func completeSubscription(_ sub: Subscription, result: SubscribeResult) -> [PreparedPush] {
        sub.epoch = result.epoch
        sub.offset = result.recovered ? (result.publications.last?.offset ?? result.offset) : result.offset
        var held: [PreparedPush] = []
        if case .subscribing(let list) = sub.state { held = list }
        sub.state = .subscribed
        return held
    }

    /// Removes a subscription from this session, the hub and presence, and publishes the leave.
    func removeSubscription(_ sub: Subscription) {
        guard subs[sub.channel] === sub else { return }
        subs[sub.channel] = nil
        loopHub.remove(sub)
        node.metrics.subscriptions.decrement()
        let wasLive = sub.isSubscribed
        guard wasLive && (sub.presence || sub.joinLeave) else { return }
        let node = self.node
        let info = ClientInfo(user: user, client: clientID, connInfo: connInfo, chanInfo: sub.chanInfo)
        let channel = sub.channel
        let presence = sub.presence
        let joinLeave = sub.joinLeave
        Task {
            if presence { try? await node.presenceEngine.removePresence(channel: channel, clientID: info.client, user: info.user) }
            if joinLeave { try? await node.engine.publishLeave(channel: channel, info: info) }
        }
    }

    /// The engine side of subscribing: position or recover from history, add presence, publish the join.
    static func engineSubscribe(node: Node, plan: SubscribePlan, info: ClientInfo) async throws -> SubscribeResult {
        var r = SubscribeResult()
        let channel = plan.channel
        let metaTTL = node.metaTTL(plan.options)
        // The engine must be listening before history is read, so that nothing falls between the two.
        if node.engine.needsSubscriptions { try await node.engine.subscribe(channel: channel) }
        if plan.positioned {
            r.positioned = true
            r.recoverable = plan.recoverable
            if plan.recover {
                r.wasRecovering = true
                if plan.options.forceRecoveryMode == "cache" {
                    let h = try await node.engine.history(channel: channel, query: HistoryQuery(limit: 1, reverse: true, metaTTL: metaTTL))
                    r.epoch = h.epoch
                    r.offset = h.offset
                    if plan.sinceEpoch == h.epoch && plan.sinceOffset == h.offset {
                        r.recovered = true
                    } else if let latest = h.publications.first {
                        r.recovered = true
                        r.publications = [latest]
                        r.offset = latest.offset - 1
                    }
                } else {
                    let limit = node.config.client.recoveryMaxPublicationLimit
                    let h = try await node.engine.history(
                        channel: channel,
                        query: HistoryQuery(
                            since: StreamPosition(offset: plan.sinceOffset, epoch: ""), limit: limit > 0 ? limit : -1,
                            metaTTL: metaTTL))
                    r.epoch = h.epoch
                    var recovered = false
                    if plan.sinceEpoch.isEmpty || plan.sinceEpoch == h.epoch {
                        if let first = h.publications.first, let last = h.publications.last {
                            recovered = first.offset == plan.sinceOffset + 1 && last.offset == h.offset
                        } else {
                            recovered = h.offset == plan.sinceOffset
                        }
                    }
                    r.recovered = recovered
                    if recovered {
                        r.publications = h.publications
                        r.offset = plan.sinceOffset
                    } else {
                        r.offset = h.offset
                    }
                }
                if !r.recovered && plan.rejectUnrecovered { throw ClientError.unrecoverablePosition }
            } else {
                let h = try await node.engine.history(channel: channel, query: HistoryQuery(limit: 0, metaTTL: metaTTL))
                r.epoch = h.epoch
                r.offset = h.offset
            }
        }
        var withChanInfo = info
        withChanInfo.chanInfo = plan.chanInfo
        if plan.presence {
            try await node.presenceEngine.addPresence(
                channel: channel, info: withChanInfo, ttl: node.config.engine.redis.presenceTTL)
        }
        if plan.joinLeave {
            try await node.engine.publishJoin(channel: channel, info: withChanInfo)
        }
        finish(&r, plan: plan, node: node)
        return r
    }

    /// The result of a subscribe that asks nothing of the engine (no history, presence or join/leave, and an
    /// engine that needs no per-channel subscription: the memory engine), or nil when it does.
    static func immediateSubscribeResult(node: Node, plan: SubscribePlan) -> SubscribeResult? {
        guard !node.engine.needsSubscriptions, !plan.positioned, !plan.presence, !plan.joinLeave else { return nil }
        var r = SubscribeResult()
        finish(&r, plan: plan, node: node)
        return r
    }

    /// What every subscribe result carries whatever the engine did: the expiry and the token's data.
    private static func finish(_ r: inout SubscribeResult, plan: SubscribePlan, node: Node) {
        if plan.expiresAt > 0 {
            r.expires = true
            r.ttl = UInt32(max(0, (plan.expiresAt - node.clock.nowMillis()) / 1000))
        }
        r.data = plan.data
    }

    /// A subscription token must name this channel, this user and (when it names one) this client.
    func claimsMatch(_ claims: SubscriptionClaims, channel: String) -> Bool {
        claims.channel == channel && claims.user == user && (claims.client.isEmpty || claims.client == clientID)
    }

    // MARK: Commands

    func subscribe(id: UInt32, request: SubscribeRequest) {
        if subs[request.channel] != nil {
            replyError(id, .alreadySubscribed)
            return
        }
        if config.channelLimit > 0 && subs.count >= config.channelLimit {
            replyError(id, .limitExceeded)
            return
        }
        if !request.delta.isEmpty && request.delta != "fossil" {
            close(.badRequest)
            return
        }
        let resolved: ResolvedChannel
        do {
            resolved = try node.rules.resolve(request.channel)
        } catch {
            replyError(id, error)
            return
        }
        if !request.token.isEmpty {
            let verifier = node.subscriptionTokens
            let token = request.token
            let nowSeconds = node.clock.nowSeconds
            perform(
                now: verifier.verifySubscriptionTokenImmediately(token, now: nowSeconds),
                orLater: { try await verifier.verifySubscriptionToken(token, now: nowSeconds) }
            ) { result in
                switch result {
                case .success(let claims):
                    guard self.claimsMatch(claims, channel: request.channel) else {
                        self.close(.invalidToken)
                        return
                    }
                    if self.subs[request.channel] != nil {
                        self.replyError(id, .alreadySubscribed)
                        return
                    }
                    var plan = self.makePlan(resolved: resolved, request: request, override: claims.override, serverSide: false)
                    if let info = claims.info { plan.chanInfo = Payload(bytes: info, isBinary: claims.infoIsBinary) }
                    if let data = claims.data { plan.data = Payload(bytes: data, isBinary: claims.dataIsBinary) }
                    let exp = self.expiry(expiresAt: claims.expiresAt, expireAt: claims.expireAt)
                    if exp > 0 && exp <= self.now {
                        self.replyError(id, .expired)
                        return
                    }
                    plan.expiresAt = exp
                    self.establish(id: id, plan: plan)
                case .failure(let error as TokenError):
                    switch error {
                    case .expired: self.replyError(id, .tokenExpired)
                    // A bad or foreign (aud/iss) subscription token refuses the subscription only.
                    case .invalid, .claimsMismatch: self.replyError(id, .permissionDenied)
                    // The keys could not be fetched: a temporary error the client retries.
                    case .unavailable: self.replyError(id, .internalError)
                    }
                case .failure:
                    self.replyError(id, .permissionDenied)
                }
            }
            return
        }
        if resolved.isPrivate || !canSubscribeWithoutToken(resolved) {
            replyError(id, .permissionDenied)
            return
        }
        establish(id: id, plan: makePlan(resolved: resolved, request: request, override: nil, serverSide: false))
    }

    /// Subscribes: hub first (so nothing published from now on is missed), then the engine, then the reply,
    /// then what was published meanwhile.
    private func establish(id: UInt32, plan: SubscribePlan) {
        let sub = beginSubscription(plan)
        let node = self.node
        let info = clientInfo
        perform(
            now: ClientSession.immediateSubscribeResult(node: node, plan: plan).map(Result<SubscribeResult, Never>.success),
            orLater: { try await ClientSession.engineSubscribe(node: node, plan: plan, info: info) }
        ) { result in
            guard self.subs[plan.channel] === sub else { return }
            switch result {
            case .success(var r):
                if plan.delta {
                    r.delta = true
                    // Recovered publications come as a chain: the first in full, the others patched.
                    if r.recovered {
                        guard let shaped = DeltaPublication.recovered(r.publications, json: self.format == .json) else {
                            self.close(.inappropriateProtocol)
                            return
                        }
                        r.publications = shaped
                        sub.deltaReady = true
                    }
                }
                let held = self.completeSubscription(sub, result: r)
                self.reply(Reply(id: id, body: .subscribe(r)))
                for p in held { self.deliver(p, to: sub) }
            case .failure(let error):
                self.removeSubscription(sub)
                self.replyError(id, ClientSession.clientError(error))
            }
        }
    }

    func unsubscribe(id: UInt32, channel: String) {
        if let sub = subs[channel] {
            removeSubscription(sub)
        }
        reply(Reply(id: id, body: .unsubscribe))
    }

    /// Maps engine failures to the protocol's error codes.
    static func clientError(_ error: any Error) -> ClientError {
        if let e = error as? ClientError { return e }
        if let e = error as? EngineError {
            switch e {
            case .unrecoverablePosition: return .unrecoverablePosition
            case .badRequest: return .badRequest
            case .unavailable: return .internalError
            }
        }
        return .internalError
    }
}
