#!/usr/bin/env bash
# The soak: app-server, then echo-server, under well-behaved load and
# hostile clients at once, bounded in time.
#
#   scripts/soak.sh               2 minutes per server
#   scripts/soak.sh --long        15 minutes per server
#   scripts/soak.sh --seconds N   N seconds per server (the test suite runs 8)
#   --bin-dir DIR                 use the programs in DIR instead of building
#
# Good clients (loadgen): persistent connections pipelining requests, every
# byte of every answer checked; at the end they stop sending and wait for
# every answer owed, so answered/sent must be 100%. Hostile clients
# (scripts/hostile.py): garbage, truncated messages, oversized
# content-lengths, slowloris, resets mid-message, clients that never read.
# The server's RSS and descriptor count are sampled throughout: the peak must
# stay bounded and the count return to its baseline; at the end the server
# must still answer, and SIGTERM must drain it to exit status 0.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=120 good_conns=2000 per_kind=20 bin=
while [ $# -gt 0 ]; do
  case "$1" in
    --long) seconds=900 ;;
    --seconds) seconds=$2; shift ;;
    --good-conns) good_conns=$2; shift ;;
    --per-kind) per_kind=$2; shift ;;
    --bin-dir) bin=$2; shift ;;
    *) echo "usage: scripts/soak.sh [--long | --seconds N] [--good-conns N] [--per-kind N] [--bin-dir DIR]" >&2; exit 2 ;;
  esac
  shift
done

if [ -z "$bin" ]; then
  cargo build --release -q -p sockets
  cargo build --release -q -p benches --bin loadgen
  bin=target/release
