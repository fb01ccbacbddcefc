#!/usr/bin/env bash
# Browser tests of the trading screen (docs/web.md): builds the screen from web/src into a
# temporary directory, starts a whole stack with scripts/stack.sh in a temporary $SPOTEX_VAR on
# free loopback ports (HAProxy in front of two gateway replicas that serve the screen, and the
# demo market's bots), runs web/e2e/*.test.mjs with `node --test` in headless Chromium through
# playwright-core, then always stops the stack and removes the directory. One stack for every
# test file; the files run one at a time, recovery.test.mjs (which kills the gateways) last.
#
# The tests get SPOTEX_BASE_URL (HAProxy's public port), SPOTEX_GATEWAY_DIRECT_URL (replica 1,
# for the admin deposits HAProxy refuses), SPOTEX_VAR and the SPOTEX_* ports (to restart the
# replicas with stack.sh), and SPOTEX_SCREENSHOT_DIR, where the screenshots go
# [<repo>/build/web-screenshots]: trading-1280x800.png and trading-390.png. Afterwards no secret
# of the run (the stack's, the demo users' and bots', and the passwords, API secrets and session
# cookies the tests saw) may be in any log (tests/e2e/check_secrets.sh).
#
# Usage: web/e2e/run.sh [node --test options, e.g. --test-name-pattern=limit]
# Environment: SPOTEX_BIN_DIR [<repo>/build/release/bin], SPOTEX_WEB_ROOT (an already built
#   screen; default: build one now), SPOTEX_CHROMIUM [/usr/bin/chromium], SPOTEX_E2E_KEEP=1
#   keeps the temporary directory (logs), SPOTEX_E2E_TEST_TIMEOUT_MS [120000] per test,
#   SPOTEX_E2E_RUN_TIMEOUT_S [300] for the whole node run (ctest allows this script 600 s).
set -euo pipefail

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$E2E_DIR/../.." && pwd)"
STACK="$REPO_ROOT/scripts/stack.sh"
BIN_DIR="${SPOTEX_BIN_DIR:-$REPO_ROOT/build/release/bin}"
CHROMIUM="${SPOTEX_CHROMIUM:-/usr/bin/chromium}"
TEST_TIMEOUT_MS="${SPOTEX_E2E_TEST_TIMEOUT_MS:-120000}"
RUN_TIMEOUT_S="${SPOTEX_E2E_RUN_TIMEOUT_S:-300}"

fail() {
  echo "web-e2e: FAIL: $*" >&2
  exit 1
}
note() { echo "web-e2e: $*"; }

# shellcheck source=../../scripts/lib/scratch.sh
source "$REPO_ROOT/scripts/lib/scratch.sh"
# shellcheck source=../../scripts/lib/test_stack.sh
source "$REPO_ROOT/scripts/lib/test_stack.sh"

TMP=""

main() {
  local rc
  [ -x "$BIN_DIR/spotex-gateway" ] || fail "$BIN_DIR/spotex-gateway is not built"
  [ -x "$BIN_DIR/spotex-engine" ] || fail "$BIN_DIR/spotex-engine is not built"
  [ -x "$CHROMIUM" ] || fail "$CHROMIUM not found (Debian: scripts/install-deps.sh --test)"
  [ -r "$REPO_ROOT/tools/demo-market/bots.mjs" ] ||
    fail "tools/demo-market/bots.mjs not found: the demo market is needed"
  "$REPO_ROOT/scripts/web.sh" install

  TMP="$(spotex_make_tmp spotex-web-e2e)"
  trap 'spotex_test_stack_cleanup web-e2e' EXIT
  trap 'exit 130' INT TERM
  if [ -z "${SPOTEX_WEB_ROOT:-}" ]; then
    "$REPO_ROOT/scripts/web.sh" build "$TMP/web" >"$TMP/web-build.log" 2>&1 || {
      cat "$TMP/web-build.log" >&2
      fail "the trading screen does not build"
    }
    export SPOTEX_WEB_ROOT="$TMP/web"
  fi
  spotex_test_stack_env
  export SPOTEX_DEMO=1 SPOTEX_HA=0 SPOTEX_METRICS=0
  export SPOTEX_CHROMIUM="$CHROMIUM"
  export SPOTEX_SCREENSHOT_DIR="${SPOTEX_SCREENSHOT_DIR:-$REPO_ROOT/build/web-screenshots}"
  note "SPOTEX_VAR=$SPOTEX_VAR public port $SPOTEX_GATEWAY_PORT (haproxy), replicas" \
    "$SPOTEX_GATEWAY_REPLICA_PORTS, screen $SPOTEX_WEB_ROOT"
  spotex_test_stack_start
  mkdir -p "$SPOTEX_SCREENSHOT_DIR"

  # One node --test per file, in this order (node would sort them by name): recovery kills
  # the gateways, so it comes last. Every test is bounded, and so is the whole run.
  local file deadline=$((SECONDS + RUN_TIMEOUT_S)) left failed=()
  for file in trading.test.mjs recovery.test.mjs; do
    left=$((deadline - SECONDS))
    ((left > 0)) || left=1
    rc=0
    (cd "$E2E_DIR" && timeout --kill-after=10 "$left" node --test \
      --test-timeout="$TEST_TIMEOUT_MS" --test-reporter=spec "$@" "$file") || rc=$?
    [ "$rc" -ne 124 ] || note "$file did not finish within the run's ${RUN_TIMEOUT_S}s"
    [ "$rc" -eq 0 ] || failed+=("$file")
  done
  ((${#failed[@]} == 0)) || fail "failed: ${failed[*]}"

  # No secret of the run is in any log (docs/logging.md): the stack's, the demo users', those the
  # tests saw (passwords, API secrets, session cookies: test-secrets.txt) and the demo bots'
  # passwords and API secrets (their state file).
  node -e '
    const seen = [];
    const walk = (v, k) => {
      if (typeof v === "string" && /password|secret|token/i.test(k)) seen.push(v);
      else if (v && typeof v === "object") for (const [kk, vv] of Object.entries(v)) walk(vv, kk);
    };
    walk(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")), "");
    if (seen.length) console.log(seen.join("\n"));' "$SPOTEX_VAR/demo/bots.json" \
    >>"$SPOTEX_VAR/test-secrets.txt" || fail "cannot read the demo bots' state file"
  "$REPO_ROOT/tests/e2e/check_secrets.sh" "$SPOTEX_VAR" || fail "a secret was logged (docs/logging.md)"
  # The stack survived the tests (the replicas were restarted, the bots kept going).
  "$STACK" status >/dev/null || {
    "$STACK" status >&2 || true
    fail "a component is down after the tests"
  }
  note "all passed; screenshots in $SPOTEX_SCREENSHOT_DIR"
}

main "$@"
