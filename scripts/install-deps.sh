#!/usr/bin/env bash
# Installs the Debian packages the build and tests need, if any is missing. Idempotent and
# non-interactive. As root it runs apt-get itself; otherwise it prints the one command needed.
#
# Usage: scripts/install-deps.sh [--test]
#   --test  also what only the tests need: Chromium, which the browser tests of the trading
#           screen drive headless (web/e2e, docs/web.md). `make test` passes it; `make build`,
#           `make up` and `make run` do not, so a machine that only runs the stack skips it.
set -euo pipefail

with_test=0
case "${1:-}" in
  "") ;;
  --test) with_test=1 ;;
  *)
    echo "usage: $0 [--test]" >&2
    exit 2
    ;;
esac

packages=(g++ cmake ninja-build ccache make pkg-config googletest libgtest-dev
  libnats-dev nats-server libtomlplusplus-dev redis-server postgresql
  libboost-dev libsodium-dev libpq-dev libhiredis-dev libsimdjson-dev curl
  clang-19 libclang-rt-19-dev python3 zlib1g-dev haproxy openssl libspdlog-dev socat)
# chromium (--test only): headless, driven by playwright-core over CDP (web/e2e/run.sh).
if ((with_test)); then
  packages+=(chromium)
fi
# libspdlog-dev: the services' JSON log lines (src/service/log.cc, docs/logging.md).
# haproxy: the edge in front of the gateway replicas (scripts/stack.sh, docs/edge.md); openssl:
# its self-signed certificate when SPOTEX_TLS=1; socat: to talk to its runtime API socket.
# python3: bench/api/create_users.py (make bench-api).
# clang-19 + its runtime: libFuzzer for tests/fuzz (g++ has no libFuzzer; Debian's default
# clang 14 cannot compile libstdc++ 12's <expected>).
#
# The npm packages of the client end-to-end tests (tests/e2e: ccxt and @binance/spot, pinned in
# its package-lock.json) are installed after the Debian packages, by tests/e2e/install.sh; the
# trading screen's (web/package-lock.json: React, Vite, vitest, playwright-core) by
# scripts/web.sh install. Both are `npm ci` from the lock file, skipped once installed.
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
install_npm() {
  if ! command -v npm >/dev/null; then
    echo "npm not found: the client end-to-end tests need Node.js >= 20 with npm" >&2
    exit 1
  fi
  "$repo_root/tests/e2e/install.sh"
  "$repo_root/scripts/web.sh" install
}

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  install_npm
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing packages: ${missing[*]}" >&2
  echo "Run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
install_npm
