#!/usr/bin/env bash
# A private CUPS scheduler for the tests: its own configuration, spool, logs and port under
# target/cupsd (or $FOTOBOX_CUPSD_DIR), run as the current user; the system's CUPS (its /etc/cups,
# its port 631) is neither read nor changed. Idempotent.
#   scripts/cupsd.sh start   start it unless it runs; prints CUPS_SERVER=localhost:<port>
#   scripts/cupsd.sh stop    stop it (if this folder's daemon runs)
#   scripts/cupsd.sh status  exit 0 and print CUPS_SERVER=... while it runs, else exit 1
# Clients reach it with CUPS_SERVER=localhost:<port> (lp, lpstat, lpadmin, ipptool) and the
# kiosk with `printer.cups_server`. Its backend folder holds the system's backends and
# scripts/cups/fotobox-test-backend (device URI fotobox-test:/<state folder>), the dye-sub
# stand-in the tests' queues print to. Port: $FOTOBOX_CUPSD_PORT, else the first free one from 6310.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
dir=${FOTOBOX_CUPSD_DIR:-$repo/target/cupsd}
cmd=${1:-start}

running() {
  [ -f "$dir/cupsd.pid" ] && [ -f "$dir/port" ] || return 1
  local pid
  pid=$(cat "$dir/cupsd.pid")
  kill -0 "$pid" 2>/dev/null || return 1
  # The pid is this folder's cupsd (not a recycled pid of another program).
  grep -qa "$dir/cupsd.conf" "/proc/$pid/cmdline" 2>/dev/null || return 1
  CUPS_SERVER="localhost:$(cat "$dir/port")" lpstat -r >/dev/null 2>&1
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

case "$cmd" in
  status)
    if running; then echo "CUPS_SERVER=localhost:$(cat "$dir/port")"; exit 0; fi
    exit 1 ;;
  stop)
    if [ -f "$dir/cupsd.pid" ]; then
      pid=$(cat "$dir/cupsd.pid")
      if kill -0 "$pid" 2>/dev/null && grep -qa "$dir/cupsd.conf" "/proc/$pid/cmdline" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      fi
      rm -f "$dir/cupsd.pid"
    fi
    echo "cupsd: stopped"
    exit 0 ;;
  start) ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

if running; then
  # Already up: only bring the test backend up to date.
  install -m 0700 scripts/cups/fotobox-test-backend "$dir/serverbin/backend/fotobox-test"
  echo "CUPS_SERVER=localhost:$(cat "$dir/port")"
  exit 0
fi
for p in cupsd lpadmin lpstat; do
  command -v "$p" >/dev/null 2>&1 || [ -x "/usr/sbin/$p" ] || {
    echo "cupsd: $p is missing; run scripts/setup.sh test (installs the CUPS packages)" >&2
    exit 1
  }
done
cupsd_bin=$(command -v cupsd || echo /usr/sbin/cupsd)

port=${FOTOBOX_CUPSD_PORT:-}
if [ -z "$port" ]; then
  for p in $(seq 6310 6399); do if port_free "$p"; then port=$p; break; fi; done
fi
[ -n "$port" ] || { echo "cupsd: no free port in 6310-6399" >&2; exit 1; }

# A fresh state each start: queues are made by the tests, nothing is kept. Only a folder this
# script made (or an empty one) is cleared.
if [ -d "$dir" ] && [ -n "$(ls -A "$dir")" ] && [ ! -f "$dir/cupsd.conf" ]; then
  echo "cupsd: $dir is not a folder of this script; set FOTOBOX_CUPSD_DIR elsewhere" >&2
  exit 1
fi
rm -rf "$dir"
mkdir -p "$dir"/{spool/temp,log,cache,state,serverbin/backend,ppd}
chmod 0755 "$dir" "$dir/serverbin" "$dir/serverbin/backend"
# The system's filters and helpers (cupsd runs cups-exec from daemon/), our backend beside the
# system's backends. CUPS refuses programs that others may change: copies stay 0700/0755.
for sub in cgi-bin daemon driver filter monitor notifier; do
  [ -e "/usr/lib/cups/$sub" ] && ln -s "/usr/lib/cups/$sub" "$dir/serverbin/$sub"
done
for b in /usr/lib/cups/backend/*; do ln -s "$b" "$dir/serverbin/backend/$(basename "$b")"; done
install -m 0700 scripts/cups/fotobox-test-backend "$dir/serverbin/backend/fotobox-test"

user=$(id -un)
{
  echo "ServerRoot $dir"
  echo "StateDir $dir/state"
  echo "CacheDir $dir/cache"
  echo "ServerBin $dir/serverbin"
  echo "DataDir /usr/share/cups"
  echo "DocumentRoot /usr/share/cups/doc-root"
  echo "RequestRoot $dir/spool"
  echo "TempDir $dir/spool/temp"
  echo "AccessLog $dir/log/access_log"
  echo "ErrorLog $dir/log/error_log"
  echo "PageLog $dir/log/page_log"
  echo "Printcap"
  echo "FileDevice Yes"
  # As root, filters run as lp (CUPS will not run them as root); otherwise as this user.
  if [ "$(id -u)" != 0 ]; then echo "User $user"; echo "Group $(id -gn)"; fi
  echo "SystemGroup $(id -gn)"
} > "$dir/cups-files.conf"
cat > "$dir/cupsd.conf" <<EOF
Listen 127.0.0.1:$port
Listen $dir/cups.sock
ServerName localhost
Browsing Off
LogLevel info
MaxLogSize 0
PreserveJobHistory Yes
PreserveJobFiles No
# Failed jobs come back quickly (the tests wait for the retry after paper is loaded).
JobRetryInterval 1
DefaultAuthType None
<Location />
  Order allow,deny
  Allow 127.0.0.1
</Location>
<Policy default>
  # As Debian's stock policy: only a job's owner (or the system group) may cancel or change it,
  # so the kiosk's own cancel must name its user (the tests show it does).
  <Limit Cancel-Job CUPS-Cancel-Job Cancel-Jobs Purge-Jobs Hold-Job Release-Job Restart-Job Resume-Job Set-Job-Attributes>
    Require user @OWNER @SYSTEM
    Order deny,allow
  </Limit>
  <Limit All>
    Order allow,deny
  </Limit>
</Policy>
EOF

echo "$port" > "$dir/port"
# Foreground (-f) in its own session, detached from this shell; the pid file is ours.
setsid "$cupsd_bin" -f -c "$dir/cupsd.conf" -s "$dir/cups-files.conf" \
  >"$dir/log/cupsd.out" 2>&1 < /dev/null &
echo $! > "$dir/cupsd.pid"
for _ in $(seq 100); do
  if CUPS_SERVER="localhost:$port" lpstat -r >/dev/null 2>&1; then
    echo "CUPS_SERVER=localhost:$port"
    exit 0
  fi
  if ! kill -0 "$(cat "$dir/cupsd.pid")" 2>/dev/null; then break; fi
  sleep 0.1
done
echo "cupsd: did not start; its logs:" >&2
cat "$dir/log/cupsd.out" "$dir/log/error_log" >&2 2>/dev/null || true
exit 1
