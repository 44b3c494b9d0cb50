#!/usr/bin/env bash
# make load: start a throwaway server on a loopback port with its own
# database and a key with plenty of credits, measure its capacity with one
# request in flight, drive it at twice that for 60 s with the seed-shaped
# request, print statuses, p50/p95, throughput and peak memory, stop it.
set -euo pipefail
bin=${BIN:-bin/faceswap}
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
export FACESWAP_DB="$dir/load.db"
key=$("$bin" keys create --name load --credits 1000000 --rate-per-minute 1000000 | tail -n 1)
port=${LOAD_PORT:-18088}
"$bin" serve --addr "127.0.0.1:$port" > "$dir/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
go run ./tools/load -url "http://127.0.0.1:$port" -key "$key" -measure -factor "${LOAD_FACTOR:-2}" \
  -duration "${LOAD_DURATION:-60s}" -pid "$pid" -testdata "${FACESWAP_TESTDATA:-../shared/testdata}"
echo "server: $(grep -E '"status":5[0-9][0-9]' "$dir/server.log" | grep -vc '"status":503' || true) log lines with a 5xx other than 503"
