import NIOConcurrencyHelpers

/// Limits wrong-password attempts per remote address: after ``maxFailures`` within ``window`` the
/// address must wait until the oldest of them leaves the window. A correct password is not counted,
/// and one address guessing does not lock out another.
final class SignInLimiter: Sendable {
    static let maxFailures = 5
    static let window: Int64 = 60_000
    /// Addresses remembered at most; beyond that the stalest are dropped (a flood of addresses cannot
    /// grow memory without bound).
    static let maxAddresses = 10_000

    private let failures = NIOLockedValueBox([String: [Int64]]())

    /// Milliseconds `address` must wait before it may try again; 0 when it may try now.
    func retryAfter(address: String, now: Int64) -> Int64 {
        failures.withLockedValue { map in
            let recent = (map[address] ?? []).filter { now - $0 < SignInLimiter.window }
            map[address] = recent.isEmpty ? nil : recent
            guard recent.count >= SignInLimiter.maxFailures, let oldest = recent.first else { return 0 }
            return SignInLimiter.window - (now - oldest)
        }
    }

    func recordFailure(address: String, now: Int64) {
        failures.withLockedValue { map in
            if map.count >= SignInLimiter.maxAddresses, map[address] == nil {
                let stale = map.filter { ($0.value.last ?? 0) < now - SignInLimiter.window }.map(\.key)
                for key in stale { map[key] = nil }
                if map.count >= SignInLimiter.maxAddresses, let any = map.keys.first { map[any] = nil }
            }
            map[address, default: []].append(now)
        }
    }
}
