import Foundation
import GRPCCore
import GRPCProtobuf
import Synchronization

/// An open subscribe stream (Centrifugo's `SubscribeUnidirectional` / `SubscribeBidirectional`): the backend's
/// first answer, then publications for one client's subscription until either side ends it.
///
/// Publications that arrive before ``ready()`` are held, so that none reaches the client before its subscribe
/// reply; after it they go to `onPublication` as they come.
public final class ProxyGRPCSubscribeStream: Sendable {
    public typealias Publication = Centrifugal_Centrifugo_Proxy_Publication

    /// The backend's answer to the subscription (its first message).
    public let response: Centrifugal_Centrifugo_Proxy_SubscribeResponse
    private let shared: Shared
    private let task: Task<Void, Never>
    private let outbound: AsyncStream<Centrifugal_Centrifugo_Proxy_StreamSubscribeRequest>.Continuation?

    /// What the reading task and the owner share: held publications until ready, and the handlers after.
    fileprivate final class Shared: Sendable {
        struct State {
            var ready = false
            var cancelled = false
            var held: [Publication] = []
            var ended = false
            var endError: (any Error)?
            var onPublication: (@Sendable (Publication) -> Void)?
            var onEnd: (@Sendable ((any Error)?) -> Void)?
        }

        let state = Mutex(State())

        func deliver(_ p: Publication) {
            let handler = state.withLock { s -> (@Sendable (Publication) -> Void)? in
                if s.cancelled { return nil }
                if s.ready { return s.onPublication }
                s.held.append(p)
                return nil
            }
            handler?(p)
        }

        func end(_ error: (any Error)?) {
            let handler = state.withLock { s -> (@Sendable ((any Error)?) -> Void)? in
                if s.cancelled { return nil }
                if s.ready { return s.onEnd }
                s.ended = true
                s.endError = error
                return nil
            }
            handler?(error)
        }
    }

    fileprivate init(
        response: Centrifugal_Centrifugo_Proxy_SubscribeResponse, shared: Shared, task: Task<Void, Never>,
        outbound: AsyncStream<Centrifugal_Centrifugo_Proxy_StreamSubscribeRequest>.Continuation?
    ) {
        self.response = response
        self.shared = shared
        self.task = task
        self.outbound = outbound
    }

    /// The subscription is in place: held publications go out now, later ones as they come, and the end of the
    /// stream is reported (nil: the backend closed it).
    public func ready(
        onPublication: @escaping @Sendable (Publication) -> Void, onEnd: @escaping @Sendable ((any Error)?) -> Void
    ) {
        shared.state.withLock { s in
            s.onPublication = onPublication
            s.onEnd = onEnd
        }
        // Held publications first, in order: ones that arrive meanwhile are held too and taken on the next pass,
        // so nothing overtakes them.
        while true {
            let (held, done, ended, endError) = shared.state.withLock { s -> ([Publication], Bool, Bool, (any Error)?) in
                if s.held.isEmpty {
                    s.ready = true
                    return ([], true, s.ended, s.endError)
                }
                defer { s.held = [] }
                return (s.held, false, false, nil)
            }
            for p in held { onPublication(p) }
            if done {
                if ended { onEnd(endError) }
                return
            }
        }
    }

    /// Bidirectional streams: a client's publication, into the stream. False when the stream is unidirectional
    /// or over.
    @discardableResult
    public func send(data: Data) -> Bool {
        guard let outbound else { return false }
        var message = Centrifugal_Centrifugo_Proxy_StreamSubscribeRequest()
        message.publication.data = data
        if case .enqueued = outbound.yield(message) { return true }
        return false
    }

    /// Ends the stream from this side (the client unsubscribed or went away); the handlers given to ``ready()``
    /// are dropped, so nothing they hold outlives the stream.
    public func cancel() {
        shared.state.withLock { s in
            s.cancelled = true
            s.onPublication = nil
            s.onEnd = nil
            s.held = []
        }
        outbound?.finish()
        task.cancel()
    }
}

extension ProxyGRPCClient {
    /// Opens a subscribe stream and waits, at most `firstMessageTimeout`, for the backend's first message (its
    /// answer to the subscription). The stream itself has no deadline: it lives until ``ProxyGRPCSubscribeStream/cancel()``
    /// or until the backend ends it.
    public func subscribeStream(
        _ request: Centrifugal_Centrifugo_Proxy_SubscribeRequest, bidirectional: Bool, metadata: [(String, String)] = [],
        firstMessageTimeout: Duration
    ) async throws(ProxyGRPCError) -> ProxyGRPCSubscribeStream {
        let method = bidirectional ? "SubscribeBidirectional" : "SubscribeUnidirectional"
        start()
        var md = Metadata()
        for (key, value) in metadata { md.addString(value, forKey: key.lowercased()) }
        var options = CallOptions.defaults
        options.waitForReady = false
        options.compression = compression ? .gzip : CompressionAlgorithm.none
        let shared = ProxyGRPCSubscribeStream.Shared()
        let (firstMessages, first) = AsyncStream.makeStream(of: Result<Centrifugal_Centrifugo_Proxy_SubscribeResponse, any Error>.self)
        let outbound = bidirectional ? AsyncStream.makeStream(of: Centrifugal_Centrifugo_Proxy_StreamSubscribeRequest.self) : nil
        let stub = self.stub
        let task = Task {
            let handle: @Sendable (StreamingClientResponse<Centrifugal_Centrifugo_Proxy_StreamSubscribeResponse>) async throws -> Void = {
                response in
                var answered = false
                for try await message in response.messages {
                    if !answered {
                        answered = true
                        first.yield(.success(message.subscribeResponse))
                        first.finish()
                    } else if message.hasPublication {
                        shared.deliver(message.publication)
                    }
                }
            }
            do {
                if let outbound {
                    var message = Centrifugal_Centrifugo_Proxy_StreamSubscribeRequest()
                    message.subscribeRequest = request
                    let opening = message
                    let streaming = StreamingClientRequest<Centrifugal_Centrifugo_Proxy_StreamSubscribeRequest>(metadata: md) { writer in
                        try await writer.write(opening)
                        for await next in outbound.stream { try await writer.write(next) }
                    }
                    try await stub.subscribeBidirectional(request: streaming, options: options, onResponse: handle)
                } else {
                    try await stub.subscribeUnidirectional(request: ClientRequest(message: request, metadata: md), options: options, onResponse: handle)
                }
                first.yield(.failure(RPCError(code: .unavailable, message: "the backend ended the stream before answering")))
                first.finish()
                shared.end(nil)
            } catch {
                first.yield(.failure(error))
                first.finish()
                shared.end(error)
            }
        }
        let answer: Result<Centrifugal_Centrifugo_Proxy_SubscribeResponse, any Error> = await withTaskGroup(
            of: Result<Centrifugal_Centrifugo_Proxy_SubscribeResponse, any Error>?.self
        ) { group in
            group.addTask {
                for await r in firstMessages { return r }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: firstMessageTimeout)
                return .failure(RPCError(code: .deadlineExceeded, message: "no first message in time"))
            }
            let r = await group.next() ?? nil
            group.cancelAll()
            return r ?? .failure(RPCError(code: .unavailable, message: "the stream ended"))
        }
        switch answer {
        case .success(let response):
            return ProxyGRPCSubscribeStream(response: response, shared: shared, task: task, outbound: outbound?.continuation)
        case .failure(let error):
            outbound?.continuation.finish()
            task.cancel()
            throw mapError(error, method: method, timeout: firstMessageTimeout)
        }
    }
}
