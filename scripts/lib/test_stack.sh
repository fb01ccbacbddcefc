# The whole stack the end-to-end suites run against (tests/e2e/run.sh, web/e2e/run.sh): NATS,
# PostgreSQL, Redis, the engine, the recorder and HAProxy in front of two gateway replicas, in
# $TMP/var on free loopback ports, started and always stopped by scripts/stack.sh. Sourced,
# never run; needs scripts/lib/scratch.sh sourced first.
#
# The caller defines fail() and note(), and sets STACK (scripts/stack.sh), BIN_DIR (the
# binaries) and TMP (from spotex_make_tmp, "" until then).

# The EXIT trap: `trap 'spotex_test_stack_cleanup <name>' EXIT`. If the script failed, prints
# the last lines of every component's log; stops the stack; removes $TMP unless
# SPOTEX_E2E_KEEP=1. Exits with the script's status.
spotex_test_stack_cleanup() {
  local rc=$? name="$1"
  trap - EXIT INT TERM
  if [ -n "${SPOTEX_VAR:-}" ] && [ -d "$SPOTEX_VAR" ]; then
    if [ "$rc" -ne 0 ]; then
      echo "---- last log lines ($SPOTEX_VAR/log) ----" >&2
      tail -n 20 "$SPOTEX_VAR"/log/*.log >&2 2>/dev/null || true
    fi
    "$STACK" down >/dev/null 2>&1 || echo "$name: cleanup: stack.sh down failed" >&2
  fi
  if [ -n "$TMP" ]; then
    if [ "${SPOTEX_E2E_KEEP:-0}" = 1 ]; then
      echo "$name: kept $TMP" >&2
    else
      rm -rf "$TMP"
    fi
  fi
  exit "$rc"
}

# Picks the ports and exports the stack's environment: SPOTEX_VAR, SPOTEX_BIN_DIR, every
# SPOTEX_*_PORT, the edge with two replicas (SPOTEX_GATEWAY_REPLICA_PORTS). The caller may add
# to it (SPOTEX_HA, SPOTEX_DEMO, ...) before spotex_test_stack_start.
spotex_test_stack_env() {
  local ports
  # Below the kernel's ephemeral range (32768 and up): a port there can be taken as the source
  # port of one of the stack's own outgoing connections between the check and HAProxy's bind.
  read -r -a ports <<<"$(spotex_pick_free_ports 8 12000)"
  export SPOTEX_VAR="$TMP/var" SPOTEX_BIN_DIR="$BIN_DIR"
  export SPOTEX_NATS_PORT="${ports[0]}" SPOTEX_NATS_MONITOR_PORT="${ports[1]}"
  export SPOTEX_PG_PORT="${ports[2]}" SPOTEX_REDIS_PORT="${ports[3]}"
  export SPOTEX_GATEWAY_PORT="${ports[4]}" SPOTEX_PG_REPLICA_PORT="${ports[5]}"
  export SPOTEX_EDGE=1 SPOTEX_GATEWAY_REPLICAS=2
  export SPOTEX_GATEWAY_REPLICA_PORTS="${ports[6]} ${ports[7]}"
}

# stack.sh up, then every component must be running. Exports SPOTEX_BASE_URL (HAProxy's public
# port) and SPOTEX_GATEWAY_DIRECT_URL (replica 1 itself: what HAProxy refuses or answers before
# a gateway, such as the admin endpoints and malformed HTTP).
spotex_test_stack_start() {
  local replicas
  "$STACK" up >"$TMP/stack-up.log" 2>&1 || {
    cat "$TMP/stack-up.log" >&2
    fail "scripts/stack.sh up failed"
  }
  "$STACK" status >/dev/null || {
    "$STACK" status >&2 || true
    fail "a component is down after up"
  }
  read -r -a replicas <<<"$SPOTEX_GATEWAY_REPLICA_PORTS"
  export SPOTEX_BASE_URL="http://127.0.0.1:$SPOTEX_GATEWAY_PORT"
  export SPOTEX_GATEWAY_DIRECT_URL="http://127.0.0.1:${replicas[0]}"
}
