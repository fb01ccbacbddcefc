// Internal to spotex_auth: libsodium must be initialised once before any of its functions are
// used. Every public entry point that calls libsodium calls EnsureSodium() first.
#pragma once

namespace spotex::auth::internal {

// Initialises libsodium on first call; thread-safe and cheap afterwards. Aborts if libsodium
// cannot initialise (no usable random source): nothing in this library can work without it.
void EnsureSodium();

}  // namespace spotex::auth::internal
