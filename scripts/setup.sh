#!/usr/bin/env bash
# Installs what Fotobox needs on Debian 12, idempotently. Usage: scripts/setup.sh [kiosk|test|headless]
#   headless: only the Rust toolchain check (the core and `fotobox` need no system libraries)
#   kiosk:    + WebKitGTK for the Tauri window, dpkg-dev for scripts/package.sh
#   test:     + Xvfb, WebKitWebDriver, Chromium, the npm test tools, and CUPS (cupsd, lp/lpstat,
#             ipptool, cups-pdf, pdfinfo) for the tests' private cupsd (scripts/cupsd.sh), and
#             cups-pdf's configuration for the tests' PDF queue (/etc/cups/cups-pdf-fotobox-test-pdf.conf)
set -euo pipefail
what=${1:-test}
cd "$(dirname "$0")/.."

need_cmd() { command -v "$1" >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! need_cmd cargo && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! need_cmd cargo; then
  # Debian's own cargo is too old for this workspace: use rustup's stable toolchain.
  echo "setup: installing the Rust toolchain with rustup"
  need_cmd curl || { as_root apt-get update -q && as_root apt-get install -y -q curl ca-certificates; }
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component rustfmt,clippy
  export PATH="$HOME/.cargo/bin:$PATH"
fi
for comp in rustfmt clippy; do
  if ! cargo "${comp/rustfmt/fmt}" --version >/dev/null 2>&1 && need_cmd rustup; then
    rustup component add "$comp"
  fi
done

apt_pkgs=()
case "$what" in
  headless) ;;
  kiosk) apt_pkgs=(build-essential pkg-config libwebkit2gtk-4.1-dev dpkg-dev) ;;
  test) apt_pkgs=(build-essential pkg-config libwebkit2gtk-4.1-dev dpkg-dev xvfb webkit2gtk-driver chromium
        cups cups-daemon cups-client cups-ipp-utils printer-driver-cups-pdf poppler-utils) ;;
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
if [ "$what" = test ]; then
  # cups-pdf reads /etc/cups/cups-pdf-<name>.conf for the device URI cups-pdf:/<name> (the folder
  # is compiled in, so only root can put it there, which is why it is done here and not by
  # scripts/cupsd.sh). Only the tests' queues use cups-pdf:/fotobox-test-pdf: the system's
  # cups-pdf.conf, PDF printer and CUPS are untouched. Its output folder is made readable.
  conf=/etc/cups/cups-pdf-fotobox-test-pdf.conf
  if ! cmp -s scripts/cups/cups-pdf-fotobox-test-pdf.conf "$conf"; then
    echo "setup: installing $conf (the tests' cups-pdf queue)"
    as_root install -m 0644 scripts/cups/cups-pdf-fotobox-test-pdf.conf "$conf"
  fi
  as_root install -d -m 0755 /var/spool/cups-pdf/fotobox-test /var/spool/cups-pdf/fotobox-test/out
  # Node (20 here; Debian's 18 also runs `node --test`) for the end-to-end suites.
  if ! need_cmd node || ! need_cmd npm; then
    echo "setup: installing Node.js and npm"
    as_root apt-get update -q
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends nodejs npm
  fi
  # playwright-core (uses Debian's chromium; no browser download) and @tauri-apps/cli, locked.
  if [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "setup: npm ci (end-to-end test tools)"
    npm ci --no-audit --no-fund
  fi
  # WebDriver proxy for the real-window test (about 35 s to build; 3.x is a pre-release: pin 2).
  if ! need_cmd tauri-driver; then
    echo "setup: cargo install tauri-driver"
    cargo install tauri-driver --version '^2' --locked
  fi
fi
echo "setup: $what dependencies present"
