# `npm ci` of a folder's pinned packages (tests/e2e/install.sh, scripts/web.sh). Sourced, never
# run.

# spotex_npm_ci DIR LABEL: installs DIR/package-lock.json into DIR/node_modules. Idempotent and
# quiet: when node_modules was installed from this very lock file (a stamp holds the lock's
# hash) it does nothing and needs no network, so a machine that installed once works offline.
# Install scripts are not run (--ignore-scripts); the callers say why none is needed.
spotex_npm_ci() {
  local dir="$1" label="$2" stamp want
  stamp="$dir/node_modules/.spotex-lock.sha256"
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)" || return 1
  if [ -s "$stamp" ] && [ "$(<"$stamp")" = "$want" ]; then
    return 0
  fi
  echo "$label: npm ci in $dir"
  (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --prefer-offline \
    --loglevel=error) || return 1
  echo "$want" >"$stamp"
}
