#!/usr/bin/env bash
# Runs the WebSocket fan-out benchmark (bench/ws/ws_bench.cc) against a stack of its own: NATS,
# PostgreSQL, Redis, spotex-engine and spotex-gateway started by scripts/stack.sh in a temporary
# $SPOTEX_VAR on free loopback ports. Creates USERS funded users (bench/api/create_users.py),
# then per run: ws_bench opens CONNECTIONS WebSocket connections subscribed to SYMBOL's STREAMS
# and, once they are all open, api_bench places crossing GTC LIMIT orders on SYMBOL from those
# users at RATE orders/s (trades and depth changes); ws_bench measures for DURATION seconds
# after WARMUP. Stops the stack and removes the directory on exit (also on failure or Ctrl-C).
# Called by `make bench-ws`, which builds the release binaries first. One line per run:
#   ws conns=<N> msgs_per_s=<N> p50_ms=<x> p99_ms=<x> p999_ms=<x> dropped=<N>
# (ws_bench's and api_bench's details on stderr come before it; docs/PERFORMANCE.md,
# "WebSocket fan-out", defines the fields).
#
# Environment:
#   CONNECTIONS   WebSocket connections (default 10000)
#   RATE          orders/s api_bench offers (default 600: about 1,000 trade + depthUpdate
#                 messages/s on the symbol, i.e. per connection)
#   DURATION      measured seconds per run (default 20)
#   WARMUP        seconds between the orders starting and the window (default 5)
#   RUNS          runs against the same stack (default 1)
#   THREADS       ws_bench threads (default 2)
#   STREAMS       stream suffixes (default "trade,depth@100ms"); SYMBOL (default BTCUSDT)
#   USERS         funded API users placing the orders (default 20)
#   GATEWAY_ARGS  extra spotex-gateway flags; by default those that lift the one-IP rate limits
#                 and --max-connections CONNECTIONS + 1000, for those the gateway knows
#   BUILD_DIR     the release build (default: build/release)
#   KEEP_LOGS     a directory to copy the stack's logs into before the temp dir goes
#   PERF          a file: `perf record -g` the gateway during the first run's window into it
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$(realpath -m "${BUILD_DIR:-${repo}/build/release}")"
ws_bench="${build}/bench/ws/ws_bench"
api_bench="${build}/bench/api/api_bench"
gateway="${build}/bin/spotex-gateway"
stack="${repo}/scripts/stack.sh"
connections="${CONNECTIONS:-10000}"
rate="${RATE:-600}"
duration="${DURATION:-20}"
warmup="${WARMUP:-5}"
runs="${RUNS:-1}"
threads="${THREADS:-2}"
streams="${STREAMS:-trade,depth@100ms}"
symbol="${SYMBOL:-BTCUSDT}"
users="${USERS:-20}"
connect_timeout=120

for bin in "${ws_bench}" "${api_bench}" "${gateway}" "${build}/bin/spotex-engine" \
  "${build}/bin/spotex-admin" "${build}/bin/spotex-migrate"; do
  [[ -x "${bin}" ]] || { echo "no ${bin}: run 'make bench-ws'" >&2; exit 2; }
done

tmp=""
stack_started=0
child_pids=()

