#!/usr/bin/env bash
# The local Spotex stack: NATS JetStream, PostgreSQL 15, Redis 7, the engine service, the history
# recorder, the gateway replicas and HAProxy in front of them (the edge, docs/edge.md), run as
# ordinary processes whose data, logs, pid files, sockets and secrets all live under one
# directory ($SPOTEX_VAR, default <repo>/var). Nothing system-wide, no systemd.
#
# Usage: scripts/stack.sh up|down|run|status|reconcile
#   up      start what is not running yet (idempotent), wait until each answers, print a table
#   down    stop what `up` started, in reverse order (SIGTERM, bounded wait, then SIGKILL)
#   run     up, then stay in the foreground reporting deaths; Ctrl-C or SIGTERM runs down
#   status  print what runs; exit 0 if every component that can run does, 3 otherwise
#   reconcile  spotex-admin reconcile against this stack: the engine's live balances against
#           the ledger in PostgreSQL (docs/reconcile-and-archive.md); exit 0 = no difference
#
# Environment (defaults in brackets):
#   SPOTEX_VAR [<repo>/var]            SPOTEX_SECRETS_DIR [$SPOTEX_VAR/secrets]
#   SPOTEX_NATS_PORT [4222]            SPOTEX_NATS_MONITOR_PORT [8222]
#   SPOTEX_PG_PORT [5432]              SPOTEX_REDIS_PORT [6379]
#   SPOTEX_PG_DIR [$SPOTEX_VAR/postgres]  PostgreSQL cluster (data/) and socket dir (socket/)
#   SPOTEX_PG_BINDIR [/usr/lib/postgresql/15/bin]
#   SPOTEX_BIN_DIR [<repo>/build/release/bin]  where spotex-engine, spotex-admin and
#                                       spotex-migrate are
#   SPOTEX_MARKETS [<repo>/etc/markets.toml]
#   SPOTEX_NATS_MAX_FILE_STORE [4G]    SPOTEX_NATS_MAX_MEMORY_STORE [256M]
#   SPOTEX_NATS_GOGC [off]              SPOTEX_NATS_GOMEMLIMIT [2GiB]
#   SPOTEX_GATEWAY_PORT [8080]          the public HTTP API on 127.0.0.1 (HAProxy's, or with
#                                       SPOTEX_EDGE=0 the one gateway's)
#   SPOTEX_EDGE [1]                     1 = HAProxy on SPOTEX_GATEWAY_PORT in front of
#                                       SPOTEX_GATEWAY_REPLICAS gateways (components haproxy,
#                                       gateway-1, gateway-2, ...); 0 = one gateway (component
#                                       gateway) directly on SPOTEX_GATEWAY_PORT, no HAProxy
#   SPOTEX_GATEWAY_REPLICAS [2]         gateway replicas behind HAProxy (1..8)
#   SPOTEX_GATEWAY_REPLICA_PORTS [SPOTEX_GATEWAY_PORT+1 .. +REPLICAS]  their ports on
#                                       127.0.0.1, space-separated, one per replica
#   SPOTEX_TLS [0]                      1 = HAProxy also serves HTTPS on SPOTEX_TLS_PORT [8443]
#                                       with a self-signed certificate made on first start
#                                       ($SPOTEX_SECRETS_DIR/tls/edge.pem)
#   SPOTEX_EDGE_MAXCONN [10000]         HAProxy's connections in all (lowered to what the hard
#                                       open-files limit allows: 2 descriptors each)
#   SPOTEX_EDGE_CONN_PER_IP [2000]      open connections per client IP (more: refused)
#   SPOTEX_EDGE_CONN_RATE_10S [20000]   new connections per client IP per 10 s (more: refused)
#   SPOTEX_EDGE_REQ_RATE_10S [50000]    HTTP requests per client IP per 10 s (more: 429 -1003);
#                                       a flood guard: the gateway's Binance weight limits stay
#                                       the API's real limit
#   SPOTEX_EDGE_CHECK_INTER_MS [200]    health check interval; a replica is out after
#                                       SPOTEX_EDGE_CHECK_FALL [2] failed checks, back after
#                                       SPOTEX_EDGE_CHECK_RISE [2] good ones
#   SPOTEX_EDGE_THREADS [2]             HAProxy threads
#   SPOTEX_EDGE_LOG_REQUESTS [1]        0 = HAProxy logs only errors and abnormal requests, not
#                                       one line per request (for load tests)
#   SPOTEX_EDGE_METRICS_PORT [0; 9120 with SPOTEX_METRICS=1]  HAProxy's Prometheus /metrics on 127.0.0.1 (0 = not served)
#   SPOTEX_GATEWAY_ARGS []              extra spotex-gateway flags, split on spaces (e.g. the
#                                       rate limits for a benchmark: --weight-per-minute N)
#   SPOTEX_METRICS [0; `make up`/`make run`: 1]  1 = every service serves Prometheus metrics
#                                       on 127.0.0.1 at the default ports below (docs/metrics.md);
#                                       0 = only where a port variable is set. Off by default here
#                                       so throwaway stacks on free ports (tests, benchmarks) never
#                                       collide on them
#   SPOTEX_ENGINE_METRICS_PORT [9101 with SPOTEX_METRICS=1, else 0]  spotex-engine's /metrics
#   SPOTEX_RECORDER_METRICS_PORT [9102 with SPOTEX_METRICS=1, else 0]  spotex-recorder's /metrics
#   SPOTEX_GATEWAY_METRICS_PORTS [9111 9112 ... with SPOTEX_METRICS=1, else none]  each gateway
#                                       process's /metrics (gateway-1, gateway-2, ...; the one
#                                       gateway with SPOTEX_EDGE=0), space-separated, 0 = off
#   SPOTEX_EDGE_METRICS_PORT [9120 with SPOTEX_METRICS=1, else 0]  HAProxy's (see above)
#   SPOTEX_PROMETHEUS [$PROMETHEUS, else 0]  1 = also Prometheus (Debian package `prometheus`,
#                                       not installed by install-deps.sh; skipped with a note when
#                                       missing) on 127.0.0.1:SPOTEX_PROMETHEUS_PORT [9090],
#                                       scraping the metrics ports above; its configuration is
#                                       generated into $SPOTEX_VAR/prometheus, its data kept there
#                                       (SPOTEX_PROMETHEUS_RETENTION [7d])
#   SPOTEX_RECORDER_ARGS []             extra spotex-recorder flags, split on spaces
#   SPOTEX_HA [$HA, else 0]             1 = also a PostgreSQL streaming replica (pg_basebackup -R
#                                       from the primary) on SPOTEX_PG_REPLICA_PORT [5433], its
#                                       cluster in $SPOTEX_PG_DIR-replica; the gateway's history
#                                       queries read from it (docs/history-queries.md)
#     nats-server's Go garbage collector: collect only near the memory limit. Its default
#     (GOGC=100) collects about once a second under load, each pass taking 40-280 ms of the
#     two cores, which set the command log's p99 (docs/PERFORMANCE.md, "Command log").
#   SPOTEX_WEB_ROOT [<repo>/web/dist if it holds index.html, else none]  the built trading
#                                       screen every gateway serves at / (--web-root; `make run`
#                                       builds it with scripts/web.sh, docs/web.md); set but empty:
#                                       not served
#   SPOTEX_DEMO [0; `stack.sh run`: 1]  1 = the demo market (docs/web.md): the gateways mark
#                                       SPOTEX_DEMO_SYMBOLS [BTCUSDT,ETHUSDT,ETHBTC] as demo
#                                       markets (--demo-symbols) and the component demo-bots
#                                       (node tools/demo-market/bots.mjs) quotes and trades them
#                                       through the public port; never in production
#   SPOTEX_NODE [node on PATH]          the Node.js that runs the demo bots
#   SPOTEX_START_TIMEOUT_S [30]        SPOTEX_STOP_TIMEOUT_S [30]
#
# Running as root: PostgreSQL refuses to run as root, so its cluster belongs to the `postgres`
# system user and its programs run as that user. That user must be able to search every
# directory above $SPOTEX_PG_DIR; `up` checks this and, if not, says which directory blocks
# and how to choose another place. It changes no permission outside its own directories.
set -euo pipefail
set +m # background children stay in our process group, so `setsid` never forks

# Every component `down` knows; `up`, `status` and `run` use COMPONENTS (init_config), which has
# either `gateway` (SPOTEX_EDGE=0) or `gateway-1..N` and `haproxy`.
readonly kBaseComponents=(nats postgres pgreplica redis engine recorder)
readonly kMaxGatewayReplicas=8
readonly kNatsUser=spotex
readonly kPgRole=spotex
readonly kPgDatabase=spotex
readonly kPgSystemUser=postgres

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

die() {
  echo "stack: error: $*" >&2
  exit 1
}
note() { echo "stack: $*"; }
warn() { echo "stack: warning: $*" >&2; }

# ---------------------------------------------------------------------------------------------
# Configuration and paths.

