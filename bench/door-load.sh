#!/usr/bin/env bash
# The doors under load, against a release `fotobox serve` on loopback: the loopback API's p50/p99
# idle and while N clients flood the callback listener with hostile Click bodies; then a PNG
# declaring 12000x12000 pixels posted to a paid order, with the server's peak memory (VmHWM).
# Usage: bench/door-load.sh [clients] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
clients=${1:-8}
secs=${2:-10}
cargo build --release -q -p fotobox -p fotobox-http --bins --examples
data=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$data"' EXIT
token=door-load-staff-token-0123456789
cat > "$data/fotobox.toml" <<TOML
mode = "sandbox"
data_dir = "$data"
[server]
callback_addr = "127.0.0.1:0"
api_addr = "127.0.0.1:0"
staff_token = "$token"
TOML
FOTOBOX_LOG=warn target/release/fotobox serve --config "$data/fotobox.toml" > "$data/out" 2> "$data/err" &
pid=$!
for _ in $(seq 100); do grep -q listening "$data/out" 2>/dev/null && break; sleep 0.1; done
api=$(grep -o 'api=[^ ]*' "$data/out" | cut -d= -f2)
cb=$(grep -o 'callback=[^ ]*' "$data/out" | cut -d= -f2)
echo "machine: $(nproc) cores, $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
# A paid order for the PNG: created, then paid through the sandbox simulator.
order=$(curl -s -X POST "$api/api/generate-qr" -H 'content-type: application/json' \
  -d '{"payment_type":"click","template":"postcard","copies":1}' | sed 's/.*"order_id":"\([^"]*\)".*/\1/')
curl -s -o /dev/null -X POST "$api/api/test-payment/$order"
echo "server RSS before: $(grep VmRSS /proc/$pid/status | awk '{print $2, $3}')"
target/release/examples/door_flood --api "$api" --callback "$cb" --clients "$clients" --seconds "$secs" --png-order "$order"
echo "server peak memory (VmHWM): $(grep VmHWM /proc/$pid/status | awk '{print $2, $3}')"
