import Foundation

/// The permessage-deflate negotiation of the opening handshake (RFC 7692 §5, §7.1): which of the client's
/// `Sec-WebSocket-Extensions` offers the broker accepts, and its answer.
///
/// The broker only deflates without context takeover (a fresh stream per message, as Centrifugo's gorilla
/// fork does), with zlib's 32 KB window. Its answer is gorilla's, `permessage-deflate;
/// server_no_context_takeover; client_no_context_takeover`, so every message either side sends stands alone.
/// Gorilla accepts the first permessage-deflate offer whatever its parameters; the broker follows RFC 7692
/// more closely and passes over an offer it could not honour (an unknown, repeated or malformed parameter, or
/// a `server_max_window_bits` below 15, which its 32 KB window would break) to take the client's next one.
enum WebSocketDeflateOffer {
    static let extensionName = "permessage-deflate"
    static let answer = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"

    /// The `Sec-WebSocket-Extensions` answer to the offers in `headerValues` (each header line may list
    /// several extensions, comma-separated), or nil when none is a permessage-deflate offer the broker accepts.
    static func negotiate(_ headerValues: [String]) -> String? {
        for value in headerValues {
            for offer in value.split(separator: ",") {
                if let answer = accept(offer) { return answer }
            }
        }
        return nil
    }

    /// The answer to one offer (`name; param; param=value`), or nil when it is declined.
    private static func accept(_ offer: Substring) -> String? {
        let parts = offer.split(separator: ";", omittingEmptySubsequences: false).map(trimmed)
        guard let name = parts.first, name.lowercased() == extensionName else { return nil }
        var seen: Set<String> = []
        var echoServerWindow = false
        for part in parts.dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = trimmed(pair[0]).lowercased()
            let value = pair.count == 2 ? unquoted(trimmed(pair[1])) : nil
            guard !key.isEmpty, seen.insert(key).inserted else { return nil }
            switch key {
            case "server_no_context_takeover", "client_no_context_takeover":
                guard value == nil else { return nil }
            case "server_max_window_bits":
                // The client could not inflate what a 32 KB window may produce with a smaller one of its own.
                guard let value, windowBits(value) == 15 else { return nil }
                echoServerWindow = true
            case "client_max_window_bits":
                // The broker inflates with the largest window, so any window the client deflates with is fine.
                if let value, windowBits(value) == nil { return nil }
            default:
                return nil
            }
        }
        // A server accepting `server_max_window_bits` must answer with it (RFC 7692 §7.1.2.1).
        return echoServerWindow ? answer + "; server_max_window_bits=15" : answer
    }

    /// A window size parameter's value: 8...15 in decimal without leading zeros.
    private static func windowBits(_ text: String) -> Int? {
        guard !text.hasPrefix("0"), let bits = Int(text), (8...15).contains(bits) else { return nil }
        return bits
    }

    private static func trimmed(_ text: Substring) -> String {
        text.trimmingCharacters(in: .whitespaces)
    }

    /// A parameter value may be sent as a quoted string (RFC 7692 §5.1).
    private static func unquoted(_ text: String) -> String {
        guard text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") else { return text }
        return String(text.dropFirst().dropLast())
    }
}
