# Shared by the scripts that put a one-IP benchmark through the gateway (bench/api,
# bench/loadtest). Sourced, never run.

# spotex_bench_gateway_args GATEWAY_BINARY: the spotex-gateway flags that take the per-IP weight
# and per-account order limits out of a benchmark (one client address and a few users would
# otherwise get 429 -1003/-1015 within seconds), for those flags the gateway's usage text lists.
spotex_bench_gateway_args() {
  local usage flag value out=()
  usage="$("$1" --help 2>&1 || true)"
  while read -r flag value; do
    if grep -q -- "--${flag}\b" <<<"${usage}"; then
      out+=("--${flag}" "${value}")
    fi
  done <<'LIMITS'
weight-per-minute 1000000000
orders-per-10s 1000000000
orders-per-day 1000000000
LIMITS
  echo "${out[@]}"
}
