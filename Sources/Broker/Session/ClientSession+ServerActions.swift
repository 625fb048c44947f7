import BrokerProtocol

/// What the server API does to a connection. Each runs on the session's loop.
extension ClientSession {
    /// Server-side subscribe (`subscribe` API): the client gets a `subscribe` push.
    func serverSubscribe(
        channel: String, info: Payload?, data: Payload?, expireAt: Int64?, recoverSince: StreamPosition?,
        override: SubscriptionOverride?
    ) {
        guard state == .connected, subs[channel] == nil, let resolved = try? node.rules.resolve(channel) else { return }
        var request = SubscribeRequest()
        if let since = recoverSince {
            request.recover = true
            request.offset = since.offset
            request.epoch = since.epoch
        }
        var plan = node.clientRules.subscribePlan(resolved, request: request, override: override, serverSide: true, user: user)
        plan.chanInfo = info
        plan.data = data
        if let e = expireAt, e > 0 { plan.expiresAt = e * 1000 }
        let sub = beginSubscription(plan)
        let node = self.node
        let clientInfo = self.clientInfo
        let finalPlan = plan
        perform(blocking: false, { try await ClientSession.engineSubscribe(node: node, plan: finalPlan, info: clientInfo) }) { result in
            guard self.subs[channel] === sub else { return }
            switch result {
            case .success(let r):
                let held = self.completeSubscription(sub, result: r)
                self.push(Push(channel: channel, body: .subscribe(r)))
                self.deliverHeld(held, to: sub)
            case .failure:
                self.removeSubscription(sub)
            }
        }
    }

    /// Server-side unsubscribe (`unsubscribe` API): the client gets `unsubscribe` 2000.
    func serverUnsubscribe(channel: String) {
        guard let sub = subs[channel] else { return }
        removeSubscription(sub)
        push(Push(channel: channel, body: .unsubscribe(.server)))
        flushNow()
    }

    /// `refresh` API: a new expiry (or expired now) and info.
    func serverRefresh(expired: Bool, expireAt: Int64?, info: Payload?) {
        guard state == .connected else { return }
        if expired {
            close(.expired)
            return
        }
        if let e = expireAt { expiresAt = e > 0 ? e * 1000 : 0 }
        if let info { connInfo = info }
        // A unidirectional client cannot send `refresh`: it learns its new expiry from a `refresh` push.
        if framing.isUnidirectional {
            let ttl = expiresAt > 0 ? Self.ttlSeconds(until: expiresAt, now: now) : 0
            push(Push(channel: "", body: .refresh(RefreshResult(expires: expiresAt > 0, ttl: ttl))))
            flushNow()
        }
    }
}
