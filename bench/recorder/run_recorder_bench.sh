#!/usr/bin/env bash
# Runs the recorder benchmark (bench/recorder/recorder_bench.cc) against a stack of its own:
# NATS, PostgreSQL (the real schema and indexes, migrated by spotex-migrate), Redis,
# spotex-engine and spotex-recorder started by scripts/stack.sh in a temporary $SPOTEX_VAR on
# free loopback ports (no gateway: the bin directory it gets holds only the programs needed).
# Per run:
#   1. throughput: the recorder is stopped, COMMANDS random commands go through the engine, the
#      recorder is started on that backlog and timed until it reaches the end of the stream
#      (events committed / time between its first and last commit seen);
#   2. lag: with the recorder running, RATE orders/s (open loop) for DURATION seconds; each
#      command's delay from its command time to its commit in PostgreSQL, p99.
# Prints one line per run:
#   recorder events_per_s=<N> lag_p99_ms=<N>
# (details on stderr before it). Stops the stack and removes the directory on exit.
#
# Environment:
#   RUNS        runs (default 1), each on a fresh stack
#   COMMANDS    commands in the throughput backlog (default 200000)
#   RATE        offered orders/s in the lag phase (default 10000)
#   DURATION    seconds of the lag phase (default 20)
#   RECORDER_ARGS  extra spotex-recorder flags (e.g. --max-batch-events 50000)
#   BUILD_DIR   the build with the binaries (default: build/release)
#   KEEP_LOGS   a directory to copy the stack's logs into before the temp dir goes
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$(cd "${BUILD_DIR:-${repo}/build/release}" && pwd)"
bench="${build}/bench/recorder/recorder_bench"
stack="${repo}/scripts/stack.sh"
runs="${RUNS:-1}"
commands="${COMMANDS:-200000}"
rate="${RATE:-10000}"
duration="${DURATION:-20}"

for bin in "${bench}" "${build}/bin/spotex-engine" "${build}/bin/spotex-admin" \
  "${build}/bin/spotex-migrate" "${build}/bin/spotex-recorder"; do
  [[ -x "${bin}" ]] || { echo "no ${bin}: run 'make bench-recorder'" >&2; exit 2; }
done

tmp=""
stack_started=0

cleanup() {
  local rc=$?
  trap - EXIT
  if ((stack_started)); then
    "${stack}" down >/dev/null 2>&1 || echo "run_recorder_bench: stack.sh down failed" >&2
  fi
  if [[ -n "${KEEP_LOGS:-}" && -n "${tmp}" && -d "${tmp}/var/log" ]]; then
    mkdir -p "${KEEP_LOGS}" && cp -r "${tmp}/var/log/." "${KEEP_LOGS}/" &&
      echo "run_recorder_bench: logs kept in ${KEEP_LOGS}" >&2
  fi
  [[ -z "${tmp}" ]] || rm -rf "${tmp}"
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=../../scripts/lib/scratch.sh
source "${repo}/scripts/lib/scratch.sh"

# Stops the stack's recorder (SIGTERM: it commits what it holds) and waits for it.
stop_recorder() {
  local pid
  pid="$(cat "${SPOTEX_VAR}/run/recorder.pid")"
  kill -TERM "${pid}"
  while kill -0 "${pid}" 2>/dev/null; do sleep 0.1; done
}

run_once() {
  tmp="$(spotex_make_tmp spotex-recorder-bench)"
  local ports
  read -r -a ports <<<"$(spotex_pick_free_ports 5)"
  # Only the programs this benchmark needs: stack.sh starts what it finds.
  mkdir -p "${tmp}/bin"
  local b
  for b in spotex-engine spotex-admin spotex-migrate spotex-recorder; do
    ln -s "${build}/bin/${b}" "${tmp}/bin/${b}"
  done
  # No edge (HAProxy and gateway replicas, docs/edge.md): this measures the recorder alone.
  export SPOTEX_EDGE=0
  export SPOTEX_VAR="${tmp}/var" SPOTEX_SECRETS_DIR="${tmp}/var/secrets"
  export SPOTEX_NATS_PORT="${ports[0]}" SPOTEX_NATS_MONITOR_PORT="${ports[1]}"
  export SPOTEX_PG_PORT="${ports[2]}" SPOTEX_REDIS_PORT="${ports[3]}"
  export SPOTEX_GATEWAY_PORT="${ports[4]}" SPOTEX_BIN_DIR="${tmp}/bin"
  export SPOTEX_RECORDER_ARGS="${RECORDER_ARGS:-}"
  stack_started=1
  if ! "${stack}" up >"${tmp}/stack-up.log" 2>&1; then
    echo "run_recorder_bench: stack.sh up failed:" >&2
    tail -n 30 "${tmp}/stack-up.log" >&2
    return 2
  fi
  local common=(--nats-url "nats://127.0.0.1:${SPOTEX_NATS_PORT}" --nats-user spotex
    --nats-password-file "${SPOTEX_SECRETS_DIR}/nats-password"
    --pg-port "${SPOTEX_PG_PORT}" --pg-password-file "${SPOTEX_SECRETS_DIR}/pg-password")

  stop_recorder
  echo "run_recorder_bench: ${commands} commands into the engine, recorder stopped" >&2
  "${bench}" load "${common[@]}" --commands "${commands}"
  # The poller first, so that it sees the position from before the recorder starts again.
  "${bench}" catchup "${common[@]}" >"${tmp}/catchup.out" &
  local catchup_pid=$! out eps lag
  sleep 0.5
  "${stack}" up >>"${tmp}/stack-up.log" 2>&1 # starts the recorder again
  wait "${catchup_pid}"
  out="$(cat "${tmp}/catchup.out")"
  eps="$(sed -n 's/.*events_per_s=\([0-9]*\).*/\1/p' <<<"${out}")"
  echo "run_recorder_bench: ${rate} orders/s for ${duration} s with the recorder running" >&2
  out="$("${bench}" lag "${common[@]}" --rate "${rate}" --duration "${duration}")" || true
  echo "run_recorder_bench: ${out}" >&2
  lag="$(sed -n 's/.*lag_p99_ms=\([0-9-]*\).*/\1/p' <<<"${out}")"
  grep -h '"info".*batches' "${SPOTEX_VAR}/log/recorder.log" | tail -n 3 >&2 || true
  echo "recorder events_per_s=${eps:-0} lag_p99_ms=${lag:--1}"

  "${stack}" down >/dev/null 2>&1 || true
  stack_started=0
  if [[ -n "${KEEP_LOGS:-}" ]]; then
    mkdir -p "${KEEP_LOGS}/run${i}" && cp -r "${tmp}/var/log/." "${KEEP_LOGS}/run${i}/"
  fi
  rm -rf "${tmp}"
  tmp=""
}

for ((i = 0; i < runs; i++)); do
  run_once
done
