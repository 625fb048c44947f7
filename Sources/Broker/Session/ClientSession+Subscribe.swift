import BrokerProtocol

extension ClientSession {
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
        sub.refreshProxy = plan.subRefreshProxy
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

    /// After the subscribe's reply: what was published meanwhile, then the loss the engine reported meanwhile, if any.
    func deliverHeld(_ pushes: [PreparedPush], to sub: Subscription) {
        for p in pushes { deliver(p, to: sub) }
        if sub.positionLostWhileSubscribing && subs[sub.channel] === sub {
            sub.positionLostWhileSubscribing = false
            lostPosition(sub)
        }
    }

    /// Removes a subscription from this session, the hub and presence, and publishes the leave.
    func removeSubscription(_ sub: Subscription) {
        guard subs[sub.channel] === sub else { return }
        subs[sub.channel] = nil
        sub.stream?.cancel()
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
        let metaTTL = plan.metaTTL
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
        // With a sub_refresh proxy the broker renews the subscription itself: the client is not told to.
        if plan.expiresAt > 0 && plan.subRefreshProxy == nil {
            r.expires = true
            r.ttl = ClientSession.ttlSeconds(until: plan.expiresAt, now: node.clock.nowMillis())
        }
        r.data = plan.data
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
        let rules = node.clientRules
        let resolved: ResolvedChannel
        let route: ClientRules.SubscribeRoute
        do {
            resolved = try rules.resolve(request.channel)
            route = try rules.subscribeRoute(resolved, hasToken: !request.token.isEmpty, user: user).get()
        } catch {
            replyError(id, error)
            return
        }
        switch route {
        case .allowed:
            establish(id: id, plan: rules.subscribePlan(resolved, request: request, override: nil, serverSide: false, user: user))
        case .token:
            let verifier = node.subscriptionTokens
            let token = request.token
            let nowSeconds = node.clock.nowSeconds
            perform(
                now: verifier.verifySubscriptionTokenImmediately(token, now: nowSeconds),
                orLater: { try await verifier.verifySubscriptionToken(token, now: nowSeconds) }
            ) { result in
                let decision = result.mapError(ClientRules.subscribeTokenRefusal).flatMap {
                    rules.subscribe(with: $0, resolved, request: request, user: self.user, clientID: self.clientID, now: self.now)
                }
                self.subscribe(id: id, decided: decision)
            }
        case .proxy(let name):
            subscribeThroughProxy(id: id, resolved: resolved, request: request, proxyName: name)
        case .stream(let name, let bidirectional):
            subscribeThroughStream(id: id, resolved: resolved, request: request, proxyName: name, bidirectional: bidirectional)
        }
    }

    /// Carries out a subscribe decision that took a token check or a proxy call.
    func subscribe(id: UInt32, decided decision: Result<SubscribePlan, Refusal>) {
        switch decision {
        case .success(let plan):
            // Another subscribe to the channel may have completed meanwhile.
            if subs[plan.channel] != nil {
                replyError(id, .alreadySubscribed)
                return
            }
            establish(id: id, plan: plan)
        case .failure(let refusal):
            refuse(id, refusal)
        }
    }

    /// Subscribes: hub first (so nothing published from now on is missed), then the engine, then the reply,
    /// then what was published meanwhile.
    func establish(id: UInt32, plan: SubscribePlan, stream: (any SubscriptionStream)? = nil) {
        let sub = beginSubscription(plan)
        sub.stream = stream
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
                self.deliverHeld(held, to: sub)
                if stream != nil, self.subs[plan.channel] === sub { self.streamReady(sub) }
            case .failure(let error):
                self.removeSubscription(sub)
                self.replyError(id, ClientError.from(error))
            }
        }
    }

    func unsubscribe(id: UInt32, channel: String) {
        if let sub = subs[channel] {
            removeSubscription(sub)
        }
        reply(Reply(id: id, body: .unsubscribe))
    }
}
