#include "auth/sodium_init.h"

#include <sodium.h>

#include "core/assert.h"

namespace spotex::auth::internal {

void EnsureSodium() {
  // A function-local static is initialised exactly once even with concurrent callers.
  static const bool initialised = [] { return sodium_init() >= 0; }();
  SPOTEX_ASSERT(initialised);
}

}  // namespace spotex::auth::internal
