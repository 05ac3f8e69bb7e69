-- wrk script: every request POSTs one transaction with a fresh id (so none is a duplicate).
-- Used by ingest-vs-nginx.sh; nginx answers the same requests with a bare `return 201`.
--
-- Ids are "wrk-<run>-<counter>". <run> must differ between wrk invocations against the same
-- server: Lua's math.random is not seeded by wrk, so without WRK_RUN every invocation drew the
-- same <run>, and a second run re-sent the first run's ids, which the server answers as cheap
-- duplicates (no journal write). ingest-vs-nginx.sh sets WRK_RUN per invocation.
local counter = 0
math.randomseed(os.time())
local run = os.getenv("WRK_RUN") or tostring(math.random(1, 1000000000))

request = function()
  counter = counter + 1
  local body = string.format(
    '{"id":"wrk-%s-%d","investorId":"inv-%d","syndicateId":"syn-%d","amount":"12.50"}',
    run, counter, counter % 1000, counter % 50)
  return wrk.format("POST", "/api/transactions", { ["Content-Type"] = "application/json" }, body)
end
