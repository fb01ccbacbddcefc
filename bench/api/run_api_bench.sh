#!/usr/bin/env bash
# Runs the REST API benchmark (bench/api/api_bench.cc) against a stack of its own: NATS,
# PostgreSQL, Redis, spotex-engine and spotex-gateway started by scripts/stack.sh in a
# temporary $SPOTEX_VAR on free loopback ports. Creates USERS funded users with HMAC keys
# through the gateway's own API (create_users.py), runs api_bench once per offered rate, and
# stops the stack and removes the directory on exit (also on failure or Ctrl-C). Called by
# `make bench-api`, which builds the release binaries first. One line per rate:
#   api offered=<N> achieved=<N> p50_ms=<x> p99_ms=<x> p999_ms=<x> errors=<N>
# (the breakdown api_bench prints to stderr comes before each line).
#
# Environment:
#   RATES          offered rates, requests/s, run in order (default "2000 5000 10000 20000")
#   DURATION       measured seconds per rate (default 20)
#   WARMUP         unmeasured seconds before each (default 5)
#   CONNECTIONS    keep-alive connections (default 128)
#   USERS          API users created and funded (default 100)
#   READ_FRACTION  share of reads in the mix (default 0.2)
#   MIX            full (signed orders, cancels, reads) or public (GET depth/ticker/time only)
#   GATEWAY_ARGS   extra spotex-gateway flags (via SPOTEX_GATEWAY_ARGS); by default those that
#                  lift the per-IP weight and per-account order limits (a benchmark is one IP
#                  and a few users), for those of them the gateway's usage text lists
#   BUILD_DIR      the release build (default: build/release)
#   KEEP_LOGS      a directory to copy the stack's logs into before the temp dir goes
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${BUILD_DIR:-${repo}/build/release}"
bench="${build}/bench/api/api_bench"
gateway="${build}/bin/spotex-gateway"
stack="${repo}/scripts/stack.sh"
rates="${RATES:-2000 5000 10000 20000}"
duration="${DURATION:-20}"
warmup="${WARMUP:-5}"
connections="${CONNECTIONS:-128}"
users="${USERS:-100}"
read_fraction="${READ_FRACTION:-0.2}"
mix="${MIX:-full}"
drain=5

for bin in "${bench}" "${gateway}" "${build}/bin/spotex-engine" "${build}/bin/spotex-admin" \
  "${build}/bin/spotex-migrate"; do
  [[ -x "${bin}" ]] || { echo "no ${bin}: run 'make bench-api'" >&2; exit 2; }
done

tmp=""
stack_started=0

cleanup() {
  local rc=$?
  trap - EXIT
  if ((stack_started)); then
    "${stack}" down >/dev/null 2>&1 || echo "run_api_bench: stack.sh down failed" >&2
  fi
  if [[ -n "${KEEP_LOGS:-}" && -n "${tmp}" && -d "${tmp}/var/log" ]]; then
    mkdir -p "${KEEP_LOGS}" && cp -r "${tmp}/var/log/." "${KEEP_LOGS}/" &&
      echo "run_api_bench: logs kept in ${KEEP_LOGS}" >&2
  fi
  [[ -z "${tmp}" ]] || rm -rf "${tmp}"
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=../../scripts/lib/scratch.sh
source "${repo}/scripts/lib/scratch.sh"
# shellcheck source=gateway_args.sh
source "${repo}/bench/api/gateway_args.sh"

main() {
  tmp="$(spotex_make_tmp spotex-api-bench)"
  local ports
  read -r -a ports <<<"$(spotex_pick_free_ports 5)"
  # One gateway on the benchmark port, no HAProxy in front: this measures the gateway itself
  # (the edge is measured by `make loadtest`, docs/edge.md).
  export SPOTEX_EDGE=0
  export SPOTEX_VAR="${tmp}/var" SPOTEX_SECRETS_DIR="${tmp}/var/secrets"
  export SPOTEX_NATS_PORT="${ports[0]}" SPOTEX_NATS_MONITOR_PORT="${ports[1]}"
  export SPOTEX_PG_PORT="${ports[2]}" SPOTEX_REDIS_PORT="${ports[3]}"
  export SPOTEX_GATEWAY_PORT="${ports[4]}" SPOTEX_BIN_DIR="${build}/bin"
  export SPOTEX_GATEWAY_ARGS="${GATEWAY_ARGS-$(spotex_bench_gateway_args "${gateway}")}"
  local url="http://127.0.0.1:${SPOTEX_GATEWAY_PORT}"

  echo "run_api_bench: stack in ${SPOTEX_VAR}, gateway ${url}," \
    "gateway args '${SPOTEX_GATEWAY_ARGS}'"
  stack_started=1
  if ! "${stack}" up >"${tmp}/stack-up.log" 2>&1; then
    echo "run_api_bench: stack.sh up failed:" >&2
    tail -n 30 "${tmp}/stack-up.log" >&2
    tail -n 20 "${SPOTEX_VAR}"/log/gateway.log >&2 2>/dev/null || true
    return 2
  fi
  local run="${SPOTEX_VAR}/run" gw_pid
  gw_pid="$(cat "${run}/gateway.pid")"
  if [[ -n "${SPOTEX_GATEWAY_ARGS}" ]] &&
    ! tr '\0' ' ' <"/proc/${gw_pid}/cmdline" | grep -qF -- "${SPOTEX_GATEWAY_ARGS}"; then
    echo "run_api_bench: warning: stack.sh did not pass SPOTEX_GATEWAY_ARGS to the gateway;" \
      "its default rate limits apply (expect 429 -1003/-1015)" >&2
  elif [[ -z "${SPOTEX_GATEWAY_ARGS}" ]]; then
    echo "run_api_bench: warning: no rate-limit flags: the gateway's default limits apply" \
      "(6000 weight/min per IP, 100 orders/10 s per account): expect 429s" >&2
  fi
  local cpu_pids="" name
  for name in gateway engine nats redis postgres; do
    [[ -s "${run}/${name}.pid" ]] && cpu_pids+="${cpu_pids:+,}${name}=$(cat "${run}/${name}.pid")"
  done

  local users_args=()
  if [[ "${mix}" == full ]]; then
    echo "run_api_bench: creating ${users} funded users"
    "${repo}/bench/api/create_users.py" --url "${url}" --count "${users}" \
      --admin-token-file "${SPOTEX_SECRETS_DIR}/admin-token" --out "${tmp}/users.json" \
      --fund BTC=10 --fund USDT=1000000
    users_args=(--users "${tmp}/users.json")
  fi

  local rate status=0
  for rate in ${rates}; do
    timeout --signal=TERM --kill-after=10 $((warmup + duration + drain + 60)) \
      "${bench}" --url "${url}" --rate "${rate}" --duration-s "${duration}" \
      --warmup-s "${warmup}" --drain-s "${drain}" --connections "${connections}" \
      --mix "${mix}" --read-fraction "${read_fraction}" "${users_args[@]}" \
      --cpu-pids "${cpu_pids}" || status=$?
    if ! kill -0 "${gw_pid}" 2>/dev/null; then
      echo "run_api_bench: the gateway exited during the run; its log:" >&2
      tail -n 20 "${SPOTEX_VAR}/log/gateway.log" >&2
      return 1
    fi
  done
  return "${status}"
}

main "$@"
