-- GET /api/v1/meetings/{random id}?include=... with ids drawn uniformly from
-- [BENCH_MIN_ID, BENCH_MAX_ID] (environment variables set by bench/run.py).
dofile(os.getenv("BENCH_LUA_DIR") .. "/count.lua")
local min_id = tonumber(os.getenv("BENCH_MIN_ID") or "1")
local max_id = tonumber(os.getenv("BENCH_MAX_ID") or "1")
local include = "participants,directives,shortcomings,documents"

function init(args)
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0))
end

function request()
  local id = math.random(min_id, max_id)
  return wrk.format("GET", "/api/v1/meetings/" .. id .. "?include=" .. include)
end
