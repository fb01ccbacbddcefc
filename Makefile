# Developer entry points. CMake (with CMakePresets.json) is the build system; these targets
# only chain its presets with the scripts that use the binaries.

REPO_ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
# The shared/ checkout beside the repo (benchmark workload generators).
SHARED_DIR ?= $(abspath $(REPO_ROOT)/../shared)
# Commands for the differential test under sanitizers (the release run uses its default, 1M+).
SANITIZE_DIFF_COMMANDS ?= 200000

.PHONY: deps deps-test web build test test-release test-debug up down run status reconcile bench-engine bench-log bench-api bench-ws bench-recorder loadtest loadtest-max clean

deps:
	$(REPO_ROOT)/scripts/install-deps.sh

# deps, and what only the tests need (Chromium for the browser tests of web/e2e).
deps-test:
	$(REPO_ROOT)/scripts/install-deps.sh --test

# The trading screen (web/): npm ci if needed, type-check and bundle into web/dist, which the
# gateways serve at / (docs/web.md).
web: deps
	$(REPO_ROOT)/scripts/web.sh build

build: deps
	cd $(REPO_ROOT) && cmake --preset release && cmake --build --preset release

# Every test: the release build (full differential run), then the ASan+UBSan build with
# invariant checks after every command.
test: test-release test-debug

test-release: deps-test
	cd $(REPO_ROOT) && cmake --preset release && cmake --build --preset release
	cd $(REPO_ROOT) && ctest --preset release --output-on-failure -j2

test-debug: deps-test
	cd $(REPO_ROOT) && cmake --preset debug && cmake --build --preset debug
	cd $(REPO_ROOT) && SPOTEX_DIFF_COMMANDS=$(SANITIZE_DIFF_COMMANDS) \
	  ctest --preset debug --output-on-failure -j2

# The local stack (NATS JetStream, PostgreSQL, Redis, the engine service once built) as plain
# processes under ./var: see scripts/stack.sh and README.md "Running the stack".
# Every service serves Prometheus metrics on its default loopback port (docs/metrics.md;
# SPOTEX_METRICS=0 turns that off); PROMETHEUS=1 also starts Prometheus if it is installed.
up: build web
	SPOTEX_METRICS=$${SPOTEX_METRICS:-1} $(REPO_ROOT)/scripts/stack.sh up

# Stops only what `up` started (pid files under var/run). Needs no build: a broken tree must
# not keep a running stack from being stopped.
down: deps
	$(REPO_ROOT)/scripts/stack.sh down

# up with the demo market (SPOTEX_DEMO=1: demo-bots quoting and trading BTCUSDT, ETHUSDT,
# ETHBTC), then in the foreground until Ctrl-C, which stops the stack. The trading screen is at
# the printed URL (http://127.0.0.1:8080/).
run: build web
	SPOTEX_METRICS=$${SPOTEX_METRICS:-1} $(REPO_ROOT)/scripts/stack.sh run

# (stack.sh status exits 3 when something is down; here the table is what matters.)
status:
	@$(REPO_ROOT)/scripts/stack.sh status || true

# The engine's live balances against the ledger the recorder wrote (docs/reconcile-and-archive.md).
reconcile:
	$(REPO_ROOT)/scripts/stack.sh reconcile

# XC matching benchmark: WORKLOADS="XC-1K" picks a subset, RUNS=2 repeats each workload.
bench-engine: deps
	cd $(REPO_ROOT) && cmake --preset release && cmake --build --preset release --target engine_bench noise_floor
	SHARED_DIR=$(SHARED_DIR) $(REPO_ROOT)/bench/run_engine_bench.sh

# Command-log benchmark: its own nats-server and spotex-engine in a temp dir per run.
# RUNS=3 repeats; RATE / WINDOW / DURATION / PHASES tune it (bench/run_log_bench.sh).
bench-log: deps
	cd $(REPO_ROOT) && cmake --preset release && cmake --build --preset release --target log_bench spotex-engine spotex-admin
	$(REPO_ROOT)/bench/run_log_bench.sh

# REST API benchmark (open loop, signed orders + reads): its own stack (scripts/stack.sh) in a
# temp dir. RATES="2000 5000" / DURATION / WARMUP / CONNECTIONS / USERS tune it
# (bench/api/run_api_bench.sh).
bench-api: deps
	cd $(REPO_ROOT) && cmake --preset release && cmake --build --preset release --target api_bench spotex-gateway spotex-engine spotex-admin spotex-migrate
	$(REPO_ROOT)/bench/api/run_api_bench.sh

# WebSocket fan-out benchmark: CONNECTIONS (10000) connections on one symbol's trade and depth
# streams while api_bench places RATE (600) crossing orders/s, on its own stack in a temp dir.
# RUNS / DURATION / WARMUP / THREADS / STREAMS tune it (bench/ws/run_ws_bench.sh).
bench-ws: deps
	cd $(REPO_ROOT) && cmake --preset release && cmake --build --preset release --target ws_bench api_bench spotex-gateway spotex-engine spotex-admin spotex-migrate
	$(REPO_ROOT)/bench/ws/run_ws_bench.sh

# History recorder benchmark: events/s into PostgreSQL (real schema and indexes) on a backlog of
# COMMANDS (200000) commands, then the commit lag under RATE (10000) orders/s for DURATION (20)
# seconds, on its own stack in a temp dir. RUNS / RECORDER_ARGS tune it
# (bench/recorder/run_recorder_bench.sh).
bench-recorder: deps
	cd $(REPO_ROOT) && cmake --preset release && cmake --build --preset release --target recorder_bench spotex-recorder spotex-engine spotex-admin spotex-migrate
	$(REPO_ROOT)/bench/recorder/run_recorder_bench.sh

# Load test through the edge: the whole stack (HAProxy in front of the gateway replicas) in a temp
# dir, spotex-loadgen at RATE (500) requests/s for DURATION (60) s with market makers quoting:
# `load offered=<N> achieved=<N> p50_ms=<N> p99_ms=<N> p999_ms=<N> errors=<N>`. loadtest-max
# searches the highest rate with p99 under BOUND_MS (20): `load max_rate=<N> p99_ms=<N>
# bound_ms=20`. Other knobs: bench/loadtest/run_loadtest.sh.
LOADTEST_TARGETS := spotex-loadgen spotex-gateway spotex-engine spotex-admin spotex-migrate spotex-recorder

loadtest: deps
	cd $(REPO_ROOT) && cmake --preset release && cmake --build --preset release --target $(LOADTEST_TARGETS)
	$(REPO_ROOT)/bench/loadtest/run_loadtest.sh

loadtest-max: deps
	cd $(REPO_ROOT) && cmake --preset release && cmake --build --preset release --target $(LOADTEST_TARGETS)
	$(REPO_ROOT)/bench/loadtest/run_loadtest.sh --max

clean:
	rm -rf $(REPO_ROOT)/build
