// Always-on and debug-only assertions. A failed assertion is a bug: print where and abort.
// Never assert on input; validate it and reject instead (STYLE.md §3).
#pragma once

#include <cstdio>
#include <cstdlib>

namespace spotex::core {

[[noreturn]] inline void AssertFail(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: assertion failed: %s\n", file, line, expr);
  std::abort();
}

}  // namespace spotex::core

// Cheap invariants and pre/postconditions: on in every build.
#define SPOTEX_ASSERT(expr)                                  \
  do {                                                       \
    if (__builtin_expect(!(expr), 0)) {                      \
      ::spotex::core::AssertFail(#expr, __FILE__, __LINE__); \
    }                                                        \
  } while (0)

// Expensive checks: only in sanitizer/debug builds (SPOTEX_CHECK_INVARIANTS).
#if defined(SPOTEX_CHECK_INVARIANTS)
#define SPOTEX_DCHECK(expr) SPOTEX_ASSERT(expr)
#else
#define SPOTEX_DCHECK(expr) \
  do {                      \
  } while (0)
#endif
