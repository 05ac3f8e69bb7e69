import Redis

extension ClusterSnapshotStore {
    /// Takes the lease if nobody holds it, or extends it if `ARGV[1]` holds it; replies 1 when
    /// `ARGV[1]` holds it afterwards, else 0. `KEYS[1]` = the lease, `ARGV[2]` = its lifetime in
    /// milliseconds. One script, so the check and the extension cannot interleave with another
    /// instance's take-over.
    static let leaseScript = RedisScript(
        """
        local holder = redis.call('GET', KEYS[1])
        if holder == ARGV[1] then
          redis.call('PEXPIRE', KEYS[1], ARGV[2])
          return 1
        end
        if holder then return 0 end
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        return 1
        """)

    /// Deletes the lease if `ARGV[1]` holds it; replies 1 if it did.
    static let releaseScript = RedisScript(
        """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          redis.call('DEL', KEYS[1])
          return 1
        end
        return 0
        """)

    /// Publishes a staged snapshot and trims the stream, atomically.
    ///
    /// `KEYS` = snapshot hash, lease, stream, epoch key, the writer's two staging keys (monitor,
    /// broker), the new snapshot's two part keys, the replaced snapshot's two part keys;
    /// `ARGV` = instance, epoch, position (`ms-seq`), format, monitor length, broker length,
    /// wall-clock milliseconds, the stored snapshot the writer saw (`epoch:position`, or empty), and
    /// the number of elements in each staging list (monitor, broker).
    /// Refused (`{0, reason}`, the staging keys deleted) unless `ARGV[1]` holds the lease, the
    /// epoch key still holds `ARGV[2]`, the hash still names what the writer saw, the position is
    /// newer than the stored snapshot's (of the same epoch), and both staging lists hold every
    /// chunk. Otherwise the replaced parts are deleted, the staging keys are renamed onto the
    /// part keys (O(1), the megabytes are not copied; `PERSIST` drops the staging expiry), the
    /// hash is replaced by the small fields (`previous` = the replaced snapshot's position), and
    /// the stream is trimmed to it (`XTRIM MINID previous`: entries before it go, it and every
    /// later one stay), so an instance that restored the previous snapshot still reads on without
    /// a gap. Replies `{1, entries trimmed}`.
    ///
    /// Stream ids are compared as two decimal numbers (length first, then text: Redis writes
    /// them without leading zeros), exactly, where Lua's doubles would round past 2^53.
    static let writeScript = RedisScript(
        """
        local function parse(id)
          if type(id) ~= 'string' then return nil end
          return string.match(id, '^(%d+)%-(%d+)$')
        end
        local function less(a, b)
          if #a ~= #b then return #a < #b end
          return a < b
        end
        local function before(x, y)
          local xm, xs = parse(x)
          local ym, ys = parse(y)
          if xm ~= ym then return less(xm, ym) end
          return less(xs, ys)
        end
        local function refuse(reason)
          redis.call('DEL', KEYS[5], KEYS[6])
          return {0, reason}
        end
        if not parse(ARGV[3]) then return refuse('malformed position') end
        if redis.call('GET', KEYS[2]) ~= ARGV[1] then return refuse('the lease is not held by this instance') end
        if redis.call('GET', KEYS[4]) ~= ARGV[2] then return refuse('the stream epoch changed') end
        local stored = redis.call('HMGET', KEYS[1], 'epoch', 'position')
        local seen = ''
        if stored[1] and stored[2] then seen = stored[1] .. ':' .. stored[2] end
        if seen ~= ARGV[8] then return refuse('the stored snapshot changed during the write') end
        local previous = ''
        if stored[1] == ARGV[2] and parse(stored[2]) then
          if not before(stored[2], ARGV[3]) then return refuse('a snapshot at or after this position is stored') end
          previous = stored[2]
        end
        if redis.call('LLEN', KEYS[5]) ~= tonumber(ARGV[9]) or redis.call('LLEN', KEYS[6]) ~= tonumber(ARGV[10]) then
          return refuse('the staged parts are incomplete')
        end
        if seen ~= '' then
          if KEYS[9] ~= KEYS[7] then redis.call('DEL', KEYS[9]) end
          if KEYS[10] ~= KEYS[8] then redis.call('DEL', KEYS[10]) end
        end
        redis.call('RENAME', KEYS[5], KEYS[7])
        redis.call('PERSIST', KEYS[7])
        redis.call('RENAME', KEYS[6], KEYS[8])
        redis.call('PERSIST', KEYS[8])
        redis.call('DEL', KEYS[1])
        redis.call('HSET', KEYS[1], 'format', ARGV[4], 'epoch', ARGV[2], 'position', ARGV[3], 'previous', previous,
          'monitor-length', ARGV[5], 'broker-length', ARGV[6], 'instance', ARGV[1], 'taken', ARGV[7])
        local trimmed = 0
        if previous ~= '' then trimmed = redis.call('XTRIM', KEYS[3], 'MINID', previous) end
        return {1, trimmed}
        """)
}
