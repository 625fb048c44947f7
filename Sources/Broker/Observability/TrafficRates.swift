import NIOConcurrencyHelpers

/// Messages per second in and out, from the totals in ``TrafficCounters``.
///
/// Each sample at least a second after the previous one starts a new window; samples taken sooner
/// (several `info` calls in a row) get the last window's rates instead of a noisy short one.
final class TrafficRates: Sendable {
    struct Rates: Sendable, Equatable {
        var received: Int64 = 0
        var sent: Int64 = 0
    }

    private struct State {
        var at: Int64 = -1
        var received = 0
        var sent = 0
        var rates = Rates()
    }

    private let state = NIOLockedValueBox(State())

    func sample(_ traffic: TrafficCounters, now: Int64) -> Rates {
        let received = traffic.messagesReceived
        let sent = traffic.messagesSent
        return state.withLockedValue { s in
            if s.at < 0 {
                s = State(at: now, received: received, sent: sent, rates: Rates())
                return s.rates
            }
            let elapsed = now - s.at
            guard elapsed >= 1000 else { return s.rates }
            s.rates = Rates(
                received: Int64((Double(received - s.received) * 1000 / Double(elapsed)).rounded()),
                sent: Int64((Double(sent - s.sent) * 1000 / Double(elapsed)).rounded()))
            s.at = now
            s.received = received
            s.sent = sent
            return s.rates
        }
    }
}
