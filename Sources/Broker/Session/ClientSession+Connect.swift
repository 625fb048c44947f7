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
        keepEmulatedHeaders(request.headers)
        let token = request.token
        if token.isEmpty {
            if let proxy = node.proxies.connect {
                connectThroughProxy(id: id, request: request, proxy: proxy)
                return
            }
            guard node.clientRules.allowsAnonymousConnect else {
                close(.badRequest)
                return
            }
            grantConnect(id: id, request: request, credentials: .anonymous)
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
                self.grantConnect(id: id, request: request, credentials: ConnectionCredentials(source: .token, claims: claims))
            case .failure(let error):
                if case TokenError.unavailable(let why) = error {
                    // The JWKS endpoint is down: not the token's fault; the client retries (error 100 is temporary).
                    self.node.logger.warning("connection token keys unavailable", metadata: ["error": "\(why)"])
                } else if (error as? TokenError) != .expired {
                    self.node.logger.info("invalid connection token", metadata: ["client": "\(self.clientID)", "error": "\(error)"])
                }
                self.refuseConnect(id, ClientRules.connectTokenRefusal(error))
            }
        }
    }

    /// A connect the rule path refused: an error reply (the client may retry) or a disconnect.
    func refuseConnect(_ id: UInt32, _ refusal: Refusal) {
        switch refusal {
        case .error(let error): failConnect(id, error)
        case .disconnect(let disconnect): close(disconnect)
        }
    }

    /// Asks the rule path what `credentials` grant and, when granted, connects.
    func grantConnect(id: UInt32, request: ConnectRequest, credentials: ConnectionCredentials) {
        switch node.clientRules.connect(credentials, request: request, now: now) {
        case .failure(let refusal): refuseConnect(id, refusal)
        case .success(let grant): establishConnection(id: id, grant: grant)
        }
    }

    /// Applies a connect grant: the connection slot, then the server-side subscriptions, then the connect result.
    private func establishConnection(id: UInt32, grant: ConnectGrant) {
        user = grant.user
        connInfo = grant.info
        connMeta = grant.meta
        guard node.admit(user: user) else {
            close(.connectionLimit)
            return
        }
        admitted = true
        expiresAt = grant.expiresAt

        state = .connected
        loopHub.registerUser(self)
        node.metrics.connectsTotal.increment()
        schedulePings()

        let plans = grant.subscriptions
        let pending = plans.map { (beginSubscription($0), $0) }
        if pending.isEmpty {
            sendConnectResult(id: id, data: grant.data, subs: [])
            return
        }
        let node = self.node
        let info = clientInfo
        let user = self.user
        let clientID = self.clientID
        let singleConnection = grant.singleConnectionChannel
        // Nothing for the engine to do (memory engine, no history, presence or join/leave): answered now.
        let immediate = plans.compactMap { ClientSession.immediateSubscribeResult(node: node, plan: $0) }
        let answeredNow = singleConnection == nil && immediate.count == plans.count
        perform(now: answeredNow ? Result<[SubscribeResult], Never>.success(immediate) : nil, orLater: {
            // Single-connection mode: the personal channel's presence says whether this user is connected
            // elsewhere; those connections go (3504), on whichever node they are, before this one joins.
            if let channel = singleConnection,
                try await node.presenceEngine.presenceStats(channel: channel).numClients >= 1
            {
                await node.disconnect(user: user, except: clientID, with: .connectionLimit)
            }
            var results: [SubscribeResult] = []
            for plan in plans {
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
                self.sendConnectResult(id: id, data: grant.data, subs: zip(pending.map(\.0.channel), results).map { ($0, $1) })
                for (sub, pushes) in held { self.deliverHeld(pushes, to: sub) }
            case .failure(let error):
                for (sub, _) in pending { self.removeSubscription(sub) }
                self.failConnect(id, ClientError.from(error))
            }
        }
    }

    private func sendConnectResult(id: UInt32, data: Payload?, subs: [(String, SubscribeResult)]) {
        var r = ConnectResult()
        r.client = clientID
        r.data = data
        r.version = Node.version
        // With a refresh proxy the broker renews connections itself: the client is not told to.
        if expiresAt > 0 && !node.clientRules.refreshesConnectionsServerSide {
            r.expires = true
            r.ttl = Self.ttlSeconds(until: expiresAt, now: now)
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
            let decision = result.mapError(ClientRules.refreshTokenRefusal).flatMap {
                self.node.clientRules.refresh(with: $0, user: self.user, now: self.now)
            }
            switch decision {
            case .success(let grant):
                self.expiresAt = grant.expiresAt
                if let info = grant.info { self.connInfo = info }
                self.reply(Reply(id: id, body: .refresh(self.refreshResult(expiresAt: grant.expiresAt))))
            case .failure(let refusal):
                self.refuse(id, refusal)
            }
        }
    }

    /// Whole seconds until `expiresAt` (Unix ms), counted in Unix seconds as Centrifugo counts them (a token expiring
    /// at second S has S − now left, not the milliseconds rounded down), and at least 1: a reply that says `expires`
    /// always carries its `ttl` (0 would be left out of the JSON, and SDKs read it unconditionally).
    static func ttlSeconds(until expiresAt: Int64, now: Int64) -> UInt32 {
        UInt32(clamping: max(1, expiresAt / 1000 - now / 1000))
    }

    /// A refresh result for an expiry in unix ms (0 = never).
    func refreshResult(expiresAt: Int64) -> RefreshResult {
        RefreshResult(expires: expiresAt > 0, ttl: expiresAt > 0 ? Self.ttlSeconds(until: expiresAt, now: now) : 0)
    }
}
