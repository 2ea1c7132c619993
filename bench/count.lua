-- Counts the answers the API's response cache gave (RFC 9211 `Cache-Status: ...; hit`) and
-- prints "cache hits: H of N" when wrk is done; bench/run.py reads it. Used alone for a fixed
-- URL, and by meeting.lua (dofile) for random meetings.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

hits = 0
answered = 0

function response(status, headers, body)
  answered = answered + 1
  local cs = headers["cache-status"] or headers["Cache-Status"]
  if cs and cs:find("; hit", 1, true) then
    hits = hits + 1
  end
end

function done(summary, latency, requests)
  local h, n = 0, 0
  for _, t in ipairs(threads) do
    h = h + t:get("hits")
    n = n + t:get("answered")
  end
  io.write(string.format("cache hits: %d of %d\n", h, n))
end
