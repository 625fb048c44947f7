@testable import BrokerProtocol

/// UTF-8 bytes of a string literal.
func utf8(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Bytes as text, for readable `#expect` failures.
func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// A raw-JSON payload, as the JSON protocol carries it.
func json(_ s: String) -> Payload { Payload(bytes: Array(s.utf8)) }

/// Parses a JSON text that the test knows is valid.
func parsed(_ s: String) throws -> JSONValue { try JSONParser.parse(s) }

/// Parses bytes the test knows are valid JSON.
func parsed(_ bytes: [UInt8]) throws -> JSONValue { try JSONParser.parse(bytes) }

/// Decodes exactly one command from text.
func command(_ s: String) throws -> Command { try Command.decodeJSON(Array(s.utf8)) }

/// The JSON name of a request, so tests can compare which field won.
func requestName(_ r: Command.Request) -> String {
    switch r {
    case .connect: return "connect"
    case .subscribe: return "subscribe"
    case .unsubscribe: return "unsubscribe"
    case .publish: return "publish"
    case .presence: return "presence"
    case .presenceStats: return "presence_stats"
    case .history: return "history"
    case .rpc: return "rpc"
    case .send: return "send"
    case .refresh: return "refresh"
    case .subRefresh: return "sub_refresh"
    case .legacyPing: return "ping"
    case .empty: return "<empty>"
    }
}

/// Deterministic SplitMix64, so randomized tests fail reproducibly.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
