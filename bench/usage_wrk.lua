-- TMF635 usage rating under load: POST /usage with a fresh event id per request.
--
--   USAGE_MSISDNS=90000001,90000002 BSS_TOKEN=<cli token> \
--     wrk -t2 -c16 -d30s --latency -s bench/usage_wrk.lua http://127.0.0.1:8000
--
-- Every request rates a new event (ids `wrk-<run>-<thread>-<n>`, so runs never replay each
-- other), spread round-robin over the given lines: 8 of 10 are 1 MB of data, 1 is 60 s of
-- voice, 1 is one SMS. Use lines with large bundles (PLAN_L: 150 GB, unlimited voice/SMS) so
-- nothing blocks during the run. Status codes other than 201 are counted and printed at the end.
-- Options: USAGE_TYPE=data|voice|sms|mix (default mix), USAGE_QUANTITY (data MB, default 1),
-- USAGE_REJECT_MSISDNS (lines that are not active: every 20th request is 1 MB of data sent to one
-- of them, which mediation records as rejected and answers 422), USAGE_RUN (event id prefix).

local msisdns = {}
for m in string.gmatch(os.getenv("USAGE_MSISDNS") or "", "[^,]+") do table.insert(msisdns, m) end
assert(#msisdns > 0, "set USAGE_MSISDNS to a comma-separated list of active lines")
local token = os.getenv("BSS_TOKEN") or error("set BSS_TOKEN to the API token of the cli surface")
local kind = os.getenv("USAGE_TYPE") or "mix"
local data_mb = tonumber(os.getenv("USAGE_QUANTITY") or "1")
local run = os.getenv("USAGE_RUN") or tostring(os.time())
local rejects = {}
for m in string.gmatch(os.getenv("USAGE_REJECT_MSISDNS") or "", "[^,]+") do table.insert(rejects, m) end

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  n = 0
  statuses = {}
  wrk.method = "POST"
  wrk.path = "/tmf-api/usageManagement/v4/usage"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-BSS-API-Token"] = token
end

local shapes = {
  data = function() return "data", data_mb, "MB" end,
  voice = function() return "voice", 60, "s" end,
  sms = function() return "sms", 1, "sms" end,
}

local function shape(i)
  if kind ~= "mix" then return shapes[kind]() end
  local r = i % 10
  if r == 8 then return shapes.voice() elseif r == 9 then return shapes.sms() end
  return shapes.data()
end

function request()
  n = n + 1
  local msisdn = msisdns[(n + id) % #msisdns + 1]
  local usage_type, quantity, unit = shape(n)
  if #rejects > 0 and n % 20 == 0 then
    msisdn = rejects[math.floor(n / 20) % #rejects + 1]
    usage_type, quantity, unit = shapes.data()
  end
  local body = string.format(
    '{"usageType":"%s","usageDate":"2025-01-01T00:00:00Z","usageCharacteristic":['
    .. '{"name":"msisdn","value":"%s"},{"name":"quantity","value":%d},{"name":"unit","value":"%s"},'
    .. '{"name":"eventId","value":"wrk-%s-%d-%d"}]}',
    usage_type, msisdn, quantity, unit, run, id, n)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for code, count in pairs(s) do merged[code] = (merged[code] or 0) + count end
  end
  io.write("status codes:")
  for code, count in pairs(merged) do io.write(string.format(" %d=%d", code, count)) end
  io.write(string.format("\nrated/s %.0f   p50 %.1f ms   p99 %.1f ms\n",
    (merged[201] or 0) / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
