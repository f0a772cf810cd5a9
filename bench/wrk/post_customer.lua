-- wrk script: POST a new individual-backed customer with a unique email per request.
-- Usage: wrk -t2 -c20 -d20s -s bench/wrk/post_customer.lua http://127.0.0.1:8000 -- <token> <individual id>
local token, individual
local counter = 0

function init(args)
  token = args[1]
  individual = args[2]
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
end

function request()
  counter = counter + 1
  local email = string.format("wrk.%d.%d.%d@example.com", os.time(), math.random(1, 1e9), counter)
  local body = string.format(
    '{"name":"Wrk Bench","engagedParty":{"id":"%s","@referredType":"Individual"},' ..
    '"contactMedium":[{"mediumType":"email","preferred":true,"characteristic":{"emailAddress":"%s"}}]}',
    individual, email)
  return wrk.format("POST", "/tmf-api/customerManagement/v4/customer",
    {["Content-Type"] = "application/json", ["X-BSS-API-Token"] = token}, body)
end
