#!/usr/bin/env bash
# End-to-end tests of the public API with the real clients (ccxt and @binance/spot, pinned in
# package-lock.json): starts a whole stack (NATS, PostgreSQL, Redis, engine, gateway) with
# scripts/stack.sh in a temporary $SPOTEX_VAR on free loopback ports, runs every *.test.mjs
# here with `node --test` against it, then always stops the stack and removes the directory.
# The exit code is the tests' result.
#
# The stack runs with its edge (docs/edge.md): HAProxy on the public port in front of two gateway
# replicas, so every test goes through it; SPOTEX_GATEWAY_DIRECT_URL is replica 1 itself (for
# the tests of the gateway's own HTTP parser, which HAProxy answers before it).
#
# The tests get SPOTEX_BASE_URL (http://127.0.0.1:<public port>) and SPOTEX_USERS, the demo
# users file the gateway writes on its first start ($SPOTEX_VAR/demo/users.json: two funded
# users with email, password, apiKey, apiSecret), and the stack's SPOTEX_VAR, SPOTEX_BIN_DIR
# and SPOTEX_*_PORT (the admin token, and a second gateway replica, need them). Without the
# users file the signed tests are skipped, the market-data tests still run, and this script
# fails saying the file is missing.
#
# Usage: tests/e2e/run.sh [node --test options, e.g. --test-name-pattern=ticker]
# Environment: SPOTEX_BIN_DIR [<repo>/build/release/bin], SPOTEX_E2E_KEEP=1 keeps the
#   temporary directory (logs) after the run, SPOTEX_E2E_USERS_WAIT_S [10] how long to wait
#   for the demo users file once the gateway answers, SPOTEX_E2E_TEST_TIMEOUT_MS [120000] per
#   test, SPOTEX_E2E_RUN_TIMEOUT_S [420] for the whole node run (ctest allows run.sh 600 s).
set -euo pipefail

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$E2E_DIR/../.." && pwd)"
STACK="$REPO_ROOT/scripts/stack.sh"
BIN_DIR="${SPOTEX_BIN_DIR:-$REPO_ROOT/build/release/bin}"
USERS_WAIT_S="${SPOTEX_E2E_USERS_WAIT_S:-10}"
TEST_TIMEOUT_MS="${SPOTEX_E2E_TEST_TIMEOUT_MS:-120000}"
RUN_TIMEOUT_S="${SPOTEX_E2E_RUN_TIMEOUT_S:-420}"

fail() {
  echo "e2e: FAIL: $*" >&2
  exit 1
}
note() { echo "e2e: $*"; }

# shellcheck source=../../scripts/lib/scratch.sh
source "$REPO_ROOT/scripts/lib/scratch.sh"
# shellcheck source=../../scripts/lib/test_stack.sh
source "$REPO_ROOT/scripts/lib/test_stack.sh"

TMP=""


main() {
  local users rc=0
  [ -x "$BIN_DIR/spotex-gateway" ] || fail "$BIN_DIR/spotex-gateway is not built"
  [ -x "$BIN_DIR/spotex-engine" ] || fail "$BIN_DIR/spotex-engine is not built"
  "$E2E_DIR/install.sh"

  TMP="$(spotex_make_tmp spotex-e2e)"
  trap 'spotex_test_stack_cleanup e2e' EXIT
  trap 'exit 130' INT TERM
  spotex_test_stack_env
  # SPOTEX_HA=1 (or HA=1): the stack has a streaming replica and history.test.mjs reads from it.
  if [ "${SPOTEX_HA:-${HA:-0}}" = 1 ]; then
    export SPOTEX_HA=1 SPOTEX_HISTORY_PG_PORT="$SPOTEX_PG_REPLICA_PORT"
  fi
  note "SPOTEX_VAR=$SPOTEX_VAR public port $SPOTEX_GATEWAY_PORT (haproxy), replicas" \
    "$SPOTEX_GATEWAY_REPLICA_PORTS"
  spotex_test_stack_start

  # stack.sh waits for /health; the demo users file is written during the gateway's start.
  users="$SPOTEX_VAR/demo/users.json"
  local deadline=$((SECONDS + USERS_WAIT_S))
  while [ ! -s "$users" ] && ((SECONDS < deadline)); do
    sleep 0.2
  done
  if [ -s "$users" ]; then
    export SPOTEX_USERS="$users"
  else
    unset SPOTEX_USERS
    note "no demo users file ($users): signed tests are skipped"
  fi

  # One file at a time: the files trade with the same two users on the same books, and
  # edge.test.mjs kills and restarts a replica (last, so a failure there cannot hide others).
  # replicas.test.mjs starts a second gateway from the SPOTEX_* ports, paths and binaries
  # exported above (the same flags as scripts/stack.sh start_gateway).
  # Every test is bounded (--test-timeout) and so is the whole run (timeout, well inside
  # ctest's limit), so a hung client fails with its name and the stack's logs are printed.
  (cd "$E2E_DIR" && timeout --kill-after=10 "$RUN_TIMEOUT_S" node --test --test-concurrency=1 \
    --test-timeout="$TEST_TIMEOUT_MS" --test-reporter=spec "$@" \
    ccxt.test.mjs binance_spot.test.mjs errors.test.mjs replicas.test.mjs streams.test.mjs \
    wsclients.test.mjs slowconsumer.test.mjs userdata.test.mjs history.test.mjs \
    edge.test.mjs) || rc=$?
  [ "$rc" -ne 124 ] || note "node --test did not finish within ${RUN_TIMEOUT_S}s"

  if [ -z "${SPOTEX_USERS:-}" ]; then
    fail "the gateway wrote no demo users file ($users) within ${USERS_WAIT_S}s of" \
      "answering /health, so every signed test was skipped (market-data tests exit $rc)"
  fi
  [ "$rc" -eq 0 ] || fail "node --test exited $rc"

  # After the clients' workload: the ledger the recorder wrote must equal the engine's live
  # balances, account by account, and balance per asset (issue 6, docs/reconcile-and-archive.md).
  SPOTEX_RECONCILE_ARGS="--wait-ms 60000" "$STACK" reconcile >"$TMP/reconcile.log" 2>&1 || {
    cat "$TMP/reconcile.log" >&2
    fail "spotex-admin reconcile reported differences (or could not run)"
  }
  note "$(tail -n 1 "$TMP/reconcile.log")"

  # No secret the run used (the stack's own, the demo users', and those the tests created,
  # which lib.mjs noteSecret appended to $SPOTEX_VAR/test-secrets.txt) is in any log.
  "$E2E_DIR/check_secrets.sh" "$SPOTEX_VAR" || fail "a secret was logged (docs/logging.md)"
  note "all passed"
}

main "$@"
