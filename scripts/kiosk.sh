#!/usr/bin/env bash
# Run the kiosk window (sandbox payments and an embedded SQLite database unless FOTOBOX_CONFIG says otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  cat >&2 <<'MSG'
The kiosk window needs a graphical session, and none was found (DISPLAY and WAYLAND_DISPLAY are unset).
Headless alternative, the same core without a window:
    scripts/setup.sh headless && cargo run --release -p fotobox -- serve
(or run this script under Xvfb:  xvfb-run -a scripts/kiosk.sh)
MSG
  exit 1
fi
scripts/setup.sh kiosk
exec cargo run --release -p fotobox-kiosk -- "$@"
