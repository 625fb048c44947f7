/// What a scenario measures.
enum ScenarioKind: String, Sendable {
    /// N subscribers on one channel; publications at `rate` (or as fast as delivery keeps up).
    case fanout
    /// N subscribers spread over M channels; publications round robin over the channels, or broadcast to all.
    case channels
    /// N connections with one subscription each, no traffic: server RSS per connection and idle CPU.
    case idle
    /// connect, subscribe, receive one publication, close; `concurrency` such loops.
    case churn
    /// Server API publishes back to back on `concurrency` keep-alive connections, no subscribers.
    case publish
}

enum ChannelsMode: String, Sendable { case rr, broadcast }

/// How a Centrifugo subscriber gets its subscription: a `subscribe` command after the connect reply (`command`, the
/// default), or the channel in the connection token's `channels` claim (`token`: a server-side subscription, one
/// round trip fewer). nchan subscribes by URL either way.
enum SubscribeMode: String, Sendable { case command, token }

/// One scenario: a preset name (`fanout-1k`, …) or `kind[:k=v,...]`, e.g. `fanout:subs=5000,rate=max,batch=10`.
/// Keys: subs, channels, rate (number or `max`), dur, batch, pubconns, mode (rr|broadcast), conc, ahead, settle,
/// sub (command|token).
struct ScenarioSpec: Sendable {
    var name: String
    var kind: ScenarioKind
    var subscribers = 1000
    var channels = 1
    /// Publications (or broadcast rounds) per second; nil = as fast as the server delivers (see `ahead`).
    var rate: Double? = 50
    var duration: Double = 10
    /// Publications per HTTP request (`/api/batch`; Centrifugo only, nchan publishes one per POST).
    var batch = 1
    /// Keep-alive publisher connections.
    var pubConns = 4
    var mode: ChannelsMode = .rr
    var concurrency = 64
    /// With `rate=max`: at most this many publications (per channel-round) may be ahead of delivery, which keeps the
    /// server saturated without letting its write queues grow without bound.
    var ahead = 8
    /// Seconds to wait after connecting before measuring RSS (idle).
    var settle: Double = 2
    var subscribe: SubscribeMode = .command

    static let presetNames = ["fanout-1k", "fanout-10k", "fanout-10k-max", "channels-rr", "channels-bc", "idle", "churn", "publish"]

    static func preset(_ name: String, duration: Double) -> ScenarioSpec? {
        var s: ScenarioSpec
        switch name {
        case "fanout-1k": s = ScenarioSpec(name: name, kind: .fanout, subscribers: 1000, rate: 50)
        case "fanout-10k": s = ScenarioSpec(name: name, kind: .fanout, subscribers: 10_000, rate: 20)
        case "fanout-10k-max": s = ScenarioSpec(name: name, kind: .fanout, subscribers: 10_000, rate: nil, pubConns: 2)
        case "channels-rr": s = ScenarioSpec(name: name, kind: .channels, subscribers: 10_000, channels: 1000, rate: 2000, mode: .rr)
        case "channels-bc": s = ScenarioSpec(name: name, kind: .channels, subscribers: 10_000, channels: 1000, rate: 2, pubConns: 8, mode: .broadcast)
        case "idle": s = ScenarioSpec(name: name, kind: .idle, subscribers: 19_000)
        case "churn": s = ScenarioSpec(name: name, kind: .churn, concurrency: 32)
        case "publish": s = ScenarioSpec(name: name, kind: .publish, concurrency: 64)
        default: return nil
        }
        s.duration = duration
        if s.kind == .idle { s.channels = s.subscribers }
        return s
    }

    static func parse(_ text: String, duration: Double) throws -> ScenarioSpec {
        if let p = preset(text, duration: duration) { return p }
        let colon = text.firstIndex(of: ":") ?? text.endIndex
        let head = String(text[..<colon])
        var s: ScenarioSpec
        if let p = preset(head, duration: duration) {
            s = p
        } else if let kind = ScenarioKind(rawValue: head) {
            s = ScenarioSpec(name: head, kind: kind, duration: duration)
            if kind == .idle { s.channels = s.subscribers }
        } else {
            throw BenchError.usage("unknown scenario '\(head)' (presets: \(presetNames.joined(separator: ", ")))")
        }
        guard colon < text.endIndex else { return s }
        s.name = text
        for part in text[text.index(after: colon)...].split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw BenchError.usage("scenario option '\(part)' is not k=v") }
            let (k, v) = (kv[0], kv[1])
            func int() throws -> Int {
                let thousands = v.hasSuffix("k")
                guard let n = Int(thousands ? String(v.dropLast()) : v) else { throw BenchError.usage("\(k)=\(v): not a number") }
                return thousands ? n * 1000 : n
            }
            func double() throws -> Double {
                guard let n = Double(v) else { throw BenchError.usage("\(k)=\(v): not a number") }
                return n
            }
            switch k {
            case "subs":
                s.subscribers = try int()
                if s.kind == .idle { s.channels = s.subscribers }
            case "channels": s.channels = try int()
            case "rate": s.rate = v == "max" ? nil : try double()
            case "dur": s.duration = try double()
            case "batch": s.batch = try int()
            case "pubconns": s.pubConns = try int()
            case "mode":
                guard let m = ChannelsMode(rawValue: v) else { throw BenchError.usage("mode=\(v): rr or broadcast") }
                s.mode = m
            case "conc": s.concurrency = try int()
            case "ahead": s.ahead = try int()
            case "settle": s.settle = try double()
            case "sub":
                guard let m = SubscribeMode(rawValue: v) else { throw BenchError.usage("sub=\(v): command or token") }
                s.subscribe = m
            default: throw BenchError.usage("unknown scenario option '\(k)'")
            }
        }
        return s
    }
}
