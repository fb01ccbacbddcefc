#!/usr/bin/env bash
# Installs the pinned client libraries of the end-to-end tests (package-lock.json) into
# tests/e2e/node_modules with `npm ci`. Idempotent and quiet: when node_modules was installed
# from this very lock file (a stamp holds the lock's hash) it does nothing and needs no network,
# so a machine that installed once can run the tests offline.
#
# Install scripts are not run: ccxt's only prints a banner, and bufferutil (an optional
# accelerator of the `ws` package) falls back to plain JavaScript without its native build.
set -euo pipefail

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STAMP="$E2E_DIR/node_modules/.spotex-lock.sha256"

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

want="$(sha256sum "$E2E_DIR/package-lock.json" | cut -d' ' -f1)"
if [ -s "$STAMP" ] && [ "$(<"$STAMP")" = "$want" ]; then
  exit 0
fi

echo "e2e install: npm ci in $E2E_DIR"
(cd "$E2E_DIR" && npm ci --ignore-scripts --no-audit --no-fund --prefer-offline \
  --loglevel=error)
echo "$want" >"$STAMP"
