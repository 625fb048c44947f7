import BrokerProtocol

extension ClientSession {
    func publish(id: UInt32, request: PublishRequest) {
        let resolved: ResolvedChannel
        do {
            resolved = try node.rules.resolve(request.channel)
            try node.checkDataFormat(request.data, options: resolved.options)
        } catch {
            replyError(id, error)
            return
        }
        let o = resolved.options
        let anonymousOK = !user.isEmpty || o.allowPublishForAnonymous
        let subscribed = subs[request.channel]?.isSubscribed ?? false
        let allowed =
            (o.allowPublishForClient && anonymousOK) || (o.allowPublishForSubscriber && subscribed && anonymousOK)
            || config.insecure
        guard allowed else {
            replyError(id, .permissionDenied)
            return
        }
        var info = clientInfo
        info.chanInfo = subs[request.channel]?.chanInfo
        let publication = Publication(data: request.data, info: info)
        let options = node.publishOptions(for: resolved)
        let engine = node.engine
        let channel = request.channel
        node.metrics.publicationsPublished.increment()
        perform({ try await engine.publish(channel: channel, publication: publication, options: options) }) { result in
            switch result {
            case .success: self.reply(Reply(id: id, body: .publish))
            case .failure(let error): self.replyError(id, ClientSession.clientError(error))
            }
        }
    }

    func history(id: UInt32, request: HistoryRequest) {
        let resolved: ResolvedChannel
        do {
            resolved = try node.rules.resolve(request.channel)
        } catch {
            replyError(id, error)
            return
        }
        guard resolved.options.historyEnabled else {
            replyError(id, .notAvailable)
            return
        }
        guard hasHistoryPermission(resolved.options, subscribed: subs[request.channel]?.isSubscribed ?? false) else {
            replyError(id, .permissionDenied)
            return
        }
        let maxLimit = config.historyMaxPublicationLimit
        var limit = Int(clamping: request.limit)
        if maxLimit > 0 && (limit < 0 || limit > maxLimit) { limit = maxLimit }
        let query = HistoryQuery(since: request.since, limit: limit, reverse: request.reverse, metaTTL: node.metaTTL(resolved.options))
        let engine = node.engine
        let channel = request.channel
        perform({ try await engine.history(channel: channel, query: query) }) { result in
            switch result {
            case .success(let h): self.reply(Reply(id: id, body: .history(h)))
            case .failure(let error): self.replyError(id, ClientSession.clientError(error))
            }
        }
    }

    private func presenceAllowed(id: UInt32, channel: String) -> Bool {
        let resolved: ResolvedChannel
        do {
            resolved = try node.rules.resolve(channel)
        } catch {
            replyError(id, error)
            return false
        }
        guard resolved.options.presence else {
            replyError(id, .notAvailable)
            return false
        }
        guard hasPresencePermission(resolved.options, subscribed: subs[channel]?.isSubscribed ?? false) else {
            replyError(id, .permissionDenied)
            return false
        }
        return true
    }

    func presence(id: UInt32, channel: String) {
        guard presenceAllowed(id: id, channel: channel) else { return }
        let engine = node.presenceEngine
        perform({ try await engine.presence(channel: channel) }) { result in
            switch result {
            case .success(let p): self.reply(Reply(id: id, body: .presence(p)))
            case .failure(let error): self.replyError(id, ClientSession.clientError(error))
            }
        }
    }

    func presenceStats(id: UInt32, channel: String) {
        guard presenceAllowed(id: id, channel: channel) else { return }
        let engine = node.presenceEngine
        perform({ try await engine.presenceStats(channel: channel) }) { result in
            switch result {
            case .success(let s): self.reply(Reply(id: id, body: .presenceStats(s)))
            case .failure(let error): self.replyError(id, ClientSession.clientError(error))
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
            switch result {
            case .success(let claims):
                guard self.claimsMatch(claims, channel: request.channel) else {
                    self.close(.invalidToken)
                    return
                }
                let exp = self.expiry(expiresAt: claims.expiresAt, expireAt: claims.expireAt)
                if exp > 0 && exp <= self.now {
                    self.replyError(id, .expired)
                    return
                }
                sub.expiresAt = exp
                if let info = claims.info { sub.chanInfo = Payload(bytes: info, isBinary: claims.infoIsBinary) }
                let ttl = exp > 0 ? UInt32(max(0, (exp - self.now) / 1000)) : 0
                self.reply(Reply(id: id, body: .subRefresh(RefreshResult(expires: exp > 0, ttl: ttl))))
            case .failure(let error as TokenError):
                switch error {
                case .expired: self.replyError(id, .expired)
                // Centrifugo disconnects on an invalid token in sub_refresh (unlike subscribe).
                case .invalid, .claimsMismatch: self.close(.invalidToken)
                case .unavailable: self.replyError(id, .internalError)
                }
            case .failure:
                self.close(.invalidToken)
            }
        }
    }
}
