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
    /// One publication to one or more channels whose deliveries share one fan-out stream (a publish, or a group of a
    /// broadcast's channels). KEYS: 1 fanout, 2 fanout seq, then per channel meta, stream, result.
    /// ARGV: 1 encoded pub, 2 now, 3 epoch for a new stream, 4 fan-out MAXLEN, then per channel (10 each): channel,
    /// history size, history TTL ms, meta TTL ms, result TTL ms, keeps history (0/1), idempotent (0/1), meta expire-at,
    /// publications expire-at, result expire-at; last the master's identity ("" when not tracked) and the identities a
    /// stream may carry without a new epoch. Returns {offset, epoch, fromCache} per channel, flattened.
    static let publish = identityChanged + publishOne + """
        local out = {}
        local now = tonumber(ARGV[2])
        local identity = ARGV[#ARGV - 1]
        local accepted = ARGV[#ARGV]
        for i = 0, (#KEYS - 2) / 3 - 1 do
          local k = 3 + i * 3
          local a = 5 + i * 10
          local r = publish_one(KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[1], KEYS[2], ARGV[1], ARGV[a + 1], ARGV[a + 2],
            ARGV[a + 3], ARGV[a + 4], now, ARGV[3], ARGV[a + 5], ARGV[a + 6], ARGV[4], ARGV[a], ARGV[a + 7], ARGV[a + 8],
            ARGV[a + 9], identity, accepted)
          for j = 1, 3 do out[#out + 1] = r[j] end
        end
        return out
        """

    /// One publication: appends to the channel's history (when it keeps one) and its delivery to the fan-out stream,
    /// or answers the result an idempotency key already has. A stream last written under another master gets a new
    /// epoch: after a failover, a position handed out by the old master (which may have taken writes the new one
    /// never saw) can never look valid. Returns {offset, epoch, fromCache}.
    static let publishOne = """
        local function publish_one(k_meta, k_stream, k_result, k_fanout, k_seq, pub, history_size, history_ttl, meta_ttl,
            result_ttl, now, new_epoch, keeps, idem, maxlen, channel, meta_x, pubs_x, result_x, identity, accepted)
          if idem == '1' then
            local r = redis.call('hmget', k_result, 'x', 'o', 'e')
            if r[1] and tonumber(r[1]) > now then
              return {r[2], r[3], 1}
            end
          end
          local offset = 0
          local epoch = ''
          if keeps == '1' then
            local m = redis.call('hmget', k_meta, 'e', 'x', 'sx', 'm')
            epoch = m[1]
            if (not epoch) or (not m[2]) or tonumber(m[2]) <= now then
              epoch = new_epoch
              redis.call('del', k_meta, k_stream)
              redis.call('hset', k_meta, 'e', epoch, 's', 0)
              if identity ~= '' then redis.call('hset', k_meta, 'm', identity) end
            else
              if identity_changed(m[4], identity, accepted) then
                epoch = new_epoch
                redis.call('hset', k_meta, 'e', epoch)
              end
              if identity ~= '' and m[4] ~= identity then redis.call('hset', k_meta, 'm', identity) end
              if m[3] and tonumber(m[3]) <= now then
                redis.call('del', k_stream)
              end
            end
            offset = redis.call('hincrby', k_meta, 's', 1)
            redis.call('hset', k_meta, 'x', meta_x, 'sx', pubs_x)
            redis.call('pexpire', k_meta, meta_ttl)
            redis.call('xadd', k_stream, 'MAXLEN', history_size, tostring(offset) .. '-0', 'd', pub)
            redis.call('pexpire', k_stream, history_ttl)
          end
          local n = redis.call('incr', k_seq)
          redis.call('xadd', k_fanout, 'MAXLEN', '~', maxlen, '*', 'n', n, 't', 'p', 'c', channel, 'd', pub, 'o', offset, 'e', epoch)
          if idem == '1' then
            redis.call('hset', k_result, 'x', result_x, 'o', offset, 'e', epoch)
            redis.call('pexpire', k_result, result_ttl)
          end
          return {offset, epoch, 0}
        end

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
}
