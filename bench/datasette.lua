-- Datasette: one whole meeting = the requests below, in sequence, for one meeting id drawn
-- uniformly from [BENCH_MIN_ID, BENCH_MAX_ID] (environment variables set by bench/run.py).
-- Whole meetings per second = requests per second / #paths (bench/run.py does the division).
-- BENCH_DB is the database name Datasette serves the file under.
local min_id = tonumber(os.getenv("BENCH_MIN_ID") or "1")
local max_id = tonumber(os.getenv("BENCH_MAX_ID") or "1")
local db = os.getenv("BENCH_DB") or "sqlite"
local paths = {
  "/%s/meeting/%d.json",
  "/%s/participant.json?meeting_id=%d&_size=max&_labels=on",
  "/%s/directive.json?meeting_id=%d&_size=max&_labels=on",
  "/%s/shortcoming.json?meeting_id=%d&_size=max",
  "/%s/meeting_document.json?meeting_id=%d&_size=max&_labels=on",
}
local step = 0
local id = min_id

function init(args)
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0))
end

function request()
  if step % #paths == 0 then
    id = math.random(min_id, max_id)
  end
  local path = string.format(paths[step % #paths + 1], db, id)
  step = step + 1
  return wrk.format("GET", path)
end
