-- Syndicast cluster ingest: the idempotency check and the append of one commit group, atomically.
-- The rules (the cluster contract's "ingest script") are in docs/CLUSTER.md "How it works" and "The
-- idempotency window"; Tests/integration/test_cluster_script.py checks each of them on a real redis-server.
--
-- The idempotency window is the stream itself. Every entry carries, in field i, one 24-byte
-- record per transaction of its applied requests: the id's 128-bit digest (16 bytes, keyed with
-- the cluster's key {syndicast}:idkey) and its content fingerprint's digest (8 bytes); 24 zero
-- bytes for a transaction without id. Every instance applies the entries in order and keeps the
-- window (the last --idempotency-window ids, younger than --redis-idempotency-ttl by the entries'
-- stream time) as a pure function of them. The caller decides its group against its window as of
-- the last entry it applied, P (known duplicates are passed in; a conflict there is refused before
-- the call); this script decides the rest: against the entries after P, and inside the call.
-- The two together decide exactly what one check against the whole window would.
--
-- KEYS[1] = {syndicast}:stream
-- ARGV[1] = P, the last entry the caller applied ("0-0": none), ARGV[2] = payload (opaque, stored
-- as field p), ARGV[3] = "1" if a non-zero id digest may occur twice among the call's records
-- ("0": the caller checked that none does, so no per-transaction work is needed when no entry
-- follows P), ARGV[4] = R requests, then per request: n, records (24 x n bytes, one per
-- transaction), known (ascending indices, separated by one space, of the transactions the caller
-- found to be duplicates as of P; "" none). n = 0 is a message.
-- At most 1,000 entries holding at most 262,144 records may follow P: a caller further behind is
-- refused (it is catching up).
-- Optional spike section (--spike-store redis; a call without it is decided and stored exactly as
-- without the section, and its entry has no field k), right after the last request:
--   "spike", W (window ms, >= 1), S (threshold, >= 0), M (clock margin ms, >= 0, or "-": none),
--   then for every transaction of every transactions request, in request order (duplicates and
--   refused requests included: 3 x N values for N transactions): syndicate id, timestamp ms, id
--   ("" none).
-- It evaluates the spike rule (docs/SPIKE-RULE.md) in Redis for each applied transaction in
-- stream order and stores the decisions as field k of the entry: tokens separated by one space,
-- ascending, "r.i:c" = transaction i of request r raises a spike alert with count c, "r.i-" =
-- its evaluation ends the syndicate's spike; "" when neither happens. Keys (docs/CLUSTER.md
-- "Spike rule in Redis"): <prefix>spike:clock (G), <prefix>spike:state (hash: syndicate ->
-- "newest spiking"), <prefix>spike:w:<syndicate> (sorted set, score = timestamp, member = the
-- transaction id, or a generated one without id; PEXPIRE 2W + M of Redis's clock).
--
-- Reply: { entry id or nil, { per request: {0, duplicates} or {1, conflicting indices...} } }.
-- Entry fields: p (payload), s (skip list: "r" refused request, "r.i" duplicate transaction,
-- ascending, one space apart), i (records of the requests not refused, in order), k (spikes).
local stream = KEYS[1]
local after = ARGV[1]
local payload = ARGV[2]
local repeats = ARGV[3]
local requestCount = tonumber(ARGV[4])
if type(after) ~= 'string' or not string.match(after, '^%d+%-%d+$') then
  return redis.error_reply('ERR syndicast ingest: the applied position is not a stream id')
end
if repeats ~= '0' and repeats ~= '1' then
  return redis.error_reply('ERR syndicast ingest: the repeats flag is not 0 or 1')
end
if requestCount == nil or requestCount < 0 or requestCount ~= math.floor(requestCount) then
  return redis.error_reply('ERR syndicast ingest: request count is not a number')
end
local zero = string.rep('\0', 16)
-- Entries another caller (or this one) appended after P: their ids are not in the caller's window.
-- Bounded, so that one call's work is bounded (~0.5 us of Redis's time per record): a caller
-- further behind is refused (503) until it has caught up.
local behindLimit = 1000
local recordLimit = 262144
local following = redis.call('XRANGE', stream, '(' .. after, '+', 'COUNT', behindLimit + 1)
if #following > behindLimit then
  return redis.error_reply('ERR syndicast ingest: the caller is more than ' .. behindLimit .. ' entries behind the stream')
end
local recordCount = 0
for position = 1, #following do
  local fields = following[position][2]
  for field = 1, #fields, 2 do
    if fields[field] == 'i' then recordCount = recordCount + #fields[field + 1] / 24 end
  end
end
if recordCount > recordLimit then
  return redis.error_reply('ERR syndicast ingest: the caller is more than ' .. recordLimit .. ' ids behind the stream')
