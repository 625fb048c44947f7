import BrokerProtocol
import NIOConcurrencyHelpers

/// Survey answers this node is waiting for: one entry per survey it sent, resumed when every expected
/// node answered or when the deadline passes (a node that died meanwhile must not hang the caller).
final class SurveyCollector: Sendable {
    private struct Pending {
        var waitingFor: Set<String>
        var replies: [String: JSONValue]
        var continuation: CheckedContinuation<[String: JSONValue], Never>?
    }

    private let pending = NIOLockedValueBox([String: Pending]())

    /// Registers survey `id`, runs `send` (which publishes the question), then waits for the replies
    /// of `nodes` (node ID → reply); missing ones are absent from the result.
    func collect(
        id: String, from nodes: Set<String>, timeout: Duration, send: @Sendable () async -> Bool
    ) async -> [String: JSONValue] {
        if nodes.isEmpty { return [:] }
        pending.withLockedValue { $0[id] = Pending(waitingFor: nodes, replies: [:], continuation: nil) }
        guard await send() else {
            pending.withLockedValue { _ = $0.removeValue(forKey: id) }
            return [:]
        }
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            self?.finish(id)
        }
        let result = await withCheckedContinuation { (c: CheckedContinuation<[String: JSONValue], Never>) in
            let done = pending.withLockedValue { map -> [String: JSONValue]? in
                guard var p = map[id] else { return [:] }
                if p.waitingFor.isEmpty {
                    map[id] = nil
                    return p.replies
                }
                p.continuation = c
                map[id] = p
                return nil
            }
            if let done { c.resume(returning: done) }
        }
        timer.cancel()
        return result
    }

    /// Records node `from`'s answer to survey `id` (ignored when nobody waits for it).
    func reply(id: String, from: String, data: JSONValue) {
        let resume = pending.withLockedValue { map -> (CheckedContinuation<[String: JSONValue], Never>, [String: JSONValue])? in
            guard var p = map[id], p.waitingFor.remove(from) != nil else { return nil }
            p.replies[from] = data
            if p.waitingFor.isEmpty, let c = p.continuation {
                map[id] = nil
                return (c, p.replies)
            }
            map[id] = p
            return nil
        }
        if let (c, replies) = resume { c.resume(returning: replies) }
    }

    private func finish(_ id: String) {
        let resume = pending.withLockedValue { map -> (CheckedContinuation<[String: JSONValue], Never>, [String: JSONValue])? in
            guard let p = map[id] else { return nil }
            if let c = p.continuation {
                map[id] = nil
                return (c, p.replies)
            }
            // Not waiting yet: mark as complete so the waiter returns at once.
            map[id]?.waitingFor = []
            return nil
        }
        if let (c, replies) = resume { c.resume(returning: replies) }
    }
}
