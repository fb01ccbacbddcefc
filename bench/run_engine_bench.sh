#!/usr/bin/env bash
# Runs the XC matching benchmark (shared/bench/xc) through the engine: builds the generator,
# generates the workloads once into build/xc/, and prints one `engine workload=...` line per
# workload. Called by `make bench-engine`, which builds engine_bench first.
#
# Environment:
#   WORKLOADS   space-separated subset of "XC-1K XC-1M XC-10Kx1M" (default: all three)
#   RUNS        runs per workload (default 1)
#   SHARED_DIR  the shared/ checkout (default: ../shared beside the repo)
#   ENGINE_BENCH  the engine_bench binary (default: build/release/bench/engine_bench)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${SHARED_DIR:-${repo}/../shared}"
xc_src="${shared}/bench/xc"
out="${repo}/build/xc"
bench="${ENGINE_BENCH:-${repo}/build/release/bench/engine_bench}"
workloads="${WORKLOADS:-XC-1K XC-1M XC-10Kx1M}"
runs="${RUNS:-1}"

[[ -f "${xc_src}/xc_gen.cpp" ]] || { echo "no ${xc_src}/xc_gen.cpp (set SHARED_DIR)" >&2; exit 2; }
[[ -x "${bench}" ]] || { echo "no ${bench}: run 'make bench-engine'" >&2; exit 2; }
mkdir -p "${out}"

gen="${out}/xc_gen"
if [[ ! -x "${gen}" || "${xc_src}/xc_gen.cpp" -nt "${gen}" || "${xc_src}/common.h" -nt "${gen}" ||
      "${xc_src}/ref_book.h" -nt "${gen}" ]]; then
  echo "building ${gen}" >&2
  g++ -O2 -std=c++17 "${xc_src}/xc_gen.cpp" -o "${gen}"
fi

# Pin to one core when there is a second one to spare.
pin=()
if command -v taskset >/dev/null && [[ "$(nproc)" -ge 2 ]]; then
  pin=(taskset -c 1)
fi

# name -> "file generator-args"
args_of() {
  case "$1" in
    XC-1K) echo "xc_1k 3000000 1000 1 1000 1" ;;
    XC-1M) echo "xc_1m 5000000 1000000 1 1000 1" ;;
    XC-10Kx1M) echo "xc_multi 3000000 1000000 10000 100000 1" ;;
    *) return 1 ;;
  esac
}

# The timing noise floor of this machine, measured the same way (see bench/noise_floor.cc).
noise="$(dirname "${bench}")/noise_floor"
if [[ -x "${noise}" ]]; then
  "${pin[@]}" "${noise}"
fi

status=0
for name in ${workloads}; do
  spec="$(args_of "${name}")" || { echo "unknown workload ${name}" >&2; status=2; continue; }
  read -r file gen_args <<<"${spec}"
  bin="${out}/${file}.bin"
  txt="${out}/${file}.txt"
  # The .txt (the generator's expected results) is written last: its presence marks a
  # complete workload.
  if [[ ! -f "${bin}" || ! -f "${txt}" ]]; then
    echo "generating ${name} into ${bin}" >&2
    # shellcheck disable=SC2086  # gen_args is a word list
    (cd "${out}" && "${gen}" "${file}.bin" ${gen_args} >"${file}.txt.tmp")
    mv "${out}/${file}.txt.tmp" "${txt}"
  fi
  volume="$(sed -n 's/^expected: .* volume=\([0-9]*\).*/\1/p' "${txt}")"
  digest="$(sed -n 's/^final_book: .* digest=\([0-9a-f]*\).*/\1/p' "${txt}")"
  if [[ -z "${volume}" || -z "${digest}" ]]; then
    echo "cannot parse expected results in ${txt}" >&2
    status=2
    continue
  fi
  for ((run = 1; run <= runs; ++run)); do
    "${pin[@]}" "${bench}" "${bin}" "${name}" "${volume}" "${digest}" || status=1
  done
done
exit "${status}"
