#!/usr/bin/env bash
# Load test of the provider callbacks against a release `fotobox serve` on loopback (sandbox,
# temporary data directory, WAL + synchronous=FULL as in production): the Payme full cycle
# (generate-qr, CheckPerform, Create, Perform, CheckTransaction) and Click prepare+complete, at
# 1, 16 and 64 concurrent clients. The load tools are crates/fotobox-http/examples/*_load.rs.
# Usage: bench/provider-load.sh [seconds per Payme run] [Click cycles per client at 16/64]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
secs=${1:-10}
cycles=${2:-50}
cargo build --release -q -p fotobox -p fotobox-http --bins --examples
data=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$data"' EXIT
key=LOAD_TEST_KEY_0123456789abcdef012345
secret=LOAD_CLICK_SECRET
cat > "$data/fotobox.toml" <<TOML
mode = "sandbox"
data_dir = "$data"
[server]
callback_addr = "127.0.0.1:0"
api_addr = "127.0.0.1:0"
staff_token = "load-staff-token-0123456789"
[payme]
merchant_id = "5e730e8e0b852a417aa49ceb"
key = "$key"
[click]
service_id = 12345
merchant_id = 6789
merchant_user_id = 23456
secret_key = "$secret"
[orders]
ttl_seconds = 3600
TOML
FOTOBOX_LOG=warn target/release/fotobox serve --config "$data/fotobox.toml" > "$data/out" 2> "$data/err" &
pid=$!
for _ in $(seq 100); do grep -q listening "$data/out" 2>/dev/null && break; sleep 0.1; done
api=$(grep -o 'api=[^ ]*' "$data/out" | cut -d= -f2)
cb=$(grep -o 'callback=[^ ]*' "$data/out" | cut -d= -f2)
echo "machine: $(nproc) cores, $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "server: target/release/fotobox serve (api $api, callback $cb)"
for c in 1 16 64; do
  echo "== Payme full cycle, $c clients, ${secs}s"
  target/release/examples/payme_load --api "$api" --callback "$cb" --key "$key" --clients "$c" --seconds "$secs"
done
for c in 1 16 64; do
  n=$(( c == 1 ? cycles * 4 : cycles ))
  echo "== Click prepare+complete, $c clients, $n cycles each"
  target/release/examples/click_load --api "$api" --callback "$cb" --service-id 12345 --secret "$secret" \
    --clients "$c" --cycles "$n"
done
