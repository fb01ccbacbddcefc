# Shared by the scripts that start a throwaway stack in a temporary directory on free loopback
# ports (tests/e2e/run.sh, web/e2e/run.sh through lib/test_stack.sh, bench/api, bench/ws,
# bench/recorder). Sourced, never run.

# spotex_make_tmp NAME: creates $TMPDIR/NAME.XXXXXX and prints its path. As root, PostgreSQL
# runs as the postgres user, which must be able to pass through the directory: mktemp makes it
# 0700, 0711 lets that user through without listing it; if $TMPDIR itself is closed to that
# user, /tmp is used instead.
spotex_make_tmp() {
  local base="${TMPDIR:-/tmp}" dir
  if [[ "$(id -u)" -eq 0 ]] && ! runuser -u postgres -- test -x "${base}" 2>/dev/null; then
    base=/tmp
  fi
  dir="$(mktemp -d "${base}/$1.XXXXXX")" || return 1
  chmod 0711 "${dir}" || return 1
  echo "${dir}"
}

# Listening TCP ports (hex, upper case) from /proc, so no extra tool is needed.
spotex_listening_ports_hex() {
  local f
  for f in /proc/net/tcp /proc/net/tcp6; do
    [[ -r "${f}" ]] && awk '$4 == "0A" { split($2, a, ":"); print a[2] }' "${f}"
  done
  return 0
}

# spotex_pick_free_ports N [SPAN]: N distinct ports that nothing listens on, from
# 20000 .. 20000+SPAN-1 (SPAN 30000 by default: clear of the stack's defaults; a benchmark that
# opens many client sockets passes a smaller span to stay below the ephemeral range).
spotex_pick_free_ports() {
  local n="$1" span="${2:-30000}" port chosen=() listening
  listening="$(spotex_listening_ports_hex)"
  while ((${#chosen[@]} < n)); do
    port=$((20000 + RANDOM % span))
    if ! grep -qx "$(printf '%04X' "${port}")" <<<"${listening}" &&
      [[ " ${chosen[*]} " != *" ${port} "* ]]; then
      chosen+=("${port}")
    fi
  done
  echo "${chosen[@]}"
}