fi
work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
verdict() { # verdict NAME ok|... DETAIL
  if [ "$2" = ok ]; then echo "  [ok] $1: $3"; else echo "  [FAILED] $1: $3"; failures=$((failures + 1)); fi
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
fds() { ls "/proc/$1/fd" | wc -l; }

soak() { # soak echo|app
  local mode=$1 server=$1-server port
  [ "$mode" = echo ] && server=echo-server
  [ "$mode" = app ] && server=app-server
  echo "== $server: $seconds s, $good_conns good clients, $per_kind hostile clients of each kind"
  : >"$work/server.out"
  "$bin/$server" 127.0.0.1 0 -q --idle-timeout 2 --max-connections 20000 \
    >"$work/server.out" 2>"$work/server.err" &
  server_pid=$!
  for _ in $(seq 1 200); do
    port=$(sed -n "s/^listening on ('127.0.0.1', \([0-9]*\))$/\1/p" "$work/server.out")
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || { echo "$server did not start"; cat "$work/server.err"; exit 1; }
  local base_rss base_fds peak_rss peak_fds
  base_rss=$(rss_kib "$server_pid"); base_fds=$(fds "$server_pid")
  peak_rss=$base_rss; peak_fds=$base_fds

  "$bin/loadgen" "$mode" --addr "127.0.0.1:$port" --conns "$good_conns" --depth 4 --size 512 \
    --duration "$seconds" --warmup 0 --json >"$work/good.json" 2>"$work/good.err" &
  local good=$!
  python3 scripts/hostile.py --port "$port" --mode "$mode" --seconds "$seconds" \
    --per-kind "$per_kind" >"$work/hostile.json" 2>"$work/hostile.err" &
  local hostile=$!
  # Sample the server until both drivers are done.
  while kill -0 "$good" 2>/dev/null || kill -0 "$hostile" 2>/dev/null; do
    local r f
    r=$(rss_kib "$server_pid"); f=$(fds "$server_pid")
    [ "$r" -gt "$peak_rss" ] && peak_rss=$r
    [ "$f" -gt "$peak_fds" ] && peak_fds=$f
    sleep 0.5
  done
  local good_status=0 hostile_status=0
  wait "$good" || good_status=$?
  wait "$hostile" || hostile_status=$?

  local sent answered errors
  read -r sent answered errors < <(python3 -c '
import json, sys
try:
    r = json.load(open(sys.argv[1]))
    print(r["sent"], r["answered"], r["errors"])
except Exception:
    print(0, 0, -1)' "$work/good.json")
  verdict "good clients answered" "$([ "$good_status" = 0 ] && [ "$errors" = 0 ] && [ "$sent" -gt 0 ] && [ "$sent" = "$answered" ] && echo ok)" \
    "$answered of $sent requests ($( [ "$sent" -gt 0 ] && python3 -c "print(f'{100*$answered/$sent:.3f}%')" || echo '-')), $errors errors"
  echo "  hostile clients: $(cat "$work/hostile.json" 2>/dev/null || echo none) (driver exit $hostile_status)"
  grep -q NOT_CLOSED "$work/hostile.json" && verdict "oversized content-length closed at once" no "some were not"

  # Descriptors back to baseline once the clients are gone (bounded wait:
  # the idle timeout closes what a vanished client left behind).
  local now_fds
  for _ in $(seq 1 100); do
    now_fds=$(fds "$server_pid"); [ "$now_fds" -le "$base_fds" ] && break; sleep 0.1
  done
  verdict "descriptors" "$([ "$now_fds" -le "$base_fds" ] && echo ok)" "baseline $base_fds, peak $peak_fds, after $now_fds"
  local end_rss; end_rss=$(rss_kib "$server_pid")
  verdict "memory" "$([ "$peak_rss" -lt $((base_rss + 262144)) ] && echo ok)" \
    "RSS baseline $base_rss KiB, peak $peak_rss KiB, after $end_rss KiB"

  if [ "$mode" = app ]; then
    "$bin/app-client" 127.0.0.1 "$port" search morpheus -q >"$work/check.out" 2>&1 \
      && grep -qxF 'got result: Follow the white rabbit. 🐰' "$work/check.out" && ok=ok || ok=no
  else
    "$bin/multiconn-client" 127.0.0.1 "$port" 2 >"$work/check.out" 2>&1 && ok=ok || ok=no
  fi
  verdict "still serving" "$ok" "$(tail -n 1 "$work/check.out")"

  # SIGTERM under load: good and hostile clients are busy when it comes; the
  # server must stop accepting, finish what it owes and exit 0 within its
  # drain grace (5 s).
  "$bin/loadgen" "$mode" --addr "127.0.0.1:$port" --conns 200 --depth 4 --size 512 \
    --duration 60 --warmup 0 --timeout 5 >/dev/null 2>&1 &
  local burst=$!
  python3 scripts/hostile.py --port "$port" --mode "$mode" --seconds 60 --per-kind 2 \
    >/dev/null 2>&1 &
  local burst_hostile=$!
  for _ in $(seq 1 100); do
    [ "$(fds "$server_pid")" -gt $((base_fds + 100)) ] && break; sleep 0.1
  done
  local loaded_fds; loaded_fds=$(fds "$server_pid")
  kill -TERM "$server_pid"
  local status=0 waited=0
  for _ in $(seq 1 150); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; waited=$((waited + 1)); done
  wait "$server_pid" || status=$?
  server_pid=
  kill "$burst" "$burst_hostile" 2>/dev/null || true
  wait "$burst" "$burst_hostile" 2>/dev/null || true
  verdict "SIGTERM under load drains and exits 0" \
    "$([ "$status" = 0 ] && tail -n 1 "$work/server.out" | grep -qx 'caught keyboard interrupt, exiting' && echo ok)" \
    "exit $status, $loaded_fds descriptors open when it came, gone in $(python3 -c "print($waited / 10)") s"
  echo "  server error lines (bad input, resets): $(wc -l <"$work/server.err")"
}

soak app
soak echo
if [ "$failures" = 0 ]; then echo "soak: all checks passed"; else echo "soak: $failures check(s) failed"; exit 1; fi