cleanup() {
  local rc=$? pid
  trap - EXIT
  for pid in "${child_pids[@]}"; do
    kill "${pid}" 2>/dev/null || true
  done
  if ((stack_started)); then
    "${stack}" down >/dev/null 2>&1 || echo "run_ws_bench: stack.sh down failed" >&2
  fi
  if [[ -n "${KEEP_LOGS:-}" && -n "${tmp}" && -d "${tmp}/var/log" ]]; then
    mkdir -p "${KEEP_LOGS}" && cp -r "${tmp}/var/log/." "${KEEP_LOGS}/" &&
      echo "run_ws_bench: logs kept in ${KEEP_LOGS}" >&2
  fi
  [[ -z "${tmp}" ]] || rm -rf "${tmp}"
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=../../scripts/lib/scratch.sh
source "${repo}/scripts/lib/scratch.sh"

# The gateway flags that take the rate limits out of a one-IP benchmark and admit every
# connection, for those the gateway knows (its usage text names them).
default_gateway_args() {
  local usage flag value out=()
  usage="$("${gateway}" --help 2>&1 || true)"
  while read -r flag value; do
    if grep -q -- "--${flag}\b" <<<"${usage}"; then
      out+=("--${flag}" "${value}")
    else
      echo "run_ws_bench: warning: the gateway has no --${flag}" >&2
    fi
  done <<EOF2
weight-per-minute 1000000000
orders-per-10s 1000000000
orders-per-day 1000000000
max-connections $((connections + 1000))
ws-connections-per-ip 0
EOF2
  echo "${out[@]}"
}

# Waits for `file` to exist while `pid` runs, at most `seconds`.
wait_for_file() {
  local file="$1" pid="$2" seconds="$3" i
  for ((i = 0; i < seconds * 10; ++i)); do
    [[ -s "${file}" ]] && return 0
    kill -0 "${pid}" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

one_run() {
  local n="$1" url="$2" cpu_pids="$3" gw_pid="$4"
  local ready="${tmp}/ready.${n}" ws_pid api_pid perf_pid="" status=0
  "${ws_bench}" --url "${url}" --connections "${connections}" --threads "${threads}" \
    --symbol "${symbol}" --streams "${streams}" --duration-s "${duration}" \
    --warmup-s "${warmup}" --connect-timeout-s "${connect_timeout}" --ready-file "${ready}" \
    --cpu-pids "${cpu_pids}" &
  ws_pid=$!
  child_pids+=("${ws_pid}")
  if ! wait_for_file "${ready}" "${ws_pid}" $((connect_timeout + 10)); then
    echo "run_ws_bench: ws_bench did not get ready" >&2
    wait "${ws_pid}" || true
    return 1
  fi
  # Orders from the moment the connections are open to past the end of the window.
  timeout --signal=TERM --kill-after=10 $((warmup + duration + 60)) \
    "${api_bench}" --url "${url}" --rate "${rate}" --duration-s $((warmup + duration + 2)) \
    --warmup-s 0 --drain-s 2 --connections 64 --mix full --read-fraction 0 \
    --users "${tmp}/users.json" >"${tmp}/api_bench.${n}.out" 2>"${tmp}/api_bench.${n}.err" &
  api_pid=$!
  child_pids+=("${api_pid}")
  if [[ -n "${PERF:-}" && "${n}" == 1 ]] && command -v perf >/dev/null; then
    (sleep "${warmup}" && exec perf record -g -o "${PERF}" -p "${gw_pid}" -- sleep "${duration}") \
      >/dev/null 2>&1 &
    perf_pid=$!
  fi
  wait "${ws_pid}" || status=$?
  wait "${api_pid}" || true
  [[ -z "${perf_pid}" ]] || wait "${perf_pid}" || true
  child_pids=()
  sed 's/^/run_ws_bench: orders: /' "${tmp}/api_bench.${n}.out" >&2
  grep -E "errors:|cpu" "${tmp}/api_bench.${n}.err" | sed 's/^/run_ws_bench: orders: /' >&2 || true
  return "${status}"
}

main() {
  tmp="$(spotex_make_tmp spotex-ws-bench)"
  # Every connection is a descriptor in ws_bench and in the gateway (which inherits this).
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  if (($(ulimit -n) < connections + 2000)); then
    echo "run_ws_bench: warning: ulimit -n is $(ulimit -n), below CONNECTIONS + 2000" >&2
  fi
  local ports
  read -r -a ports <<<"$(spotex_pick_free_ports 5 12000)"
  # One gateway on the benchmark port, no HAProxy in front: this measures the gateway itself
  # (the edge is measured by `make loadtest`, docs/edge.md).
  export SPOTEX_EDGE=0
  export SPOTEX_VAR="${tmp}/var" SPOTEX_SECRETS_DIR="${tmp}/var/secrets"
  export SPOTEX_NATS_PORT="${ports[0]}" SPOTEX_NATS_MONITOR_PORT="${ports[1]}"
  export SPOTEX_PG_PORT="${ports[2]}" SPOTEX_REDIS_PORT="${ports[3]}"
  export SPOTEX_GATEWAY_PORT="${ports[4]}" SPOTEX_BIN_DIR="${build}/bin"
  export SPOTEX_GATEWAY_ARGS="${GATEWAY_ARGS-$(default_gateway_args)}"
  local url="http://127.0.0.1:${SPOTEX_GATEWAY_PORT}"

  echo "run_ws_bench: stack in ${SPOTEX_VAR}, gateway ${url}," \
    "gateway args '${SPOTEX_GATEWAY_ARGS}'" >&2
  stack_started=1
  if ! "${stack}" up >"${tmp}/stack-up.log" 2>&1; then
    echo "run_ws_bench: stack.sh up failed:" >&2
    tail -n 30 "${tmp}/stack-up.log" >&2
    tail -n 20 "${SPOTEX_VAR}"/log/gateway.log >&2 2>/dev/null || true
    return 2
  fi
  local run="${SPOTEX_VAR}/run" gw_pid cpu_pids="" name
  gw_pid="$(cat "${run}/gateway.pid")"
  for name in gateway engine nats redis postgres; do
    [[ -s "${run}/${name}.pid" ]] && cpu_pids+="${cpu_pids:+,}${name}=$(cat "${run}/${name}.pid")"
  done
  echo "run_ws_bench: creating ${users} funded users" >&2
  "${repo}/bench/api/create_users.py" --url "${url}" --count "${users}" \
    --admin-token-file "${SPOTEX_SECRETS_DIR}/admin-token" --out "${tmp}/users.json" \
    --fund BTC=1000 --fund USDT=100000000 >&2

  local i status=0
  for ((i = 1; i <= runs; ++i)); do
    echo "run_ws_bench: run ${i}/${runs}: ${connections} connections, ${rate} orders/s," \
      "streams ${streams} of ${symbol}" >&2
    one_run "${i}" "${url}" "${cpu_pids}" "${gw_pid}" || status=$?
    if ! kill -0 "${gw_pid}" 2>/dev/null; then
      echo "run_ws_bench: the gateway exited during the run; its log:" >&2
      tail -n 20 "${SPOTEX_VAR}/log/gateway.log" >&2
      return 1
    fi
  done
  return "${status}"
}

main "$@"