init_config() {
  SPOTEX_VAR="${SPOTEX_VAR:-$REPO_ROOT/var}"
  NATS_PORT="${SPOTEX_NATS_PORT:-4222}"
  NATS_MONITOR_PORT="${SPOTEX_NATS_MONITOR_PORT:-8222}"
  PG_PORT="${SPOTEX_PG_PORT:-5432}"
  REDIS_PORT="${SPOTEX_REDIS_PORT:-6379}"
  GATEWAY_PORT="${SPOTEX_GATEWAY_PORT:-8080}"
  RECORDER_METRICS_PORT="${SPOTEX_RECORDER_METRICS_PORT:-0}"
  if ! [[ "$RECORDER_METRICS_PORT" =~ ^[0-9]+$ ]] || ((RECORDER_METRICS_PORT > 65535)); then
    die "bad port: '$RECORDER_METRICS_PORT'"
  fi
  PG_BINDIR="${SPOTEX_PG_BINDIR:-/usr/lib/postgresql/15/bin}"
  HA="${SPOTEX_HA:-${HA:-0}}"
  [[ "$HA" =~ ^[01]$ ]] || die "SPOTEX_HA must be 0 or 1, got '$HA'"
  PG_REPLICA_PORT="${SPOTEX_PG_REPLICA_PORT:-5433}"
  BIN_DIR="${SPOTEX_BIN_DIR:-$REPO_ROOT/build/release/bin}"
  MARKETS="${SPOTEX_MARKETS:-$REPO_ROOT/etc/markets.toml}"
  NATS_MAX_FILE_STORE="${SPOTEX_NATS_MAX_FILE_STORE:-4G}"
  NATS_GOGC="${SPOTEX_NATS_GOGC:-off}"
  NATS_GOMEMLIMIT="${SPOTEX_NATS_GOMEMLIMIT:-2GiB}"
  NATS_MAX_MEMORY_STORE="${SPOTEX_NATS_MAX_MEMORY_STORE:-256M}"
  START_TIMEOUT_S="${SPOTEX_START_TIMEOUT_S:-30}"
  STOP_TIMEOUT_S="${SPOTEX_STOP_TIMEOUT_S:-30}"
  local port
  for port in "$NATS_PORT" "$NATS_MONITOR_PORT" "$PG_PORT" "$REDIS_PORT" "$GATEWAY_PORT" \
    "$PG_REPLICA_PORT"; do
    if ! [[ "$port" =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
      die "bad port: '$port'"
    fi
  done
  ((NATS_PORT != NATS_MONITOR_PORT)) || die "SPOTEX_NATS_PORT equals SPOTEX_NATS_MONITOR_PORT"
  init_edge_config
  init_metrics_config
  init_web_config
  IS_ROOT=0
  [ "$(id -u)" -ne 0 ] || IS_ROOT=1
}

# The edge (docs/edge.md): HAProxy and the gateway replicas behind it, or one gateway.
init_edge_config() {
  EDGE="${SPOTEX_EDGE:-1}"
  [[ "$EDGE" =~ ^[01]$ ]] || die "SPOTEX_EDGE must be 0 or 1, got '$EDGE'"
  GATEWAY_REPLICAS="${SPOTEX_GATEWAY_REPLICAS:-2}"
  if ! [[ "$GATEWAY_REPLICAS" =~ ^[0-9]+$ ]] || ((GATEWAY_REPLICAS < 1 ||
    GATEWAY_REPLICAS > kMaxGatewayReplicas)); then
    die "SPOTEX_GATEWAY_REPLICAS must be 1..$kMaxGatewayReplicas, got '$GATEWAY_REPLICAS'"
  fi
  local i port default_ports=()
  for ((i = 1; i <= GATEWAY_REPLICAS; i++)); do
    default_ports+=("$((GATEWAY_PORT + i))")
  done
  read -r -a REPLICA_PORTS <<<"${SPOTEX_GATEWAY_REPLICA_PORTS:-${default_ports[*]}}"
  ((${#REPLICA_PORTS[@]} == GATEWAY_REPLICAS)) ||
    die "SPOTEX_GATEWAY_REPLICA_PORTS has ${#REPLICA_PORTS[@]} ports for $GATEWAY_REPLICAS replicas"
  TLS="${SPOTEX_TLS:-0}"
  [[ "$TLS" =~ ^[01]$ ]] || die "SPOTEX_TLS must be 0 or 1, got '$TLS'"
  TLS_PORT="${SPOTEX_TLS_PORT:-8443}"
  for port in "${REPLICA_PORTS[@]}" "$TLS_PORT"; do
    if ! [[ "$port" =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
      die "bad port: '$port'"
    fi
    ((port != GATEWAY_PORT)) || die "SPOTEX_GATEWAY_PORT $port is also a replica or TLS port"
  done
  EDGE_MAXCONN="${SPOTEX_EDGE_MAXCONN:-10000}"
  EDGE_CONN_PER_IP="${SPOTEX_EDGE_CONN_PER_IP:-2000}"
  EDGE_CONN_RATE_10S="${SPOTEX_EDGE_CONN_RATE_10S:-20000}"
  EDGE_REQ_RATE_10S="${SPOTEX_EDGE_REQ_RATE_10S:-50000}"
  EDGE_CHECK_INTER_MS="${SPOTEX_EDGE_CHECK_INTER_MS:-200}"
  EDGE_CHECK_FALL="${SPOTEX_EDGE_CHECK_FALL:-2}"
  EDGE_CHECK_RISE="${SPOTEX_EDGE_CHECK_RISE:-2}"
  EDGE_THREADS="${SPOTEX_EDGE_THREADS:-2}"
  EDGE_LOG_REQUESTS="${SPOTEX_EDGE_LOG_REQUESTS:-1}"
  EDGE_METRICS_PORT="${SPOTEX_EDGE_METRICS_PORT:-0}"
  if ! [[ "$EDGE_METRICS_PORT" =~ ^[0-9]+$ ]] || ((EDGE_METRICS_PORT > 65535)); then
    die "bad port: '$EDGE_METRICS_PORT'"
  fi
  [[ "$EDGE_LOG_REQUESTS" =~ ^[01]$ ]] ||
    die "SPOTEX_EDGE_LOG_REQUESTS must be 0 or 1, got '$EDGE_LOG_REQUESTS'"
  local value
  for value in "$EDGE_MAXCONN" "$EDGE_CONN_PER_IP" "$EDGE_CONN_RATE_10S" "$EDGE_REQ_RATE_10S" \
    "$EDGE_CHECK_INTER_MS" "$EDGE_CHECK_FALL" "$EDGE_CHECK_RISE" "$EDGE_THREADS"; do
    [[ "$value" =~ ^[1-9][0-9]{0,8}$ ]] || die "SPOTEX_EDGE_*: '$value' is not a positive number"
  done
  ((EDGE_THREADS <= 64)) || die "SPOTEX_EDGE_THREADS must be at most 64"
  # HAProxy needs two descriptors per connection (client and replica) and refuses to start if
  # the hard RLIMIT_NOFILE is below that: stay under it.
  local hard fit
  hard="$(ulimit -Hn)"
  if [[ "$hard" =~ ^[0-9]+$ ]]; then
    fit=$(((hard - 256) / 2))
    if ((EDGE_MAXCONN > fit)); then
      EDGE_MAXCONN="$fit"
    fi
  fi
  COMPONENTS=("${kBaseComponents[@]}")
  if ((EDGE)); then
    for ((i = 1; i <= GATEWAY_REPLICAS; i++)); do
      COMPONENTS+=("gateway-$i")
    done
    COMPONENTS+=(haproxy)
  else
    COMPONENTS+=(gateway)
  fi
  COMPONENTS+=(demo-bots prometheus)
}

# The trading screen and the demo market (docs/web.md). Sets WEB_ROOT (empty: not served), DEMO,
# DEMO_SYMBOLS and NODE_BIN.
init_web_config() {
  if [ -n "${SPOTEX_WEB_ROOT+set}" ]; then
    WEB_ROOT="$SPOTEX_WEB_ROOT"
  elif [ -s "$REPO_ROOT/web/dist/index.html" ]; then
    WEB_ROOT="$REPO_ROOT/web/dist"
  else
    WEB_ROOT=""
  fi
  if [ -n "$WEB_ROOT" ]; then
    [ -s "$WEB_ROOT/index.html" ] ||
      die "SPOTEX_WEB_ROOT: $WEB_ROOT has no index.html (build it: scripts/web.sh build)"
    WEB_ROOT="$(cd "$WEB_ROOT" && pwd)"
  fi
  DEMO="${SPOTEX_DEMO:-0}"
  [[ "$DEMO" =~ ^[01]$ ]] || die "SPOTEX_DEMO must be 0 or 1, got '$DEMO'"
  DEMO_SYMBOLS="${SPOTEX_DEMO_SYMBOLS:-BTCUSDT,ETHUSDT,ETHBTC}"
  [[ "$DEMO_SYMBOLS" =~ ^[A-Z0-9]{1,20}(,[A-Z0-9]{1,20}){0,15}$ ]] ||
    die "SPOTEX_DEMO_SYMBOLS must be symbols separated by commas, got '$DEMO_SYMBOLS'"
  NODE_BIN="${SPOTEX_NODE:-$(command -v node || echo /usr/bin/node)}"
}

# Metrics ports (docs/metrics.md) and Prometheus. Sets ENGINE_METRICS_PORT,
# RECORDER_METRICS_PORT, GATEWAY_METRICS_PORTS (one per gateway process, 0 = off), and may
# default EDGE_METRICS_PORT.
init_metrics_config() {
  METRICS="${SPOTEX_METRICS:-0}"
  [[ "$METRICS" =~ ^[01]$ ]] || die "SPOTEX_METRICS must be 0 or 1, got '$METRICS'"
  local on_engine=0 on_recorder=0 on_edge=0 default_gateways=() n i port
  n=$((EDGE ? GATEWAY_REPLICAS : 1))
  if ((METRICS)); then
    on_engine=9101
    on_recorder=9102
    on_edge=9120
    for ((i = 1; i <= n; i++)); do
      default_gateways+=("$((9110 + i))")
    done
  else
    for ((i = 1; i <= n; i++)); do
      default_gateways+=(0)
    done
  fi
  ENGINE_METRICS_PORT="${SPOTEX_ENGINE_METRICS_PORT:-$on_engine}"
  RECORDER_METRICS_PORT="${SPOTEX_RECORDER_METRICS_PORT:-$on_recorder}"
  if [ -z "${SPOTEX_EDGE_METRICS_PORT:-}" ]; then
    EDGE_METRICS_PORT="$on_edge"
  fi
  read -r -a GATEWAY_METRICS_PORTS <<<"${SPOTEX_GATEWAY_METRICS_PORTS:-${default_gateways[*]}}"
  ((${#GATEWAY_METRICS_PORTS[@]} == n)) ||
    die "SPOTEX_GATEWAY_METRICS_PORTS has ${#GATEWAY_METRICS_PORTS[@]} ports for $n gateways"
  PROMETHEUS="${SPOTEX_PROMETHEUS:-${PROMETHEUS:-0}}"
  [[ "$PROMETHEUS" =~ ^[01]$ ]] || die "SPOTEX_PROMETHEUS must be 0 or 1, got '$PROMETHEUS'"
  PROMETHEUS_PORT="${SPOTEX_PROMETHEUS_PORT:-9090}"
  PROMETHEUS_RETENTION="${SPOTEX_PROMETHEUS_RETENTION:-7d}"
  [[ "$PROMETHEUS_RETENTION" =~ ^[0-9]+[smhdwy]$ ]] ||
    die "SPOTEX_PROMETHEUS_RETENTION must be like 7d, got '$PROMETHEUS_RETENTION'"
  for port in "$ENGINE_METRICS_PORT" "$RECORDER_METRICS_PORT" "${GATEWAY_METRICS_PORTS[@]}" \
    "$PROMETHEUS_PORT"; do
    if ! [[ "$port" =~ ^[0-9]+$ ]] || ((port > 65535)); then
      die "bad port: '$port'"
    fi
  done
  ((PROMETHEUS_PORT > 0)) || die "SPOTEX_PROMETHEUS_PORT must not be 0"
}

# Everything `down` stops, whatever this run's SPOTEX_EDGE: the edge's components first.
all_components() {
  local i
  printf '%s\n' "${kBaseComponents[@]}" gateway
  for ((i = 1; i <= kMaxGatewayReplicas; i++)); do
    echo "gateway-$i"
  done
  echo haproxy
  echo prometheus
  echo demo-bots
}

# Creates $SPOTEX_VAR and resolves every path to an absolute one. A $SPOTEX_VAR we create is
# searchable by others (0711, no listing) because the postgres user needs to pass through it;
# one that exists keeps its mode (it may be a shared directory), and everything inside is ours
# alone (umask 077).
init_paths() {
  if [ ! -d "$SPOTEX_VAR" ]; then
    (umask 022 && mkdir -p "$SPOTEX_VAR")
    chmod 0711 "$SPOTEX_VAR"
  fi
  umask 077
  SPOTEX_VAR="$(cd "$SPOTEX_VAR" && pwd)"
  SECRETS_DIR="${SPOTEX_SECRETS_DIR:-$SPOTEX_VAR/secrets}"
  PG_DIR="${SPOTEX_PG_DIR:-$SPOTEX_VAR/postgres}"
  case "$SPOTEX_VAR$SECRETS_DIR$PG_DIR" in
    *[\'\"\\]* | *$'\n'*) die "paths must not contain quotes, backslashes or newlines" ;;
  esac
  LOG_DIR="$SPOTEX_VAR/log"
  HAPROXY_DIR="$SPOTEX_VAR/haproxy"
  PROMETHEUS_DIR="$SPOTEX_VAR/prometheus"
  DEMO_DIR="$SPOTEX_VAR/demo"
  DEMO_BOTS="$REPO_ROOT/tools/demo-market/bots.mjs"
  PROMETHEUS_BIN="${SPOTEX_PROMETHEUS_BIN:-$(command -v prometheus || echo /usr/bin/prometheus)}"
  HAPROXY_BIN="$(command -v haproxy || echo /usr/sbin/haproxy)"
  RUN_DIR="$SPOTEX_VAR/run"
  NATS_DIR="$SPOTEX_VAR/nats"
  REDIS_DIR="$SPOTEX_VAR/redis"
  ENGINE_DIR="$SPOTEX_VAR/engine/0"
  PG_DATA="$PG_DIR/data"
  PG_SOCKET_DIR="$PG_DIR/socket"
  PG_REPLICA_DIR="$PG_DIR-replica"
  PG_REPLICA_DATA="$PG_REPLICA_DIR/data"
  PG_REPLICA_SOCKET_DIR="$PG_REPLICA_DIR/socket"
  mkdir -p "$LOG_DIR" "$RUN_DIR" "$SECRETS_DIR"
  chmod 0700 "$SECRETS_DIR"
  ENGINE_BIN="$BIN_DIR/spotex-engine"
  GATEWAY_BIN="$BIN_DIR/spotex-gateway"
  RECORDER_BIN="$BIN_DIR/spotex-recorder"
  ADMIN_BIN="$BIN_DIR/spotex-admin"
  MIGRATE_BIN="$BIN_DIR/spotex-migrate"
  NATS_CLIENT_ARGS=(--nats-url "nats://127.0.0.1:$NATS_PORT" --nats-user "$kNatsUser"
    --nats-password-file "$SECRETS_DIR/nats-password")
  NATS_BIN="$(command -v nats-server || echo /usr/sbin/nats-server)"
  REDIS_BIN="$(command -v redis-server || echo /usr/bin/redis-server)"
  REDIS_CLI="$(command -v redis-cli || echo /usr/bin/redis-cli)"
}

# One lock per $SPOTEX_VAR, so two `up`/`down` never interleave. Fd 9 is closed in every
# process we start (see spawn), or a server would hold the lock for its whole life.
lock_acquire() {
  exec 9>"$RUN_DIR/stack.lock"
  flock -w "$STOP_TIMEOUT_S" 9 || die "another stack.sh holds $RUN_DIR/stack.lock"
}
lock_release() { exec 9>&-; }

# ---------------------------------------------------------------------------------------------
# Secrets: random, alphanumeric (hex), generated once, readable by the owner only.

ensure_secret() {
  local file="$SECRETS_DIR/$1"
  if [ ! -s "$file" ]; then
    od -An -tx1 -N24 /dev/urandom | tr -d ' \n' >"$file.tmp"
    mv "$file.tmp" "$file"
    note "generated secret $file"
  fi
  chmod 0600 "$file"
}
secret() { cat "$SECRETS_DIR/$1"; }

# ---------------------------------------------------------------------------------------------
# Processes: pid files, identity, ports.

pid_file() { echo "$RUN_DIR/$1.pid"; }
addr_file() { echo "$RUN_DIR/$1.addr"; }
log_file() { echo "$LOG_DIR/$1.log"; }

# The program name (argv[0]'s basename) and a string its command line must contain, so that a
# recycled pid or a system-wide server is never mistaken for ours.
component_program() {
  case "$1" in
    nats) echo nats-server ;;
    postgres | pgreplica) echo postgres ;;
    redis) echo redis-server ;;
    engine) echo spotex-engine ;;
    gateway | gateway-*) echo spotex-gateway ;;
    haproxy) echo haproxy ;;
    recorder) echo spotex-recorder ;;
    prometheus) basename "$PROMETHEUS_BIN" ;;
    demo-bots) basename "$NODE_BIN" ;;
  esac
}
component_marker() {
  case "$1" in
    nats) echo "$NATS_DIR/nats.conf" ;;
    postgres) echo "$PG_DATA" ;;
    pgreplica) echo "$PG_REPLICA_DATA" ;;
    redis) echo "$REDIS_DIR/redis.conf" ;;
    engine) echo "$ENGINE_DIR" ;;
    gateway) echo "--port $GATEWAY_PORT" ;;
    gateway-*) echo "--secrets-dir $SECRETS_DIR" ;;
    haproxy) echo "$HAPROXY_DIR/haproxy.cfg" ;;
    recorder) echo "--pg-password-file $SECRETS_DIR/pg-password" ;;
    prometheus) echo "--config.file=$PROMETHEUS_DIR/prometheus.yml" ;;
    demo-bots) echo "--state-file $DEMO_DIR/bots.json" ;;
  esac
}

