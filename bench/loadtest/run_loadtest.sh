#!/usr/bin/env bash
# The load test through the edge (issue 7 §4): starts the whole stack with scripts/stack.sh in a
# temporary $SPOTEX_VAR on free loopback ports (NATS, PostgreSQL, Redis, spotex-engine,
# spotex-recorder, and HAProxy on the public port in front of SPOTEX_GATEWAY_REPLICAS gateway
# replicas), creates funded users through the public port (bench/api/create_users.py), runs
# spotex-loadgen against the public port, and stops the stack and removes the directory on exit
# (also on failure or Ctrl-C). Called by `make loadtest` and `make loadtest-max`, which build the
# release binaries first.
#
#   run_loadtest.sh          one run at RATE for DURATION seconds; the last stdout line is
#                            load offered=<N> achieved=<N> p50_ms=<x> p99_ms=<x> p999_ms=<x> errors=<N>
#   run_loadtest.sh --max    the highest rate whose p99 stays under BOUND_MS (spotex-loadgen
#                            --search-p99-ms): a `probe ...` line per rate tried, then
#                            load max_rate=<N> p99_ms=<x> bound_ms=<X>
# spotex-loadgen's breakdown (percentiles up to max, errors by code, per-kind latencies, the
# makers, CPU of every stack process and of itself over the window) goes to stderr before each
# line, and after the run the CPU of every process on the machine by command name
# (cpu_by_command.py: other builds on a shared machine show there).
#
# The traffic: USERS users send the measured requests (GTC LIMIT orders within ±3 ticks of
# 30000.00 on BTCUSDT, cancels, and READ_FRACTION of reads: depth, trades, ticker, account,
# openOrders); MAKERS more users quote a ladder of MAKER_LEVELS bids and asks around the same mid
# and replace what gets filled, so the measured orders meet a book. The makers' requests are
# not measured (their errors are reported).
#
# Limits lifted for a one-IP test, and said so on stderr: the gateway's per-IP weight and
# per-account order limits (SPOTEX_GATEWAY_ARGS, as bench/api does), HAProxy's per-IP request
# rate (SPOTEX_EDGE_REQ_RATE_10S) and connection limits (SPOTEX_EDGE_CONN_PER_IP,
# SPOTEX_EDGE_CONN_RATE_10S). HAProxy's size limits and denials stay as configured.
#
# Environment:
#   RATE           offered requests/s (default 500)
#   DURATION       measured seconds (default 60; per probe with --max: PROBE_S, default 10)
#   WARMUP         unmeasured seconds before (default 5; per probe: PROBE_WARMUP, default 3)
#   BOUND_MS       --max: the p99 bound in ms (default 20)
#   SEARCH_START   --max: first rate (default 500)     SEARCH_STEP  climb by (default 500)
#   SEARCH_MAX     --max: highest rate tried (default 20000)
#   SEARCH_RESOLUTION --max: bisection stops this close (default 100)
#   CONNECTIONS    keep-alive connections for the measured traffic (default 128)
#   USERS          measured users (default 100)     MAKERS  maker users (default 4)
#   MAKER_LEVELS   quotes per side per maker (default 5)
#   READ_FRACTION  share of reads (default 0.2)
#   REPLICAS       gateway replicas behind HAProxy (default 2)
#   EDGE           1 through HAProxy (default), 0 straight to one gateway (for comparison)
#   LOG_REQUESTS   1: HAProxy logs every request (default 0: only errors and abnormal ones,
#                  SPOTEX_EDGE_LOG_REQUESTS)
#   GATEWAY_ARGS   extra spotex-gateway flags (default: the ones lifting its rate limits)
#   BUILD_DIR      the release build (default: build/release)
#   PERF           a file: `perf record -g` of the whole machine over the run (needs perf and
#                  the permission to profile), report in PERF.txt
#   KEEP_LOGS      a directory to copy the stack's logs into before the temp dir goes
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$(cd "${BUILD_DIR:-${repo}/build/release}" 2>/dev/null && pwd)" ||
  { echo "run_loadtest: no build directory ${BUILD_DIR:-${repo}/build/release}: run 'make loadtest'" >&2; exit 2; }
loadgen="${build}/bin/spotex-loadgen"
gateway="${build}/bin/spotex-gateway"
stack="${repo}/scripts/stack.sh"

