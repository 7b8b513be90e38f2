#!/usr/bin/env bash
# The demo: builds the programs in release, starts echo-server and app-server
# on free ports, runs the tutorial's clients against them, prints every
# program's transcript under a heading, stops the servers with SIGINT, and
# exits 0 only if every answer was right.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -q -p sockets
bin=target/release
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

failures=0
check() { # check NAME: a failed check is reported, and the demo goes on
  if [ "$2" = ok ]; then echo "  [ok] $1"; else echo "  [FAILED] $1"; failures=$((failures + 1)); fi
}

# start_server NAME: starts it on port 0, waits (bounded) for its
# `listening on` line, and sets PORT from it.
start_server() {
  : >"$work/$1.out" # exists before the server runs, for the poll below
  "$bin/$1" 127.0.0.1 0 >"$work/$1.out" 2>"$work/$1.err" &
  pids+=($!)
  eval "${1//-/_}_pid=$!"
  for _ in $(seq 1 100); do
    PORT=$(sed -n "s/^listening on ('127.0.0.1', \([0-9]*\))$/\1/p" "$work/$1.out")
    [ -n "$PORT" ] && return 0
    sleep 0.05
  done
  echo "$1 did not start:"; cat "$work/$1.err"; exit 1
}

# stop_server NAME: SIGINT, then a bounded wait for exit status 0.
stop_server() {
  local pid_var="${1//-/_}_pid" status=0
  kill -INT "${!pid_var}"
  for _ in $(seq 1 100); do kill -0 "${!pid_var}" 2>/dev/null || break; sleep 0.05; done
  wait "${!pid_var}" || status=$?
  echo "## $1 (stopped with SIGINT, exit status $status)"
  cat "$work/$1.out" "$work/$1.err"
  check "$1 exits 0 on SIGINT with the shutdown line" \
    "$([ "$status" = 0 ] && tail -n 1 "$work/$1.out" | grep -qx 'caught keyboard interrupt, exiting' && echo ok)"
}

start_server echo-server; echo_port=$PORT
start_server app-server; app_port=$PORT

echo "## multiconn-client 127.0.0.1 $echo_port 2"
out=$("$bin/multiconn-client" 127.0.0.1 "$echo_port" 2) && status=0 || status=$?
echo "$out"
echoed=$(printf '%s\n' "$out" | sed -n "s/^received b'\(.*\)' from connection 1$/\1/p" | tr -d '\n')
check "multiconn-client: both messages echoed on connection 1, exit 0" \
  "$([ "$status" = 0 ] && [ "$echoed" = 'Message 1 from client.Message 2 from client.' ] && echo ok)"

# app_client ACTION VALUE EXPECTED: runs it and checks its `got ...` line.
app_client() {
  echo "## app-client 127.0.0.1 $app_port $1 $2"
  out=$("$bin/app-client" 127.0.0.1 "$app_port" "$1" "$2") && status=0 || status=$?
  echo "$out"
  check "app-client $1 $2 -> $3" \
    "$([ "$status" = 0 ] && printf '%s\n' "$out" | grep -qxF "$3" && echo ok)"
}
app_client search morpheus 'got result: Follow the white rabbit. 🐰'
app_client search ring 'got result: In the caves beneath the Misty Mountains. 💍'
app_client search 🐶 'got result: 🐾 Playing ball! 🏐'
app_client search nothing-here 'got result: No match for "nothing-here".'
app_client hello world "got response: b'First 10 bytes of request: helloworld'"

stop_server echo-server
stop_server app-server

echo
if [ "$failures" = 0 ]; then echo "demo: every answer was right"; else echo "demo: $failures check(s) failed"; exit 1; fi
