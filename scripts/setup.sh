#!/usr/bin/env bash
# Installs what Fotobox needs on Debian 12, idempotently. Usage: scripts/setup.sh [kiosk|test|headless]
#   headless: only the Rust toolchain check (the core and `fotobox` need no system libraries)
#   kiosk:    + WebKitGTK for the Tauri window
#   test:     + Xvfb, WebKitWebDriver, Chromium and the npm test tools
set -euo pipefail
what=${1:-test}
cd "$(dirname "$0")/.."

need_cmd() { command -v "$1" >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! need_cmd cargo; then
  echo "cargo not found: install Rust with rustup (https://rustup.rs) and run this again" >&2
  exit 1
fi

apt_pkgs=()
case "$what" in
  headless) ;;
  kiosk) apt_pkgs=(libwebkit2gtk-4.1-dev pkg-config) ;;
  test) apt_pkgs=(libwebkit2gtk-4.1-dev pkg-config xvfb webkit2gtk-driver chromium) ;;
  *) echo "usage: $0 [kiosk|test|headless]" >&2; exit 2 ;;
esac

missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  as_root apt-get update -q
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
echo "setup: $what dependencies present"
