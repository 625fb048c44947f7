import BrokerProtocol
import Testing

@testable import Broker

/// The rule path alone: decisions from config, claims and a proxy's answer, without sockets, loops or engines.
@Suite struct ClientRulesTests {
    static let now: Int64 = 1_700_000_000_000

    static func rules(_ configure: (inout BrokerConfig) -> Void = { _ in }) -> ClientRules {
        var config = BrokerConfig()
        var open = ChannelOptions()
        open.allowSubscribeForClient = true
        open.allowPublishForSubscriber = true
        open.allowHistoryForSubscriber = true
        open.historySize = 10
        open.historyTTL = .seconds(60)
        var limited = ChannelOptions()
        limited.allowUserLimitedChannels = true
        var proxied = ChannelOptions()
        proxied.subscribeProxyEnabled = true
        proxied.subscribeProxyName = "auth"
        proxied.publishProxyEnabled = true
        proxied.allowSubscribeForClient = true
        config.channel.namespaces = [
            NamespaceConfig(name: "open", options: open), NamespaceConfig(name: "dm", options: limited),
            NamespaceConfig(name: "proxied", options: proxied),
        ]
        configure(&config)
        return ClientRules(config: config)
    }

    func resolve(_ rules: ClientRules, _ channel: String) throws -> ResolvedChannel { try rules.resolve(channel) }

    // MARK: Connect

    @Test("An anonymous connection token is refused with disconnect 3507 when disallowed; an expired one with error 110")
    func connectRefusals() {
        let rules = Self.rules { $0.client.disallowAnonymousConnectionTokens = true }
        let anonymous = ConnectionCredentials(source: .token, claims: ConnectionClaims())
        #expect(rules.connect(anonymous, request: ConnectRequest(), now: Self.now).failure == .disconnect(.permissionDenied))
        var claims = ConnectionClaims()
        claims.user = "42"
        claims.expiresAt = Self.now / 1000 - 1
        let expired = ConnectionCredentials(source: .token, claims: claims)
        #expect(rules.connect(expired, request: ConnectRequest(), now: Self.now).failure == .error(.expired))
    }

    @Test("Channels a client asks for at connect are granted only to what it could subscribe to itself, and never after a connect proxy")
    func connectClientChannels() throws {
        let rules = Self.rules()
        var request = ConnectRequest()
        request.subs = ["open:a": SubscribeRequest(), "dm:x#7": SubscribeRequest(), "proxied:b": SubscribeRequest()]
        var claims = ConnectionClaims()
        claims.user = "7"
        let byToken = try rules.connect(ConnectionCredentials(source: .token, claims: claims), request: request, now: Self.now).get()
        #expect(byToken.subscriptions.map(\.channel) == ["dm:x#7", "open:a"])
        let byProxy = try rules.connect(ConnectionCredentials(source: .proxy, claims: claims), request: request, now: Self.now).get()
        #expect(byProxy.subscriptions.isEmpty)
    }

