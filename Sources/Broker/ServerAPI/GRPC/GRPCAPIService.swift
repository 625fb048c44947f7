import BrokerAPIGRPC
import BrokerProtocol
import GRPCCore
import GRPCProtobuf
import SwiftProtobuf

/// Centrifugo's `CentrifugoApi` gRPC service: each method turns its request into the JSON request of the HTTP
/// API's method of the same name, runs it through ``ServerAPI/call(method:request:)`` — the one implementation —
/// and turns the JSON result into the gRPC result.
///
/// Errors are the response's `error` field, as in Centrifugo; with `grpc_api.error_mode: transport` (or
/// `x-centrifugo-error-mode: transport` metadata) they are the call's status instead, the `Error` message attached
/// as a `google.rpc.Status` detail. A wrong or missing key is always the status UNAUTHENTICATED.
struct GRPCAPIService: Centrifugal_Centrifugo_Api_CentrifugoApi.ServiceProtocol {
    typealias API = Centrifugal_Centrifugo_Api_CentrifugoApi

    let api: ServerAPI
    /// `authorization` metadata must be this (`apikey <key>`); nil: `grpc_api.key` is empty and calls are not
    /// checked, as in Centrifugo (allowed on loopback only, see ``ExposedSecrets``).
    let authorization: String?
    let transportErrors: Bool

    init(api: ServerAPI, config: GRPCAPIConfig) {
        self.api = api
        authorization = config.key.isEmpty ? nil : "apikey " + config.key
        transportErrors = config.errorMode == "transport"
    }

    func batch(
        request: ServerRequest<Centrifugal_Centrifugo_Api_BatchRequest>, context: ServerContext
    ) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_BatchResponse> {
        try authorize(request.metadata)
        api.node.metrics.apiRequests.increment()
        do {
            let result = try await api.call(method: "batch", request: GRPCAPIRequests.batch(request.message))
            return ServerResponse(message: GRPCAPIResults.batch(try JSONParser.parse(result)))
        } catch {
            // Batch answers each command's error in its reply; only a malformed batch fails as a whole, which the
            // BatchResponse has no field for.
            api.node.metrics.apiErrors.increment()
            throw RPCError(code: .invalidArgument, message: APIError.from(error).message)
        }
    }

    func publish(
        request: ServerRequest<Centrifugal_Centrifugo_Api_PublishRequest>, context: ServerContext
    ) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_PublishResponse> {
        try await answer("publish", GRPCAPIRequests.publish(request.message), request.metadata) { $0.result = GRPCAPIResults.publish($1) }
    }

    func broadcast(
        request: ServerRequest<Centrifugal_Centrifugo_Api_BroadcastRequest>, context: ServerContext
    ) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_BroadcastResponse> {
        try await answer("broadcast", GRPCAPIRequests.broadcast(request.message), request.metadata) {
            $0.result = GRPCAPIResults.broadcast($1)
        }
    }

    func subscribe(
        request: ServerRequest<Centrifugal_Centrifugo_Api_SubscribeRequest>, context: ServerContext
    ) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_SubscribeResponse> {
        try await answer("subscribe", GRPCAPIRequests.subscribe(request.message), request.metadata) { r, _ in r.result = .init() }
    }

    func unsubscribe(
        request: ServerRequest<Centrifugal_Centrifugo_Api_UnsubscribeRequest>, context: ServerContext
    ) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_UnsubscribeResponse> {
        try await answer("unsubscribe", GRPCAPIRequests.unsubscribe(request.message), request.metadata) { r, _ in r.result = .init() }
    }

    func disconnect(
        request: ServerRequest<Centrifugal_Centrifugo_Api_DisconnectRequest>, context: ServerContext
    ) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_DisconnectResponse> {
        try await answer("disconnect", GRPCAPIRequests.disconnect(request.message), request.metadata) { r, _ in r.result = .init() }
    }

    func presence(
        request: ServerRequest<Centrifugal_Centrifugo_Api_PresenceRequest>, context: ServerContext
    ) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_PresenceResponse> {
        try await answer("presence", GRPCAPIRequests.channelOnly(request.message.channel), request.metadata) {
            $0.result = GRPCAPIResults.presence($1)
        }
    }

    func presenceStats(
        request: ServerRequest<Centrifugal_Centrifugo_Api_PresenceStatsRequest>, context: ServerContext
    ) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_PresenceStatsResponse> {
        try await answer("presence_stats", GRPCAPIRequests.channelOnly(request.message.channel), request.metadata) {
            $0.result = GRPCAPIResults.presenceStats($1)
        }
    }

    func history(
        request: ServerRequest<Centrifugal_Centrifugo_Api_HistoryRequest>, context: ServerContext
    ) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_HistoryResponse> {
        try await answer("history", GRPCAPIRequests.history(request.message), request.metadata) { $0.result = GRPCAPIResults.history($1) }
    }

    func historyRemove(
        request: ServerRequest<Centrifugal_Centrifugo_Api_HistoryRemoveRequest>, context: ServerContext
    ) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_HistoryRemoveResponse> {
        try await answer("history_remove", GRPCAPIRequests.channelOnly(request.message.channel), request.metadata) { r, _ in
            r.result = .init()
        }
    }

