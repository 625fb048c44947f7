import BrokerProtocol
import Foundation

/// Where a unidirectional transport finds its connect request: the `cf_connect` query parameter
/// (uni_sse GET, uni_websocket) holding the JSON of a `ConnectRequest`.
enum UniConnectRequest {
    /// The decoded `cf_connect` value (Go's query rules: `+` is a space, `%XX` escapes); nil when absent or empty.
    static func queryValue(_ query: String) -> String? {
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2, kv[0] == "cf_connect" else { continue }
            let value = String(kv[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            return value?.isEmpty == false ? value : nil
        }
        return nil
    }

    /// The connect request in `query`; nil without `cf_connect`. Throws when the value is not valid JSON
    /// of a connect request (Centrifugo answers 400).
    static func fromQuery(_ query: String) throws(CommandDecodingError) -> ConnectRequest? {
        guard query.contains("cf_connect=") else { return nil }
        guard let value = queryValue(query) else {
            // Present but empty is "no request"; present but undecodable (bad %-escape) is malformed.
            if query.split(separator: "&").contains(where: { $0 == "cf_connect=" || $0 == "cf_connect" }) { return nil }
            throw CommandDecodingError("cf_connect is not a valid query value")
        }
        return try ConnectRequest.decodeJSON(Array(value.utf8))
    }
}
