# Developer entry points. CMake (with CMakePresets.json) is the build system; these targets
# only chain its presets with the scripts that use the binaries.

REPO_ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
# The shared/ checkout beside the repo (benchmark workload generators).
SHARED_DIR ?= $(abspath $(REPO_ROOT)/../shared)
# Commands for the differential test under sanitizers (the release run uses its default, 1M+).
SANITIZE_DIFF_COMMANDS ?= 200000

.PHONY: deps build test test-release test-debug run bench-engine clean

deps:
	$(REPO_ROOT)/scripts/install-deps.sh

build: deps
	cd $(REPO_ROOT) && cmake --preset release && cmake --build --preset release

# Every test: the release build (full differential run), then the ASan+UBSan build with
# invariant checks after every command.
test: test-release test-debug

test-release: deps
	cd $(REPO_ROOT) && cmake --preset release && cmake --build --preset release
	cd $(REPO_ROOT) && ctest --preset release --output-on-failure -j2

test-debug: deps
	cd $(REPO_ROOT) && cmake --preset debug && cmake --build --preset debug
	cd $(REPO_ROOT) && SPOTEX_DIFF_COMMANDS=$(SANITIZE_DIFF_COMMANDS) \
	  ctest --preset debug --output-on-failure -j2

# The services (engine service, gateway, stack) arrive with the next issues.
run:
	@echo "make run: not available yet. Spotex is at its first step: the matching engine library" >&2
	@echo "(src/engine) with its tests and benchmark. The services that 'make run' starts come" >&2
	@echo "with the engine-service and gateway issues. See README.md." >&2
	@exit 1

# XC matching benchmark: WORKLOADS="XC-1K" picks a subset, RUNS=2 repeats each workload.
bench-engine: deps
	cd $(REPO_ROOT) && cmake --preset release && cmake --build --preset release --target engine_bench noise_floor
	SHARED_DIR=$(SHARED_DIR) $(REPO_ROOT)/bench/run_engine_bench.sh

clean:
	rm -rf $(REPO_ROOT)/build
