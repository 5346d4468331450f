#!/usr/bin/env bash
# Measures the kiosk window: cold start until the attract screen is drawn, and idle memory
# (RSS and PSS) of the app and its WebKit processes, and their CPU while the attract loop plays
# (CPU_SECONDS, default 30). Usage (after a release build):
#   xvfb-run -a -s "-screen 0 1920x1080x24" scripts/kiosk-numbers.sh [target/release/fotobox-kiosk] [runs]
set -euo pipefail
bin=${1:-target/release/fotobox-kiosk}
runs=${2:-3}
[ -n "${DISPLAY:-}" ] || { echo "needs a display (run under xvfb-run)" >&2; exit 1; }
for i in $(seq 1 "$runs"); do
  dir=$(mktemp -d)
  log="$dir/stderr.log"
  start=$(date +%s%N)
  FOTOBOX_DATA_DIR="$dir" FOTOBOX_SERVER_API_ADDR=127.0.0.1:0 FOTOBOX_SERVER_CALLBACK_ADDR=127.0.0.1:0 \
    "$bin" 2>"$log" >/dev/null &
  pid=$!
  for _ in $(seq 1 300); do grep -q "attract screen drawn" "$log" && break; sleep 0.02; done
  wall=$(( ($(date +%s%N) - start) / 1000000 ))
  inner=$(grep -o "attract screen drawn [0-9]* ms" "$log" | grep -o "[0-9]*" || echo "?")
  echo "run $i: attract drawn ${inner} ms after process start (app's clock); ${wall} ms wall from exec (script polling, +-20 ms)"
  if [ "$i" = "$runs" ]; then
    sleep 10
    total_rss=0; total_pss=0
    descendants() { local c; for c in $(pgrep -P "$1" || true); do echo "$c"; descendants "$c"; done; }
    for p in $pid $(descendants "$pid"); do
      name=$(tr -d '\0' < "/proc/$p/comm")
      rss=$(awk '/^VmRSS/ {print $2}' "/proc/$p/status")
      pss=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup")
      total_rss=$((total_rss + rss)); total_pss=$((total_pss + pss))
      printf "idle %-22s RSS %6d KiB  PSS %6d KiB\n" "$name" "$rss" "$pss"
    done
    printf "idle %-22s RSS %6d KiB  PSS %6d KiB\n" total "$total_rss" "$total_pss"
    # CPU while the attract screen plays: user+system ticks of every process over a window.
    ticks() { local t=0 p f; for p in $pid $(descendants "$pid"); do
        f=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null) || continue
        t=$((t + $(echo "$f" | awk '{print $12 + $13}'))); done; echo "$t"; }
    window=${CPU_SECONDS:-30}
    t0=$(ticks); sleep "$window"; t1=$(ticks)
    hz=$(getconf CLK_TCK)
    awk -v d=$((t1 - t0)) -v hz="$hz" -v w="$window" \
      'BEGIN { printf "attract CPU over %d s: %.1f%% of one core (all processes)\n", w, 100 * d / hz / w }'
  fi
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
done
