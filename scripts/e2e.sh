#!/usr/bin/env bash
# End-to-end suites (called by scripts/test.sh after cargo test). Usage: scripts/e2e.sh [browser|staff|tauri|all]
#   browser: the kiosk page served by `fotobox serve` (sandbox, temp data dir, port 0) in Debian's
#            chromium through playwright-core, fake camera, payments through the simulators; then
#            the sounds (the page's audio events, mute from the panel, quiet hours); then
#            the staff panel (below)
#   staff:   the staff panel's translation tables (node, no browser), then the panel against a
#            seeded database once per language (uz, ru, en; STAFF_LANGS=ru for one)
#   tauri:   the debug Tauri window under Xvfb through tauri-driver + WebKitWebDriver, mock camera
# Screenshots of every screen land in test-artifacts/{browser,tauri}/ and test-artifacts/staff/<lang>/.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
what=${1:-all}
case "$what" in browser|staff|tauri|all) ;; *) echo "usage: $0 [browser|staff|tauri|all]" >&2; exit 2 ;; esac

if [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
mkdir -p test-artifacts

pkgs=(-p fotobox)
case "$what" in tauri|all) pkgs+=(-p fotobox-kiosk) ;; esac
echo "== cargo build ${pkgs[*]} (debug, once for both suites)"
cargo build --locked "${pkgs[@]}"

if [ "$what" = browser ] || [ "$what" = all ]; then
  echo "== e2e: browser (chromium + playwright-core)"
  node --test --test-concurrency=1 e2e/browser.test.js
  echo "== e2e: sound (chromium + playwright-core, the page's audio events)"
  node --test --test-concurrency=1 e2e/sound.test.js
fi
if [ "$what" != tauri ]; then
  echo "== staff panel translations (node)"
  node --test e2e/staff-i18n.test.mjs
  echo "== e2e: staff panel in uz, ru, en (chromium + playwright-core, seeded database)"
  node --test --test-concurrency=1 e2e/staff.test.mjs
fi
if [ "$what" = tauri ] || [ "$what" = all ]; then
  echo "== e2e: Tauri window (tauri-driver + WebKitWebDriver under Xvfb)"
  xvfb-run -a -s "-screen 0 1920x1080x24 -nolisten tcp" node --test --test-concurrency=1 e2e/tauri.test.js e2e/tauri-signal.test.js
fi
