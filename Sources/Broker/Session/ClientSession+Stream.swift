import BrokerProtocol
import Foundation
import NIOCore

/// Subscriptions fed by the subscribe_stream proxy: a gRPC stream per subscriber, whose publications go to that
/// subscriber alone (not through the channel), and, when bidirectional, the client's publications back into it.
extension ClientSession {
    func subscribeThroughStream(
        id: UInt32, resolved: ResolvedChannel, request: SubscribeRequest, proxyName: String, bidirectional: Bool
    ) {
        guard let (proxy, call) = subscribeRequest(.subscribeStream, proxyName, resolved, request, for: id) else { return }
        let logger = node.logger
        perform({ await proxy.openStream(call, bidirectional: bidirectional, logger: logger) }) { result in
            switch result {
            case .success(.success((.result(let answer), let stream?))):
                let decision = self.node.clientRules.subscribeStream(
                    with: answer ?? SubscribeProxyResult(), resolved, request: request, user: self.user, now: self.now)
                guard case .success(let plan) = decision, self.subs[plan.channel] == nil else {
                    stream.cancel()
                    self.subscribe(id: id, decided: decision)
                    return
                }
                self.establish(id: id, plan: plan, stream: stream)
            case .success(.success((.error(let error), _))): self.replyError(id, error)
            case .success(.success((.disconnect(let disconnect), _))): self.close(disconnect)
            case .success(.success((.result, nil))), .success(.failure), .failure: self.replyError(id, .internalError)
            }
        }
    }

    /// The subscribe reply is out: the stream's publications may flow (those that came meanwhile first).
    func streamReady(_ sub: Subscription) {
        guard let stream = sub.stream else { return }
        let loop = loopHub.eventLoop
        // The stream drops these when cancelled (the subscription's removal), which breaks the reference cycle.
        let target = NIOLoopBound((session: self, sub: sub), eventLoop: loop)
        stream.start(
            onPublication: { data, tags in
                loop.execute { target.value.session.streamPublication(target.value.sub, data: data, tags: tags) }
            },
            onEnd: { failed in
                loop.execute { target.value.session.streamEnded(target.value.sub, failed: failed) }
            })
    }

    private func streamPublication(_ sub: Subscription, data: [UInt8], tags: [String: String]) {
        guard state == .connected, subs[sub.channel] === sub else { return }
        push(Push(channel: sub.channel, body: .publication(Publication(data: Payload(bytes: data), tags: tags))))
    }

    /// The backend ended the stream: the client is unsubscribed (2000 when the backend closed it, 2500 when it
    /// failed), as Centrifugo does.
    private func streamEnded(_ sub: Subscription, failed: Bool) {
        guard state == .connected, subs[sub.channel] === sub else { return }
        removeSubscription(sub)
        push(Push(channel: sub.channel, body: .unsubscribe(failed ? .insufficientState : .server)))
    }

    /// A client publication in a bidirectional stream's namespace goes into its stream (108 without one).
    func publishIntoStream(id: UInt32, channel: String, data: Payload) {
        guard let sub = subs[channel], sub.isSubscribed, let stream = sub.stream, stream.send(data: Data(data.bytes)) else {
            replyError(id, .notAvailable)
            return
        }
        reply(Reply(id: id, body: .publish))
    }
}
