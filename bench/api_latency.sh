#!/usr/bin/env bash
# p50/p99 and requests/s of the hot API reads and customer creation against `bss up` (20 connections;
# creation also with 1 and 4 clients), with the CPU the API processes (all workers) spent per request. Needs Debian's wrk (apt-get install wrk).
# Usage: bash bench/api_latency.sh [seconds]   (BSS_HOME and the port settings select the stack)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
py=.venv/bin/python
base=$($py -c "from core.settings import get_settings; print(get_settings().api_base_url)")
token=$($py -c "from core.settings import get_settings; print(get_settings().api_token_cli)")
api_pid=$($py -c "from core.settings import get_settings; print((get_settings().run_dir / 'api.pid').read_text().split()[0])")
ind=$(curl -s -X POST "$base/tmf-api/party/v4/individual" -H "X-BSS-API-Token: $token" \
      -H 'content-type: application/json' -d '{"givenName":"Wrk","familyName":"Bench"}' | $py -c 'import json,sys; print(json.load(sys.stdin)["id"])')
cust=$(curl -s -X POST "$base/tmf-api/customerManagement/v4/customer" -H "X-BSS-API-Token: $token" \
      -H 'content-type: application/json' \
      -d "{\"name\":\"Wrk Read\",\"engagedParty\":{\"id\":\"$ind\",\"@referredType\":\"Individual\"},\"contactMedium\":[{\"mediumType\":\"email\",\"characteristic\":{\"emailAddress\":\"wrk.read.$RANDOM$RANDOM@example.com\"}}]}" \
      | $py -c 'import json,sys; print(json.load(sys.stdin)["id"])')
# CPU seconds (user + system) of the API process and its worker processes.
api_cpu() { $py -c "import psutil; p = psutil.Process($api_pid); print(sum(sum(q.cpu_times()[:2]) for q in [p, *p.children(recursive=True)]))"; }
run() {
  local name=$1 conns=$2; shift 2
  local before after out threads=$(( conns < 2 ? 1 : 2 ))
  # Warm-up, not counted: a fresh process's first requests pay for imports, the pool filling and
  # (catalog) the cache attaching; the figure is about the steady state.
  wrk -t$threads -c"$conns" -d3s "$@" > /dev/null
  before=$(api_cpu)
  out=$(wrk -t$threads -c"$conns" -d"${secs}s" --latency "$@")
  after=$(api_cpu)
  echo "== $name, $conns connection(s) (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  echo "$out" | grep -E "Latency|50%|99%|Requests/sec|Non-2xx|Socket errors"
  $py -c "import re, sys; n = int(re.search(r'(\d+) requests in', sys.argv[1]).group(1)); \
print(f'  API CPU per request: {1000 * ($after - $before) / n:.2f} ms')" "$out"
}
run "GET productOffering list" 20 -s bench/wrk/get.lua "$base/tmf-api/productCatalogManagement/v4/productOffering" -- "$token"
run "GET customer/$cust" 20 -s bench/wrk/get.lua "$base/tmf-api/customerManagement/v4/customer/$cust" -- "$token"
for conns in 1 4 20; do
  run "POST customer" "$conns" -s bench/wrk/post_customer.lua "$base" -- "$token" "$ind"
done
