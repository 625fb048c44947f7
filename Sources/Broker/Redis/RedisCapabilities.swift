/// A Redis version number, compared numerically ("6.10.0" > "6.2.0").
public struct RedisVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var patch: Int

    public init(major: Int, minor: Int, patch: Int = 0) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// Parses "7.0.15", "6.2" or "7.2.4-rc1" (missing parts are 0, a non-numeric tail is ignored);
    /// nil when the text does not start with a number.
    public init?(_ text: String) {
        var parts: [Int] = []
        for piece in text.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false) {
            guard let number = Int(piece.prefix(while: \.isASCIIDigitCharacter)) else { break }
            parts.append(number)
            guard piece.allSatisfy(\.isASCIIDigitCharacter) else { break }
        }
        guard let major = parts.first else { return nil }
        self.init(major: major, minor: parts.count > 1 ? parts[1] : 0, patch: parts.count > 2 ? parts[2] : 0)
    }

    public static func < (a: RedisVersion, b: RedisVersion) -> Bool {
        (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
    }

    public var description: String { "\(major).\(minor).\(patch)" }
}

extension Character {
    fileprivate var isASCIIDigitCharacter: Bool { isASCII && isWholeNumber }
}

/// What the capability check learned about a server.
public struct RedisServerInfo: Sendable, Equatable {
    public var address: String
    /// `redis_version` exactly as INFO reports it.
    public var versionString: String
    public var version: RedisVersion
    /// `redis_mode`: "standalone", "cluster" or "sentinel" (nil if not reported).
    public var mode: String?
    /// Every `key:value` line of `INFO server`.
    public var fields: [String: String]
}

/// Why a server cannot back the broker. `description` names the server, what is missing and the fix.
public enum RedisCapabilityError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreachable(address: String, cause: RedisError)
    case noVersion(address: String, detail: String)
    case tooOld(address: String, version: String)
    case streamsUnavailable(address: String, detail: String)
    case scriptingUnavailable(address: String, detail: String)
    /// A Redis Cluster node given as `engine.redis.address`.
    case clusterNodeAsServer(address: String)
    /// An `engine.redis.cluster_address` seed that is not a cluster node.
    case notACluster(address: String, detail: String)
    /// A cluster in which some slots have no master.
    case slotsUncovered(address: String, slots: String)

    public var description: String {
        switch self {
        case .unreachable(let address, let cause):
            if cause.description.contains("TLS handshake failed") {
                "redis at \(address) refused the TLS session: \(cause) — check engine.redis.tls (server_ca_pem for the "
                    + "CA that signed the server's certificate, server_name for the name in it, cert_pem/key_pem when "
                    + "the server asks for a client certificate)"
            } else {
                "redis at \(address) failed during the capability check: \(cause) — check that it is up and reachable"
            }
        case .noVersion(let address, let detail):
            "redis at \(address) did not report redis_version in INFO server (\(detail)) — the broker needs "
                + "Redis ≥ \(RedisCapabilities.minimumVersion.major).\(RedisCapabilities.minimumVersion.minor) "
                + "and must be allowed to run INFO"
        case .tooOld(let address, let version):
            "redis at \(address) is version \(version); the broker needs Redis ≥ "
                + "\(RedisCapabilities.minimumVersion.major).\(RedisCapabilities.minimumVersion.minor) "
                + "for streams with MAXLEN/XAUTOCLAIM — upgrade Redis"
        case .streamsUnavailable(let address, let detail) where detail.hasPrefix("CLUSTERDOWN"),
            .scriptingUnavailable(let address, let detail) where detail.hasPrefix("CLUSTERDOWN"):
            // The probe reached a cluster that is not serving (a failover or a restart under way): nothing is missing.
            "redis at \(address) answered \(detail): the cluster is not serving right now (a failover or a restart "
                + "in progress?) — wait until redis-cli --cluster check <host:port> reports every slot covered, then "
                + "start the broker"
        case .streamsUnavailable(let address, let detail):
            "redis at \(address) refuses stream commands XADD/XRANGE (\(detail)) — the broker keeps channel "
                + "history in Redis streams; allow the stream commands or use a Redis that has them"
        case .scriptingUnavailable(let address, let detail):
            "redis at \(address) refuses EVAL (scripting disabled?) (\(detail)) — the broker needs Lua "
                + "scripting; enable it or use a Redis that allows EVAL"
        case .clusterNodeAsServer(let address):
            "redis at \(address) is a Redis Cluster node (redis_mode:cluster): list the cluster's nodes in "
                + "engine.redis.cluster_address instead of engine.redis.address"
        case .notACluster(let address, let detail):
            "redis at \(address) is not a Redis Cluster node (\(detail)): list it in engine.redis.address, or start it "
                + "with cluster-enabled yes and create the cluster (redis-cli --cluster create)"
        case .slotsUncovered(let address, let slots):
            "the Redis \(address) has no master for slots \(slots) (cluster_state is not ok): assign them or let a "
                + "replica take over, e.g. redis-cli --cluster fix <host:port>, then start the broker"
        }
    }
}