end
-- id digest -> fingerprint digest of every id in those entries (nil when there are none).
local recent = nil
for position = 1, #following do
  local fields = following[position][2]
  for field = 1, #fields, 2 do
    if fields[field] == 'i' then
      local records = fields[field + 1]
      for offset = 1, #records - 23, 24 do
        local key = string.sub(records, offset, offset + 15)
        if key ~= zero then
          recent = recent or {}
          recent[key] = string.sub(records, offset + 16, offset + 23)
        end
      end
    end
  end
end
-- Per transaction work only when a record can meet a known id: entries after P, or repeats.
local checkEach = recent ~= nil or repeats == '1'
recent = recent or {}

-- id digest -> fingerprint digest of the ids accepted so far in this call (repeats only); a
-- refused request's ids are removed again.
local seen = {}
local results = {}
local skips = {}
local kept = {}             -- the records of the requests not refused, in order (field i)
local anythingToApply = false
local cursor = 5
local requestPairs = {}     -- request -> {its first spike value's offset in transactions, n}
local refusedRequests = {}  -- request -> true
local duplicateSets = {}    -- request -> {index -> true}
local transactionsSoFar = 0

for request = 0, requestCount - 1 do
  local count = tonumber(ARGV[cursor])
  if count == nil or count < 0 or count ~= math.floor(count) then
    return redis.error_reply('ERR syndicast ingest: bad transaction count for request ' .. request)
  end
  local records = ARGV[cursor + 1]
  local knownText = ARGV[cursor + 2]
  if records == nil or knownText == nil or #records ~= 24 * count then
    return redis.error_reply('ERR syndicast ingest: request ' .. request .. ' has not 24 bytes of records per transaction')
  end
  cursor = cursor + 3
  requestPairs[request] = {transactionsSoFar, count}
  transactionsSoFar = transactionsSoFar + count
  local duplicateSet = {}
  local duplicateCount = 0
  local duplicates = {}
  local previous = -1
  for token in string.gmatch(knownText, '[^ ]+') do
    local index = tonumber(token)
    if index == nil or index ~= math.floor(index) or index <= previous or index >= count then
      return redis.error_reply('ERR syndicast ingest: bad known duplicates for request ' .. request)
    end
    previous = index
    duplicateSet[index] = true
    duplicateCount = duplicateCount + 1
    duplicates[duplicateCount] = index
  end
  if count == 0 then
    -- A message entry: always applied, no ids.
    anythingToApply = true
    results[#results + 1] = {0, 0}
    duplicateSets[request] = duplicateSet
  else
    local conflicts = nil
    local fresh = {}
    local freshCount = 0
    if checkEach then
      for index = 0, count - 1 do
        if not duplicateSet[index] then
          local offset = 24 * index + 1
          local key = string.sub(records, offset, offset + 15)
          if key ~= zero then
            local fingerprint = string.sub(records, offset + 16, offset + 23)
            local known = seen[key] or recent[key]
            if known == nil then
              if repeats == '1' then
                seen[key] = fingerprint
                freshCount = freshCount + 1
                fresh[freshCount] = key
              end
            elseif known == fingerprint then
              duplicateSet[index] = true
              duplicateCount = duplicateCount + 1
              duplicates[duplicateCount] = index
            else
              conflicts = conflicts or {1}   -- the request's result: {1, index...}
              conflicts[#conflicts + 1] = index
            end
          end
        end
      end
    end
    if conflicts then
      refusedRequests[request] = true
      skips[#skips + 1] = tostring(request)
      for position = 1, freshCount do
        seen[fresh[position]] = nil
      end
      results[#results + 1] = conflicts
    else
      table.sort(duplicates)
      for position = 1, duplicateCount do
        skips[#skips + 1] = request .. '.' .. duplicates[position]
      end
      duplicateSets[request] = duplicateSet
      kept[#kept + 1] = records
      if duplicateCount < count then
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
  local serverTime = redis.call('TIME')
  local generated = 'no-id:' .. serverTime[1] .. '.' .. serverTime[2] .. ':'
  local value = rule.base
  for request = 0, requestCount - 1 do
    local count = requestPairs[request][2]
    local duplicateSet = duplicateSets[request]
    for index = 0, count - 1 do
      local syndicate = ARGV[value]
      local timestamp = tonumber(ARGV[value + 1])
      local score = ARGV[value + 1]
      local id = ARGV[value + 2]
      value = value + 3
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
  cursor = spike.base + 3 * transactionsSoFar
  if ARGV[cursor - 1] == nil and transactionsSoFar > 0 then
    return redis.error_reply('ERR syndicast ingest: the spike section has fewer values than transactions')
  end
  -- Timestamps are checked before anything is written: integers that a double holds exactly.
  for position = spike.base + 1, cursor - 1, 3 do
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
-- Requests are decided in order and each one's duplicates sorted: the skip list is ascending.
local fields = {'p', payload, 's', table.concat(skips, ' '), 'i', table.concat(kept)}
if spike then
  fields[7] = 'k'
  fields[8] = evaluateSpikes(spike)
end
return {redis.call('XADD', stream, '*', unpack(fields)), results}
