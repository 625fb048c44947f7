import NIOCore

/// Why a Redis engine could not be made from the configuration.
public enum RedisEngineSetupError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An address does not parse.
    case badAddress(String)
    /// The TLS settings do not load (a PEM that is not one, a file that cannot be read).
    case badTLS(String)
    /// A shard is unreachable or lacks what the engine needs; the text is the capability check's message.
    case capability(RedisCapabilityError)

    public var description: String {
        switch self {
        case .badAddress(let why), .badTLS(let why): why
        case .capability(let e): e.description
        }
    }
}

extension RedisEngine {
    /// Makes an engine for `config`: one shard per address (`redis://user:pass@host:port/db` or
    /// `host:port`; `user`, `password` and `db` of the config apply where an address gives none), and runs
    /// ``RedisCapabilities/check(_:address:)`` on every shard before returning. The engine is not started.
    ///
    /// - Throws: ``RedisEngineSetupError`` with a message fit to refuse startup with.
    public static func make(
        config: RedisConfig, clock: BrokerClock = .system, options: Options = Options()
    ) async throws(RedisEngineSetupError) -> RedisEngine {
        let defaults = RedisEndpoint(
            host: "127.0.0.1", port: 6379, username: config.user.isEmpty ? nil : config.user,
            password: config.password.isEmpty ? nil : config.password, database: config.db)
        var endpoints: [RedisEndpoint] = []
        // As in Centrifugo, sentinel_address (one entry per shard, each its sentinels comma-separated) replaces address.
        let sentinelTLS: RedisTLS? = config.sentinelTLS.enabled
            ? try RedisTLS(config: config.sentinelTLS, keyPrefix: "engine.redis.sentinel_tls") : nil
        for entry in config.sentinelAddress {
            let sentinels: [RedisSentinel.Address]
            do {
                sentinels = try RedisSentinel.parseAddresses(entry)
            } catch {
                if case .unavailable(let why) = error { throw .badAddress(why) }
                throw .badAddress("redis sentinel address \(entry) is not valid")
            }
            var e = defaults
            e.host = sentinels[0].host
            e.port = sentinels[0].port
            e.sentinel = RedisSentinel(
                sentinels: sentinels, masterName: config.sentinelMasterName,
                username: config.sentinelUser.isEmpty ? nil : config.sentinelUser,
                password: config.sentinelPassword.isEmpty ? nil : config.sentinelPassword,
                clientName: config.sentinelClientName.isEmpty ? nil : config.sentinelClientName, tls: sentinelTLS)
            endpoints.append(e)
        }
        // cluster_address, too: one entry per cluster, each its seed nodes comma-separated.
        for entry in config.clusterAddress {
            var seeds: [RedisEndpoint] = []
            for part in entry.split(separator: ",") {
                do {
                    seeds.append(try RedisEndpoint.parse(String(part), defaults: defaults))
                } catch {
                    if case .unavailable(let why) = error { throw .badAddress(why) }
                    throw .badAddress("redis cluster address \(part) is not valid")
                }
            }
            guard var e = seeds.first else { throw .badAddress("engine.redis.cluster_address has an empty entry") }
            e.clusterSeeds = seeds
            endpoints.append(e)
        }
        for address in config.address where config.sentinelAddress.isEmpty && config.clusterAddress.isEmpty {
            do {
                endpoints.append(try RedisEndpoint.parse(address, defaults: defaults))
            } catch {
                if case .unavailable(let why) = error { throw .badAddress(why) }
                throw .badAddress("redis address \(address) is not valid")
            }
        }
        if endpoints.isEmpty { throw .badAddress("redis: no address configured") }
        // `tls.enabled` turns TLS on for every address, `rediss://` for that address; one context serves all.
        if config.tls.enabled || endpoints.contains(where: \.wantsTLS) {
            let tls = try RedisTLS(config: config.tls, keyPrefix: "engine.redis.tls")
            for i in endpoints.indices where config.tls.enabled || endpoints[i].wantsTLS { endpoints[i].tls = tls }
            for i in endpoints.indices {
                for j in endpoints[i].clusterSeeds.indices where config.tls.enabled || endpoints[i].clusterSeeds[j].wantsTLS {
                    endpoints[i].clusterSeeds[j].tls = tls
                }
            }
        }
        var opts = options
        opts.connectTimeout = config.connectTimeout
        opts.ioTimeout = config.ioTimeout
        opts.waitReplicas = config.waitReplicas
        opts.waitTimeout = config.waitTimeout
        for e in endpoints where !e.clusterSeeds.isEmpty {
            try await RedisClusterCheck.check(e, options: opts)
        }
        for e in endpoints where e.clusterSeeds.isEmpty {
            let address = e.label
            let c: RedisConnection
            do {
                c = try await RedisShardPool.open(
                    e, on: opts.eventLoopGroup, connectTimeout: opts.connectTimeout.timeAmount, ioTimeout: opts.ioTimeout.timeAmount)
            } catch {
                throw .capability(.unreachable(address: address, cause: error))
            }
            // Through Sentinel, name the master that was checked as well as where it was found.
            let checked = e.sentinel == nil ? address : "\(c.address) (the \(address))"
            do {
                _ = try await RedisCapabilities.check(c, address: checked)
            } catch {
                await c.close()
                throw .capability(error)
            }
            await c.close()
        }
        return RedisEngine(
            endpoints: endpoints, prefix: config.prefix, clock: clock, options: opts)
    }
}
