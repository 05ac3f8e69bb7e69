-- Syndicast cluster ingest: the idempotency check and the append of one commit group, atomically.
-- The rules (the cluster contract's "ingest script") are in docs/CLUSTER.md "How it works";
-- Tests/integration/test_cluster_script.py checks each of them on a real redis-server.
--
-- KEYS[1] = {syndicast}:stream
-- ARGV[1] = idempotency ttl in seconds, ARGV[2] = payload (opaque, stored as field p),
-- ARGV[3] = R requests, then per request: n, then n pairs id, fingerprint (id "" = no id).
-- Optional spike section (--spike-store redis; a call without it is decided and stored exactly as
-- without the section, and its entry has no field k), right after the last pair:
--   "spike", W (window ms, >= 1), S (threshold, >= 0), M (clock margin ms, >= 0, or "-": none),
--   then for every transaction of every transactions request, in request order (duplicates and
--   refused requests included: 2 x N values for N transactions): syndicate id, timestamp ms.
-- It evaluates the spike rule (docs/SPIKE-RULE.md) in Redis for each applied transaction in
-- stream order and stores the decisions as field k of the entry: tokens separated by one space,
-- ascending, "r.i:c" = transaction i of request r raises a spike alert with count c, "r.i-" =
-- its evaluation ends the syndicate's spike; "" when neither happens. Keys (docs/CLUSTER.md
-- "Spike rule in Redis"): <prefix>spike:clock (G), <prefix>spike:state (hash: syndicate ->
-- "newest spiking"), <prefix>spike:w:<syndicate> (sorted set, score = timestamp, member = the
-- transaction id, or a generated one without id; PEXPIRE 2W + M of Redis's clock).
--
-- Reply: { entry id or nil, { per request: {0, duplicates} or {1, conflicting indices...} } }.
--
-- Idempotency layout: ids live in time-bucketed hashes <prefix>ids:<bucket> (field = id, value =
-- fingerprint), bucket = floor(Redis server time / ttl), where <prefix> is KEYS[1] without its
-- trailing "stream" ("{syndicast}:"), so every key shares the stream's slot. A lookup reads the
-- current and the previous bucket; new ids go to the current one, which expires at the end of the
-- next bucket: an id is remembered at least ttl and at most 2 x ttl seconds. The bucket numbers
-- depend on ttl, so every instance must pass the same ttl (another ttl reads other buckets).
-- One HMGET/HSET per up to 3,000 ids instead of one SET with its own key and expiry per id makes
-- 1000-transaction calls 2.3x faster with AOF always (loadtest/redis/run.sh, docs/CLUSTER.md
-- "Capacity").
local stream = KEYS[1]
local ttl = ARGV[1]
local payload = ARGV[2]
local requestCount = tonumber(ARGV[3])
if requestCount == nil or requestCount < 0 or requestCount ~= math.floor(requestCount) then
  return redis.error_reply('ERR syndicast ingest: request count is not a number')
end
local ttlSeconds = tonumber(ttl)
if ttlSeconds == nil or ttlSeconds < 1 then
  return redis.error_reply('ERR syndicast ingest: ttl is not a positive number')
end
ttlSeconds = math.floor(ttlSeconds)
local prefix = string.sub(stream, 1, -7) .. 'ids:'
local serverTime = redis.call('TIME')
local now = tonumber(serverTime[1])
local bucket = math.floor(now / ttlSeconds)
local currentBucket = prefix .. bucket
local previousBucket = prefix .. (bucket - 1)
local bucketExpiresAt = (bucket + 2) * ttlSeconds
-- Fields per HMGET and pairs per HSET: unpack() of a whole 8 MiB NDJSON request (~100k ids)
-- would overflow Lua's stack (8,000 values).
local chunk = 3000
-- Where Redis's time goes, per new transaction of a 30 x 1,000-transaction call (redis-server
-- CPU, AOF always; loadtest/redis/ingest_call_cost.py): ~0.95 us receiving the command,
-- building ARGV and the XADD, ~0.2 us in the Lua loops, ~0.2 us HMGET, ~1.1 us HSET (the hash
-- insert itself: the same without AOF): ~2.4 us in all, ~2.8 us without the two tricks below.
--
-- A bucket that does not exist is not read: one EXISTS each instead of an HMGET of every id
-- saves ~0.2 us per transaction while the previous bucket is absent (the first ttl on an empty
-- Redis) and at the first call of each bucket; 1-transaction calls cost the same (9.1-9.8 us
-- per call either way, ingest_script_bench.py --transactions 1).
local lookupBuckets = {}
if redis.call('EXISTS', previousBucket) == 1 then lookupBuckets[#lookupBuckets + 1] = previousBucket end
if redis.call('EXISTS', currentBucket) == 1 then lookupBuckets[#lookupBuckets + 1] = currentBucket end

-- id -> fingerprint: accepted by an earlier request of this call, or seen earlier in the request
-- being checked (a refused request's ids are removed again). One table for both rules, counters
-- instead of #t, and all-new requests stored straight from ARGV (no copied pair list) save
-- ~0.25 us per transaction.
local seen = {}
local results = {}
local skips = {}
local anythingToApply = false
local cursor = 4
local requestPairs = {}     -- request -> {first pair's ARGV index, n}
local refusedRequests = {}  -- request -> true
local duplicateSets = {}    -- request -> {index -> true}
local stores = {}           -- accepted requests' new ids: {first pair's ARGV index, n} or {positions}
local storeCount = 0

for request = 0, requestCount - 1 do
  local count = tonumber(ARGV[cursor])
  if count == nil or count < 0 or count ~= math.floor(count) then
    return redis.error_reply('ERR syndicast ingest: bad transaction count for request ' .. request)
  end
  cursor = cursor + 1
  requestPairs[request] = {cursor, count}
  if count > 0 and ARGV[cursor + 2 * count - 1] == nil then
    return redis.error_reply('ERR syndicast ingest: request ' .. request .. ' has fewer pairs than its count')
  end
  if count == 0 then
    -- A message entry: always applied, no ids.
    anythingToApply = true
    results[#results + 1] = {0, 0}
  else
    local first = cursor
    local last = cursor + 2 * count - 2   -- the last id's ARGV index
    -- Look up every id not decided earlier in this call in the previous and the current bucket.
    local stored = {}
    if #lookupBuckets > 0 then
      local lookupIds = {}
      local lookupCount = 0
      for position = first, last, 2 do
        local id = ARGV[position]
        if id ~= '' and seen[id] == nil then
          lookupCount = lookupCount + 1
          lookupIds[lookupCount] = id
        end
      end
      for _, bucketKey in ipairs(lookupBuckets) do
        for from = 1, lookupCount, chunk do
          local to = math.min(from + chunk - 1, lookupCount)
          local values = redis.call('HMGET', bucketKey, unpack(lookupIds, from, to))
          for position = from, to do
            local value = values[position - from + 1]
            if value then
              stored[lookupIds[position]] = value
            end
          end
        end
      end
    end

    -- The ARGV index of each id this request adds, in order.
    local fresh = {}
    local freshCount = 0
    local duplicates = {}
    local duplicateCount = 0
    local conflicts = nil
    local hasNew = false
    for position = first, last, 2 do
      local id = ARGV[position]
      if id == '' then
        hasNew = true
      else
        local known = seen[id] or stored[id]
        if known then
          if known == ARGV[position + 1] then
            duplicateCount = duplicateCount + 1
            duplicates[duplicateCount] = (position - first) / 2
          else
            conflicts = conflicts or {1}   -- the request's result: {1, index...}
            conflicts[#conflicts + 1] = (position - first) / 2
          end
        else
          seen[id] = ARGV[position + 1]
          freshCount = freshCount + 1
          fresh[freshCount] = position
          hasNew = true
        end
      end
    end
    cursor = last + 2

    if conflicts then
      refusedRequests[request] = true
      skips[#skips + 1] = tostring(request)
      for position = 1, freshCount do
        seen[ARGV[fresh[position]]] = nil
      end
      results[#results + 1] = conflicts
    else
      local duplicateSet = {}
      for position = 1, duplicateCount do
        skips[#skips + 1] = request .. '.' .. duplicates[position]
        duplicateSet[duplicates[position]] = true
      end
      duplicateSets[request] = duplicateSet
      if freshCount == count then
        -- Every pair is new: stored straight from ARGV's id, fingerprint pairs.
        storeCount = storeCount + 1
        stores[storeCount] = {first, count}
      elseif freshCount > 0 then
        storeCount = storeCount + 1
        stores[storeCount] = {fresh}
      end
      if hasNew then
        anythingToApply = true
      end
      results[#results + 1] = {0, duplicateCount}
    end
  end
end

-- The spike rule (docs/SPIKE-RULE.md) for each applied transaction, in stream order: the same
-- decisions as the in-process TransactionMonitor on the same order. Returns field k's text.
local function evaluateSpikes(rule)
  local spikePrefix = string.sub(stream, 1, -7) .. 'spike:'
  local clockKey = spikePrefix .. 'clock'
  local stateKey = spikePrefix .. 'state'
  local clock = tonumber(redis.call('GET', clockKey) or '')
  local initialClock = clock
  local lag = rule.margin and (rule.window + rule.margin) or nil
  local expiry = rule.margin and (2 * rule.window + rule.margin) or nil
  -- syndicate -> {newest, spiking, window count (nil until read), last removal cutoff in this call}
  local states = {}
  local changedSet = {}    -- syndicates whose state to write back
  local changedOrder = {}  -- the same, in first-change order
  local touched = {}   -- window keys to give their expiry, once per call
  local touchedOrder = {}
  local tokens = {}
  local generated = 'no-id:' .. serverTime[1] .. '.' .. serverTime[2] .. ':'
  local value = rule.base
  for request = 0, requestCount - 1 do
    local pairsAt, count = requestPairs[request][1], requestPairs[request][2]
    local duplicateSet = duplicateSets[request]
    for index = 0, count - 1 do
      local syndicate = ARGV[value]
      local timestamp = tonumber(ARGV[value + 1])
      local score = ARGV[value + 1]
      value = value + 2
      if not refusedRequests[request] and not (duplicateSet and duplicateSet[index]) then
        local previousClock = clock
        if clock == nil or timestamp > clock then clock = timestamp end
        if not (lag and previousClock and timestamp <= previousClock - lag) then
          local state = states[syndicate]
          if state == nil then
            local stored = redis.call('HGET', stateKey, syndicate)
            local separator = stored and string.find(stored, ' ', 1, true)
            -- A field not of this form (not written by this script) reads as no state: a Lua
            -- error here would leave this call's earlier writes in place.
            if separator and tonumber(string.sub(stored, 1, separator - 1)) then
              state = {tonumber(string.sub(stored, 1, separator - 1)), string.sub(stored, separator + 1) == '1'}
            else
              state = {}
            end
            states[syndicate] = state
          end
          local windowKey = spikePrefix .. 'w:' .. syndicate
          local newest = state[1]
          local add = newest == nil or timestamp >= newest or timestamp > newest - rule.window
          if add then
            -- The member: the transaction id, or a generated one; a taken member (an id applied
            -- again after the idempotency window) gets a suffix, so every transaction counts once.
            if state[3] == nil then state[3] = redis.call('ZCARD', windowKey) end
            local id = ARGV[pairsAt + 2 * index]
            local member = id ~= '' and id or (generated .. request .. '.' .. index)
            local suffix = 0
            while redis.call('ZADD', windowKey, 'NX', score, member) == 0 do
              suffix = suffix + 1
              member = (id ~= '' and id or (generated .. request .. '.' .. index)) .. '#' .. suffix
            end
            state[3] = state[3] + 1
            if not touched[windowKey] then
              touched[windowKey] = true
              touchedOrder[#touchedOrder + 1] = windowKey
            end
          end
          if newest == nil or timestamp >= newest then
            -- Evaluate: ZREMRANGEBYSCORE -inf t-W, then every member left is in (t - W, t]. The
            -- count is kept here (ZCARD once per syndicate and call, then adds and removals), and
            -- the removal is skipped while t-W has not passed this call's last one for the
            -- syndicate: every member since is above it (late ones join above newest - W). Two
            -- of three commands per transaction saved for a batch sharing its timestamp.
            local cutoff = timestamp - rule.window
            if state[4] == nil or cutoff > state[4] then
              state[3] = state[3] - redis.call('ZREMRANGEBYSCORE', windowKey, '-inf', string.format('%.0f', cutoff))
              state[4] = cutoff
            end
            local windowCount = state[3]
            local wasSpiking = state[2]
            state[1] = timestamp
            if windowCount > rule.threshold then
              if not wasSpiking then
                state[2] = true
                tokens[#tokens + 1] = request .. '.' .. index .. ':' .. windowCount
              end
            else
              state[2] = false
              if wasSpiking then tokens[#tokens + 1] = request .. '.' .. index .. '-' end
            end
            if not changedSet[syndicate] then
              changedSet[syndicate] = true
              changedOrder[#changedOrder + 1] = syndicate
            end
          end
        end
      end
    end
  end
  if clock ~= nil and clock ~= initialClock then redis.call('SET', clockKey, string.format('%.0f', clock)) end
  for position = 1, #changedOrder do
    local state = states[changedOrder[position]]
    redis.call('HSET', stateKey, changedOrder[position], string.format('%.0f', state[1]) .. (state[2] and ' 1' or ' 0'))
  end
  if expiry then
    for position = 1, #touchedOrder do
      redis.call('PEXPIRE', touchedOrder[position], expiry)
    end
  end
  return table.concat(tokens, ' ')
end

local spike = nil
if ARGV[cursor] == 'spike' then
  spike = {window = tonumber(ARGV[cursor + 1]), threshold = tonumber(ARGV[cursor + 2]), base = cursor + 4}
  local margin = ARGV[cursor + 3]
  if margin ~= '-' then
    spike.margin = tonumber(margin)
    if spike.margin == nil or spike.margin < 0 or spike.margin ~= math.floor(spike.margin) then
      return redis.error_reply('ERR syndicast ingest: bad spike margin')
    end
  end
  if spike.window == nil or spike.window < 1 or spike.window ~= math.floor(spike.window)
    or spike.threshold == nil or spike.threshold < 0 or spike.threshold ~= math.floor(spike.threshold) then
    return redis.error_reply('ERR syndicast ingest: bad spike window or threshold')
  end
  local transactions = 0
  for request = 0, requestCount - 1 do
    transactions = transactions + requestPairs[request][2]
  end
  cursor = spike.base + 2 * transactions
  if ARGV[cursor - 1] == nil and transactions > 0 then
    return redis.error_reply('ERR syndicast ingest: the spike section has fewer values than transactions')
  end
  -- Timestamps are checked before anything is written: integers that a double holds exactly.
  for position = spike.base + 1, cursor - 1, 2 do
    local timestamp = tonumber(ARGV[position])
    if timestamp == nil or timestamp ~= math.floor(timestamp) or math.abs(timestamp) > 9007199254740991 then
      return redis.error_reply('ERR syndicast ingest: bad spike timestamp')
    end
  end
end
if ARGV[cursor] ~= nil then
  return redis.error_reply('ERR syndicast ingest: arguments after the last request')
end
if not anythingToApply then
  return {false, results}
end
local fields = {'p', payload, 's', table.concat(skips, ' ')}
if spike then
  fields[5] = 'k'
  fields[6] = evaluateSpikes(spike)
end
local entry = redis.call('XADD', stream, '*', unpack(fields))
if storeCount > 0 then
  -- After the XADD: an XADD refused (out of memory) leaves no id remembered without its entry.
  for position = 1, storeCount do
    local store = stores[position]
    if store[2] then
      -- ARGV's pairs as they are, 2 x chunk values per HSET.
      local last = store[1] + 2 * store[2] - 1
      for from = store[1], last, 2 * chunk do
        redis.call('HSET', currentBucket, unpack(ARGV, from, math.min(from + 2 * chunk - 1, last)))
      end
    else
      local positions = store[1]
      for from = 1, #positions, chunk do
        local fields = {}
        local fieldCount = 0
        for index = from, math.min(from + chunk - 1, #positions) do
          fields[fieldCount + 1] = ARGV[positions[index]]
          fields[fieldCount + 2] = ARGV[positions[index] + 1]
          fieldCount = fieldCount + 2
        end
        redis.call('HSET', currentBucket, unpack(fields, 1, fieldCount))
      end
    end
  end
  -- NX: only the call that creates the bucket sets (and logs to the AOF) its expiry, the same
  -- instant for every call in that bucket; 1-transaction calls run 5-13% faster (loadtest/redis).
  redis.call('EXPIREAT', currentBucket, bucketExpiresAt, 'NX')
end
return {entry, results}