/// Checks, before the broker relies on a Redis, that it has what the Redis engine uses.
public enum RedisCapabilities {
    /// Redis 6.2 brought `XAUTOCLAIM`, `XADD … MINID`/`NOMKSTREAM` and `GETEX`.
    public static let minimumVersion = RedisVersion(major: 6, minor: 2)

    /// True when `version` (INFO's `redis_version`) parses and is at least ``minimumVersion``.
    public static func isSupported(version: String) -> Bool {
        RedisVersion(version).map { $0 >= minimumVersion } ?? false
    }

    /// Reads `INFO server` and proves streams and Lua scripting work. `address` is used in messages only.
    ///
    /// `probeTag`: in a cluster, a hash tag of a slot the node serves, for the throw-away stream key. Without one,
    /// a cluster node is refused (``RedisCapabilityError/clusterNodeAsServer(address:)``).
    public static func check(
        _ c: RedisConnection, address: String, probeTag: String? = nil
    ) async throws(RedisCapabilityError) -> RedisServerInfo {
        let info = try await serverInfo(c, address: address)
        // A cluster node answers MOVED for most keys: say what it is before probing with one.
        if info.mode == "cluster" && probeTag == nil { throw .clusterNodeAsServer(address: address) }
        try await checkStreams(c, address: address, probeTag: probeTag)
        try await checkScripting(c, address: address)
        return info
    }

    static func serverInfo(
        _ c: RedisConnection, address: String
    ) async throws(RedisCapabilityError) -> RedisServerInfo {
        let reply: RESPValue
        do {
            reply = try await c.send(["INFO", "server"])
        } catch {
            if case .server(let message) = error { throw .noVersion(address: address, detail: message) }
            throw .unreachable(address: address, cause: error)
        }
        guard let text = reply.string else {
            throw .noVersion(address: address, detail: "INFO server answered \(reply)")
        }
        let fields = parseInfo(text)
        guard let versionString = fields["redis_version"] else {
            throw .noVersion(address: address, detail: "no redis_version line")
        }
        guard let version = RedisVersion(versionString) else {
            throw .noVersion(address: address, detail: "unreadable redis_version \"\(versionString)\"")
        }
        guard version >= minimumVersion else {
            throw .tooOld(address: address, version: versionString)
        }
        return RedisServerInfo(
            address: address, versionString: versionString, version: version, mode: fields["redis_mode"],
            fields: fields)
    }

    /// `key:value` lines of an INFO reply; `# Section` headers and blank lines are skipped.
    static func parseInfo(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }

    /// XADD with MAXLEN, XRANGE and DEL on a throw-away key, in one round trip.
    static func checkStreams(_ c: RedisConnection, address: String, probeTag: String? = nil) async throws(RedisCapabilityError) {
        let key = "__broker_capability_check:" + (probeTag.map { "{\($0)}:" } ?? "") + "\(UInt64.random(in: 0...UInt64.max))"
        let commands = [
            ["XADD", key, "MAXLEN", "~", "10", "*", "probe", "1"],
            ["XRANGE", key, "-", "+"],
            ["DEL", key],
        ].map { $0.map { Array($0.utf8) } }
        let replies: [RESPValue]
        do {
            replies = try await c.pipeline(commands)
        } catch {
            throw .unreachable(address: address, cause: error)
        }
        if let failure = replies.lazy.compactMap({ reply -> String? in
            if case .error(let message) = reply { return message }
            return nil
        }).first {
            throw .streamsUnavailable(address: address, detail: failure)
        }
        guard let id = replies[0].string,
              let entries = replies[1].elements, entries.count == 1,
              let entry = entries[0].elements, entry.count == 2,
              entry[0].string == id,
              entry[1].elements?.compactMap(\.string) == ["probe", "1"]
        else {
            throw .streamsUnavailable(address: address, detail: "XRANGE did not return the entry XADD wrote")
        }
    }

    static func checkScripting(_ c: RedisConnection, address: String) async throws(RedisCapabilityError) {
        let reply: RESPValue
        do {
            reply = try await c.send(["EVAL", "return 1", "0"])
        } catch {
            if case .server(let message) = error { throw .scriptingUnavailable(address: address, detail: message) }
            throw .unreachable(address: address, cause: error)
        }
        guard reply == .integer(1) else {
            throw .scriptingUnavailable(address: address, detail: "EVAL \"return 1\" answered \(reply)")
        }
    }
}
