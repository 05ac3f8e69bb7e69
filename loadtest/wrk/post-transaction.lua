-- wrk script: every request POSTs one transaction with a fresh id (so none is a duplicate).
-- Used by ingest-vs-nginx.sh; nginx answers the same requests with a bare `return 201`.
local counter = 0
local run = math.random(1, 1000000000)

request = function()
  counter = counter + 1
  local body = string.format(
    '{"id":"wrk-%d-%d","investorId":"inv-%d","syndicateId":"syn-%d","amount":"12.50"}',
    run, counter, counter % 1000, counter % 50)
  return wrk.format("POST", "/api/transactions", { ["Content-Type"] = "application/json" }, body)
end
