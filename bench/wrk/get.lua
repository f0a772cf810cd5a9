-- wrk script: GET with the API token header. Usage: wrk ... -s bench/wrk/get.lua URL -- <token>
function init(args)
  wrk.headers["X-BSS-API-Token"] = args[1]
end
