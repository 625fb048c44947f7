import BrokerProtocol

extension ClientSession {
    /// Runs a connect that arrived outside the command stream: a unidirectional transport's connect
    /// request (query parameter, POST body or first message). Same rules as the `connect` command; the
    /// result goes out as a `connect` push, and a failure closes the connection with a disconnect.
    func connectUnidirectional(_ request: ConnectRequest) {
        guard framing.isUnidirectional, state == .connecting else { return }
        connect(id: 0, request: request)
        if state != .closed { flushNow() }
    }

    func connect(id: UInt32, request: ConnectRequest) {
        if node.isDraining {
            close(.shutdown)
            return
        }
        clientName = request.name
        let token = request.token
        if token.isEmpty {
            guard config.allowAnonymousConnectWithoutToken || config.insecure else {
                close(.badRequest)
                return
            }
            continueConnect(id: id, request: request, claims: ConnectionClaims(), hadToken: false)
            return
        }
        let verifier = node.connectionTokens
        let nowSeconds = node.clock.nowSeconds
        perform(
            now: verifier.verifyConnectionTokenImmediately(token, now: nowSeconds),
            orLater: { try await verifier.verifyConnectionToken(token, now: nowSeconds) }
        ) { result in
            switch result {
            case .success(let claims):
                self.continueConnect(id: id, request: request, claims: claims, hadToken: true)
            case .failure(let error as TokenError) where error == .expired:
                self.failConnect(id, .tokenExpired)
            case .failure(TokenError.unavailable(let why)):
                // The JWKS endpoint is down: not the token's fault; the client retries (error 100 is temporary).
                self.node.logger.warning("connection token keys unavailable", metadata: ["error": "\(why)"])
                self.failConnect(id, .internalError)
            case .failure(let error):
                self.node.logger.info("invalid connection token", metadata: ["client": "\(self.clientID)", "error": "\(error)"])
                self.close(.invalidToken)
            }
        }
    }

    /// Connection expiry in unix ms from a token (0 = never): `expire_at` wins over `exp`.
    func expiry(expiresAt: Int64?, expireAt: Int64?) -> Int64 {
        if config.insecure { return 0 }
        if let ea = expireAt { return ea > 0 ? ea * 1000 : 0 }
        if let e = expiresAt { return e * 1000 }
        return 0
    }

    private func continueConnect(id: UInt32, request: ConnectRequest, claims: ConnectionClaims, hadToken: Bool) {
        if hadToken && claims.user.isEmpty && config.disallowAnonymousConnectionTokens {
            close(.permissionDenied)
            return
        }
        let t = now
        var exp = expiry(expiresAt: claims.expiresAt, expireAt: claims.expireAt)
        if exp > 0 && exp <= t {
            failConnect(id, .expired)
            return
        }
        exp = exp > 0 ? min(exp, t + 365 * 24 * 3600 * 1000) : 0
        user = claims.user
        if let info = claims.info { connInfo = Payload(bytes: info, isBinary: claims.infoIsBinary) }
        guard node.admit(user: user) else {
            close(.connectionLimit)
            return
        }
        admitted = true
        expiresAt = exp

        // Server-side subscriptions: the token's `subs` (or `channels`), channels from the
        // connect request that the client may subscribe to without a token, the personal channel.
        var plans: [SubscribePlan] = []
        var seen = Set<String>()
        let tokenSubs: [TokenSubscription] = claims.subs.isEmpty ? claims.channels.map { TokenSubscription(channel: $0) } : claims.subs
        for ts in tokenSubs where !seen.contains(ts.channel) {
            let resolved: ResolvedChannel
            do {
                resolved = try node.rules.resolve(ts.channel)
            } catch {
                failConnect(id, error)
                return
            }
            seen.insert(ts.channel)
            let position = request.subs[ts.channel] ?? SubscribeRequest()
            var plan = makePlan(resolved: resolved, request: position, override: ts.override, serverSide: true)
            if let info = ts.info { plan.chanInfo = Payload(bytes: info, isBinary: ts.infoIsBinary) }
            if let data = ts.data { plan.data = Payload(bytes: data, isBinary: ts.dataIsBinary) }
            plans.append(plan)
        }
        for (channel, position) in request.subs.sorted(by: { $0.key < $1.key }) where !seen.contains(channel) {
            guard let resolved = try? node.rules.resolve(channel) else {
                close(.badRequest)
                return
            }
            if resolved.isPrivate || !canSubscribeWithoutToken(resolved) { continue }
            seen.insert(channel)
            plans.append(makePlan(resolved: resolved, request: position, override: nil, serverSide: true))
        }
        let personal = config.subscribeToUserPersonalChannel
        var singleConnectionChannel: String?
        if personal.enabled && !user.isEmpty {
            let channel = node.rules.personalChannel(user: user, namespace: personal.personalChannelNamespace)
            if personal.singleConnection { singleConnectionChannel = channel }
            if !seen.contains(channel), let resolved = try? node.rules.resolve(channel) {
                seen.insert(channel)
                plans.append(
                    makePlan(resolved: resolved, request: request.subs[channel] ?? SubscribeRequest(), override: nil, serverSide: true))
            }
        }
        if config.channelLimit > 0 && plans.count > config.channelLimit {
            close(.channelLimit)
            return
        }

        state = .connected
        loopHub.registerUser(self)
        node.metrics.connectsTotal.increment()
        schedulePings()

        let pending = plans.map { (beginSubscription($0), $0) }
        if pending.isEmpty {
            sendConnectResult(id: id, subs: [])
            return
        }
        let node = self.node
        let info = clientInfo
        let planList = pending.map(\.1)
        let user = self.user
        let clientID = self.clientID
        let singleConnection = singleConnectionChannel
        // Nothing for the engine to do (memory engine, no history, presence or join/leave): answered now.
        let immediate = planList.compactMap { ClientSession.immediateSubscribeResult(node: node, plan: $0) }
        let answeredNow = singleConnection == nil && immediate.count == planList.count
        perform(now: answeredNow ? Result<[SubscribeResult], Never>.success(immediate) : nil, orLater: {
            // Single-connection mode: the personal channel's presence says whether this user is connected
            // elsewhere; those connections go (3504), on whichever node they are, before this one joins.
            if let channel = singleConnection,
                try await node.presenceEngine.presenceStats(channel: channel).numClients >= 1
            {
                await node.disconnect(user: user, except: clientID, with: .connectionLimit)
            }
            var results: [SubscribeResult] = []
            for plan in planList {
                results.append(try await ClientSession.engineSubscribe(node: node, plan: plan, info: info))
            }
            return results
        }) { result in
            switch result {
            case .success(let results):
                var held: [(Subscription, [PreparedPush])] = []
                for (i, (sub, _)) in pending.enumerated() {
                    held.append((sub, self.completeSubscription(sub, result: results[i])))
                }
                self.sendConnectResult(id: id, subs: zip(pending.map(\.0.channel), results).map { ($0, $1) })
                for (sub, pushes) in held { for p in pushes { self.deliver(p, to: sub) } }
            case .failure(let error):
                for (sub, _) in pending { self.removeSubscription(sub) }
                self.failConnect(id, (error as? ClientError) ?? .internalError)
            }
        }
    }

