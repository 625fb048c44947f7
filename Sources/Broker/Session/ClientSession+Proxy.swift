import BrokerProtocol

/// The calls to the application's backend (proxies): the session builds the request from what it knows of its
/// connection, the call runs off the event loop, and the answer goes to the rule path like a token's claims would.
/// A proxy that fails answers this one client with the temporary internal error (100); nobody else waits on it.
extension ClientSession {
    /// What every proxy request carries about this connection.
    func proxyRequest(_ proxy: ProxyEndpoint) -> ProxyRequest {
        ProxyRequest(
            client: clientID, transport: framing.transportName, protocol: format == .protobuf ? "protobuf" : "json",
            user: user, meta: proxy.config.includeConnectionMeta ? connMeta : nil,
            headers: proxy.headers(transport: requestHeaders, emulated: emulatedHeaders))
    }

    /// Keeps the connect command's emulated headers that some proxy passes on.
    func keepEmulatedHeaders(_ headers: [String: String]) {
        let names = node.proxies.emulatedHeaderNames
        guard !names.isEmpty else { return }
        emulatedHeaders = headers.filter { names.contains($0.key.lowercased()) }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    // MARK: Connect

    /// A client without a token: the connect proxy says who it is.
    func connectThroughProxy(id: UInt32, request: ConnectRequest, proxy: ProxyEndpoint) {
        var r = proxyRequest(proxy)
        r.user = nil
        r.meta = nil
        r.data = request.data
        r.name = request.name
        r.version = request.version
        r.channels = request.subs.keys.sorted()
        let logger = node.logger
        let call = r
        perform({ await proxy.call(call, logger: logger, .connect) }) { result in
            switch result {
            case .success(.success(.result(let answer?))):
                self.grantConnect(
                    id: id, request: request,
                    credentials: ConnectionCredentials(source: .proxy, claims: answer.claims, data: answer.data))
            case .success(.success(.result(nil))):
                // No credentials: anonymous when the config allows it, as without a proxy.
                if self.node.clientRules.allowsAnonymousConnect {
                    self.grantConnect(id: id, request: request, credentials: .anonymous)
                } else {
                    self.close(.badRequest)
                }
            case .success(.success(.error(let error))): self.failConnect(id, error)
            case .success(.success(.disconnect(let disconnect))): self.close(disconnect)
            case .success(.failure), .failure: self.failConnect(id, .internalError)
            }
        }
    }

    // MARK: Subscribe, publish, RPC

    func subscribeThroughProxy(id: UInt32, resolved: ResolvedChannel, request: SubscribeRequest, proxyName: String) {
        guard let (proxy, r) = subscribeRequest(.subscribe, proxyName, resolved, request, for: id) else { return }
        ask(proxy, r, .subscribe, for: id) { answer in
            let decision = self.node.clientRules.subscribe(
                with: answer ?? SubscribeProxyResult(), resolved, request: request, user: self.user, now: self.now)
            self.subscribe(id: id, decided: decision)
        }
    }

    func publishThroughProxy(id: UInt32, resolved: ResolvedChannel, data: Payload, proxyName: String) {
        guard let proxy = node.proxies.endpoint(.publish, named: proxyName) else {
            replyError(id, .notAvailable)
            return
        }
        var r = proxyRequest(proxy)
        r.channel = resolved.channel
        r.data = data
        ask(proxy, r, .publish, for: id) { answer in
            let a = answer ?? PublishProxyResult()
            let decided = self.node.clientRules.publication(
                resolved, data: a.data ?? data, info: self.publisherInfo(resolved.channel), tags: a.tags,
                skipHistory: a.skipHistory, idempotencyKey: a.idempotencyKey)
            self.publish(id: id, channel: resolved.channel, decided)
        }
    }

    func rpc(id: UInt32, request: RPCRequest) {
        let route: ClientRules.RPCRoute
        do {
            route = try node.clientRules.rpcRoute(method: request.method).get()
        } catch {
            replyError(id, error)
            return
        }
        guard case .proxy(let name) = route else {
            reply(Reply(id: id, body: .rpc(nil)))
            return
        }
        guard let proxy = node.proxies.endpoint(.rpc, named: name) else {
            replyError(id, .notAvailable)
            return
        }
        var r = proxyRequest(proxy)
        r.method = request.method
        r.data = request.data
        ask(proxy, r, .rpc, for: id) { answer in self.reply(Reply(id: id, body: .rpc(answer?.data))) }
    }

    /// The subscribe (or subscribe stream) proxy `name` and what to ask it; nil, with error 108 sent, when there is
    /// no such proxy.
    func subscribeRequest(
        _ kind: ProxyKind, _ name: String, _ resolved: ResolvedChannel, _ request: SubscribeRequest, for id: UInt32
    ) -> (ProxyEndpoint, ProxyRequest)? {
        guard let proxy = node.proxies.endpoint(kind, named: name) else {
            replyError(id, .notAvailable)
            return nil
        }
        var r = proxyRequest(proxy)
        r.channel = resolved.channel
        r.token = request.token
        r.data = request.data
        return (proxy, r)
    }

    /// Calls a proxy for command `id` and hands its `result` to `onResult`; its `error` is that error reply, its
    /// `disconnect` that disconnect, and no answer (the backend failed) the temporary internal error.
    private func ask<R: Sendable>(
        _ proxy: ProxyEndpoint, _ request: ProxyRequest, _ kind: ProxyCall<R>, for id: UInt32, onResult: @escaping (R?) -> Void
    ) {
        let logger = node.logger
        perform({ await proxy.call(request, logger: logger, kind) }) { result in
            switch result {
            case .success(.success(.result(let answer))): onResult(answer)
            case .success(.success(.error(let error))): self.replyError(id, error)
            case .success(.success(.disconnect(let disconnect))): self.close(disconnect)
            case .success(.failure), .failure: self.replyError(id, .internalError)
            }
        }
    }

    // MARK: Server-side refresh

    /// The connection reached its expiry and the refresh proxy decides whether it goes on. Until it answers, the
    /// connection has a minute; a proxy that fails gives it that minute, as Centrifugo does.
    func refreshThroughProxy(_ proxy: ProxyEndpoint) {
        expiresAt = now + ClientSession.proxyRetryDelay
        let r = proxyRequest(proxy)
        let logger = node.logger
        let call = r
        perform(blocking: false, { await proxy.call(call, logger: logger, .refresh) }) { result in
            switch result {
            case .success(.success(.result(let answer))):
                guard let answer, !answer.expired else {
                    self.close(.expired)
                    return
                }
                self.expiresAt = answer.expireAt > 0 ? answer.expireAt * 1000 : 0
                if let info = answer.info { self.connInfo = info }
                if let meta = answer.meta { self.connMeta = meta }
            case .success(.success(.error)): self.close(.serverError)
            case .success(.success(.disconnect(let disconnect))): self.close(disconnect)
            case .success(.failure), .failure: break
            }
        }
    }

    /// A subscription reached its expiry and its sub_refresh proxy decides whether it goes on (as for connections).
    func refreshThroughProxy(_ sub: Subscription, _ proxy: ProxyEndpoint) {
        sub.expiresAt = now + ClientSession.proxyRetryDelay
        var r = proxyRequest(proxy)
        r.channel = sub.channel
        let logger = node.logger
        let call = r
        perform(blocking: false, { await proxy.call(call, logger: logger, .subRefresh) }) { result in
            guard self.subs[sub.channel] === sub else { return }
            switch result {
            case .success(.success(.result(let answer))):
                guard let answer, !answer.expired else {
                    self.expireSubscription(sub)
                    return
                }
                sub.expiresAt = answer.expireAt > 0 ? answer.expireAt * 1000 : 0
                if let info = answer.info { sub.chanInfo = info }
            case .success(.success(.error)): self.close(.serverError)
            case .success(.success(.disconnect(let disconnect))): self.close(disconnect)
            case .success(.failure), .failure: break
            }
        }
    }

    /// How long a connection or subscription lives on when its refresh proxy fails.
    static let proxyRetryDelay: Int64 = 60_000
}
