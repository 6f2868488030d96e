-- wrk script: PUT /v1/cases/{id}/plan, a new version of one case's plan after another, each
-- made on the version the previous answer's ETag named. Run with one connection per thread
-- (-c equal to -t), so that every answer belongs to the thread's last request.
local cases = dofile(os.getenv("CASES_FILE"))
local token = os.getenv("TOKEN")
local body = [[{"reason":"Bench: goal dates moved","plan":{"currentSituation":"Moeder alleen met twee kinderen; schulden.","concerns":["Ruzies in huis"],"strengths":["Oma helpt elke woensdag"],"talents":[{"memberRef":"c1","talent":"voetbal","stage":"inspire","ageBand":"4-12"}],"goals":[{"id":"g1","what":"Vaste bedtijden","dueOn":"2027-03-01","responsible":{"kind":"member","who":"p1"}},{"id":"g2","what":"Schulden in beeld","dueOn":"2027-06-01","responsible":{"kind":"organisation","who":"Schuldhulp"}}],"safetyAgreements":["Bij ruzie belt moeder oma"]}}]]
local threads = {}

setup = function(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

local etags = {}
local next_case = 0
local current = nil

request = function()
  next_case = next_case + 1
  -- This thread's cases: every second one, starting from its index (two threads).
  local position = ((next_case - 1) * 2 + index) % #cases + 1
  current = cases[position]
  local etag = etags[current] or '"1"'
  return wrk.format("PUT", "/v1/cases/" .. current .. "/plan",
    { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json", ["If-Match"] = etag }, body)
end

response = function(status, headers, _)
  -- Anything but 201 shows in wrk's "Non-2xx or 3xx responses"; the next change is then
  -- made on the version the answer named, if it named one.
  local etag = headers["ETag"] or headers["etag"]
  if etag then etags[current] = etag end
end
