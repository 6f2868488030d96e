-- wrk script: GET /v1/cases/{id} for cases chosen at random, as their family manager.
-- scripts/bench_planning.py writes cases.lua (the seeded case ids) and sets TOKEN and
-- DELAY_MS (0: as fast as possible; otherwise each connection waits that long between
-- requests, which paces the rate).
local cases = dofile(os.getenv("CASES_FILE"))
local token = os.getenv("TOKEN")
local pause = tonumber(os.getenv("DELAY_MS") or "0")

request = function()
  local id = cases[math.random(#cases)]
  return wrk.format("GET", "/v1/cases/" .. id, { ["Authorization"] = "Bearer " .. token })
end

if pause > 0 then
  delay = function() return pause end
end