# True if the process exists and is not a zombie.
pid_alive() {
  local state
  [ -r "/proc/$1/stat" ] || return 1
  state="$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$1/stat" 2>/dev/null)" || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# True if pid $2 is alive and is component $1 of this stack.
pid_is_component() {
  local pid="$2" args=()
  pid_alive "$pid" || return 1
  mapfile -d '' args <"/proc/$pid/cmdline" 2>/dev/null || return 1
  [ ${#args[@]} -gt 0 ] || return 1
  [ "$(basename "${args[0]}")" = "$(component_program "$1")" ] || return 1
  [[ "${args[*]}" == *"$(component_marker "$1")"* ]]
}

# Prints the pid of component $1 if its pid file names a live process that is ours.
running_pid() {
  local file pid
  file="$(pid_file "$1")"
  [ -s "$file" ] || return 1
  pid="$(<"$file")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  pid_is_component "$1" "$pid" || return 1
  echo "$pid"
}

# Removes the pid file of component $1 if it does not name a live process of ours.
clean_stale() {
  local file
  file="$(pid_file "$1")"
  if [ -e "$file" ] && ! running_pid "$1" >/dev/null; then
    note "$1: removing stale pid file $file (pid $(cat "$file") is gone or not ours)"
    rm -f "$file" "$(addr_file "$1")"
  fi
}

# /proc/net/tcp{,6} files that exist (IPv6 may be disabled).
proc_net_files() {
  local f
  for f in /proc/net/tcp /proc/net/tcp6; do
    [ -r "$f" ] && echo "$f"
  done
}

# Socket inodes listening on TCP port $1 (any address).
listening_inodes() {
  local hex files=()
  hex="$(printf '%04X' "$1")"
  mapfile -t files < <(proc_net_files)
  awk -v port=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == port { print $10 }' \
    "${files[@]}"
}

port_in_use() { [ -n "$(listening_inodes "$1")" ]; }

# Best effort "pid N (name)" of whoever listens on port $1; "unknown process" if hidden.
port_owner() {
  local inode fd pid
  inode="$(listening_inodes "$1" | head -n 1)"
  for fd in /proc/[0-9]*/fd/*; do
    if [ "$(readlink "$fd" 2>/dev/null)" = "socket:[$inode]" ]; then
      pid="${fd#/proc/}"
      pid="${pid%%/*}"
      echo "pid $pid ($(cat "/proc/$pid/comm" 2>/dev/null || echo '?'))"
      return 0
    fi
  done
  echo "an unknown process"
}

require_ports_free() {
  local name="$1" port
  shift
  for port in "$@"; do
    if port_in_use "$port"; then
      die "$name: port $port is already in use by $(port_owner "$port"), which this stack" \
        "(SPOTEX_VAR=$SPOTEX_VAR) did not start. Stop it, or pick another port with" \
        "the SPOTEX_*_PORT variables."
    fi
  done
}

# Starts "$@" detached (own session, so a terminal's Ctrl-C reaches only us), in directory $2,
# logging to var/log/$1.log, and records its pid. `setsid` execs in place (we are not a process
# group leader), so $! is the server's own pid.
spawn() {
  local name="$1" dir="$2" log
  shift 2
  log="$(log_file "$name")"
  echo "---- $(date -u +%Y-%m-%dT%H:%M:%SZ) stack.sh starts: $*" >>"$log"
  (cd "$dir" && exec setsid "$@" >>"$log" 2>&1 </dev/null 9>&-) &
  echo "$!" >"$(pid_file "$name")"
}

# Waits until "$3..." succeeds, at most $START_TIMEOUT_S seconds, while component $1 (pid $2)
# stays alive. On failure shows the end of its log and exits.
wait_healthy() {
  local name="$1" pid="$2" deadline=$((SECONDS + START_TIMEOUT_S))
  shift 2
  while ! "$@" >/dev/null 2>&1; do
    if ! pid_is_component "$name" "$pid"; then
      tail -n 20 "$(log_file "$name")" >&2 || true
      rm -f "$(pid_file "$name")"
      die "$name exited during start-up; log: $(log_file "$name")"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 20 "$(log_file "$name")" >&2 || true
      die "$name (pid $pid) did not become healthy within ${START_TIMEOUT_S}s;" \
        "log: $(log_file "$name"). It is left running: 'stack.sh down' stops it."
    fi
    sleep 0.2
  done
}

# Stops pid $2 of component $1: SIGTERM, up to $STOP_TIMEOUT_S seconds, then SIGKILL.
stop_pid() {
  local name="$1" pid="$2" deadline=$((SECONDS + STOP_TIMEOUT_S))
  kill -TERM "$pid" 2>/dev/null || true
  while pid_alive "$pid"; do
    if ((SECONDS >= deadline)); then
      warn "$name (pid $pid) ignored SIGTERM for ${STOP_TIMEOUT_S}s: sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
  done
}

# ---------------------------------------------------------------------------------------------
# NATS with JetStream. Auth: one user/password in a top-level `authorization` block and no
# `accounts` block (so not the CVE-2023-47090 shape); JetStream is then enabled for the
# global account, which that user belongs to. The config holds the password, so it is 0600.

write_nats_config() {
  local conf="$NATS_DIR/nats.conf"
  cat >"$conf.tmp" <<EOF
# Written by scripts/stack.sh on every start; edits are lost.
server_name: spotex-local
listen: 127.0.0.1:$NATS_PORT
http: 127.0.0.1:$NATS_MONITOR_PORT
authorization {
  user: "$kNatsUser"
  password: "$(secret nats-password)"
}
jetstream {
  store_dir: "$NATS_DIR/jetstream"
  max_memory_store: $NATS_MAX_MEMORY_STORE
  max_file_store: $NATS_MAX_FILE_STORE
}
EOF
  chmod 0600 "$conf.tmp"
  mv "$conf.tmp" "$conf"
}

# Sends one core-NATS request on a raw connection (bash /dev/tcp, no client needed) and prints
# the reply payload. Fails on -ERR, on no reply within 5 s, or if the server is unreachable.
nats_request() {
  local port="$1" user="$2" password="$3" subject="$4" payload="${5:-}" line
  exec 8<>"/dev/tcp/127.0.0.1/$port" || return 1
  # A server that refuses the CONNECT closes the socket while we may still be writing: the
  # write must not kill us with SIGPIPE; the -ERR is read below.
  (
    trap '' PIPE
    printf 'CONNECT {"verbose":false,"user":"%s","pass":"%s"}\r\n' "$user" "$password"
    printf 'SUB _INBOX.stack 1\r\nPUB %s _INBOX.stack %d\r\n%s\r\n' \
      "$subject" "${#payload}" "$payload"
  ) >&8 2>/dev/null || true
  while IFS= read -r -t 5 line <&8; do
    line="${line%$'\r'}"
    case "$line" in
      -ERR*)
        echo "$line" >&2
        break
        ;;
      MSG*)
        IFS= read -r -t 5 line <&8 && printf '%s\n' "${line%$'\r'}"
        exec 8<&-
        return 0
        ;;
    esac
  done
  exec 8<&-
  return 1
}

nats_healthy() {
  curl -sf --max-time 2 "http://127.0.0.1:$NATS_MONITOR_PORT/healthz" | grep -q '"ok"'
}

# JetStream answers the authenticated user (account info, not an error).
nats_jetstream_ok() {
  local reply
  reply="$(nats_request "$NATS_PORT" "$kNatsUser" "$(secret nats-password)" "\$JS.API.INFO")" ||
    return 1
  [[ "$reply" == *account_info_response* && "$reply" != *'"error"'* ]]
}

start_nats() {
  local pid
  if pid="$(running_pid nats)"; then
    note "nats: already running (pid $pid)"
    return 0
  fi
  require_ports_free nats "$NATS_PORT" "$NATS_MONITOR_PORT"
  ensure_secret nats-password
  mkdir -p "$NATS_DIR/jetstream"
  write_nats_config
  spawn nats "$NATS_DIR" env GOGC="$NATS_GOGC" GOMEMLIMIT="$NATS_GOMEMLIMIT" \
    "$NATS_BIN" -c "$NATS_DIR/nats.conf"
  pid="$(<"$(pid_file nats)")"
  echo "nats://127.0.0.1:$NATS_PORT (monitor http://127.0.0.1:$NATS_MONITOR_PORT)" \
    >"$(addr_file nats)"
  wait_healthy nats "$pid" nats_healthy
  nats_jetstream_ok || die "nats: JetStream does not answer user $kNatsUser; see $(log_file nats)"
  note "nats: started (pid $pid)"
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL 15. As root, every PostgreSQL program runs as the postgres system user: runuser for
# the short-lived ones, setpriv for the server itself (setpriv execs in place, so the pid we
# record is the postmaster's; runuser would stay in between as its parent).

as_pg() {
  (
    cd / # the caller's directory may be closed to that user
    if ((IS_ROOT)); then
      exec runuser -u "$kPgSystemUser" -- "$@"
    fi
    exec "$@"
  )
}

# Checks that the user PostgreSQL runs as can reach and write $PG_DIR, naming the directory
# that blocks it if not.
check_pg_dir_reachable() {
  local dir="" part parts=()
  as_pg test -w "$PG_DIR" -a -x "$PG_DIR" 2>/dev/null && return 0
  IFS=/ read -r -a parts <<<"${PG_DIR#/}"
  for part in "${parts[@]}"; do # from / down: the first one it may not search
    dir="$dir/$part"
    as_pg test -x "$dir" 2>/dev/null || break
  done
  die "postgres: the '$kPgSystemUser' user (PostgreSQL refuses to run as root) cannot" \
    "reach $PG_DIR: it may not search $dir. Choose a place it can reach, e.g." \
    "SPOTEX_VAR=/var/tmp/spotex, or only for the database SPOTEX_PG_DIR=/var/tmp/spotex-pg;" \
    "or allow that one user through: setfacl -m u:$kPgSystemUser:x $dir"
}

prepare_pg_dir() {
  (umask 022 && mkdir -p "$(dirname "$PG_DIR")")
  mkdir -p "$PG_DIR" "$PG_SOCKET_DIR"
  chmod 0700 "$PG_DIR" "$PG_SOCKET_DIR"
  if ((IS_ROOT)); then
    chown "$kPgSystemUser:$kPgSystemUser" "$PG_DIR" "$PG_SOCKET_DIR"
  fi
  check_pg_dir_reachable
  if [ ! -s "$PG_DATA/PG_VERSION" ]; then
    note "postgres: initdb $PG_DATA"
    as_pg "$PG_BINDIR/initdb" -D "$PG_DATA" --encoding=UTF8 --locale=C \
      --auth-local=peer --auth-host=reject >>"$(log_file postgres)" 2>&1 ||
      die "postgres: initdb failed; see $(log_file postgres)"
    echo "include 'spotex.conf'" >>"$PG_DATA/postgresql.conf"
  fi
  # Rewritten on every start so port changes apply. The cluster's own superuser logs in only
  # through the socket (peer); everyone else only by password over loopback TCP.
  cat >"$PG_DATA/spotex.conf" <<EOF
# Written by scripts/stack.sh on every start; edits are lost.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCKET_DIR'
password_encryption = 'scram-sha-256'
EOF
  cat >"$PG_DATA/pg_hba.conf" <<EOF
# Written by scripts/stack.sh on every start; edits are lost.
local all all                peer
local replication all        peer
host  all all 127.0.0.1/32   scram-sha-256
EOF
  chmod 0600 "$PG_DATA/spotex.conf" "$PG_DATA/pg_hba.conf"
  if ((IS_ROOT)); then
    chown "$kPgSystemUser:$kPgSystemUser" "$PG_DATA/spotex.conf" "$PG_DATA/pg_hba.conf"
  fi
}

pg_healthy() { "$PG_BINDIR/pg_isready" -q -t 1 -h 127.0.0.1 -p "$PG_PORT" -d postgres; }

# Creates the spotex role and database if missing, and sets the role's password from the
# secrets dir (again on every start, so the two never drift). SQL goes through stdin, so the
# password is never on a command line.
ensure_pg_role_and_db() {
  as_pg "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$PG_PORT" \
    -d postgres >/dev/null <<EOF
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$kPgRole') THEN
    CREATE ROLE $kPgRole LOGIN;
  END IF;
END \$\$;
ALTER ROLE $kPgRole WITH LOGIN PASSWORD '$(secret pg-password)';
SELECT 'CREATE DATABASE $kPgDatabase OWNER $kPgRole'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$kPgDatabase')\gexec
EOF
}

# A postmaster of our cluster whose pid file we lost is taken over instead of clashing with it.
adopt_postmaster() {
  local pid
  [ -s "$PG_DATA/postmaster.pid" ] || return 1
  pid="$(head -n 1 "$PG_DATA/postmaster.pid")"
  [[ "$pid" =~ ^[0-9]+$ ]] && pid_is_component postgres "$pid" || return 1
  echo "$pid" >"$(pid_file postgres)"
  echo "$pid"
}

start_postgres() {
  local pid
  if pid="$(running_pid postgres)" || pid="$(adopt_postmaster)"; then
    note "postgres: already running (pid $pid)"
    return 0
  fi
  require_ports_free postgres "$PG_PORT"
  ensure_secret pg-password
  prepare_pg_dir
  local server=("$PG_BINDIR/postgres" -D "$PG_DATA")
  if ((IS_ROOT)); then
    server=(setpriv --reuid="$kPgSystemUser" --regid="$kPgSystemUser" --init-groups "${server[@]}")
  fi
  spawn postgres / "${server[@]}"
  pid="$(<"$(pid_file postgres)")"
  echo "postgresql://$kPgRole@127.0.0.1:$PG_PORT/$kPgDatabase" >"$(addr_file postgres)"
  wait_healthy postgres "$pid" pg_healthy
  ensure_pg_role_and_db || die "postgres: creating role/database failed"
  note "postgres: started (pid $pid)"
}

# Applies the schema migrations (db/migrations) once spotex-migrate is built. On every `up`, also
# when PostgreSQL was already running: it applies only what is pending and refuses a database
# whose applied migrations no longer match the files (docs/database.md).
migrate_postgres() {
  if [ ! -x "$MIGRATE_BIN" ]; then
    note "postgres: schema not migrated ($MIGRATE_BIN missing)"
    return 0
  fi
  "$MIGRATE_BIN" --host 127.0.0.1 --port "$PG_PORT" --user "$kPgRole" --dbname "$kPgDatabase" \
    --password-file "$SECRETS_DIR/pg-password" --migrations "$REPO_ROOT/db/migrations" ||
    die "postgres: schema migration failed (spotex-migrate exit $?)"
}

# ---------------------------------------------------------------------------------------------
# The read replica (HA=1): a hot standby of the primary, streaming its WAL, for the gateway's
# historical queries. Created once with pg_basebackup -R (the cluster superuser over the
# primary's socket, peer authentication), then started like the primary on its own port.

pg_replica_healthy() {
  "$PG_BINDIR/pg_isready" -q -t 1 -h 127.0.0.1 -p "$PG_REPLICA_PORT" -d postgres
}

start_pgreplica() {
  local pid dir
  ((HA)) || return 0
  if pid="$(running_pid pgreplica)"; then
    note "pgreplica: already running (pid $pid)"
    return 0
  fi
  require_ports_free pgreplica "$PG_REPLICA_PORT"
  for dir in "$PG_REPLICA_DIR" "$PG_REPLICA_SOCKET_DIR"; do
    mkdir -p "$dir"
    chmod 0700 "$dir"
    if ((IS_ROOT)); then chown "$kPgSystemUser:$kPgSystemUser" "$dir"; fi
  done
  if [ ! -s "$PG_REPLICA_DATA/PG_VERSION" ]; then
    note "pgreplica: pg_basebackup -R from the primary into $PG_REPLICA_DATA"
    as_pg "$PG_BINDIR/pg_basebackup" -D "$PG_REPLICA_DATA" -R -X stream -c fast \
      -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U "$kPgSystemUser" >>"$(log_file pgreplica)" 2>&1 ||
      die "pgreplica: pg_basebackup failed; see $(log_file pgreplica)"
  fi
  # The primary's spotex.conf came with the copy: this one's port and socket instead.
  cat >"$PG_REPLICA_DATA/spotex.conf" <<END_OF_CONF
# Written by scripts/stack.sh on every start; edits are lost.
listen_addresses = '127.0.0.1'
port = $PG_REPLICA_PORT
unix_socket_directories = '$PG_REPLICA_SOCKET_DIR'
password_encryption = 'scram-sha-256'
hot_standby = on
END_OF_CONF
  chmod 0600 "$PG_REPLICA_DATA/spotex.conf"
  if ((IS_ROOT)); then chown "$kPgSystemUser:$kPgSystemUser" "$PG_REPLICA_DATA/spotex.conf"; fi
  local server=("$PG_BINDIR/postgres" -D "$PG_REPLICA_DATA")
  if ((IS_ROOT)); then
    server=(setpriv --reuid="$kPgSystemUser" --regid="$kPgSystemUser" --init-groups "${server[@]}")
  fi
  spawn pgreplica / "${server[@]}"
  pid="$(<"$(pid_file pgreplica)")"
  echo "postgresql://$kPgRole@127.0.0.1:$PG_REPLICA_PORT/$kPgDatabase (standby of :$PG_PORT)" \
    >"$(addr_file pgreplica)"
  wait_healthy pgreplica "$pid" pg_replica_healthy
  note "pgreplica: started (pid $pid)"
}

stop_pgreplica() {
  local pid
  pid="$(running_pid pgreplica)" || return 0
  note "pgreplica: stopping (pid $pid)"
  as_pg "$PG_BINDIR/pg_ctl" stop -D "$PG_REPLICA_DATA" -m fast -w -t "$STOP_TIMEOUT_S" \
    >>"$(log_file pgreplica)" 2>&1 || stop_pid pgreplica "$pid"
}

stop_postgres() {
  local pid
  pid="$(running_pid postgres)" || pid="$(adopt_postmaster)" || return 0
  note "postgres: stopping (pid $pid)"
  if ! as_pg "$PG_BINDIR/pg_ctl" stop -D "$PG_DATA" -m fast -w -t "$STOP_TIMEOUT_S" \
    >>"$(log_file postgres)" 2>&1; then
    warn "postgres: fast shutdown did not finish in ${STOP_TIMEOUT_S}s: immediate shutdown"
    as_pg "$PG_BINDIR/pg_ctl" stop -D "$PG_DATA" -m immediate -w -t 10 \
      >>"$(log_file postgres)" 2>&1 || stop_pid postgres "$pid"
  fi
}

# ---------------------------------------------------------------------------------------------
# Redis 7. `set-proc-title no` keeps its command line (our identity check reads it).

write_redis_config() {
  local conf="$REDIS_DIR/redis.conf"
  cat >"$conf.tmp" <<EOF
# Written by scripts/stack.sh on every start; edits are lost.
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize no
supervised no
set-proc-title no
logfile ""
dir "$REDIS_DIR"
dbfilename dump.rdb
requirepass "$(secret redis-password)"
EOF
  chmod 0600 "$conf.tmp"
  mv "$conf.tmp" "$conf"
}

# PING after AUTH, both sent on stdin so the password is neither in argv nor in the environment.
redis_healthy() {
  local out
  out="$(printf 'AUTH %s\nPING\n' "$(secret redis-password)" |
    "$REDIS_CLI" -h 127.0.0.1 -p "$REDIS_PORT" 2>/dev/null)" || return 1
  [ "$(tail -n 1 <<<"$out")" = PONG ]
}

start_redis() {
  local pid
  if pid="$(running_pid redis)"; then
    note "redis: already running (pid $pid)"
    return 0
  fi
  require_ports_free redis "$REDIS_PORT"
  ensure_secret redis-password
  mkdir -p "$REDIS_DIR"
  write_redis_config
  spawn redis "$REDIS_DIR" "$REDIS_BIN" "$REDIS_DIR/redis.conf"
  pid="$(<"$(pid_file redis)")"
  echo "redis://127.0.0.1:$REDIS_PORT" >"$(addr_file redis)"
  wait_healthy redis "$pid" redis_healthy
  note "redis: started (pid $pid)"
}

# ---------------------------------------------------------------------------------------------
# The engine service, shard 0: started only once it is built.

# Healthy once `spotex-admin ... status` exits 0; without spotex-admin, once alive for 1 s.
engine_healthy() {
  if [ -x "$ADMIN_BIN" ]; then
    "$ADMIN_BIN" "${NATS_CLIENT_ARGS[@]}" status
  else
    sleep 1
    running_pid engine >/dev/null
  fi
}

start_engine() {
  local pid
  if [ ! -x "$ENGINE_BIN" ]; then
    note "engine: not built ($ENGINE_BIN missing), not started"
    return 0
  fi
  if pid="$(running_pid engine)"; then
    note "engine: already running (pid $pid)"
    return 0
  fi
  [ -r "$MARKETS" ] || die "engine: markets file $MARKETS not found (set SPOTEX_MARKETS)"
  mkdir -p "$ENGINE_DIR"
  local metrics=() addr="shard 0 on nats://127.0.0.1:$NATS_PORT"
  if ((ENGINE_METRICS_PORT > 0)); then
    require_ports_free engine "$ENGINE_METRICS_PORT"
    metrics=(--metrics-port "$ENGINE_METRICS_PORT")
    addr+=" (metrics :$ENGINE_METRICS_PORT)"
  fi
  spawn engine "$ENGINE_DIR" "$ENGINE_BIN" --shard 0 "${NATS_CLIENT_ARGS[@]}" \
    --data-dir "$ENGINE_DIR" --markets "$MARKETS" "${metrics[@]}"
  pid="$(<"$(pid_file engine)")"
  echo "$addr" >"$(addr_file engine)"
  wait_healthy engine "$pid" engine_healthy
  [ -x "$ADMIN_BIN" ] || warn "engine: $ADMIN_BIN missing; health = process alive"
  note "engine: started (pid $pid)"
}

# ---------------------------------------------------------------------------------------------
# The history recorder (EVT_0 -> PostgreSQL), once built: after the migrations (it needs the
# schema) and the engine (which creates the event stream).

# Healthy once it answers /metrics when it serves them; otherwise once alive for 1 s.
recorder_healthy() {
  if ((RECORDER_METRICS_PORT > 0)); then
    curl -fsS --max-time 2 "http://127.0.0.1:$RECORDER_METRICS_PORT/metrics" >/dev/null
  else
    sleep 1
    running_pid recorder >/dev/null
  fi
}

start_recorder() {
  local pid metrics=()
  if [ ! -x "$RECORDER_BIN" ]; then
    note "recorder: not built ($RECORDER_BIN missing), not started"
    return 0
  fi
  if [ ! -x "$MIGRATE_BIN" ]; then
    note "recorder: not started (the schema is not migrated: $MIGRATE_BIN missing)"
    return 0
  fi
  if pid="$(running_pid recorder)"; then
    note "recorder: already running (pid $pid)"
    return 0
  fi
  if ((RECORDER_METRICS_PORT > 0)); then
    require_ports_free recorder "$RECORDER_METRICS_PORT"
    metrics=(--metrics-port "$RECORDER_METRICS_PORT")
  fi
  spawn recorder "$SPOTEX_VAR" "$RECORDER_BIN" --shard 0 "${NATS_CLIENT_ARGS[@]}" \
    --pg-host 127.0.0.1 --pg-port "$PG_PORT" --pg-user "$kPgRole" --pg-dbname "$kPgDatabase" \
    --pg-password-file "$SECRETS_DIR/pg-password" "${metrics[@]}" ${SPOTEX_RECORDER_ARGS:-}
  pid="$(<"$(pid_file recorder)")"
  if ((RECORDER_METRICS_PORT > 0)); then
    echo "EVT_0 -> postgres (metrics http://127.0.0.1:$RECORDER_METRICS_PORT/metrics)" \
      >"$(addr_file recorder)"
  else
    echo "EVT_0 -> postgresql://127.0.0.1:$PG_PORT/$kPgDatabase" >"$(addr_file recorder)"
  fi
  wait_healthy recorder "$pid" recorder_healthy
  note "recorder: started (pid $pid)"
}

# ---------------------------------------------------------------------------------------------
# The gateway (public HTTP API), once built: after the engine, whose markets it reads. With the
# edge (SPOTEX_EDGE=1) it runs as SPOTEX_GATEWAY_REPLICAS replicas on their own ports, HAProxy
# in front on the public port; otherwise as one process on the public port.

gateway_healthy() {
  curl -fsS --max-time 2 "http://127.0.0.1:$1/health" >/dev/null
}

# The flags every gateway process gets (into the array GATEWAY_ARGS): the stack's NATS,
# PostgreSQL, Redis and secrets, the history source, and SPOTEX_GATEWAY_ARGS last.
gateway_common_args() {
  local history_args=()
  if ((HA)); then
    history_args=(--history-pg-host 127.0.0.1 --history-pg-port "$PG_REPLICA_PORT")
  fi
  GATEWAY_ARGS=("${NATS_CLIENT_ARGS[@]}"
    --pg-host 127.0.0.1 --pg-port "$PG_PORT" --pg-user "$kPgRole" --pg-dbname "$kPgDatabase"
    --pg-password-file "$SECRETS_DIR/pg-password"
    --redis-host 127.0.0.1 --redis-port "$REDIS_PORT"
    --redis-password-file "$SECRETS_DIR/redis-password"
    --secrets-dir "$SECRETS_DIR" "${history_args[@]}")
  web_gateway_args
}

# The trading screen's flags (docs/web.md), appended to GATEWAY_ARGS: --web-root when there is
# a built screen, --demo-symbols with SPOTEX_DEMO=1. A gateway built before these flags existed
# (its --help does not list them) is started without them, with a note.
gateway_has_flag() {
  [ -n "${GATEWAY_USAGE+set}" ] || GATEWAY_USAGE="$("$GATEWAY_BIN" --help 2>&1 || true)"
  [[ "$GATEWAY_USAGE" == *"$1"* ]]
}

web_gateway_args() {
  ((DEMO)) || [ -n "$WEB_ROOT" ] || return 0
  if [ -n "$WEB_ROOT" ]; then
    if gateway_has_flag --web-root; then
      GATEWAY_ARGS+=(--web-root "$WEB_ROOT")
    else
      note "gateway: $GATEWAY_BIN has no --web-root: the trading screen is not served"
    fi
  fi
  if ((DEMO)); then
    if gateway_has_flag --demo-symbols; then
      GATEWAY_ARGS+=(--demo-symbols "$DEMO_SYMBOLS")
    else
      note "gateway: $GATEWAY_BIN has no --demo-symbols: no DEMO badge"
    fi
  fi
}

# Starts gateway process `name` on `port` with the common flags and "${@:3}" (per-process
# flags), unless it runs; waits until its /health answers.
start_gateway_process() {
  local name="$1" port="$2" metrics_port="$3" pid metrics=()
  shift 3
  if pid="$(running_pid "$name")"; then
    note "$name: already running (pid $pid)"
    return 0
  fi
  require_ports_free "$name" "$port"
  if ((metrics_port > 0)); then
    require_ports_free "$name" "$metrics_port"
    metrics=(--metrics-port "$metrics_port")
  fi
  ensure_master_key
  ensure_secret admin-token
  gateway_common_args
  # shellcheck disable=SC2086 # SPOTEX_GATEWAY_ARGS is split on spaces by design
  spawn "$name" "$SPOTEX_VAR" "$GATEWAY_BIN" --listen 127.0.0.1 --port "$port" \
    "${GATEWAY_ARGS[@]}" "${metrics[@]}" "$@" ${SPOTEX_GATEWAY_ARGS:-}
  pid="$(<"$(pid_file "$name")")"
  wait_healthy "$name" "$pid" gateway_healthy "$port"
  note "$name: started (pid $pid)"
}

# On its first start the gateway given --demo-users creates the demo users and writes their
# credentials to $SPOTEX_VAR/demo/users.json (it does nothing when the file exists). Only the
# one gateway, or replica 1, gets the flag: two processes never race to create them, and
# replica 1 has finished (it answers /health) before replica 2 starts.
demo_users_args() {
  mkdir -p "$SPOTEX_VAR/demo"
  DEMO_ARGS=(--demo-users "$SPOTEX_VAR/demo/users.json")
}

# SPOTEX_EDGE=0: one gateway on the public port.
start_gateway() {
  if [ ! -x "$GATEWAY_BIN" ]; then
    note "gateway: not built ($GATEWAY_BIN missing), not started"
    return 0
  fi
  demo_users_args
  local addr="http://127.0.0.1:$GATEWAY_PORT/api/v3"
  ((GATEWAY_METRICS_PORTS[0] > 0)) && addr+=" (metrics :${GATEWAY_METRICS_PORTS[0]})"
  echo "$addr" >"$(addr_file gateway)"
  start_gateway_process gateway "$GATEWAY_PORT" "${GATEWAY_METRICS_PORTS[0]}" "${DEMO_ARGS[@]}"
}

# Replica i (1-based) of the edge on `port`: it trusts X-Forwarded-For from HAProxy
# (127.0.0.1), so per-IP limits see the real client. Per-replica flags go here.
start_gateway_replica() {
  local i="$1" port="$2" extra=(--trusted-proxies 127.0.0.1)
  if ((i == 1)); then
    demo_users_args
    extra+=("${DEMO_ARGS[@]}")
  fi
  local metrics_port="${GATEWAY_METRICS_PORTS[i - 1]}" addr
  addr="http://127.0.0.1:$port (replica $i of $GATEWAY_REPLICAS, behind haproxy)"
  ((metrics_port > 0)) && addr+=" (metrics :$metrics_port)"
  echo "$addr" >"$(addr_file "gateway-$i")"
  start_gateway_process "gateway-$i" "$port" "$metrics_port" "${extra[@]}"
}

start_gateway_replicas() {
  local i
  if [ ! -x "$GATEWAY_BIN" ]; then
    note "gateway: not built ($GATEWAY_BIN missing), not started"
    return 0
  fi
  for ((i = 1; i <= GATEWAY_REPLICAS; i++)); do
    start_gateway_replica "$i" "${REPLICA_PORTS[i - 1]}"
  done
}

# ---------------------------------------------------------------------------------------------
# HAProxy, the edge (docs/edge.md): the public port in front of the replicas. Its configuration
# is deploy/haproxy.cfg.in with the values of this run, written on every start.

# A self-signed certificate for 127.0.0.1/localhost, made once (SPOTEX_TLS=1): the key and the
# certificate in one PEM file, as HAProxy reads them.
ensure_tls_certificate() {
  local dir="$SECRETS_DIR/tls"
  TLS_PEM="$dir/edge.pem"
  [ -s "$TLS_PEM" ] && return 0
  command -v openssl >/dev/null ||
    die "haproxy: SPOTEX_TLS=1 needs openssl (scripts/install-deps.sh)"
  mkdir -p "$dir"
  chmod 0700 "$dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$dir/edge.key" -out "$dir/edge.crt" >>"$(log_file haproxy)" 2>&1 ||
    die "haproxy: openssl could not make the certificate; see $(log_file haproxy)"
  cat "$dir/edge.key" "$dir/edge.crt" >"$TLS_PEM.tmp"
  chmod 0600 "$TLS_PEM.tmp" "$dir/edge.key"
  mv "$TLS_PEM.tmp" "$TLS_PEM"
  note "generated a self-signed certificate $dir/edge.crt (CN=localhost, IP 127.0.0.1)"
}

# Writes $HAPROXY_DIR/haproxy.cfg from the template, one `server` line per replica.
write_haproxy_config() {
  local template="$REPO_ROOT/deploy/haproxy.cfg.in" conf="$HAPROXY_DIR/haproxy.cfg" text i
  local servers="" keyed="" tls_bind=""
  [ -r "$template" ] || die "haproxy: template $template not found"
  for ((i = 1; i <= GATEWAY_REPLICAS; i++)); do
    servers+="    server gateway-$i 127.0.0.1:${REPLICA_PORTS[i - 1]}"$'\n'
    keyed+="    server gateway-$i 127.0.0.1:${REPLICA_PORTS[i - 1]} track gateways/gateway-$i"$'\n'
  done
  if ((TLS)); then
    tls_bind="    bind 127.0.0.1:$TLS_PORT ssl crt $TLS_PEM alpn http/1.1"
  fi
  text="$(<"$template")"
  text="${text//@SERVERS@/${servers%$'\n'}}"
  text="${text//@KEYED_SERVERS@/${keyed%$'\n'}}"
  text="${text//@TLS_BIND@/$tls_bind}"
  local metrics=""
  if ((EDGE_METRICS_PORT > 0)); then
    metrics="frontend metrics
    bind 127.0.0.1:$EDGE_METRICS_PORT
    no log
    http-request use-service prometheus-exporter if { path /metrics }
    http-request return status 404"
  fi
  text="${text//@METRICS_FRONTEND@/$metrics}"
  if ((EDGE_LOG_REQUESTS)); then
    text="${text//@DONTLOG_NORMAL@$'\n'/}"
  else
    text="${text//@DONTLOG_NORMAL@/    option dontlog-normal}"
  fi
  text="${text//@PUBLIC_PORT@/$GATEWAY_PORT}"
  text="${text//@STATS_SOCKET@/$RUN_DIR/haproxy.sock}"
  text="${text//@ERRORS_DIR@/$REPO_ROOT/deploy/haproxy-errors}"
  text="${text//@MAXCONN@/$EDGE_MAXCONN}"
  text="${text//@NBTHREAD@/$EDGE_THREADS}"
  text="${text//@CONN_PER_IP@/$EDGE_CONN_PER_IP}"
  text="${text//@CONN_RATE_10S@/$EDGE_CONN_RATE_10S}"
  text="${text//@REQ_RATE_10S@/$EDGE_REQ_RATE_10S}"
  text="${text//@CHECK_INTER@/${EDGE_CHECK_INTER_MS}ms}"
  text="${text//@CHECK_FALL@/$EDGE_CHECK_FALL}"
  text="${text//@CHECK_RISE@/$EDGE_CHECK_RISE}"
  # The gateway's own bounds (docs/gateway-http.md): 8 KiB of request line and headers, a
  # 64 KiB body.
  text="${text//@URL_MAX@/8192}"
  text="${text//@HDR_MAX@/8192}"
  text="${text//@BODY_MAX@/65536}"
  [[ "$text" != *@[A-Z_]*@* ]] || die "haproxy: $template has a placeholder stack.sh does not fill"
  printf '%s\n' "$text" >"$conf.tmp"
  "$HAPROXY_BIN" -c -q -f "$conf.tmp" >>"$(log_file haproxy)" 2>&1 ||
    die "haproxy: the generated configuration $conf.tmp is invalid; see $(log_file haproxy)"
  mv "$conf.tmp" "$conf"
}

# Healthy once a request through it reaches a replica's /health.
haproxy_healthy() {
  curl -fsS --max-time 2 "http://127.0.0.1:$GATEWAY_PORT/health" >/dev/null
}

start_haproxy() {
  local pid ports=("$GATEWAY_PORT")
  if [ ! -x "$GATEWAY_BIN" ]; then
    note "haproxy: not started (no gateway built to route to)"
    return 0
  fi
  if pid="$(running_pid haproxy)"; then
    note "haproxy: already running (pid $pid)"
    return 0
  fi
  [ -x "$HAPROXY_BIN" ] || die "haproxy: $HAPROXY_BIN not installed (scripts/install-deps.sh)," \
    "or run without the edge: SPOTEX_EDGE=0"
  ((TLS)) && ports+=("$TLS_PORT")
  ((EDGE_METRICS_PORT > 0)) && ports+=("$EDGE_METRICS_PORT")
  require_ports_free haproxy "${ports[@]}"
  mkdir -p "$HAPROXY_DIR"
  if ((TLS)); then ensure_tls_certificate; fi
  write_haproxy_config
  rm -f "$RUN_DIR/haproxy.sock"
  # -db: in the foreground, one process (no master), so the pid we record is the proxy's.
  spawn haproxy "$HAPROXY_DIR" "$HAPROXY_BIN" -db -f "$HAPROXY_DIR/haproxy.cfg"
  pid="$(<"$(pid_file haproxy)")"
  local addr="http://127.0.0.1:$GATEWAY_PORT/api/v3"
  ((TLS)) && addr+=" + https://127.0.0.1:$TLS_PORT"
  ((EDGE_METRICS_PORT > 0)) && addr+=" (metrics :$EDGE_METRICS_PORT)"
  echo "$addr -> gateway-1..$GATEWAY_REPLICAS" >"$(addr_file haproxy)"
  wait_healthy haproxy "$pid" haproxy_healthy
  note "haproxy: started (pid $pid; runtime API $RUN_DIR/haproxy.sock)"
}

# The master key that seals API secrets at rest: 32 random bytes as 64 hex digits, version 1
# (docs/auth.md says how to rotate it). Never regenerated: a new key would orphan every secret.
ensure_master_key() {
  local file="$SECRETS_DIR/auth_master_key.1"
  if [ ! -s "$file" ]; then
    od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$file.tmp"
    chmod 0600 "$file.tmp"
    mv "$file.tmp" "$file"
    note "generated secret $file"
  fi
  chmod 0600 "$file"
}

# ---------------------------------------------------------------------------------------------
# The demo market (SPOTEX_DEMO=1, docs/web.md): two labelled bot accounts, a market maker and a
# taker, trading SPOTEX_DEMO_SYMBOLS through the public port like any client. The admin deposits
# that fund them go to the first gateway directly (HAProxy refuses admin paths). On the first
# start they register themselves and keep their credentials in $SPOTEX_VAR/demo/bots.json; the
# stack is healthy once that file exists. On SIGTERM they cancel their orders (bounded 5 s).

demo_bots_healthy() { [ -s "$DEMO_DIR/bots.json" ]; }

start_demo_bots() {
  local pid admin_port
  not_expected_reason demo-bots >/dev/null && return 0
  if pid="$(running_pid demo-bots)"; then
    note "demo-bots: already running (pid $pid)"
    return 0
  fi
  if ((EDGE)); then
    running_pid haproxy >/dev/null || die "demo-bots: haproxy is not running"
    admin_port="${REPLICA_PORTS[0]}"
  else
    running_pid gateway >/dev/null || die "demo-bots: the gateway is not running"
    admin_port="$GATEWAY_PORT"
  fi
  mkdir -p "$DEMO_DIR"
  spawn demo-bots "$DEMO_DIR" "$NODE_BIN" "$DEMO_BOTS" \
    --base-url "http://127.0.0.1:$GATEWAY_PORT" --admin-url "http://127.0.0.1:$admin_port" \
    --admin-token-file "$SECRETS_DIR/admin-token" --state-file "$DEMO_DIR/bots.json" \
    --symbols "$DEMO_SYMBOLS"
  pid="$(<"$(pid_file demo-bots)")"
  echo "$DEMO_SYMBOLS via http://127.0.0.1:$GATEWAY_PORT" >"$(addr_file demo-bots)"
  wait_healthy demo-bots "$pid" demo_bots_healthy
  note "demo-bots: started (pid $pid)"
}

# ---------------------------------------------------------------------------------------------
# Prometheus (SPOTEX_PROMETHEUS=1): scrapes the metrics ports of this run (docs/metrics.md;
# deploy/prometheus.yml is the static example for the default ports). Optional: the Debian
# package is large and not needed by the build or the tests, so it is started only when
# installed.

# One scrape job: write_prometheus_job NAME LABEL PORT:VALUE... (ports 0 are left out).
write_prometheus_job() {
  local job="$1" label="$2" entry port value targets=""
  shift 2
  for entry in "$@"; do
    port="${entry%%:*}"
    value="${entry#*:}"
    ((port > 0)) || continue
    targets+="      - targets: [\"127.0.0.1:$port\"]
        labels: {$label: \"$value\"}
"
  done
  [ -n "$targets" ] || return 0
  printf '  - job_name: %s\n    static_configs:\n%s' "$job" "$targets"
}

write_prometheus_config() {
  local i gateways=() name
  for ((i = 1; i <= ${#GATEWAY_METRICS_PORTS[@]}; i++)); do
    name="gateway-$i"
    ((EDGE)) || name=gateway
    gateways+=("${GATEWAY_METRICS_PORTS[i - 1]}:$name")
  done
  {
    echo "# Written by scripts/stack.sh on every start of prometheus; edits are lost."
    echo "global: {scrape_interval: 5s, scrape_timeout: 4s, evaluation_interval: 5s}"
    echo "scrape_configs:"
    write_prometheus_job spotex-engine shard "$ENGINE_METRICS_PORT:0"
    write_prometheus_job spotex-recorder shard "$RECORDER_METRICS_PORT:0"
    write_prometheus_job spotex-gateway replica "${gateways[@]}"
    ((EDGE)) && write_prometheus_job haproxy edge "$EDGE_METRICS_PORT:0"
    write_prometheus_job prometheus self "$PROMETHEUS_PORT:1"
  } >"$PROMETHEUS_DIR/prometheus.yml.tmp"
  mv "$PROMETHEUS_DIR/prometheus.yml.tmp" "$PROMETHEUS_DIR/prometheus.yml"
}

prometheus_healthy() {
  curl -fsS --max-time 2 "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" >/dev/null
}

start_prometheus() {
  local pid
  ((PROMETHEUS)) || return 0
  if [ ! -x "$PROMETHEUS_BIN" ]; then
    note "prometheus: not installed ($PROMETHEUS_BIN missing; apt-get install prometheus," \
      "or set SPOTEX_PROMETHEUS_BIN), not started"
    return 0
  fi
  if pid="$(running_pid prometheus)"; then
    note "prometheus: already running (pid $pid)"
    return 0
  fi
  require_ports_free prometheus "$PROMETHEUS_PORT"
  mkdir -p "$PROMETHEUS_DIR/data"
  write_prometheus_config
  spawn prometheus "$PROMETHEUS_DIR" "$PROMETHEUS_BIN" \
    "--config.file=$PROMETHEUS_DIR/prometheus.yml" \
    "--storage.tsdb.path=$PROMETHEUS_DIR/data" \
    "--storage.tsdb.retention.time=$PROMETHEUS_RETENTION" \
    "--web.listen-address=127.0.0.1:$PROMETHEUS_PORT"
  pid="$(<"$(pid_file prometheus)")"
  echo "http://127.0.0.1:$PROMETHEUS_PORT (config $PROMETHEUS_DIR/prometheus.yml)" \
    >"$(addr_file prometheus)"
  wait_healthy prometheus "$pid" prometheus_healthy
  note "prometheus: started (pid $pid)"
}

# ---------------------------------------------------------------------------------------------
# Subcommands.

stop_component() {
  local name="$1" pid
  if [ "$name" = postgres ]; then
    stop_postgres
  elif [ "$name" = pgreplica ]; then
    stop_pgreplica
  elif pid="$(running_pid "$name")"; then
    note "$name: stopping (pid $pid)"
    stop_pid "$name" "$pid"
  fi
  rm -f "$(pid_file "$name")" "$(addr_file "$name")"
  [ "$name" != haproxy ] || rm -f "$RUN_DIR/haproxy.sock"
}

# Why component $1 is not expected to run (printed by status), or nothing (exit 1) if it is.
not_expected_reason() {
  case "$1" in
    engine) [ -x "$ENGINE_BIN" ] || echo "(not built: $ENGINE_BIN)" ;;
    gateway | gateway-* | haproxy) [ -x "$GATEWAY_BIN" ] || echo "(not built: $GATEWAY_BIN)" ;;
    recorder) [ -x "$RECORDER_BIN" ] || echo "(not built: $RECORDER_BIN)" ;;
    pgreplica) ((HA)) || echo "(not started: HA=0)" ;;
    demo-bots)
      if ((!DEMO)); then
        echo "(not started: SPOTEX_DEMO=0)"
      elif [ ! -x "$GATEWAY_BIN" ]; then
        echo "(no gateway built: $GATEWAY_BIN)"
      elif [ ! -r "$DEMO_BOTS" ]; then
        echo "(not present: $DEMO_BOTS)"
      elif [ ! -x "$NODE_BIN" ]; then
        echo "(no Node.js: $NODE_BIN)"
      fi
      ;;
    prometheus)
      if ((!PROMETHEUS)); then
        echo "(not started: PROMETHEUS=0)"
      elif [ ! -x "$PROMETHEUS_BIN" ]; then
        echo "(not installed: $PROMETHEUS_BIN)"
      fi
      ;;
  esac | grep .
}

cmd_up() {
  local name
  lock_acquire
  for name in "${COMPONENTS[@]}"; do
    clean_stale "$name"
  done
  start_nats
  start_postgres
  migrate_postgres
  start_pgreplica
  start_redis
  start_engine
  start_recorder
  if ((EDGE)); then
    start_gateway_replicas
    start_haproxy
  else
    start_gateway
  fi
  start_demo_bots
  start_prometheus
  lock_release
  cmd_status || true
  print_usage
}

# The metrics endpoints of this run and Prometheus (docs/metrics.md), if any.
print_metrics_usage() {
  local urls=() port
  ((ENGINE_METRICS_PORT > 0)) && urls+=("engine :$ENGINE_METRICS_PORT")
  ((RECORDER_METRICS_PORT > 0)) && urls+=("recorder :$RECORDER_METRICS_PORT")
  for port in "${GATEWAY_METRICS_PORTS[@]}"; do
    ((port > 0)) && urls+=("gateway :$port")
  done
  ((EDGE && EDGE_METRICS_PORT > 0)) && urls+=("haproxy :$EDGE_METRICS_PORT")
  ((${#urls[@]} > 0)) || return 0
  local list
  list="$(printf '%s, ' "${urls[@]}")"
  echo "Metrics:       http://127.0.0.1:<port>/metrics on ${list%, } (docs/metrics.md)"
  if running_pid prometheus >/dev/null; then
    echo "Prometheus:    http://127.0.0.1:$PROMETHEUS_PORT (dashboard: deploy/grafana/)"
  fi
}

# After `up`: where the API is and a copy-paste signed request and ccxt snippet with the first
# demo user's key (README.md, "Using it").
print_usage() {
  local users="$SPOTEX_VAR/demo/users.json" key secret base
  base="http://127.0.0.1:$GATEWAY_PORT"
  if ((EDGE)); then
    running_pid haproxy >/dev/null || return 0
  else
    running_pid gateway >/dev/null || return 0
  fi
  echo
  if [ -n "$WEB_ROOT" ] && gateway_has_flag --web-root; then
    echo "Trading screen: $base/   (docs/web.md; built from web/, served from $WEB_ROOT)"
  fi
  if running_pid demo-bots >/dev/null; then
    echo "Demo market:   $DEMO_SYMBOLS quoted and traded by demo-bots" \
      "(log $(log_file demo-bots))"
  fi
  echo "REST API:      $base/api/v3   (Binance spot API; e.g. $base/api/v3/exchangeInfo)"
  echo "Users/keys:    $base/api/v1   (docs/api-v1.md)"
  if ((EDGE)); then
    echo "Edge:          HAProxy on :$GATEWAY_PORT -> gateway replicas on" \
      "${REPLICA_PORTS[*]} (docs/edge.md)"
    ((TLS)) && echo "HTTPS:         https://127.0.0.1:$TLS_PORT/api/v3" \
      "(self-signed: $SECRETS_DIR/tls/edge.crt)"
    echo "Per-replica:   echo 'show stat' | socat - UNIX:$RUN_DIR/haproxy.sock"
  fi
  print_metrics_usage
  [ -s "$users" ] || return 0
  key="$(grep -o '"apiKey":"[^"]*"' "$users" | head -n 1 | cut -d'"' -f4)"
  secret="$(grep -o '"apiSecret":"[^"]*"' "$users" | head -n 1 | cut -d'"' -f4)"
  echo "Demo users:    $users (email, password, apiKey, apiSecret)"
  echo
  echo "Signed request (the first demo user's balances):"
  cat <<EOT
  KEY=$key
  SECRET=$secret
  Q="timestamp=\$(date +%s%3N)"
  SIG=\$(printf %s "\$Q" | openssl dgst -sha256 -hmac "\$SECRET" | sed 's/.* //')
  curl -s -H "X-MBX-APIKEY: \$KEY" "$base/api/v3/account?\$Q&signature=\$SIG"
EOT
  echo
  echo "ccxt (Node.js, npm install ccxt):"
  cat <<EOT
  const ccxt = require('ccxt');
  const ex = new ccxt.binance({ apiKey: '$key', secret: '$secret',
    urls: { api: { public: '$base/api/v3', private: '$base/api/v3' } },
    options: { defaultType: 'spot', fetchMarkets: { types: ['spot'] }, fetchCurrencies: false, fetchMargins: false } });
  ex.fetchBalance().then(b => console.log(b.total));
EOT
}

cmd_down() {
  local i all=()
  lock_acquire
  mapfile -t all < <(all_components)
  for ((i = ${#all[@]} - 1; i >= 0; i--)); do
    stop_component "${all[i]}"
  done
  lock_release
  note "stopped"
}

# One line per component; returns 3 if something that should run does not.
cmd_status() {
  local name pid addr state rc=0
  printf '%-10s %-8s %-62s %s\n' COMPONENT PID ADDRESS LOG
  for name in "${COMPONENTS[@]}"; do
    addr="-"
    [ -s "$(addr_file "$name")" ] && addr="$(<"$(addr_file "$name")")"
    if pid="$(running_pid "$name")"; then
      state="$pid"
    elif addr="$(not_expected_reason "$name")"; then
      state="-"
    else
      state="down"
      addr="-"
      [ -e "$(pid_file "$name")" ] && addr="(stale pid file $(pid_file "$name"))"
      rc=3
    fi
    printf '%-10s %-8s %-62s %s\n' "$name" "$state" "$addr" "$(log_file "$name")"
  done
  echo "secrets: $SECRETS_DIR (nats user '$kNatsUser', pg role '$kPgRole'; files" \
    "nats-password, pg-password, redis-password, admin-token, auth_master_key.1)"
  return "$rc"
}

on_run_signal() {
  trap '' INT TERM
  echo
  note "signal received: stopping the stack"
  cmd_down
  exit 0
}

# Foreground: report each component that dies (once), until SIGINT/SIGTERM.
cmd_run() {
  local name
  declare -A reported=()
  trap on_run_signal INT TERM
  # A separate process: `die` in it ends only that process, and errexit stays on inside it.
  if ! "$BASH" "$REPO_ROOT/scripts/stack.sh" up; then
    warn "up failed: stopping what was started"
    trap '' INT TERM
    cmd_down
    exit 1
  fi
  note "running in the foreground; Ctrl-C stops the stack"
  while true; do
    for name in "${COMPONENTS[@]}"; do
      ! not_expected_reason "$name" >/dev/null || continue
      if running_pid "$name" >/dev/null; then
        reported[$name]=""
      elif [ -z "${reported[$name]:-}" ]; then
        reported[$name]=1
        warn "$name is not running any more; last lines of $(log_file "$name"):"
        tail -n 10 "$(log_file "$name")" >&2 || true
      fi
    done
    sleep 1 &
    wait $! || true
  done
}

# spotex-admin reconcile with this stack's NATS and PostgreSQL (extra flags from
# SPOTEX_RECONCILE_ARGS, e.g. --wait-ms 60000 --json 1).
cmd_reconcile() {
  [ -x "$ADMIN_BIN" ] || die "reconcile: $ADMIN_BIN is not built"
  "$ADMIN_BIN" "${NATS_CLIENT_ARGS[@]}" --pg-host 127.0.0.1 --pg-port "$PG_PORT" \
    --pg-user "$kPgRole" --pg-dbname "$kPgDatabase" --pg-password-file "$SECRETS_DIR/pg-password" \
    reconcile ${SPOTEX_RECONCILE_ARGS:-}
}

main() {
  local cmd="${1:-}"
  # `run` is the local demo (make run): the demo market is on unless SPOTEX_DEMO=0.
  if [ "$cmd" = run ]; then
    export SPOTEX_DEMO="${SPOTEX_DEMO:-1}"
  fi
  init_config
  case "$cmd" in
    up | down | run | status | reconcile) ;;
    *)
      echo "usage: $0 up|down|run|status|reconcile" >&2
      exit 2
      ;;
  esac
  init_paths
  "cmd_$cmd"
}

main "$@"
