#!/usr/bin/env bash
# Full cycle of scripts/stack.sh against the real servers, in a temporary $SPOTEX_VAR on free
# loopback ports: a foreign process on a port is refused; `up` starts everything and each
# component answers with its credentials (and refuses without them); a second `up` changes
# nothing; a killed component is reported and restarted by the next `up` (stale pid file);
# `down` leaves no process and no listening port. Cleans up after itself, also on failure.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STACK="$REPO_ROOT/scripts/stack.sh"
PG_BINDIR="${SPOTEX_PG_BINDIR:-/usr/lib/postgresql/15/bin}"
BIN_DIR="${SPOTEX_BIN_DIR:-$REPO_ROOT/build/release/bin}"
COMPONENTS=(nats postgres redis)
[ ! -x "$BIN_DIR/spotex-engine" ] || COMPONENTS+=(engine)
# The gateway runs as two replicas behind HAProxy (the edge, docs/edge.md).
[ ! -x "$BIN_DIR/spotex-gateway" ] || COMPONENTS+=(gateway-1 gateway-2 haproxy)
# The recorder runs once it and the migrator (its schema) are built.
[ ! -x "$BIN_DIR/spotex-recorder" ] || [ ! -x "$BIN_DIR/spotex-migrate" ] ||
  COMPONENTS+=(recorder)

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
pass() { echo "ok: $*"; }

# The temporary directory must be searchable by the postgres user when we are root (mktemp
# makes it 0700): 0711 lets it pass through without listing. If $TMPDIR itself is closed to
# that user, fall back to /tmp.
make_tmp() {
  local base="${TMPDIR:-/tmp}"
  if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$base" 2>/dev/null; then
    base=/tmp
  fi
  TMP="$(mktemp -d "$base/spotex-stack-test.XXXXXX")"
  chmod 0711 "$TMP"
}