    @Test("A connect proxy's channels, data and meta become the grant; its expire_at 0 never expires")
    func connectFromProxy() throws {
        let rules = Self.rules()
        var claims = ConnectionClaims()
        claims.user = "5"
        claims.expireAt = 0
        claims.channels = ["open:feed"]
        claims.meta = Array(#"{"plan":"pro"}"#.utf8)
        let data = Payload(bytes: Array(#"{"hello":1}"#.utf8))
        let grant = try rules.connect(
            ConnectionCredentials(source: .proxy, claims: claims, data: data), request: ConnectRequest(), now: Self.now
        ).get()
        #expect(grant.user == "5")
        #expect(grant.expiresAt == 0)
        #expect(grant.subscriptions.map(\.channel) == ["open:feed"])
        #expect(grant.subscriptions.map(\.serverSide) == [true])
        #expect(grant.data == data)
        #expect(grant.meta == claims.meta)
    }

    @Test("More server-side subscriptions than client.channel_limit: disconnect 3505")
    func connectChannelLimit() {
        let rules = Self.rules { $0.client.channelLimit = 1 }
        var claims = ConnectionClaims()
        claims.channels = ["open:a", "open:b"]
        #expect(
            rules.connect(ConnectionCredentials(source: .token, claims: claims), request: ConnectRequest(), now: Self.now).failure
                == .disconnect(.channelLimit))
    }

    // MARK: Subscribe

    @Test("Subscribe routes: private needs a token (103); a token decides; user-limited lets its users in; the proxy decides its namespace")
    func subscribeRoutes() throws {
        let rules = Self.rules()
        #expect(rules.subscribeRoute(try resolve(rules, "$open:a"), hasToken: false, user: "1").failure == .permissionDenied)
        #expect(rules.subscribeRoute(try resolve(rules, "$open:a"), hasToken: true, user: "1") == .success(.token))
        #expect(rules.subscribeRoute(try resolve(rules, "dm:x#1,2"), hasToken: false, user: "2") == .success(.allowed))
        #expect(rules.subscribeRoute(try resolve(rules, "dm:x#1,2"), hasToken: false, user: "3").failure == .permissionDenied)
        #expect(rules.subscribeRoute(try resolve(rules, "proxied:a"), hasToken: false, user: "") == .success(.proxy(name: "auth")))
        #expect(rules.subscribeRoute(try resolve(rules, "open:a"), hasToken: false, user: "1") == .success(.allowed))
        #expect(rules.subscribeRoute(try resolve(rules, "open:a"), hasToken: false, user: "").failure == .permissionDenied)
        let insecure = Self.rules { $0.client.insecure = true }
        #expect(insecure.subscribeRoute(try resolve(insecure, "dm:x#1"), hasToken: false, user: "9") == .success(.allowed))
    }

    @Test("A subscription token for another channel, user or client disconnects with 3500; an expired expire_at is error 110")
    func subscribeWithToken() throws {
        let rules = Self.rules()
        let resolved = try resolve(rules, "open:a")
        var claims = SubscriptionClaims()
        claims.channel = "open:a"
        claims.user = "1"
        claims.client = "c1"
        #expect(
            rules.subscribe(with: claims, resolved, request: SubscribeRequest(), user: "1", clientID: "c2", now: Self.now).failure
                == .disconnect(.invalidToken))
        claims.client = ""
        claims.expireAt = Self.now / 1000 - 5
        #expect(
            rules.subscribe(with: claims, resolved, request: SubscribeRequest(), user: "1", clientID: "c2", now: Self.now).failure
                == .error(.expired))
        claims.expireAt = Self.now / 1000 + 60
        let plan = try rules.subscribe(with: claims, resolved, request: SubscribeRequest(), user: "1", clientID: "c2", now: Self.now).get()
        #expect(plan.expiresAt == Self.now + 60_000)
    }

    // MARK: Publish, history, presence

    @Test("A client publication without data is error 107; the publish proxy decides its namespace; subscribers may publish in open:")
    func publishRoutes() throws {
        let rules = Self.rules()
        let data = Payload(bytes: Array("{}".utf8))
        #expect(rules.publishRoute(try resolve(rules, "open:a"), data: Payload(bytes: []), user: "1", subscribed: true).failure == .badRequest)
        #expect(rules.publishRoute(try resolve(rules, "proxied:a"), data: data, user: "", subscribed: false) == .success(.proxy(name: "default")))
        #expect(rules.publishRoute(try resolve(rules, "open:a"), data: data, user: "1", subscribed: true) == .success(.engine))
        #expect(rules.publishRoute(try resolve(rules, "open:a"), data: data, user: "1", subscribed: false).failure == .permissionDenied)
    }

