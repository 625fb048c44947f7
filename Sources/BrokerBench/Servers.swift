import NIOCore

/// The protocol family of a server under test.
enum Target: String, Sendable, CaseIterable {
    /// Centrifugo v6 client protocol (JSON over WebSocket: connect with a token, then subscribe) and server API.
    case centrifugo
    /// nchan: WebSocket subscribe at `/sub/<channel>`, HTTP POST publish at `/pub/<channel>`; messages arrive raw.
    case nchan
}

struct Endpoint: Sendable, CustomStringConvertible {
    var host: String
    var port: Int
    var path: String
    /// Resolved once: connecting by host name would run the resolver and Happy Eyeballs for every connection,
    /// which cost the generator more CPU per connect than the rest of the handshake.
    var address: SocketAddress

    /// Parses `scheme://host:port/path`; a missing port means 80, a missing path means `defaultPath`.
    init(parsing url: String, defaultPath: String) throws {
        var rest = Substring(url)
        if let r = rest.range(of: "://") { rest = rest[r.upperBound...] }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let hostPort = rest[..<slash]
        let path = rest[slash...]
        if let colon = hostPort.lastIndex(of: ":") {
            guard let p = Int(hostPort[hostPort.index(after: colon)...]) else { throw BenchError.usage("bad port in \(url)") }
            host = String(hostPort[..<colon])
            port = p
        } else {
            host = String(hostPort)
            port = 80
        }
        self.path = path.isEmpty || path == "/" ? defaultPath : String(path)
        do {
            address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        } catch {
            throw BenchError.usage("cannot resolve \(host) in \(url): \(error)")
        }
    }

    var description: String { "\(host):\(port)\(path)" }
}

/// One server under test, from `--server k=v,k=v,...`:
/// `centrifugo=URL` or `nchan=URL` (target and WebSocket/base URL; repeat `ws=URL` for more nodes, subscribers are
/// spread over them round robin), `name=` (label in reports), `api=URL` (HTTP API base; defaults to the first node),
/// `key=` (X-API-Key), `secret=` (HS256 token secret), `pid=` (repeatable: server processes whose CPU and RSS count).
struct ServerSpec: Sendable {
    var name: String
    var target: Target
    var nodes: [Endpoint]
    var api: Endpoint
    var apiKey: String
    var secret: String
    var pids: [Int32]

    static func parse(_ text: String) throws -> ServerSpec {
        var target: Target?
        var urls: [String] = []
        var name: String?
        var api: String?
        var key = ""
        var secret = ""
        var pids: [Int32] = []
        for part in text.split(separator: ",") {
            guard let eq = part.firstIndex(of: "=") else { throw BenchError.usage("--server: expected k=v, got '\(part)'") }
            let k = String(part[..<eq])
            let v = String(part[part.index(after: eq)...])
            switch k {
            case "centrifugo", "nchan":
                target = Target(rawValue: k)
                urls.insert(v, at: 0)
            case "ws", "url": urls.append(v)
            case "name": name = v
            case "api": api = v
            case "key": key = v
            case "secret": secret = v
            case "pid":
                guard let p = Int32(v) else { throw BenchError.usage("--server: bad pid '\(v)'") }
                pids.append(p)
            case "target":
                guard let t = Target(rawValue: v) else { throw BenchError.usage("--server: unknown target '\(v)'") }
                target = t
            default: throw BenchError.usage("--server: unknown key '\(k)'")
            }
        }
        guard let target else { throw BenchError.usage("--server: needs centrifugo=URL or nchan=URL") }
        guard !urls.isEmpty else { throw BenchError.usage("--server: no URL") }
        return try make(name: name ?? target.rawValue, target: target, urls: urls, api: api, key: key, secret: secret, pids: pids)
    }

    static func make(name: String, target: Target, urls: [String], api: String?, key: String, secret: String, pids: [Int32]) throws -> ServerSpec {
        let defaultPath = target == .centrifugo ? "/connection/websocket" : "/sub/"
        let nodes = try urls.map { try Endpoint(parsing: $0, defaultPath: defaultPath) }
        var apiEndpoint = try Endpoint(parsing: api ?? urls[0], defaultPath: target == .centrifugo ? "/api" : "/pub/")
        if api == nil { apiEndpoint.path = target == .centrifugo ? "/api" : "/pub/" }
        if target == .nchan && !apiEndpoint.path.hasSuffix("/") { apiEndpoint.path += "/" }
        return ServerSpec(name: name, target: target, nodes: nodes, api: apiEndpoint, apiKey: key, secret: secret, pids: pids)
    }

    /// WebSocket request path for a subscriber of `channel` on node `node`.
    func subscribePath(channel: String, node: Int) -> String {
        let base = nodes[node % nodes.count].path
        switch target {
        case .centrifugo: return base
        case .nchan: return (base.hasSuffix("/") ? base : base + "/") + channel
        }
    }
}

enum BenchError: Error, CustomStringConvertible {
    case usage(String)
    case failed(String)

    var description: String {
        switch self {
        case .usage(let s): return "usage: \(s)"
        case .failed(let s): return s
        }
    }
}
