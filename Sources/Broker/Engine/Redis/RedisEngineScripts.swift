/// The Lua scripts of the Redis engine. Each runs atomically on its shard.
///
/// Time is the engine's clock (milliseconds), passed in by the caller: a stream's meta, its publications,
/// idempotency results and presence records carry their expire-at times as data and the scripts treat
/// them as gone once `now` passes them. Redis TTLs (`PEXPIRE`) are set as well, so that Redis frees what
/// nobody reads; with the system clock both agree.
///
/// Keys (`P` = prefix): `P.stream.<ch>` (STREAM, id `<offset>-0`, field `d`), `P.stream.meta.<ch>` (HASH:
/// `e` epoch, `s` top offset, `x` meta expire-at, `sx` publications expire-at, `m` the master it was last
/// written under, through Sentinel), `P.result.<ch>.<key>` (HASH
/// `o` offset, `e` epoch, `x` expire-at), `P.presence.data.<ch>` (HASH client → info),
/// `P.presence.expire.<ch>` (ZSET client → expire-at ms), `P.fanout.<shard>.<k>` (STREAM of deliveries:
/// `n` sequence, `t` kind p/j/l, `c` channel, `d` payload, `o` offset, `e` epoch) and its sequence
/// counter `P.fanout.<shard>.<k>.seq`.
///
/// In a Redis Cluster every key of a channel carries the hash tag of its fan-out stream right after the prefix
/// (`P.{t}.stream.<ch>`, …, `P.{t}.fanout`, `P.{t}.fanout.seq`), so each script's keys share one slot.
///
/// The history scripts take the master's identity and the identities accepted without a new epoch as their last
/// two arguments (see ``RedisMasterIdentity``): `identity_changed` decides whether a stream's positions may still
/// be trusted.
enum RedisEngineScripts {
    /// KEYS: meta, stream, result, fanout, fanout seq.
    /// ARGV: 1 encoded pub, 2 history size, 3 history TTL ms, 4 meta TTL ms, 5 result TTL ms, 6 now,
    /// 7 epoch for a new stream, 8 keeps history (0/1), 9 idempotent (0/1), 10 fan-out MAXLEN, 11 channel,
    /// 12 meta expire-at, 13 publications expire-at, 14 result expire-at, 15 the master's identity ("" when not
    /// tracked), 16 the identities a stream may carry without a new epoch. A stream last written under another master
    /// gets a new epoch: after a failover, a position handed out by the old master (which may have taken writes the
    /// new one never saw) can never look valid. Returns {offset, epoch, fromCache}.
    static let publish = identityChanged + """
        local now = tonumber(ARGV[6])
        if ARGV[9] == '1' then
          local r = redis.call('hmget', KEYS[3], 'x', 'o', 'e')
          if r[1] and tonumber(r[1]) > now then
            return {r[2], r[3], 1}
          end
        end
        local offset = 0
        local epoch = ''
        if ARGV[8] == '1' then
          local m = redis.call('hmget', KEYS[1], 'e', 'x', 'sx', 'm')
          epoch = m[1]
          if (not epoch) or (not m[2]) or tonumber(m[2]) <= now then
            epoch = ARGV[7]
            redis.call('del', KEYS[1], KEYS[2])
            redis.call('hset', KEYS[1], 'e', epoch, 's', 0)
            if ARGV[15] ~= '' then redis.call('hset', KEYS[1], 'm', ARGV[15]) end
          else
            if identity_changed(m[4], ARGV[15], ARGV[16]) then
              epoch = ARGV[7]
              redis.call('hset', KEYS[1], 'e', epoch)
            end
            if ARGV[15] ~= '' and m[4] ~= ARGV[15] then redis.call('hset', KEYS[1], 'm', ARGV[15]) end
            if m[3] and tonumber(m[3]) <= now then
              redis.call('del', KEYS[2])
            end
          end
          offset = redis.call('hincrby', KEYS[1], 's', 1)
          redis.call('hset', KEYS[1], 'x', ARGV[12], 'sx', ARGV[13])
          redis.call('pexpire', KEYS[1], ARGV[4])
          redis.call('xadd', KEYS[2], 'MAXLEN', ARGV[2], tostring(offset) .. '-0', 'd', ARGV[1])
          redis.call('pexpire', KEYS[2], ARGV[3])
        end
        local n = redis.call('incr', KEYS[5])
        redis.call('xadd', KEYS[4], 'MAXLEN', '~', ARGV[10], '*', 'n', n, 't', 'p', 'c', ARGV[11], 'd', ARGV[1], 'o', offset, 'e', epoch)
        if ARGV[9] == '1' then
          redis.call('hset', KEYS[3], 'x', ARGV[14], 'o', offset, 'e', epoch)
          redis.call('pexpire', KEYS[3], ARGV[5])
        end
        return {offset, epoch, 0}
        """

