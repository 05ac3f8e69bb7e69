-- The contract's first layout (one key {syndicast}:id:<id> with EX ttl per id), kept only so
-- loadtest/redis/ingest_script_bench.py --script can compare it with Sources/Cluster/ingest.lua.
-- Syndicast cluster ingest: the idempotency check and the append of one commit group, atomically.
-- Contract: /work/wt/CLUSTER-CONTRACT.md ("The ingest script"); operator view: docs/CLUSTER.md.
--
-- KEYS[1] = {syndicast}:stream
-- ARGV[1] = idempotency ttl in seconds, ARGV[2] = payload (opaque, stored as field p),
-- ARGV[3] = R requests, then per request: n, then n pairs id, fingerprint (id "" = no id).
--
-- Reply: { entry id or nil, { per request: {0, duplicates} or {1, conflicting indices...} } }.
--
-- Idempotency layout: per id a key <prefix>id:<id> = fingerprint with EX ttl, where <prefix> is
-- KEYS[1] without its trailing "stream" ("{syndicast}:"), so every key shares the stream's slot.
-- Lookups of a request go out as MGETs of up to 1000 keys (the ids not decided earlier in the call).

local stream = KEYS[1]
local ttl = ARGV[1]
local payload = ARGV[2]
local requestCount = tonumber(ARGV[3])
if requestCount == nil or requestCount < 0 then
  return redis.error_reply('ERR syndicast ingest: request count is not a number')
end
local prefix = string.sub(stream, 1, -7) .. 'id:'
-- Keys per MGET: unpack() of a whole 8 MiB NDJSON request (~100k ids) would overflow Lua's stack.
local lookupChunk = 1000

local acceptedInCall = {}   -- id -> fingerprint accepted by an earlier request of this call
local newIds = {}           -- key, fingerprint, key, fingerprint, ... to store on append
local results = {}
local skips = {}
local anythingToApply = false
local cursor = 4

for request = 0, requestCount - 1 do
  local count = tonumber(ARGV[cursor])
  if count == nil or count < 0 then
    return redis.error_reply('ERR syndicast ingest: bad transaction count for request ' .. request)
  end
  cursor = cursor + 1
  if count == 0 then
    -- A message entry: always applied, no ids.
    anythingToApply = true
    results[#results + 1] = {0, 0}
  else
    -- Look up every id not decided earlier in this call with one MGET.
    local lookupKeys = {}
    for index = 0, count - 1 do
      local id = ARGV[cursor + 2 * index]
      if id ~= '' and acceptedInCall[id] == nil then
        lookupKeys[#lookupKeys + 1] = prefix .. id
      end
    end
    local stored = {}
    for first = 1, #lookupKeys, lookupChunk do
      local last = math.min(first + lookupChunk - 1, #lookupKeys)
      local values = redis.call('MGET', unpack(lookupKeys, first, last))
      for position = first, last do
        stored[lookupKeys[position]] = values[position - first + 1]
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
        local known = inRequest[id] or acceptedInCall[id] or stored[prefix .. id]
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
        newIds[#newIds + 1] = prefix .. id
        newIds[#newIds + 1] = inRequest[id]
      end
      if hasNew then
        anythingToApply = true
      end
      results[#results + 1] = {0, #duplicates}
    end
  end
end

if not anythingToApply then
  return {false, results}
end
local entry = redis.call('XADD', stream, '*', 'p', payload, 's', table.concat(skips, ' '))
for position = 1, #newIds, 2 do
  redis.call('SET', newIds[position], newIds[position + 1], 'EX', ttl)
end
return {entry, results}