mode=fixed
case "${1:-}" in
  "") ;;
  --max) mode=max ;;
  *)
    echo "usage: $0 [--max]" >&2
    exit 2
    ;;
esac

rate="${RATE:-500}"
connections="${CONNECTIONS:-128}"
users="${USERS:-100}"
makers="${MAKERS:-4}"
maker_levels="${MAKER_LEVELS:-5}"
read_fraction="${READ_FRACTION:-0.2}"
replicas="${REPLICAS:-2}"
edge="${EDGE:-1}"
drain=5
if [[ "${mode}" == max ]]; then
  duration="${PROBE_S:-10}"
  warmup="${PROBE_WARMUP:-3}"
else
  duration="${DURATION:-60}"
  warmup="${WARMUP:-5}"
fi
for v in rate duration warmup connections users makers maker_levels replicas; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "run_loadtest: ${v} must be a number, got '${!v}'" >&2; exit 2; }
done

for bin in "${loadgen}" "${gateway}" "${build}/bin/spotex-engine" "${build}/bin/spotex-admin" \
  "${build}/bin/spotex-migrate"; do
  [[ -x "${bin}" ]] || { echo "no ${bin}: run 'make loadtest'" >&2; exit 2; }
done

tmp=""
stack_started=0
perf_pid=""

