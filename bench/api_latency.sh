#!/usr/bin/env bash
# p50/p99 and requests/s of the hot API reads and customer creation, 20 connections, against `bss up`.
# Needs Debian's wrk (apt-get install wrk). Usage: bash bench/api_latency.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
base=$(.venv/bin/python -c "from core.settings import get_settings; print(get_settings().api_base_url)")
token=$(.venv/bin/python -c "from core.settings import get_settings; print(get_settings().api_token_cli)")
ind=$(curl -s -X POST "$base/tmf-api/party/v4/individual" -H "X-BSS-API-Token: $token" \
      -H 'content-type: application/json' -d '{"givenName":"Wrk","familyName":"Bench"}' | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["id"])')
cust=$(curl -s -X POST "$base/tmf-api/customerManagement/v4/customer" -H "X-BSS-API-Token: $token" \
      -H 'content-type: application/json' \
      -d "{\"name\":\"Wrk Read\",\"engagedParty\":{\"id\":\"$ind\",\"@referredType\":\"Individual\"},\"contactMedium\":[{\"mediumType\":\"email\",\"characteristic\":{\"emailAddress\":\"wrk.read.$RANDOM$RANDOM@example.com\"}}]}" \
      | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["id"])')
run() { echo "== $1"; shift; wrk -t2 -c20 -d"${secs}s" --latency "$@" | grep -E "Latency|50%|99%|Requests/sec|Non-2xx|Socket errors"; }
run "GET productOffering list" -s bench/wrk/get.lua "$base/tmf-api/productCatalogManagement/v4/productOffering" -- "$token"
run "GET customer/$cust" -s bench/wrk/get.lua "$base/tmf-api/customerManagement/v4/customer/$cust" -- "$token"
run "POST customer" -s bench/wrk/post_customer.lua "$base" -- "$token" "$ind"
