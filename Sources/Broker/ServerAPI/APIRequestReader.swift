import BrokerProtocol
import Foundation

/// Typed access to a server API request object; a missing required field or a wrong type is 107.
struct APIRequestReader {
    let object: JSONObject

    init(_ value: JSONValue) throws(APIError) {
        guard let o = value.objectValue else { throw .badRequest }
        object = o
    }

    init(object: JSONObject) {
        self.object = object
    }

    func string(_ key: String) throws(APIError) -> String {
        guard let v = object[key], !v.isNull else { return "" }
        guard let s = v.stringValue else { throw .badRequest }
        return s
    }

    func required(_ key: String) throws(APIError) -> String {
        let s = try string(key)
        if s.isEmpty { throw .badRequest }
        return s
    }

    func bool(_ key: String) throws(APIError) -> Bool {
        guard let v = object[key], !v.isNull else { return false }
        guard let b = v.boolValue else { throw .badRequest }
        return b
    }

    func int(_ key: String) throws(APIError) -> Int64? {
        guard let v = object[key], !v.isNull else { return nil }
        guard let n = v.int64Value else { throw .badRequest }
        return n
    }

    func stringMap(_ key: String) throws(APIError) -> [String: String] {
        guard let v = object[key], !v.isNull else { return [:] }
        guard let o = v.objectValue else { throw .badRequest }
        var out: [String: String] = [:]
        for m in o.members {
            guard let s = m.value.stringValue else { throw .badRequest }
            out[m.key] = s
        }
        return out
    }

    func stringArray(_ key: String) throws(APIError) -> [String] {
        guard let v = object[key], !v.isNull else { return [] }
        guard let a = v.arrayValue else { throw .badRequest }
        var out: [String] = []
        for item in a {
            guard let s = item.stringValue else { throw .badRequest }
            out.append(s)
        }
        return out
    }

    /// `key` as raw JSON, or `b64key` decoded as binary (wins when both are present).
    func payload(_ key: String) throws(APIError) -> Payload? {
        let b64 = try string("b64" + key)
        if !b64.isEmpty {
            guard let data = Data(base64Encoded: b64) else { throw .badRequest }
            return Payload(bytes: Array(data), isBinary: true)
        }
        guard let v = object[key] else { return nil }
        return Payload(json: v)
    }

    func position(_ key: String) throws(APIError) -> StreamPosition? {
        guard let v = object[key], !v.isNull else { return nil }
        guard let o = v.objectValue else { throw .badRequest }
        let r = APIRequestReader(object: o)
        let offset = try r.int("offset") ?? 0
        guard offset >= 0 else { throw .badRequest }
        return StreamPosition(offset: UInt64(offset), epoch: try r.string("epoch"))
    }
}
