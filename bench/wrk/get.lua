-- wrk script: GET with the API token header, and optionally the customer the call acts for.
-- Usage: wrk ... -s bench/wrk/get.lua URL -- <token> [<customer id for X-BSS-On-Behalf-Of>]
function init(args)
  wrk.headers["X-BSS-API-Token"] = args[1]
  if args[2] then
    wrk.headers["X-BSS-On-Behalf-Of"] = args[2]
  end
end