    func info(
        request: ServerRequest<Centrifugal_Centrifugo_Api_InfoRequest>, context: ServerContext
    ) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_InfoResponse> {
        try await answer("info", .object(JSONObject()), request.metadata) { $0.result = GRPCAPIResults.info($1) }
    }

    func rpc(
        request: ServerRequest<Centrifugal_Centrifugo_Api_RPCRequest>, context: ServerContext
    ) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_RPCResponse> {
        try await answer("rpc", GRPCAPIRequests.rpc(request.message), request.metadata) { $0.result = GRPCAPIResults.rpc($1) }
    }

    func refresh(
        request: ServerRequest<Centrifugal_Centrifugo_Api_RefreshRequest>, context: ServerContext
    ) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_RefreshResponse> {
        try await answer("refresh", GRPCAPIRequests.refresh(request.message), request.metadata) { r, _ in r.result = .init() }
    }

    func channels(
        request: ServerRequest<Centrifugal_Centrifugo_Api_ChannelsRequest>, context: ServerContext
    ) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_ChannelsResponse> {
        try await answer("channels", GRPCAPIRequests.channels(request.message), request.metadata) {
            $0.result = GRPCAPIResults.channels($1)
        }
    }

    func connections(
        request: ServerRequest<Centrifugal_Centrifugo_Api_ConnectionsRequest>, context: ServerContext
    ) async throws -> ServerResponse<Centrifugal_Centrifugo_Api_ConnectionsResponse> {
        try await answer("connections", GRPCAPIRequests.connections(request.message), request.metadata) {
            $0.result = GRPCAPIResults.connections($1)
        }
    }

    // MARK: - One path for every method

    /// Runs `method` and answers its result, filled in by `fill`, or its error.
    private func answer<Response: GRPCAPIResponse>(
        _ method: String, _ request: JSONValue, _ metadata: Metadata, fill: (inout Response, JSONValue) -> Void
    ) async throws -> ServerResponse<Response> {
        try authorize(metadata)
        api.node.metrics.apiRequests.increment()
        var response = Response()
        do {
            let result = try await api.call(method: method, request: request)
            fill(&response, try JSONParser.parse(result))
        } catch {
            api.node.metrics.apiErrors.increment()
            let e = APIError.from(error)
            if transportErrors || metadata[stringValues: "x-centrifugo-error-mode"].first(where: { _ in true }) == "transport" {
                throw Self.status(e)
            }
            response.error = GRPCAPIResults.error(e)
        }
        return ServerResponse(message: response)
    }

    private func authorize(_ metadata: Metadata) throws(RPCError) {
        guard let authorization else { return }
        let given = metadata[stringValues: "authorization"].first(where: { _ in true }) ?? ""
        guard AdminConsole.constantTimeEqual(given, authorization) else {
            throw RPCError(code: .unauthenticated, message: "unauthenticated")
        }
    }

    /// An API error as a gRPC status, with Centrifugo's code mapping and the `Error` message as its detail.
    static func status(_ e: APIError) -> GoogleRPCStatus {
        let code: RPCError.Code
        switch e.code {
        case 102, 104: code = .notFound
        case 107, 108: code = .invalidArgument
        case 112: code = .outOfRange
        case 113: code = .alreadyExists
        default: code = .internalError
        }
        let detail = try? Google_Protobuf_Any(message: GRPCAPIResults.error(e))
        return GoogleRPCStatus(code: code, message: e.message, details: detail.map { [.any($0)] } ?? [])
    }
}

/// A `…Response` of `api.proto`: an `error`, or a result.
protocol GRPCAPIResponse: SwiftProtobuf.Message {
    var error: Centrifugal_Centrifugo_Api_Error { get set }
}

extension Centrifugal_Centrifugo_Api_PublishResponse: GRPCAPIResponse {}
extension Centrifugal_Centrifugo_Api_BroadcastResponse: GRPCAPIResponse {}
extension Centrifugal_Centrifugo_Api_SubscribeResponse: GRPCAPIResponse {}
extension Centrifugal_Centrifugo_Api_UnsubscribeResponse: GRPCAPIResponse {}
extension Centrifugal_Centrifugo_Api_DisconnectResponse: GRPCAPIResponse {}
extension Centrifugal_Centrifugo_Api_PresenceResponse: GRPCAPIResponse {}
extension Centrifugal_Centrifugo_Api_PresenceStatsResponse: GRPCAPIResponse {}
extension Centrifugal_Centrifugo_Api_HistoryResponse: GRPCAPIResponse {}
extension Centrifugal_Centrifugo_Api_HistoryRemoveResponse: GRPCAPIResponse {}
extension Centrifugal_Centrifugo_Api_InfoResponse: GRPCAPIResponse {}
extension Centrifugal_Centrifugo_Api_RPCResponse: GRPCAPIResponse {}
extension Centrifugal_Centrifugo_Api_RefreshResponse: GRPCAPIResponse {}
extension Centrifugal_Centrifugo_Api_ChannelsResponse: GRPCAPIResponse {}
extension Centrifugal_Centrifugo_Api_ConnectionsResponse: GRPCAPIResponse {}
