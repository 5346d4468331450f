#!/usr/bin/env bash
# The whole test suite (what CI runs): installs what is missing, then format, lints, every test
# (the printer tests against a private cupsd, scripts/cupsd.sh) and the packaging check.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

echo "== disk: $(df -h --output=avail . | tail -1 | tr -d ' ') free where the build goes"
scripts/setup.sh test
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy (workspace, all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== private cupsd for the printer tests (scripts/cupsd.sh; stopped when this script ends)"
scripts/cupsd.sh start
trap 'scripts/cupsd.sh stop >/dev/null 2>&1 || true' EXIT
echo "== cargo test (workspace, the Tauri shell included)"
cargo test --workspace --locked
echo "== end-to-end: the kiosk page in chromium and the Tauri window under Xvfb"
scripts/e2e.sh all
echo "== the Debian package: built from the e2e binaries, unpacked and checked"
scripts/package-check.sh debug
