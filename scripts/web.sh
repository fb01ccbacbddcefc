#!/usr/bin/env bash
# The trading screen (web/, docs/web.md): installs its pinned npm packages, builds it, runs its
# unit tests. Used by `make run` / `make up` (build), scripts/install-deps.sh (install) and ctest
# (test, and web/e2e/run.sh for the browser tests).
#
# Usage: scripts/web.sh install          npm ci in web/ unless node_modules was installed from
#                                        this very package-lock.json (a stamp holds its hash), so
#                                        a machine that installed once builds offline
#        scripts/web.sh build [OUT_DIR]  install, then type-check (tsc -b) and bundle (vite build)
#                                        into OUT_DIR [web/dist], which the gateway serves
#                                        (--web-root; scripts/stack.sh picks up web/dist)
#        scripts/web.sh test             install, then the unit tests: vitest (web/src) and the
#                                        demo market's node tests (tools/demo-market/test)
#
# Install scripts are not run (npm ci --ignore-scripts): none of the packages needs one. esbuild
# (Vite's bundler) finds its binary in the platform package npm installs beside it
# (@esbuild/linux-x64), so its postinstall, which only checks that binary, is not needed.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WEB_DIR="$REPO_ROOT/web"
# shellcheck source=lib/npm.sh
source "$REPO_ROOT/scripts/lib/npm.sh"

die() {
  echo "web: $*" >&2
  exit 1
}

check_node() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    die "node and npm are needed (Node.js >= 20.19: Vite 7's minimum)"
  fi
  local v
  v="$(node -p 'process.versions.node')"
  node -e 'const [a,b]=process.versions.node.split(".").map(Number);
    process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' ||
    die "Node.js >= 20.19 is needed, found $v"
}

cmd_install() {
  check_node
  spotex_npm_ci "$WEB_DIR" web
}

cmd_build() {
  local out="${1:-$WEB_DIR/dist}"
  cmd_install
  mkdir -p "$out"
  out="$(cd "$out" && pwd)"
  echo "web: building the trading screen into $out"
  (cd "$WEB_DIR" && npx --no-install tsc -b &&
    npx --no-install vite build --logLevel warn --outDir "$out" --emptyOutDir)
  [ -s "$out/index.html" ] || die "vite build wrote no $out/index.html"
}

cmd_test() {
  local rc=0 demo_tests="$REPO_ROOT/tools/demo-market/test"
  cmd_install
  (cd "$WEB_DIR" && npx --no-install vitest run) || rc=1
  if [ -d "$demo_tests" ]; then
    (cd "$REPO_ROOT" && node --test --test-reporter=spec "$demo_tests"/) || rc=1
  else
    echo "web: $demo_tests not present: no demo market tests"
  fi
  return "$rc"
}

case "${1:-}" in
  install) cmd_install ;;
  build) cmd_build "${2:-}" ;;
  test) cmd_test ;;
  *)
    echo "usage: $0 install|build [OUT_DIR]|test" >&2
    exit 2
    ;;
esac
