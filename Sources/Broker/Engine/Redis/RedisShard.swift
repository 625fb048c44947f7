/// One shard of the Redis engine: one server (given by address or found through Sentinel), or one Redis Cluster.
enum RedisShard: Sendable {
    case server(RedisShardPool)
    case cluster(RedisClusterShard)

    var isCluster: Bool {
        if case .cluster = self { return true }
        return false
    }

    /// Runs `script` (all `keys` in one slot when in a cluster). `tracksMaster`: the history scripts, which are told
    /// the master they run on (``RedisMasterIdentity``).
    func eval(
        _ script: String, keys: [[UInt8]], args: [[UInt8]], tracksMaster: Bool = false,
        wait: (replicas: Int, timeout: Duration)? = nil
    ) async throws(EngineError) -> RESPValue {
        switch self {
        case .server(let pool):
            do {
                return try await pool.eval(
                    script, keys: keys, args: args,
                    identity: tracksMaster ? (pool.endpoint.sentinel == nil ? .standalone : .connectionAddress) : nil, wait: wait)
            } catch {
                throw .unavailable(error.description)
            }
        case .cluster(let cluster):
            return try await cluster.eval(script, keys: keys, args: args, tracksMaster: tracksMaster, wait: wait)
        }
    }

    /// Sends one command; `key` decides where in a cluster.
    func send(_ args: [[UInt8]], key: [UInt8]) async throws(EngineError) -> RESPValue {
        switch self {
        case .server(let pool):
            do {
                return try await pool.send(args)
            } catch {
                throw .unavailable(error.description)
            }
        case .cluster(let cluster):
            return try await cluster.send(args, key: key)
        }
    }

    func closeAll() async {
        switch self {
        case .server(let pool): await pool.closeAll()
        case .cluster(let cluster): await cluster.closeAll()
        }
    }
}
