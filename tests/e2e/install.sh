#!/usr/bin/env bash
# Installs the pinned client libraries of the end-to-end tests (package-lock.json) into
# tests/e2e/node_modules with `npm ci` (scripts/lib/npm.sh: skipped when node_modules is from
# this very lock file, so a machine that installed once can run the tests offline).
#
# Install scripts are not run: ccxt's only prints a banner, and bufferutil (an optional
# accelerator of the `ws` package) falls back to plain JavaScript without its native build.
set -euo pipefail

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../../scripts/lib/npm.sh
source "$E2E_DIR/../../scripts/lib/npm.sh"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "e2e install: node and npm are needed (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi
# The clients need a current Node (@binance/spot's README asks for 22.12; both run on 20).
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "e2e install: Node >= 20 is needed, found $(node --version)" >&2
  exit 1
fi

spotex_npm_ci "$E2E_DIR" "e2e install"
