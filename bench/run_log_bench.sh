#!/usr/bin/env bash
# Runs the command-log benchmark (bench/log_bench.cc) against its own, fresh nats-server
# (JetStream) and spotex-engine in a temporary directory, then stops both and removes the
# directory. Called by `make bench-log`, which builds log_bench, spotex-engine and spotex-admin
# first. Each run starts from an empty stream and an empty engine data dir; the last line of
# each run is `log cmds_per_s=<N> p50_us=<N> p99_us=<N> p999_us=<N>`.
#
# Environment:
#   RUNS       runs, each on a fresh server and engine (default 1)
#   RATE       phase 2 offered rate, commands/s (default 10000)
#   DURATION   seconds of each phase (default 10)
#   WINDOW     phase 1 commands in flight (default 2000)
#   ACCOUNTS   accounts opened and funded before the phases (default 1000)
#   TIMEOUT_MS a command unanswered this long is a failure (default 5000)
#   PHASES     12 (default), 1 (throughput only) or 2 (latency only)
#   BUILD_DIR  the release build (default: build/release)
#   NATS_SERVER  the nats-server binary (default: nats-server on PATH)
#   GOGC, GOMEMLIMIT  nats-server's garbage collector (default off / 2GiB, as `make up`)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-${repo}/build/release}"
bench="${build}/bench/log_bench"
engine="${build}/bin/spotex-engine"
admin="${build}/bin/spotex-admin"
nats_server="${NATS_SERVER:-nats-server}"
runs="${RUNS:-1}"
rate="${RATE:-10000}"
duration="${DURATION:-10}"
window="${WINDOW:-2000}"
accounts="${ACCOUNTS:-1000}"
timeout_ms="${TIMEOUT_MS:-5000}"
phases="${PHASES:-12}"

for bin in "${bench}" "${engine}" "${admin}"; do
  [[ -x "${bin}" ]] || { echo "no ${bin}: run 'make bench-log'" >&2; exit 2; }
done
command -v "${nats_server}" >/dev/null || { echo "no ${nats_server} on PATH" >&2; exit 2; }

tmp=""
nats_pid=""
engine_pid=""

# Stops a process we started (by its pid only): SIGTERM, then SIGKILL after a grace period.
stop_pid() {
  local pid="$1" name="$2"
  [[ -n "${pid}" ]] || return 0
  kill -0 "${pid}" 2>/dev/null || return 0
  kill -TERM "${pid}" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "${pid}" 2>/dev/null || { wait "${pid}" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  echo "${name} (pid ${pid}) did not stop in 10 s: killing it" >&2
  kill -KILL "${pid}" 2>/dev/null || true
  wait "${pid}" 2>/dev/null || true
}

cleanup() {
  stop_pid "${engine_pid}" spotex-engine
  engine_pid=""
  stop_pid "${nats_pid}" nats-server
  nats_pid=""
  if [[ -n "${tmp}" ]]; then
    rm -rf "${tmp}"
    tmp=""
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A TCP port nobody listens on now (the kernel picks it).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Runs "$@" until it succeeds, at most $1 seconds (polling every 0.2 s).
wait_for() {
  local seconds="$1"
  shift
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then return 1; fi
    sleep 0.2
  done
}

one_run() {
  local run="$1"
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/spotex-log-bench.XXXXXX")"
  local port
  port="$(free_port)"
  local url="nats://127.0.0.1:${port}"
  # The garbage-collector setting `make up` gives nats-server (scripts/stack.sh).
  GOGC="${GOGC:-off}" GOMEMLIMIT="${GOMEMLIMIT:-2GiB}" \
    "${nats_server}" -js -sd "${tmp}/js" -a 127.0.0.1 -p "${port}" >"${tmp}/nats.log" 2>&1 &
  nats_pid=$!
  if ! wait_for 15 bash -c "exec 3<>/dev/tcp/127.0.0.1/${port}"; then
    echo "nats-server did not start; its log:" >&2
    tail -n 20 "${tmp}/nats.log" >&2
    return 2
  fi
  "${engine}" --data-dir "${tmp}/engine" --nats-url "${url}" --markets "${repo}/etc/markets.toml" \
    >"${tmp}/engine.log" 2>&1 &
  engine_pid=$!
  if ! wait_for 30 "${admin}" --nats-url "${url}" --timeout-ms 1000 status; then
    echo "spotex-engine did not answer 'status'; its log:" >&2
    tail -n 20 "${tmp}/engine.log" >&2
    return 2
  fi
  # The markets the bench assumes (BTCUSDT = symbol 0) must have been applied through the log.
  if ! wait_for 15 bash -c "'${admin}' --nats-url '${url}' --timeout-ms 1000 symbols | grep -q BTCUSDT"; then
    echo "BTCUSDT is not listed; 'symbols' says:" >&2
    "${admin}" --nats-url "${url}" symbols >&2 || true
    return 2
  fi
  echo "run ${run}/${runs}: nats-server pid ${nats_pid} on ${url}, spotex-engine pid ${engine_pid}," \
    "dir ${tmp}"
  local status=0
  # Bounded: set-up, two phases of DURATION s, warm-up and drains (each at most TIMEOUT_MS).
  timeout --signal=TERM --kill-after=10 $((2 * duration + 6 * timeout_ms / 1000 + 60)) \
    "${bench}" --nats-url "${url}" --rate "${rate}" --duration "${duration}" \
    --window "${window}" --accounts "${accounts}" --timeout-ms "${timeout_ms}" --phases "${phases}" \
    --cpu-pid "nats-server=${nats_pid}" --cpu-pid "spotex-engine=${engine_pid}" || status=$?
  if ! kill -0 "${engine_pid}" 2>/dev/null; then
    echo "spotex-engine exited during the run; its log:" >&2
    tail -n 20 "${tmp}/engine.log" >&2
    status=1
  fi
  stop_pid "${engine_pid}" spotex-engine
  engine_pid=""
  # Snapshots can pause the engine thread: show the engine's own lines about them.
  grep -o '"msg":"snapshot [^"]*"' "${tmp}/engine.log" | sed 's/^"msg":"\(.*\)"$/engine: \1/' ||
    true
  cleanup
  return "${status}"
}

status=0
for ((run = 1; run <= runs; ++run)); do
  one_run "${run}" || status=$?
done
exit "${status}"
