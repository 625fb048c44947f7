import BrokerProtocol

extension ClientSession {
    /// Whether this connection is subscribed (the subscribe completed) to `channel`.
    func isSubscribed(_ channel: String) -> Bool { subs[channel]?.isSubscribed ?? false }

    func publish(id: UInt32, request: PublishRequest) {
        let rules = node.clientRules
        let resolved: ResolvedChannel
        let route: ClientRules.PublishRoute
        do {
            resolved = try rules.resolve(request.channel)
            route = try rules.publishRoute(resolved, data: request.data, user: user, subscribed: isSubscribed(request.channel)).get()
        } catch {
            replyError(id, error)
            return
        }
        switch route {
        case .engine:
            publish(id: id, channel: request.channel, rules.publication(resolved, data: request.data, info: publisherInfo(request.channel)))
        case .proxy(let name):
            publishThroughProxy(id: id, resolved: resolved, data: request.data, proxyName: name)
        case .stream:
            publishIntoStream(id: id, channel: request.channel, data: request.data)
        }
    }

    /// The publisher of a client publication: this connection, with its channel info in `channel`.
    func publisherInfo(_ channel: String) -> ClientInfo {
        var info = clientInfo
        info.chanInfo = subs[channel]?.chanInfo
        return info
    }

    /// Hands a decided publication to the engine and answers the client.
    func publish(id: UInt32, channel: String, _ decided: (Publication, PublishOptions)) {
        let (publication, options) = decided
        let engine = node.engine
        node.metrics.publicationsPublished.increment()
        perform({ try await engine.publish(channel: channel, publication: publication, options: options) }) { result in
            switch result {
            case .success: self.reply(Reply(id: id, body: .publish))
            case .failure(let error): self.replyError(id, ClientError.from(error))
            }
        }
    }

    func history(id: UInt32, request: HistoryRequest) {
        let query: HistoryQuery
        do {
            let resolved = try node.clientRules.resolve(request.channel)
            query = try node.clientRules.history(
                resolved, request: request, user: user, subscribed: isSubscribed(request.channel)
            ).get()
        } catch {
            replyError(id, error)
            return
        }
        let engine = node.engine
        let channel = request.channel
        perform({ try await engine.history(channel: channel, query: query) }) { result in
            switch result {
            case .success(let h): self.reply(Reply(id: id, body: .history(h)))
            case .failure(let error): self.replyError(id, ClientError.from(error))
            }
        }
    }

    private func presenceAllowed(id: UInt32, channel: String) -> Bool {
        do {
            let resolved = try node.clientRules.resolve(channel)
            try node.clientRules.presence(resolved, user: user, subscribed: isSubscribed(channel)).get()
            return true
        } catch {
            replyError(id, error)
            return false
        }
    }

    func presence(id: UInt32, channel: String) {
        guard presenceAllowed(id: id, channel: channel) else { return }
        let engine = node.presenceEngine
        perform({ try await engine.presence(channel: channel) }) { result in
            switch result {
            case .success(let p): self.reply(Reply(id: id, body: .presence(p)))
            case .failure(let error): self.replyError(id, ClientError.from(error))
            }
        }
    }

    func presenceStats(id: UInt32, channel: String) {
        guard presenceAllowed(id: id, channel: channel) else { return }
        let engine = node.presenceEngine
        perform({ try await engine.presenceStats(channel: channel) }) { result in
            switch result {
            case .success(let s): self.reply(Reply(id: id, body: .presenceStats(s)))
            case .failure(let error): self.replyError(id, ClientError.from(error))
            }
        }
    }

    func subRefresh(id: UInt32, request: SubRefreshRequest) {
        guard let sub = subs[request.channel], sub.isSubscribed else {
            replyError(id, .permissionDenied)
            return
        }
        if request.token.isEmpty {
            replyError(id, .badRequest)
            return
        }
        let verifier = node.subscriptionTokens
        let token = request.token
        let nowSeconds = node.clock.nowSeconds
        perform(
            now: verifier.verifySubscriptionTokenImmediately(token, now: nowSeconds),
            orLater: { try await verifier.verifySubscriptionToken(token, now: nowSeconds) }
        ) { result in
            let decision = result.mapError(ClientRules.subRefreshTokenRefusal).flatMap {
                self.node.clientRules.subRefresh(
                    with: $0, channel: request.channel, user: self.user, clientID: self.clientID, now: self.now)
            }
            switch decision {
            case .success(let grant):
                sub.expiresAt = grant.expiresAt
                if let info = grant.info { sub.chanInfo = info }
                self.reply(Reply(id: id, body: .subRefresh(self.refreshResult(expiresAt: grant.expiresAt))))
            case .failure(let refusal):
                self.refuse(id, refusal)
            }
        }
    }
}
