import BrokerProtocol

/// How one kind of proxy call reads its answer, from each transport: the HTTP JSON `result`, or the gRPC call
/// and its response message.
struct ProxyCall<Result: Sendable>: Sendable {
    let json: @Sendable (JSONObject) throws(ProxyJSON.BadData) -> Result
    let grpc: @Sendable (GRPCProxyBackend, ProxyRequest) async throws(ProxyCallError) -> ProxyAnswer<Result>
}

extension ProxyCall where Result == ConnectProxyResult {
    static var connect: Self { Self(json: ProxyJSON.connect, grpc: { b, r throws(ProxyCallError) in try await b.connect(r) }) }
}

extension ProxyCall where Result == RefreshProxyResult {
    static var refresh: Self { Self(json: ProxyJSON.refresh, grpc: { b, r throws(ProxyCallError) in try await b.refresh(r) }) }
    static var subRefresh: Self { Self(json: ProxyJSON.refresh, grpc: { b, r throws(ProxyCallError) in try await b.subRefresh(r) }) }
}

extension ProxyCall where Result == SubscribeProxyResult {
    static var subscribe: Self { Self(json: ProxyJSON.subscribe, grpc: { b, r throws(ProxyCallError) in try await b.subscribe(r) }) }
}

extension ProxyCall where Result == PublishProxyResult {
    static var publish: Self { Self(json: ProxyJSON.publish, grpc: { b, r throws(ProxyCallError) in try await b.publish(r) }) }
}

extension ProxyCall where Result == RPCProxyResult {
    static var rpc: Self { Self(json: ProxyJSON.rpc, grpc: { b, r throws(ProxyCallError) in try await b.rpc(r) }) }
}