    /// KEYS: meta, stream. ARGV: 1 now, 2 meta TTL ms, 3 epoch for a new stream, 4 meta expire-at,
    /// 5 mode (`none`, `fwd`, `rev`), 6 start id (fwd) / end id (rev), 7 count (0 = all), 8 the master's
    /// identity and 9 the identities accepted (a new epoch under another master, as in `publish`).
    /// Returns {epoch, top, entries}.
    static let history = identityChanged + """
        local now = tonumber(ARGV[1])
        local m = redis.call('hmget', KEYS[1], 'e', 'x', 'sx', 's', 'm')
        local epoch = m[1]
        if (not epoch) or (not m[2]) or tonumber(m[2]) <= now then
          redis.call('del', KEYS[1], KEYS[2])
          redis.call('hset', KEYS[1], 'e', ARGV[3], 's', 0, 'x', ARGV[4], 'sx', 0)
          if ARGV[8] ~= '' then redis.call('hset', KEYS[1], 'm', ARGV[8]) end
          redis.call('pexpire', KEYS[1], ARGV[2])
          return {ARGV[3], 0, {}}
        end
        if identity_changed(m[5], ARGV[8], ARGV[9]) then
          epoch = ARGV[3]
          redis.call('hset', KEYS[1], 'e', epoch)
        end
        if ARGV[8] ~= '' and m[5] ~= ARGV[8] then redis.call('hset', KEYS[1], 'm', ARGV[8]) end
        if m[3] and tonumber(m[3]) <= now then
          redis.call('del', KEYS[2])
        end
        if tonumber(m[2]) < tonumber(ARGV[4]) then
          redis.call('hset', KEYS[1], 'x', ARGV[4])
        end
        local pttl = redis.call('pttl', KEYS[1])
        if pttl >= 0 and pttl < tonumber(ARGV[2]) then
          redis.call('pexpire', KEYS[1], ARGV[2])
        end
        local entries = {}
        local count = tonumber(ARGV[7])
        if ARGV[5] == 'fwd' then
          if count > 0 then
            entries = redis.call('xrange', KEYS[2], ARGV[6], '+', 'COUNT', count)
          else
            entries = redis.call('xrange', KEYS[2], ARGV[6], '+')
          end
        elseif ARGV[5] == 'rev' then
          if count > 0 then
            entries = redis.call('xrevrange', KEYS[2], ARGV[6], '-', 'COUNT', count)
          else
            entries = redis.call('xrevrange', KEYS[2], ARGV[6], '-')
          end
        end
        return {epoch, tonumber(m[4]) or 0, entries}
        """

    /// Whether a stream last written under master `was` must start a new epoch now that master `now` writes it:
    /// not when identities are not tracked (`now` empty) or did not change, nor when `was` is among `accepted` (a
    /// space-separated list: in a cluster, the masters serving slots, so a stream that came by a slot migration, with
    /// all its data, keeps its positions; one written under a node that is no longer a master came by a failover).
    static let identityChanged = """
        local function identity_changed(was, now, accepted)
          if now == '' or was == now then return false end
          if was and accepted ~= '' and string.find(' ' .. accepted .. ' ', ' ' .. was .. ' ', 1, true) then return false end
          return true
        end

        """

    /// KEYS: fanout, fanout seq. ARGV: 1 MAXLEN, 2 kind (j/l), 3 channel, 4 encoded info.
    static let fanout = """
        local n = redis.call('incr', KEYS[2])
        redis.call('xadd', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'n', n, 't', ARGV[2], 'c', ARGV[3], 'd', ARGV[4])
        return n
        """

    /// KEYS: the fan-out streams, then their sequence counters. Returns {{last id, seq}, …}.
    static let cursors = """
        local out = {}
        local half = #KEYS / 2
        for i = 1, half do
          local last = redis.call('xrevrange', KEYS[i], '+', '-', 'COUNT', 1)
          local id = '0-0'
          if last[1] then id = last[1][1] end
          out[i] = {id, redis.call('get', KEYS[half + i]) or '0'}
        end
        return out
        """

    /// KEYS: data hash, expire zset. ARGV: 1 client, 2 info, 3 expire-at ms, 4 TTL ms.
    static let presenceAdd = """
        redis.call('hset', KEYS[1], ARGV[1], ARGV[2])
        redis.call('zadd', KEYS[2], ARGV[3], ARGV[1])
        redis.call('pexpire', KEYS[1], ARGV[4])
        redis.call('pexpire', KEYS[2], ARGV[4])
        return 1
        """

    /// KEYS: data hash, expire zset. ARGV: 1 client.
    static let presenceRemove = """
        redis.call('hdel', KEYS[1], ARGV[1])
        redis.call('zrem', KEYS[2], ARGV[1])
        return 1
        """

    /// KEYS: data hash, expire zset. ARGV: 1 now ms. Prunes expired members, returns HGETALL.
    static let presenceGet = """
        local expired = redis.call('zrangebyscore', KEYS[2], '-inf', ARGV[1])
        if #expired > 0 then
          for i = 1, #expired, 1000 do
            redis.call('hdel', KEYS[1], unpack(expired, i, math.min(i + 999, #expired)))
          end
          redis.call('zremrangebyscore', KEYS[2], '-inf', ARGV[1])
        end
        return redis.call('hgetall', KEYS[1])
        """

    static let all = [publish, history, fanout, cursors, presenceAdd, presenceRemove, presenceGet]
}