cleanup() {
  local rc=$?
  trap - EXIT
  if [[ -n "${perf_pid}" ]] && kill -0 "${perf_pid}" 2>/dev/null; then
    kill -INT "${perf_pid}" 2>/dev/null || true
    wait "${perf_pid}" 2>/dev/null || true
  fi
  if ((stack_started)); then
    "${stack}" down >/dev/null 2>&1 || echo "run_loadtest: stack.sh down failed" >&2
  fi
  if [[ -n "${KEEP_LOGS:-}" && -n "${tmp}" && -d "${tmp}/var/log" ]]; then
    mkdir -p "${KEEP_LOGS}" && cp -r "${tmp}/var/log/." "${KEEP_LOGS}/" &&
      echo "run_loadtest: logs kept in ${KEEP_LOGS}" >&2
  fi
  [[ -z "${tmp}" ]] || rm -rf "${tmp}"
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=../../scripts/lib/scratch.sh
source "${repo}/scripts/lib/scratch.sh"
# shellcheck source=../api/gateway_args.sh
source "${repo}/bench/api/gateway_args.sh"

main() {
  tmp="$(spotex_make_tmp spotex-loadtest)"
  local ports
  # 8 ports + two per replica (its API and its metrics), below the ephemeral range (the client opens many sockets).
  read -r -a ports <<<"$(spotex_pick_free_ports $((8 + 2 * replicas)) 12000)"
  export SPOTEX_VAR="${tmp}/var" SPOTEX_SECRETS_DIR="${tmp}/var/secrets"
  export SPOTEX_NATS_PORT="${ports[0]}" SPOTEX_NATS_MONITOR_PORT="${ports[1]}"
  export SPOTEX_PG_PORT="${ports[2]}" SPOTEX_REDIS_PORT="${ports[3]}"
  export SPOTEX_GATEWAY_PORT="${ports[4]}" SPOTEX_PG_REPLICA_PORT="${ports[5]}"
  export SPOTEX_TLS_PORT="${ports[6]}" SPOTEX_TLS=0 SPOTEX_BIN_DIR="${build}/bin"
  export SPOTEX_EDGE="${edge}" SPOTEX_GATEWAY_REPLICAS="${replicas}"
  export SPOTEX_EDGE_METRICS_PORT="${ports[7]}"
  export SPOTEX_GATEWAY_REPLICA_PORTS="${ports[*]:8:replicas}"
  # Each gateway's Prometheus metrics (docs/metrics.md), read after the run.
  local gw_metrics=("${ports[@]:8+replicas:replicas}")
  [[ "${edge}" == 1 ]] || gw_metrics=("${gw_metrics[0]}")
  export SPOTEX_GATEWAY_METRICS_PORTS="${gw_metrics[*]}"
  # One client address sends everything: lift HAProxy's per-IP flood guards well above any rate
  # tried here (its defaults: 50,000 requests and 20,000 new connections per 10 s, 2,000 open).
  export SPOTEX_EDGE_REQ_RATE_10S="${SPOTEX_EDGE_REQ_RATE_10S:-100000000}"
  export SPOTEX_EDGE_CONN_RATE_10S="${SPOTEX_EDGE_CONN_RATE_10S:-1000000}"
  export SPOTEX_EDGE_CONN_PER_IP="${SPOTEX_EDGE_CONN_PER_IP:-$((connections + makers + 1000))}"
  # HAProxy's log line per request (docs/edge.md) off unless LOG_REQUESTS=1: errors and
  # abnormal requests are still logged.
  export SPOTEX_EDGE_LOG_REQUESTS="${LOG_REQUESTS:-0}"
  export SPOTEX_GATEWAY_ARGS="${GATEWAY_ARGS-$(spotex_bench_gateway_args "${gateway}")}"
  local url="http://127.0.0.1:${SPOTEX_GATEWAY_PORT}"
  # Deposits go to a gateway's own port: the edge refuses the admin paths (docs/edge.md).
  local admin_url="${url}"
  [[ "${edge}" != 1 ]] || admin_url="http://127.0.0.1:${ports[8]}"

  echo "run_loadtest: stack in ${SPOTEX_VAR}, public ${url} (edge ${edge}, ${replicas}" \
    "replicas on ${SPOTEX_GATEWAY_REPLICA_PORTS}); lifted for one client IP: gateway args" \
    "'${SPOTEX_GATEWAY_ARGS}', HAProxy per IP ${SPOTEX_EDGE_REQ_RATE_10S} requests and" \
    "${SPOTEX_EDGE_CONN_RATE_10S} new connections per 10 s, ${SPOTEX_EDGE_CONN_PER_IP}" \
    "connections open; HAProxy request log ${SPOTEX_EDGE_LOG_REQUESTS}" >&2
  stack_started=1
  # One retry: on a loaded machine a component can miss its start-up health check.
  if ! "${stack}" up >"${tmp}/stack-up.log" 2>&1 &&
    ! { echo "run_loadtest: stack.sh up failed, once more" >&2 &&
      "${stack}" down >>"${tmp}/stack-up.log" 2>&1 &&
      "${stack}" up >>"${tmp}/stack-up.log" 2>&1; }; then
    echo "run_loadtest: stack.sh up failed:" >&2
    tail -n 30 "${tmp}/stack-up.log" >&2
    tail -n 20 "${SPOTEX_VAR}"/log/gateway*.log >&2 2>/dev/null || true
    return 2
  fi
  local run="${SPOTEX_VAR}/run" f name pid cpu_pids="" gw_pids=()
  for f in "${run}"/*.pid; do
    [[ -s "${f}" ]] || continue
    name="$(basename "${f}" .pid)"
    pid="$(head -n 1 "${f}")"
    [[ "${pid}" =~ ^[0-9]+$ ]] && kill -0 "${pid}" 2>/dev/null || continue
    cpu_pids+="${cpu_pids:+,}${name}=${pid}"
    [[ "${name}" == gateway* ]] && gw_pids+=("${pid}")
  done
  if [[ "${edge}" == 1 ]] && [[ ! -s "${run}/haproxy.pid" ]]; then
    echo "run_loadtest: warning: no HAProxy in this stack (scripts/stack.sh without the edge):" \
      "measuring one gateway directly" >&2
  fi
  for pid in "${gw_pids[@]}"; do
    if [[ -n "${SPOTEX_GATEWAY_ARGS}" ]] &&
      ! tr '\0' ' ' <"/proc/${pid}/cmdline" | grep -qF -- "${SPOTEX_GATEWAY_ARGS}"; then
      echo "run_loadtest: warning: gateway ${pid} did not get SPOTEX_GATEWAY_ARGS;" \
        "its default rate limits apply (expect 429 -1003/-1015)" >&2
    fi
  done

  echo "run_loadtest: creating $((users + makers)) funded users" >&2
  "${repo}/bench/api/create_users.py" --url "${url}" --count $((users + makers)) \
    --admin-url "${admin_url}" --admin-token-file "${SPOTEX_SECRETS_DIR}/admin-token" --out "${tmp}/users.json" \
    --fund BTC=100 --fund USDT=10000000 >&2

  local args=(--url "${url}" --duration-s "${duration}" --warmup-s "${warmup}"
    --drain-s "${drain}" --connections "${connections}" --users "${tmp}/users.json"
    --makers "${makers}" --maker-levels "${maker_levels}" --read-fraction "${read_fraction}"
    --cpu-pids "${cpu_pids}")
  local limit=$((warmup + duration + drain + 120))
  if [[ "${mode}" == max ]]; then
    args+=(--search-p99-ms "${BOUND_MS:-20}" --search-start "${SEARCH_START:-500}"
      --search-step "${SEARCH_STEP:-500}" --search-max "${SEARCH_MAX:-20000}"
      --search-resolution "${SEARCH_RESOLUTION:-100}")
    limit=$((limit * 30))
  else
    args+=(--rate "${rate}")
  fi
  if [[ -n "${PERF:-}" ]]; then
    perf record -g -a -o "${PERF}" -- sleep $((warmup + duration + 2)) >/dev/null 2>&1 &
    perf_pid=$!
  fi
  local status=0
  "${repo}/bench/loadtest/cpu_by_command.py" snapshot "${tmp}/cpu.json" || true
  timeout --signal=TERM --kill-after=10 "${limit}" "${loadgen}" "${args[@]}" || status=$?
  # The whole machine over the run (makers' head start, warm-up, window, drain): the stack,
  # the generator and anything else running.
  echo "run_loadtest: $("${repo}/bench/loadtest/cpu_by_command.py" report "${tmp}/cpu.json")" >&2 ||
    true
  # HAProxy's own view of the hop behind it (averages over its last 1024 requests): queue,
  # connect and response (request sent to a replica → its answer's headers) times.
  if [[ -s "${run}/haproxy.pid" ]]; then
    local times
    times="$(curl -fsS --max-time 5 "http://127.0.0.1:${SPOTEX_EDGE_METRICS_PORT}/metrics" |
      grep -E '^haproxy_backend_(queue|connect|response|total)_time_average_seconds\{proxy="gateways"\}' |
      sed -E 's/^haproxy_backend_([a-z]+)_time_average_seconds\{[^}]*\} (.*)$/\1=\2/' |
      awk -F= '{ printf " %s=%.2fms", $1, $2 * 1000 }')" || true
    echo "run_loadtest: haproxy backend averages (last 1024 requests):${times:- unavailable}" >&2
  fi
  # Each gateway's own view, from its metrics (means over the stack's life, user creation
  # included): an order from its first byte to its answer, and the engine round trip in it.
  local port
  for port in "${gw_metrics[@]}"; do
    curl -fsS --max-time 5 "http://127.0.0.1:${port}/metrics" 2>/dev/null | awk -v port="${port}" '
      /^spotex_gateway_http_request_duration_seconds_(sum|count)\{/ && /route="\/api\/v3\/order"/ &&
        /method="POST"/ { if ($1 ~ /_sum/) os += $2; else oc += $2 }
      /^spotex_gateway_engine_request_duration_seconds_(sum|count)\{/ && /kind="command"/ {
        if ($1 ~ /_sum/) es += $2; else ec += $2 }
      END { if (oc > 0 && ec > 0) printf "run_loadtest: gateway metrics :%s: POST /api/v3/order mean %.2f ms over %d, engine command round trip mean %.2f ms over %d\n", port, 1000 * os / oc, oc, 1000 * es / ec, ec }' >&2 || true
  done
  if [[ -n "${perf_pid}" ]]; then
    wait "${perf_pid}" || true
    perf_pid=""
    perf report -i "${PERF}" --no-children --sort comm,dso --stdio 2>/dev/null |
      head -n 60 >"${PERF}.txt" || true
    echo "run_loadtest: perf profile in ${PERF}, summary by process in ${PERF}.txt" >&2
  fi
  for pid in "${gw_pids[@]}"; do
    if ! kill -0 "${pid}" 2>/dev/null; then
      echo "run_loadtest: a gateway (${pid}) exited during the run; logs:" >&2
      tail -n 20 "${SPOTEX_VAR}"/log/gateway*.log >&2 2>/dev/null || true
      return 1
    fi
  done
  return "${status}"
}

main "$@"
