-- Syndicast cluster ingest: the idempotency check and the append of one commit group, atomically.
-- The rules (the cluster contract's "ingest script") are in docs/CLUSTER.md "How it works";
-- Tests/integration/test_cluster_script.py checks each of them on a real redis-server.
--
-- KEYS[1] = {syndicast}:stream
-- ARGV[1] = idempotency ttl in seconds, ARGV[2] = payload (opaque, stored as field p),
-- ARGV[3] = R requests, then per request: n, then n pairs id, fingerprint (id "" = no id).
--
-- Reply: { entry id or nil, { per request: {0, duplicates} or {1, conflicting indices...} } }.
--
-- Idempotency layout: ids live in time-bucketed hashes <prefix>ids:<bucket> (field = id, value =
-- fingerprint), bucket = floor(Redis server time / ttl), where <prefix> is KEYS[1] without its
-- trailing "stream" ("{syndicast}:"), so every key shares the stream's slot. A lookup reads the
-- current and the previous bucket; new ids go to the current one, which expires at the end of the
-- next bucket: an id is remembered at least ttl and at most 2 x ttl seconds. The bucket numbers
-- depend on ttl, so every instance must pass the same ttl (another ttl reads other buckets).
-- One HMGET/HSET per 1000 ids instead of one SET with its own key and expiry per id makes
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
local now = tonumber(redis.call('TIME')[1])
local bucket = math.floor(now / ttlSeconds)
local currentBucket = prefix .. bucket
local previousBucket = prefix .. (bucket - 1)
local bucketExpiresAt = (bucket + 2) * ttlSeconds
-- Fields per HMGET/HSET: unpack() of a whole 8 MiB NDJSON request (~100k ids) would overflow
-- Lua's stack.
local chunk = 1000

local acceptedInCall = {}   -- id -> fingerprint accepted by an earlier request of this call
local newIds = {}           -- id, fingerprint, id, fingerprint, ... to store on append
local results = {}
local skips = {}
local anythingToApply = false
local cursor = 4

for request = 0, requestCount - 1 do
  local count = tonumber(ARGV[cursor])
  if count == nil or count < 0 or count ~= math.floor(count) then
    return redis.error_reply('ERR syndicast ingest: bad transaction count for request ' .. request)
  end
  cursor = cursor + 1
  if count > 0 and ARGV[cursor + 2 * count - 1] == nil then
    return redis.error_reply('ERR syndicast ingest: request ' .. request .. ' has fewer pairs than its count')
  end
  if count == 0 then
    -- A message entry: always applied, no ids.
    anythingToApply = true
    results[#results + 1] = {0, 0}
  else
    -- Look up every id not decided earlier in this call in the previous and the current bucket.
    local lookupIds = {}
    for index = 0, count - 1 do
      local id = ARGV[cursor + 2 * index]
      if id ~= '' and acceptedInCall[id] == nil then
        lookupIds[#lookupIds + 1] = id
      end
    end
    local stored = {}
    for _, bucketKey in ipairs({previousBucket, currentBucket}) do
      for first = 1, #lookupIds, chunk do
        local last = math.min(first + chunk - 1, #lookupIds)
        local values = redis.call('HMGET', bucketKey, unpack(lookupIds, first, last))
        for position = first, last do
          local value = values[position - first + 1]
          if value then
            stored[lookupIds[position]] = value
          end
        end
      end
    end

    local inRequest = {}      -- id -> fingerprint, first occurrence inside this request
    local freshIds = {}       -- ids this request would add, in order
    local duplicates = {}
    local conflicts = {}
    local hasNew = false
    for index = 0, count - 1 do
      local id = ARGV[cursor]
      local fingerprint = ARGV[cursor + 1]
      cursor = cursor + 2
      if id == '' then
        hasNew = true
      else
        local known = inRequest[id] or acceptedInCall[id] or stored[id]
        if known then
          if known == fingerprint then
            duplicates[#duplicates + 1] = index
          else
            conflicts[#conflicts + 1] = index
          end
        else
          inRequest[id] = fingerprint
          freshIds[#freshIds + 1] = id
          hasNew = true
        end
      end
    end

    if #conflicts > 0 then
      skips[#skips + 1] = tostring(request)
      local result = {1}
      for position = 1, #conflicts do
        result[position + 1] = conflicts[position]
      end
      results[#results + 1] = result
    else
      for position = 1, #duplicates do
        skips[#skips + 1] = request .. '.' .. duplicates[position]
      end
      for position = 1, #freshIds do
        local id = freshIds[position]
        acceptedInCall[id] = inRequest[id]
        newIds[#newIds + 1] = id
        newIds[#newIds + 1] = inRequest[id]
      end
      if hasNew then
        anythingToApply = true
      end
      results[#results + 1] = {0, #duplicates}
    end
  end
end

if ARGV[cursor] ~= nil then
  return redis.error_reply('ERR syndicast ingest: arguments after the last request')
end
if not anythingToApply then
  return {false, results}
end
local entry = redis.call('XADD', stream, '*', 'p', payload, 's', table.concat(skips, ' '))
if #newIds > 0 then
  for first = 1, #newIds, 2 * chunk do
    local last = math.min(first + 2 * chunk - 1, #newIds)
    redis.call('HSET', currentBucket, unpack(newIds, first, last))
  end
  -- NX: only the call that creates the bucket sets (and logs to the AOF) its expiry, the same
  -- instant for every call in that bucket; 1-transaction calls run 5-13% faster (loadtest/redis).
  redis.call('EXPIREAT', currentBucket, bucketExpiresAt, 'NX')
end
return {entry, results}
