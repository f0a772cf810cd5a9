#!/bin/sh
# One-shot job of docker-compose.yml (temporalio/admin-tools image): create the `bss` namespace and
# register our search attributes on a Temporal cluster. Safe to re-run on every `docker compose up`.
#
# The attribute list is read from search-attributes.txt (NAME=Type, `#` comments), the same file the
# dev server (`bss up`) and the test fixtures use, so there is one source of truth.
#
# Environment:
#   TEMPORAL_ADDRESS         frontend host:port                  (default temporal:7233)
#   TEMPORAL_NAMESPACE       namespace to create                 (default bss)
#   NAMESPACE_RETENTION      closed-workflow retention           (default 30d)
#   SEARCH_ATTRIBUTES_FILE   NAME=Type list                      (default: next to this script)
#   HEALTH_ATTEMPTS          tries while the frontend starts     (default 60, 2 s apart)
set -eu

ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACE="${TEMPORAL_NAMESPACE:-bss}"
RETENTION="${NAMESPACE_RETENTION:-30d}"
SA_FILE="${SEARCH_ATTRIBUTES_FILE:-$(dirname "$0")/search-attributes.txt}"
ATTEMPTS="${HEALTH_ATTEMPTS:-60}"

if [ ! -r "$SA_FILE" ]; then
  echo "search attribute list not readable: $SA_FILE" >&2
  exit 1
fi

# The server container reports "started" before its frontend answers; wait for it.
attempt=1
until temporal operator cluster health --address "$ADDRESS" >/dev/null 2>&1; do
  if [ "$attempt" -ge "$ATTEMPTS" ]; then
    echo "Temporal at $ADDRESS not healthy after $ATTEMPTS attempts" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep 2
done
echo "Temporal at $ADDRESS is serving"

if temporal operator namespace describe --namespace "$NAMESPACE" --address "$ADDRESS" >/dev/null 2>&1; then
  echo "namespace $NAMESPACE already exists"
else
  temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION" --address "$ADDRESS"
  echo "namespace $NAMESPACE created (retention $RETENTION)"
fi

# A freshly created namespace can take a moment to reach every frontend's cache; creating attributes
# retries, and an attribute that already exists (a re-run) is accepted. `</dev/null` keeps the CLI
# from reading the attribute list that feeds the loop below.
register() {
  name="$1"
  type="$2"
  try=1
  while ! temporal operator search-attribute create --namespace "$NAMESPACE" --address "$ADDRESS" \
      --name "$name" --type "$type" </dev/null; do
    if temporal operator search-attribute list --namespace "$NAMESPACE" --address "$ADDRESS" </dev/null 2>/dev/null \
        | grep -qw "$name"; then
      echo "search attribute $name already registered"
      return 0
    fi
    if [ "$try" -ge 10 ]; then
      echo "could not register search attribute $name ($type)" >&2
      return 1
    fi
    try=$((try + 1))
    sleep 2
  done
  echo "search attribute $name ($type) registered"
}

count=0
while IFS= read -r line || [ -n "$line" ]; do
  line=$(printf '%s' "$line" | tr -d '[:space:]')
  case "$line" in
    "" | "#"*) continue ;;
  esac
  name="${line%%=*}"
  type="${line#*=}"
  if [ -z "$name" ] || [ -z "$type" ] || [ "$name" = "$line" ]; then
    echo "malformed line in $SA_FILE: $line (expected NAME=Type)" >&2
    exit 1
  fi
  register "$name" "$type"
  count=$((count + 1))
done < "$SA_FILE"

if [ "$count" -eq 0 ]; then
  echo "no search attributes found in $SA_FILE" >&2
  exit 1
fi
echo "namespace $NAMESPACE ready with $count search attributes"