    @Test("One publication builder: the namespace's history with skip_history, tags and idempotency key")
    func publication() throws {
        let rules = Self.rules()
        let (publication, options) = rules.publication(
            try resolve(rules, "open:a"), data: Payload(bytes: Array("1".utf8)), info: nil, tags: ["k": "v"], skipHistory: true,
            idempotencyKey: "x")
        #expect(publication.tags == ["k": "v"])
        #expect(options.historySize == 10 && options.skipHistory && options.idempotencyKey == "x")
        #expect(!options.keepsHistory)
    }

    @Test("History: off → 108, not subscribed → 103, limit capped by client.history_max_publication_limit")
    func history() throws {
        let rules = Self.rules { $0.client.historyMaxPublicationLimit = 5 }
        var request = HistoryRequest()
        request.limit = 100
        #expect(rules.history(try resolve(rules, "proxied:a"), request: request, user: "1", subscribed: true).failure == .notAvailable)
        #expect(rules.history(try resolve(rules, "open:a"), request: request, user: "1", subscribed: false).failure == .permissionDenied)
        #expect(try rules.history(try resolve(rules, "open:a"), request: request, user: "1", subscribed: true).get().limit == 5)
    }

    @Test("Presence off → 108")
    func presence() throws {
        let rules = Self.rules()
        #expect(rules.presence(try resolve(rules, "open:a"), user: "1", subscribed: true).failure == .notAvailable)
    }

    // MARK: Refresh

    @Test("Refresh with another user's token disconnects with 3500; sub_refresh past expiry is error 110")
    func refreshes() {
        let rules = Self.rules()
        var claims = ConnectionClaims()
        claims.user = "2"
        #expect(rules.refresh(with: claims, user: "1", now: Self.now).failure == .disconnect(.invalidToken))
        var sub = SubscriptionClaims()
        sub.channel = "open:a"
        sub.user = "1"
        sub.expiresAt = Self.now / 1000 - 1
        #expect(rules.subRefresh(with: sub, channel: "open:a", user: "1", clientID: "c", now: Self.now).failure == .error(.expired))
    }

    @Test("Token failures: connect expired → 109, keys unavailable → 100, bad → 3500; subscribe bad → 103; sub_refresh bad → 3500")
    func tokenRefusals() {
        #expect(ClientRules.connectTokenRefusal(TokenError.expired) == .error(.tokenExpired))
        #expect(ClientRules.connectTokenRefusal(TokenError.unavailable("down")) == .error(.internalError))
        #expect(ClientRules.connectTokenRefusal(TokenError.invalid("sig")) == .disconnect(.invalidToken))
        #expect(ClientRules.subscribeTokenRefusal(TokenError.invalid("sig")) == .error(.permissionDenied))
        #expect(ClientRules.subRefreshTokenRefusal(TokenError.claimsMismatch("aud")) == .disconnect(.invalidToken))
        #expect(ClientRules.refreshTokenRefusal(TokenError.expired) == .disconnect(.expired))
    }
}

extension Result {
    /// The failure, or nil on success (for `#expect(… .failure == …)`).
    var failure: Failure? {
        if case .failure(let f) = self { return f }
        return nil
    }
}

@Suite struct ClientPublishTests {
    @Test("A client publication without data answers error 107 and the connection goes on")
    func publishWithoutData() async throws {
        var h = try await SessionHarness.make {
            $0.channel.namespaces[0].options.allowPublishForClient = true
            $0.channel.namespaces[0].options.allowPublishForAnonymous = true
        }
        try await h.send(#"{"id":1,"connect":{}}"#)
        guard case .text = try await h.next() else { Issue.record("no connect reply"); return }
        try await h.send(#"{"id":2,"publish":{"channel":"news:a"}}"#)
        #expect(try await h.next() == .text(#"{"id":2,"error":{"code":107,"message":"bad request"}}"#))
        try await h.send(#"{"id":3,"publish":{"channel":"news:a","data":{"x":1}}}"#)
        let published = try await h.next()
        #expect(published == .text(#"{"id":3,"publish":{}}"#), "\(published)")
        try await h.shutdown()
    }
}
