#!/usr/bin/env bash
# Builds tests/fuzz/request_fuzz.cc with clang's libFuzzer (ASan + UBSan) and runs it for a
# bounded time over the seed corpus in tests/fuzz/corpus. g++ has no libFuzzer and Debian 12's
# default clang (14) cannot compile libstdc++ 12's <expected>, so this uses clang-19 (Debian
# package clang-19 + libclang-rt-19-dev, installed by scripts/install-deps.sh).
#
# Usage: tests/fuzz/run.sh [--seconds N]    (default 20; env SPOTEX_FUZZ_SECONDS too)
# Output: build/fuzz/request_fuzz and build/fuzz/corpus (grows across runs); a crash leaves its
# reproducer in build/fuzz/ and fails the run.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SECONDS_TO_RUN="${SPOTEX_FUZZ_SECONDS:-20}"
if [ "${1:-}" = "--seconds" ] && [ -n "${2:-}" ]; then
  SECONDS_TO_RUN="$2"
fi
CXX="${SPOTEX_FUZZ_CXX:-clang++-19}"
command -v "$CXX" >/dev/null || {
  echo "request_fuzz: $CXX not found (scripts/install-deps.sh installs clang-19)" >&2
  exit 1
}
OUT="$REPO_ROOT/build/fuzz"
mkdir -p "$OUT/corpus"
SRC="$REPO_ROOT/src"
sources=(
  "$REPO_ROOT/tests/fuzz/request_fuzz.cc"
  "$SRC/gateway/auth/authenticator.cc" "$SRC/gateway/auth/key_directory.cc"
  "$SRC/gateway/auth/web_session.cc"
  "$SRC/gateway/http/params.cc" "$SRC/gateway/http/error.cc" "$SRC/gateway/http/message.cc"
  "$SRC/db/pg.cc" "$SRC/db/pool.cc" "$SRC/db/user_store.cc"
)
for f in "$SRC"/auth/*.cc "$SRC"/core/*.cc; do sources+=("$f"); done
# Rebuild only when a source is newer than the binary.
need_build=1
if [ -x "$OUT/request_fuzz" ]; then
  need_build=0
  for f in "${sources[@]}" "$SRC"/gateway/auth/*.h "$SRC"/gateway/http/*.h "$SRC"/auth/*.h \
    "$SRC"/core/*.h; do
    [ "$f" -nt "$OUT/request_fuzz" ] && need_build=1 && break
  done
fi
if [ "$need_build" -eq 1 ]; then
  echo "request_fuzz: building with $CXX"
  flags=(-std=c++23 -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
    -I"$SRC" -I"$(pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)")
  launcher=()
  command -v ccache >/dev/null && launcher=(ccache)
  mkdir -p "$OUT/obj"
  objects=()
  jobs_max="$(nproc)"
  for f in "${sources[@]}"; do
    obj="$OUT/obj/$(echo "${f#"$REPO_ROOT"/}" | tr '/' '_').o"
    objects+=("$obj")
    while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n; done
    "${launcher[@]}" "$CXX" "${flags[@]}" -c "$f" -o "$obj" &
  done
  # Any failed compile fails the run (set -e does not see background jobs).
  for pid in $(jobs -p); do wait "$pid"; done
  "$CXX" -fsanitize=fuzzer,address,undefined "${objects[@]}" -lsodium -lpq \
    -o "$OUT/request_fuzz.tmp"
  mv "$OUT/request_fuzz.tmp" "$OUT/request_fuzz"
fi
cd "$OUT"
# -timeout: one input may take at most 5 s; -rss_limit_mb bounds memory.
exec "$OUT/request_fuzz" -max_total_time="$SECONDS_TO_RUN" -timeout=5 -rss_limit_mb=2048 \
  -print_final_stats=1 "$OUT/corpus" "$REPO_ROOT/tests/fuzz/corpus"
