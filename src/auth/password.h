// User passwords: policy check and argon2id hashing (libsodium crypto_pwhash_str).
//
// Parameters: libsodium's INTERACTIVE preset, argon2id with opslimit 2 and memlimit 64 MiB:
// 0.16-0.22 s per hash or verify on the 2-core development VM (docs/auth.md has the figures and
// how they were taken). The login endpoint runs on a 2-core gateway: MODERATE (3 passes over
// 256 MiB, 1.2-1.3 s there) would let two concurrent logins hold both cores for over a second
// and 512 MiB of memory, turning login into the cheapest way to deny service. INTERACTIVE is
// the preset libsodium recommends for online logins; its memory-hard cost per guess still makes
// an offline attack on a stolen table slow.
// NeedsRehash() lets the parameters be raised later: verify with the stored hash, and if it
// needs a rehash, store Hash(password) while the password is at hand.
//
// PasswordHasher bounds the work: at most `concurrent_max` hashes run at once (memory ≤
// concurrent_max × 64 MiB) and a caller waits at most `wait_max` for a slot before getting
// kBusy, which the HTTP layer turns into a retryable error instead of a growing queue.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <mutex>
#include <semaphore>
#include <string>
#include <string_view>

namespace spotex::auth {

// Policy limits, counted in Unicode code points (a password is UTF-8 text).
inline constexpr size_t kPasswordCodePointsMin = 8;
inline constexpr size_t kPasswordCodePointsMax = 128;
inline constexpr size_t kPasswordBytesMax = 4 * kPasswordCodePointsMax;

enum class PasswordPolicyError {
  kTooShort,          // fewer than 8 code points
  kTooLong,           // more than 128 code points
  kInvalidUtf8,       // not well-formed UTF-8 (overlong forms and surrogates included)
  kControlCharacter,  // C0/C1 controls or DEL: invisible, and often a paste accident
  kTooCommon,         // on the built-in list of the most common passwords
  kSameAsUsername,    // equal to the username/e-mail, ignoring ASCII case
};
std::string_view Describe(PasswordPolicyError error);

// Checks a new password against the policy (NIST SP 800-63B style: length and a blocklist, no
// composition rules). `username` may be empty. The bytes are hashed exactly as given; no
// Unicode normalization is applied, so clients should send what the user typed.
[[nodiscard]] std::expected<void, PasswordPolicyError> CheckPasswordPolicy(
    std::string_view password, std::string_view username = {});

struct PasswordParams {
  uint64_t ops_limit = 0;
  size_t mem_limit_bytes = 0;
};
// libsodium's presets (crypto_pwhash_OPSLIMIT_/MEMLIMIT_*; checked against them at compile time).
inline constexpr PasswordParams kPasswordInteractive{2, size_t{64} << 20};
inline constexpr PasswordParams kPasswordModerate{3, size_t{256} << 20};
// The smallest argon2id allows: for tests only, never for stored passwords.
inline constexpr PasswordParams kPasswordTestOnlyMin{1, size_t{8} << 10};

enum class PasswordError {
  kBusy,           // no hashing slot within wait_max
  kTooLong,        // password longer than kPasswordBytesMax
  kMalformedHash,  // the stored string is not an argon2id hash this library can read
  kHashFailed,     // libsodium could not hash (out of memory)
};
std::string_view Describe(PasswordError error);

class PasswordHasher {
 public:
  static constexpr int kConcurrentMax = 64;

  // `concurrent_max` in [1, kConcurrentMax]; `params` must be at least kPasswordTestOnlyMin.
  explicit PasswordHasher(PasswordParams params = kPasswordInteractive, int concurrent_max = 2,
                          std::chrono::milliseconds wait_max = std::chrono::milliseconds(2000));

  // The encoded hash ("$argon2id$v=19$m=65536,t=2,p=1$<salt>$<hash>", < 128 bytes) with a
  // fresh random salt. Thread-safe.
  [[nodiscard]] std::expected<std::string, PasswordError> Hash(std::string_view password);

  // Whether `password` matches `encoded_hash` (constant time in the password). A hash made with
  // other parameters still verifies: they are encoded in it. Thread-safe.
  [[nodiscard]] std::expected<bool, PasswordError> Verify(std::string_view encoded_hash,
                                                          std::string_view password);

  // Spends the time of one Verify and answers false: call it when the user does not exist, so
  // that "no such user" and "wrong password" take the same time. Thread-safe.
  [[nodiscard]] std::expected<bool, PasswordError> VerifyUnknownUser(std::string_view password);

  // True if `encoded_hash` was made with other parameters than this hasher's (or is not an
  // argon2id hash at all). Cheap: parses the string, hashes nothing. Thread-safe.
  [[nodiscard]] bool NeedsRehash(std::string_view encoded_hash) const;

  const PasswordParams& params() const { return params_; }

 private:
  const PasswordParams params_;
  const std::chrono::milliseconds wait_max_;
  std::counting_semaphore<kConcurrentMax> slots_;
  std::mutex dummy_mu_;
  std::string dummy_hash_;  // for VerifyUnknownUser, made on first use; guarded by dummy_mu_
};

}  // namespace spotex::auth
