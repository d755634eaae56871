-- wrk script of `deno task bench`: tenant-API requests with varying X-User-Id.
-- Environment:
--   BENCH_METHOD, BENCH_PATH     request line (POST /api/data)
--   BENCH_KEY                    the API key (Authorization: Bearer …)
--   BENCH_PLAN                   optional X-User-Plan
--   BENCH_BODY                   optional JSON body (e.g. {"feature":"exports"})
--   BENCH_USERS, BENCH_PREFIX    cycle over end-users PREFIX1 … PREFIX<USERS> (pre-built requests)
--   BENCH_DISTINCT_FROM          instead: a new end-user PREFIX<n> per request, n from this number
--   BENCH_COUNT=1                count answers by status class (wrk then parses every response)
-- Prints one line "BENCH_JSON {…}" with the totals, latency percentiles (µs) and status counts.

local method = os.getenv("BENCH_METHOD") or "POST"
local path = os.getenv("BENCH_PATH") or "/api/data"
local key = os.getenv("BENCH_KEY") or ""
local plan = os.getenv("BENCH_PLAN")
local body = os.getenv("BENCH_BODY")
if body == "" then body = nil end
local users = tonumber(os.getenv("BENCH_USERS") or "1")
local prefix = os.getenv("BENCH_PREFIX") or "user-"
local distinct = tonumber(os.getenv("BENCH_DISTINCT_FROM") or "")
local counting = os.getenv("BENCH_COUNT") == "1"

local function build(user)
  local headers = { ["Authorization"] = "Bearer " .. key, ["X-User-Id"] = user }
  if plan and plan ~= "" then headers["X-User-Plan"] = plan end
  if body then headers["Content-Type"] = "application/json" end
  return wrk.format(method, path, headers, body)
end

local prebuilt = {}
local sent = 0
s2xx, s429, s5xx, sother = 0, 0, 0, 0

function init(args)
  if not distinct then
    for i = 1, users do prebuilt[i] = build(prefix .. i) end
  end
  if not counting then response = nil end
end

function request()
  sent = sent + 1
  if distinct then return build(prefix .. (distinct + sent)) end
  return prebuilt[(sent - 1) % users + 1]
end

function response(status, headers, body)
  if status < 300 then s2xx = s2xx + 1
  elseif status == 429 then s429 = s429 + 1
  elseif status >= 500 then s5xx = s5xx + 1
  else sother = sother + 1 end
end

local threads = {}
function setup(thread) table.insert(threads, thread) end

function done(summary, latency, requests)
  local c = { s2xx = 0, s429 = 0, s5xx = 0, sother = 0 }
  for _, t in ipairs(threads) do
    for name, _ in pairs(c) do c[name] = c[name] + (t:get(name) or 0) end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"counted":%s,"s2xx":%d,"s429":%d,"s5xx":%d,"sother":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout, tostring(counting),
    c.s2xx, c.s429, c.s5xx, c.sother))
end
