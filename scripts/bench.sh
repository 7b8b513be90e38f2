#!/usr/bin/env bash
# The benchmark report: loadgen against our echo-server and app-server and
# against the peer servers (bare epoll, mio, tokio), over a matrix of
# connections, sizes and depths, servers interleaved so machine drift hits
# all alike. Writes target/bench-report/report.md and throughput.svg.
#
#   scripts/bench.sh                  full matrix, 3 rounds (under 10 minutes)
#   scripts/bench.sh --quick          small matrix, 1 round (under 2 minutes)
#   scripts/bench.sh --echo-server NAME='CMD' --app-server NAME='CMD'
#                                     also measure another server; CMD gets
#                                     `127.0.0.1 0` appended and must print
#                                     `listening on ('127.0.0.1', PORT)`
#
# Server and load generator are pinned to different cores (taskset), and
# servers are compared by messages per second of the server's own CPU time
# as well as by messages per second: on two cores the client is the limit.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
extra_echo=()
extra_app=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --echo-server) extra_echo+=("$2"); shift ;;
    --app-server) extra_app+=("$2"); shift ;;
    *) echo "usage: scripts/bench.sh [--quick] [--echo-server NAME=CMD]... [--app-server NAME=CMD]..." >&2; exit 2 ;;
  esac
  shift
done

if [ "$quick" = 1 ]; then
  conns_list=(10 100); rounds=1; goal_rounds=1; duration=1; warmup=0.3; idle_conns=1000
else
  conns_list=(1 10 100 1000); rounds=3; goal_rounds=5; duration=1.5; warmup=0.5; idle_conns=10000
fi
# (size depth) cells of the echo matrix; app requests are fixed-size.
echo_cells=("64 1" "64 16" "4096 16")
app_depths=(1 16)

cargo build --release -q -p sockets -p benches --bins # loadgen, peer-server: benches
bin=target/release
out=target/bench-report
mkdir -p "$out"
results="$out/results.jsonl"
: >"$results"
work=$(mktemp -d)
declare -A pid port
cleanup() {
  for p in "${pid[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

server_core=1 client_core=0
if [ "$(nproc)" -lt 2 ]; then server_core=0; fi

# start NAME CMD...: runs the server pinned to its core, waits (bounded) for
# its `listening on` line.
start() {
  local name=$1; shift
  : >"$work/$name.out"
  taskset -c "$server_core" "$@" 127.0.0.1 0 >"$work/$name.out" 2>"$work/$name.err" &
  pid[$name]=$!
  for _ in $(seq 1 200); do
    port[$name]=$(sed -n "s/^listening on ('127.0.0.1', \([0-9]*\))$/\1/p" "$work/$name.out")
    [ -n "${port[$name]}" ] && return 0
    sleep 0.05
  done
  echo "bench: $name did not start: $(cat "$work/$name.err")" >&2
  exit 1
}

echo_servers=(ours bare-epoll mio tokio)
app_servers=(ours-app tokio-app)
declare -A command_of=(
  [ours]="$bin/echo-server -q --max-connections 20000"
  [bare-epoll]="$bin/peer-server bare-echo"
  [mio]="$bin/peer-server mio-echo"
  [tokio]="$bin/peer-server tokio-echo"
  [ours-app]="$bin/app-server -q --max-connections 20000"
  [tokio-app]="$bin/peer-server tokio-app"
)
for spec in "${extra_echo[@]}"; do command_of[${spec%%=*}]=${spec#*=}; echo_servers+=("${spec%%=*}"); done
for spec in "${extra_app[@]}"; do command_of[${spec%%=*}]=${spec#*=}; app_servers+=("${spec%%=*}"); done
for name in "${!command_of[@]}"; do
  read -r -a cmd <<<"${command_of[$name]}"
  start "$name" "${cmd[@]}"
done

# measure MODE SERVER CONNS SIZE DEPTH ROUND: one loadgen run, one JSON line.
measure() {
  local mode=$1 server=$2 conns=$3 size=$4 depth=$5 round=$6 line
  if line=$(taskset -c "$client_core" "$bin/loadgen" "$mode" --addr "127.0.0.1:${port[$server]}" \
      --conns "$conns" --size "$size" --depth "$depth" --duration "$duration" --warmup "$warmup" \
      --server-pid "${pid[$server]}" --json 2>"$work/loadgen.err"); then :; else
    echo "bench: loadgen failed against $server: $(tail -n 3 "$work/loadgen.err")" >&2
  fi
  [ -n "$line" ] || return 0
  printf '{"server": "%s", "round": %s, "result": %s}\n' "$server" "$round" "$line" >>"$results"
  printf '  %-10s %-4s conns %-5s size %-5s depth %-3s %s\n' "$server" "$mode" "$conns" "$size" "$depth" \
    "$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print("%.0f msg/s, %s msg/server-CPU-s" % (r["msgs_per_sec"], "%.0f" % r["msgs_per_server_cpu_sec"] if r["msgs_per_server_cpu_sec"] else "-"))' "$line")"
}

started=$(date +%s)
for round in $(seq 1 "$rounds"); do
  echo "round $round of $rounds"
  for conns in "${conns_list[@]}"; do
    for cell in "${echo_cells[@]}"; do
      read -r size depth <<<"$cell"
      for server in "${echo_servers[@]}"; do measure echo "$server" "$conns" "$size" "$depth" "$round"; done
    done
    for depth in "${app_depths[@]}"; do
      for server in "${app_servers[@]}"; do measure app "$server" "$conns" 64 "$depth" "$round"; done
    done
  done
done

# The goal cells of issue 5: 50 connections, depth 16, 64 B and 4 KiB for
# echo, and app; more rounds, interleaved, since these ratios are quoted.
echo "goal cells: 50 connections, depth 16, $goal_rounds rounds"
for round in $(seq 1 "$goal_rounds"); do
  for size in 64 4096; do
    for server in "${echo_servers[@]}"; do measure echo "$server" 50 "$size" 16 "$round"; done
  done
  for server in "${app_servers[@]}"; do measure app "$server" 50 64 16 "$round"; done
done

# Memory and idle cost, on freshly started servers (a server warmed by the
# rounds above could hide per-connection cost in heap it already grew):
# IDLE_CONNS connections that each made one exchange and then sit idle; the
# server's RSS growth per connection and its CPU time while they sit.
memory="$out/memory.jsonl"
: >"$memory"
echo "idle cost: $idle_conns connections per server"
for name in "${!command_of[@]}"; do
  read -r -a cmd <<<"${command_of[$name]}"
  start "$name-idle" "${cmd[@]}"
  mode=echo; case " ${app_servers[*]} " in *" $name "*) mode=app ;; esac
  python3 scripts/idle_conns.py --mode "$mode" --port "${port[$name-idle]}" --pid "${pid[$name-idle]}" \
    --conns "$idle_conns" --server "$name" >>"$memory" || echo "bench: idle test failed for $name" >&2
  kill "${pid[$name-idle]}" 2>/dev/null || true
  tail -n 1 "$memory"
done

python3 scripts/bench_report.py --results "$results" --memory "$memory" --out "$out" \
  --machine "$(nproc) cores, $(uname -sr), $(date -u +%Y-%m-%d)" --seconds "$(( $(date +%s) - started ))"
echo "wrote $out/report.md and $out/throughput.svg"