FOREIGN_PID=""
cleanup() {
  local rc=$?
  trap - EXIT
  if [ -n "$FOREIGN_PID" ]; then
    kill "$FOREIGN_PID" 2>/dev/null || true
  fi
  if [ -d "${SPOTEX_VAR:-}" ]; then
    if [ "$rc" -ne 0 ]; then
      echo "---- logs ($SPOTEX_VAR/log) ----" >&2
      tail -n 30 "$SPOTEX_VAR"/log/*.log >&2 2>/dev/null || true
    fi
    "$STACK" down >/dev/null 2>&1 || echo "cleanup: stack.sh down failed" >&2
  fi
  rm -rf "$TMP"
  exit "$rc"
}

# Listening TCP ports (hex, upper case) from /proc, so no extra tool is needed.
listening_ports_hex() {
  local f
  for f in /proc/net/tcp /proc/net/tcp6; do
    [ -r "$f" ] && awk '$4 == "0A" { split($2, a, ":"); print a[2] }' "$f"
  done
}
port_listening() { listening_ports_hex | grep -qx "$(printf '%04X' "$1")"; }

# N distinct ports that nothing listens on, from a range clear of the defaults and below the
# kernel's ephemeral range (32768 and up), where a port can be taken as the source port of one
# of the stack's own outgoing connections before the server that should listen on it binds it.
pick_free_ports() {
  local n="$1" port chosen=()
  while [ ${#chosen[@]} -lt "$n" ]; do
    port=$((20000 + RANDOM % 12000))
    if ! port_listening "$port" && [[ " ${chosen[*]} " != *" $port "* ]]; then
      chosen+=("$port")
    fi
  done
  echo "${chosen[@]}"
}

# Raw NATS protocol over bash /dev/tcp: CONNECT (with credentials if given), then a request
# to $4 with payload $5. Prints every line the server sends until a reply payload or -ERR.
nats_exchange() {
  local port="$1" user="$2" password="$3" subject="$4" payload="${5:-}" line
  local connect='{"verbose":false}'
  [ -z "$user" ] || connect="{\"verbose\":false,\"user\":\"$user\",\"pass\":\"$password\"}"
  exec 7<>"/dev/tcp/127.0.0.1/$port"
  # A server that refuses the CONNECT closes the socket while we may still be writing: the
  # write must not kill us with SIGPIPE; the -ERR is read below.
  (
    trap '' PIPE
    printf 'CONNECT %s\r\nSUB _INBOX.test 1\r\nPUB %s _INBOX.test %d\r\n%s\r\n' \
      "$connect" "$subject" "${#payload}" "$payload" >&7
  ) 2>/dev/null || true
  while IFS= read -r -t 5 line <&7; do
    line="${line%$'\r'}"
    echo "$line"
    case "$line" in
      -ERR*) break ;;
      MSG*)
        IFS= read -r -t 5 line <&7 && echo "${line%$'\r'}"
        break
        ;;
    esac
  done
  exec 7<&-
}

pid_of() { cat "$SPOTEX_VAR/run/$1.pid"; }
pids_now() {
  local c
  for c in "${COMPONENTS[@]}"; do
    printf '%s=%s ' "$c" "$(pid_of "$c")"
  done
}

check_nats() {
  local password out
  password="$(cat "$SPOTEX_SECRETS_DIR/nats-password")"
  curl -sf "http://127.0.0.1:$SPOTEX_NATS_MONITOR_PORT/healthz" | grep -q '"ok"' ||
    fail "nats /healthz"
  curl -sf "http://127.0.0.1:$SPOTEX_NATS_MONITOR_PORT/jsz" | grep -q '"store_dir"' ||
    fail "nats /jsz shows no JetStream"
  out="$(nats_exchange "$SPOTEX_NATS_PORT" "" "" ping)"
  grep -q "^-ERR 'Authorization Violation'" <<<"$out" || fail "nats without auth: $out"
  out="$(nats_exchange "$SPOTEX_NATS_PORT" spotex wrong ping)"
  grep -q "^-ERR 'Authorization Violation'" <<<"$out" || fail "nats bad password: $out"
  # A file-backed stream, then a published message acknowledged by JetStream.
  out="$(nats_exchange "$SPOTEX_NATS_PORT" spotex "$password" "\$JS.API.STREAM.CREATE.PROBE" \
    '{"name":"PROBE","subjects":["probe.>"],"storage":"file"}')"
  if ! grep -q 'stream_create_response' <<<"$out" || grep -q '"error"' <<<"$out"; then
    fail "JetStream stream create: $out"
  fi
  out="$(nats_exchange "$SPOTEX_NATS_PORT" spotex "$password" probe.one hello)"
  grep -Eq '"stream": ?"PROBE", ?"seq": ?1' <<<"$out" || fail "JetStream publish ack: $out"
  pass "nats: auth enforced, JetStream stores for user spotex"
}

check_postgres() {
  local password out
  password="$(cat "$SPOTEX_SECRETS_DIR/pg-password")"
  out="$(PGPASSWORD="$password" "$PG_BINDIR/psql" -X -At -h 127.0.0.1 \
    -p "$SPOTEX_PG_PORT" -U spotex -d spotex -c 'SELECT current_user || current_database()')"
  [ "$out" = spotexspotex ] || fail "postgres login as spotex: $out"
  if PGPASSWORD=wrong "$PG_BINDIR/psql" -X -At -h 127.0.0.1 -p "$SPOTEX_PG_PORT" -U spotex \
    -d spotex -c 'SELECT 1' </dev/null >/dev/null 2>&1; then
    fail "postgres accepted a wrong password"
  fi
  pass "postgres: spotex/spotex by scram password on 127.0.0.1:$SPOTEX_PG_PORT"
}

check_redis() {
  local password out
  password="$(cat "$SPOTEX_SECRETS_DIR/redis-password")"
  out="$(printf 'AUTH %s\nPING\n' "$password" | redis-cli -h 127.0.0.1 -p "$SPOTEX_REDIS_PORT")"
  [ "$(tail -n 1 <<<"$out")" = PONG ] || fail "redis with password: $out"
  out="$(printf 'PING\n' | redis-cli -h 127.0.0.1 -p "$SPOTEX_REDIS_PORT")"
  [[ "$out" == NOAUTH* ]] || fail "redis without password: $out"
  pass "redis: requirepass enforced"
}

check_engine() {
  [ -x "$BIN_DIR/spotex-admin" ] || return 0
  "$BIN_DIR/spotex-admin" --nats-url "nats://127.0.0.1:$SPOTEX_NATS_PORT" --nats-user spotex \
    --nats-password-file "$SPOTEX_SECRETS_DIR/nats-password" status >/dev/null ||
    fail "spotex-admin status"
  pass "engine: spotex-admin status"
}

check_gateway() {
  [ -x "$BIN_DIR/spotex-gateway" ] || return 0
  curl -fsS "http://127.0.0.1:$SPOTEX_GATEWAY_PORT/api/v3/ping" | grep -qx '{}' ||
    fail "gateway: GET /api/v3/ping"
  curl -fsS "http://127.0.0.1:$SPOTEX_GATEWAY_PORT/api/v3/exchangeInfo" | grep -q '"BTCUSDT"' ||
    fail "gateway: exchangeInfo lists BTCUSDT"
  pass "gateway: ping and exchangeInfo on 127.0.0.1:$SPOTEX_GATEWAY_PORT"
}

# The engine's market set-up commands reach PostgreSQL through the recorder.
check_recorder() {
  [[ " ${COMPONENTS[*]} " == *" recorder "* ]] || return 0
  local password out=""
  password="$(cat "$SPOTEX_SECRETS_DIR/pg-password")"
  for _ in $(seq 150); do
    out="$(PGPASSWORD="$password" "$PG_BINDIR/psql" -X -At -h 127.0.0.1 -p "$SPOTEX_PG_PORT" \
      -U spotex -d spotex -c "SELECT (SELECT count(*) FROM recorder_positions WHERE shard = 0
        AND command_seq > 0) || ':' || (SELECT count(*) FROM symbols)" 2>/dev/null)" || true
    [[ "$out" =~ ^1:[1-9] ]] && break
    sleep 0.2
  done
  [[ "$out" =~ ^1:[1-9] ]] || fail "recorder: no position or symbols in PostgreSQL ($out)"
  pass "recorder: the engine's symbols are in PostgreSQL"
}

check_all_gone() {
  local c port pid
  for c in "${COMPONENTS[@]}"; do
    [ ! -e "$SPOTEX_VAR/run/$c.pid" ] || fail "$c: pid file left after down"
  done
  for pid in "${@}"; do
    if [ -e "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
      fail "pid $pid still alive after down"
    fi
  done
  for port in "$SPOTEX_NATS_PORT" "$SPOTEX_NATS_MONITOR_PORT" "$SPOTEX_PG_PORT" \
    "$SPOTEX_REDIS_PORT" "$SPOTEX_GATEWAY_PORT" $SPOTEX_GATEWAY_REPLICA_PORTS; do
    ! port_listening "$port" || fail "port $port still listening after down"
  done
  pass "down: no process, no pid file, no listening port left"
}

main() {
  make_tmp
  trap cleanup EXIT
  local ports out first second
  read -r -a ports <<<"$(pick_free_ports 7)"
  export SPOTEX_VAR="$TMP/var" SPOTEX_SECRETS_DIR="$TMP/var/secrets"
  export SPOTEX_NATS_PORT="${ports[0]}" SPOTEX_NATS_MONITOR_PORT="${ports[1]}"
  export SPOTEX_PG_PORT="${ports[2]}" SPOTEX_REDIS_PORT="${ports[3]}" SPOTEX_BIN_DIR="$BIN_DIR"
  export SPOTEX_GATEWAY_PORT="${ports[4]}" SPOTEX_GATEWAY_REPLICA_PORTS="${ports[5]} ${ports[6]}"
  echo "SPOTEX_VAR=$SPOTEX_VAR ports: ${ports[*]}"

  # A foreign server on our NATS port: `up` must refuse, naming the port.
  local nats_server
  nats_server="$(command -v nats-server || echo /usr/sbin/nats-server)"
  (exec setsid "$nats_server" -a 127.0.0.1 -p "$SPOTEX_NATS_PORT" >/dev/null 2>&1 </dev/null) &
  FOREIGN_PID=$!
  for _ in $(seq 100); do
    if port_listening "$SPOTEX_NATS_PORT"; then
      break
    fi
    sleep 0.1
  done
  if out="$("$STACK" up 2>&1)"; then
    fail "up succeeded although port $SPOTEX_NATS_PORT was taken: $out"
  fi
  grep -q "port $SPOTEX_NATS_PORT is already in use" <<<"$out" || fail "unclear refusal: $out"
  kill "$FOREIGN_PID"
  wait "$FOREIGN_PID" || true
  FOREIGN_PID=""
  pass "up refuses a port held by a foreign process"

  "$STACK" up
  check_nats
  check_postgres
  check_redis
  check_engine
  check_recorder
  check_gateway
  [ "$(stat -c %a "$SPOTEX_SECRETS_DIR")" = 700 ] || fail "secrets dir not 0700"
  [ "$(stat -c %a "$SPOTEX_SECRETS_DIR/nats-password")" = 600 ] || fail "secret not 0600"

  first="$(pids_now)"
  "$STACK" up
  second="$(pids_now)"
  [ "$first" = "$second" ] || fail "second up changed pids: $first -> $second"
  pass "second up is a no-op ($first)"
  "$STACK" status >/dev/null || fail "status says something is down"

  kill -KILL "$(pid_of redis)"
  local status_rc=0
  for _ in $(seq 50); do
    status_rc=0
    "$STACK" status >/dev/null || status_rc=$?
    [ "$status_rc" -eq 0 ] || break
    sleep 0.1
  done
  [ "$status_rc" -eq 3 ] || fail "status does not notice a killed redis (rc $status_rc)"
  out="$("$STACK" up)"
  grep -q "redis: removing stale pid file" <<<"$out" || fail "stale pid file not reported: $out"
  check_redis
  grep -q "nats=$(pid_of nats) postgres=$(pid_of postgres) " <<<"$first" ||
    fail "restarting redis touched the others"
  pass "a killed component is reported and restarted alone"

  local pids=()
  read -r -a pids <<<"$(pids_now | sed -E 's/[a-z]+=//g')"
  "$STACK" down
  check_all_gone "${pids[@]}"
  "$STACK" down >/dev/null || fail "down with nothing running"
  pass "stack up/down cycle"
}

main "$@"