    private func sendConnectResult(id: UInt32, subs: [(String, SubscribeResult)]) {
        var r = ConnectResult()
        r.client = clientID
        r.version = Node.version
        if expiresAt > 0 {
            r.expires = true
            r.ttl = UInt32(max(0, (expiresAt - now) / 1000))
        }
        r.subs = subs.map { (channel: $0.0, result: $0.1) }
        if !nativePing {
            r.ping = UInt32(config.pingInterval.wholeSeconds)
            // A unidirectional client cannot answer pings.
            r.pong = !framing.isUnidirectional && config.pongTimeout > .zero && config.pingInterval > .zero
        }
        r.session = sessionID
        if config.connectIncludeServerTime { r.time = now }
        if framing.isUnidirectional {
            push(Push(channel: "", body: .connect(r)))
        } else {
            reply(Reply(id: id, body: .connect(r)))
        }
        node.logger.debug("client connected", metadata: ["client": "\(clientID)", "user": "\(user)", "name": "\(clientName)"])
    }

    /// A connect error: an error reply on the bidirectional protocol (the client may retry); on a
    /// unidirectional transport, which has no replies, a disconnect mapped from the error as Centrifugo
    /// does (expired → 3005, permission denied → 3507, too many requests → 3013, anything else → 3004).
    func failConnect(_ id: UInt32, _ error: ClientError) {
        if framing.isUnidirectional {
            if let rejected = connectRejected {
                connectRejected = nil
                sendsDisconnectPush = false
                rejected(error.code, error.message)
            }
            close(ClientSession.unidirectionalDisconnect(for: error, configured: config.connectCodeToUnidirectionalDisconnect))
            return
        }
        state = .connectFailed
        replyError(id, error)
    }

    /// `client.connect_code_to_unidirectional_disconnect` (when enabled) first, then Centrifugo's built-in mapping.
    static func unidirectionalDisconnect(
        for error: ClientError, configured: ConnectCodeToUnidirectionalDisconnect = ConnectCodeToUnidirectionalDisconnect()
    ) -> Disconnect {
        if configured.enabled, let t = configured.transforms.first(where: { $0.code == error.code }) {
            return Disconnect(code: UInt16(clamping: t.toCode), reason: t.toReason)
        }
        switch error.code {
        case ClientError.expired.code, ClientError.tokenExpired.code: return .expired
        case ClientError.tooManyRequests.code: return .tooManyRequests
        case ClientError.permissionDenied.code: return .permissionDenied
        default: return .serverError
        }
    }

    // MARK: Refresh

    func refresh(id: UInt32, request: RefreshRequest) {
        if request.token.isEmpty {
            close(.badRequest)
            return
        }
        let verifier = node.connectionTokens
        let nowSeconds = node.clock.nowSeconds
        let token = request.token
        perform(
            now: verifier.verifyConnectionTokenImmediately(token, now: nowSeconds),
            orLater: { try await verifier.verifyConnectionToken(token, now: nowSeconds) }
        ) { result in
            switch result {
            case .success(let claims):
                guard claims.user == self.user else {
                    self.close(.invalidToken)
                    return
                }
                let exp = self.expiry(expiresAt: claims.expiresAt, expireAt: claims.expireAt)
                if exp > 0 && exp <= self.now {
                    self.close(.expired)
                    return
                }
                self.expiresAt = exp
                if let info = claims.info { self.connInfo = Payload(bytes: info, isBinary: claims.infoIsBinary) }
                let ttl = exp > 0 ? UInt32(max(0, (exp - self.now) / 1000)) : 0
                self.reply(Reply(id: id, body: .refresh(RefreshResult(expires: exp > 0, ttl: ttl))))
            case .failure(let error as TokenError) where error == .expired:
                self.close(.expired)
            case .failure(TokenError.unavailable):
                self.replyError(id, .internalError)
            case .failure:
                self.close(.invalidToken)
            }
        }
    }
}
