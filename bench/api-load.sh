#!/usr/bin/env bash
# Load test of the REST API with wrk against a release `fotobox serve` on loopback (sandbox,
# temporary data directory, synchronous=FULL as in production).
# Usage: bench/api-load.sh [seconds per run]   (needs: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
cargo build --release -q -p fotobox
data=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$data"' EXIT
FOTOBOX_SERVER_CALLBACK_ADDR=127.0.0.1:0 FOTOBOX_SERVER_API_ADDR=127.0.0.1:0 FOTOBOX_LOG=warn \
  target/release/fotobox --data-dir "$data" serve > "$data/out" 2> "$data/err" &
pid=$!
for _ in $(seq 50); do grep -q listening "$data/out" 2>/dev/null && break; sleep 0.1; done
api=$(grep -o 'api=[^ ]*' "$data/out" | cut -d= -f2)
order=$(curl -s -X POST "$api/api/generate-qr" -H 'content-type: application/json' \
  -d '{"payment_type":"payme","template":"strip","copies":1}' | sed 's/.*"order_id":"\([^"]*\)".*/\1/')
cat > "$data/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body   = '{"payment_type":"click","template":"strip","copies":2}'
wrk.headers["Content-Type"] = "application/json"
LUA
echo "machine: $(nproc) cores, $(uname -m); wrk ${secs}s per run, 2 wrk threads"
for c in 1 16 64; do
  t=$(( c < 2 ? 1 : 2 ))
  echo "== GET /api/payment-status/$order, $c connections"
  wrk -t"$t" -c"$c" -d"${secs}s" --latency "$api/api/payment-status/$order" | grep -E 'Requests/sec|^ +(50|99)%'
  echo "== POST /api/generate-qr (creates an order + SVG QR), $c connections"
  wrk -t"$t" -c"$c" -d"${secs}s" --latency -s "$data/post.lua" "$api/api/generate-qr" | grep -E 'Requests/sec|^ +(50|99)%|Non-2xx'
done
