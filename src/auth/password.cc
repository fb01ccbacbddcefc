#include "auth/password.h"

#include <sodium.h>

#include <array>
#include <cstring>

#include "auth/sodium_init.h"
#include "core/assert.h"

namespace spotex::auth {

static_assert(kPasswordInteractive.ops_limit == crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE);
static_assert(kPasswordInteractive.mem_limit_bytes == crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE);
static_assert(kPasswordModerate.ops_limit == crypto_pwhash_argon2id_OPSLIMIT_MODERATE);
static_assert(kPasswordModerate.mem_limit_bytes == crypto_pwhash_argon2id_MEMLIMIT_MODERATE);
static_assert(kPasswordTestOnlyMin.ops_limit == crypto_pwhash_argon2id_OPSLIMIT_MIN);
static_assert(kPasswordTestOnlyMin.mem_limit_bytes == crypto_pwhash_argon2id_MEMLIMIT_MIN);

namespace {

// The most common passwords of 8+ characters in public breach corpora (lowercase).
constexpr std::array<std::string_view, 32> kCommonPasswords = {
    "password", "12345678",  "123456789",   "1234567890", "qwertyuiop", "11111111", "00000000",
    "iloveyou", "password1", "password123", "qwerty123",  "1q2w3e4r",   "1qaz2wsx", "abc12345",
    "abcd1234", "baseball",  "football",    "sunshine",   "princess",   "trustno1", "superman",
    "welcome1", "qwertyui",  "asdfghjk",    "zxcvbnm1",   "88888888",   "87654321", "12341234",
    "passw0rd", "letmein1",  "changeme",    "bitcoin1",
};

// Decodes one UTF-8 code point at `i`, advancing `i`. Returns -1 if malformed.
int32_t NextCodePoint(std::string_view s, size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  int len = 0;
  int32_t cp = 0;
  int32_t min = 0;
  if (b0 < 0x80) {
    ++i;
    return b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return -1;
  }
  if (i + len > s.size()) {
    return -1;
  }
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      return -1;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return -1;  // overlong, out of range, or a surrogate
  }
  i += len;
  return cp;
}

bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') {
      x = static_cast<char>(x - 'A' + 'a');
    }
    if (y >= 'A' && y <= 'Z') {
      y = static_cast<char>(y - 'A' + 'a');
    }
    if (x != y) {
      return false;
    }
  }
  return true;
}

// The encoded hash with a terminating NUL, as crypto_pwhash_str_* want it; false if too long
// or it holds a NUL of its own.
bool ToCString(std::string_view encoded_hash, std::array<char, crypto_pwhash_STRBYTES>& out) {
  if (encoded_hash.size() >= out.size() || encoded_hash.find('\0') != std::string_view::npos) {
    return false;
  }
  std::memcpy(out.data(), encoded_hash.data(), encoded_hash.size());
  out[encoded_hash.size()] = '\0';
  return true;
}

// RAII slot of the hashing semaphore.
class SlotGuard {
 public:
  explicit SlotGuard(std::counting_semaphore<PasswordHasher::kConcurrentMax>& s) : s_(s) {}
  ~SlotGuard() { s_.release(); }
  SlotGuard(const SlotGuard&) = delete;
  SlotGuard& operator=(const SlotGuard&) = delete;

 private:
  std::counting_semaphore<PasswordHasher::kConcurrentMax>& s_;
};

}  // namespace

std::string_view Describe(PasswordPolicyError error) {
  switch (error) {
    case PasswordPolicyError::kTooShort:
      return "password must be at least 8 characters";
    case PasswordPolicyError::kTooLong:
      return "password must be at most 128 characters";
    case PasswordPolicyError::kInvalidUtf8:
      return "password is not valid UTF-8";
    case PasswordPolicyError::kControlCharacter:
      return "password contains a control character";
    case PasswordPolicyError::kTooCommon:
      return "password is too common";
    case PasswordPolicyError::kSameAsUsername:
      return "password must not be the username";
  }
  return "unknown password policy error";
}

std::expected<void, PasswordPolicyError> CheckPasswordPolicy(std::string_view password,
                                                             std::string_view username) {
  if (password.size() > kPasswordBytesMax) {
    return std::unexpected(PasswordPolicyError::kTooLong);
  }
  size_t code_points = 0;
  for (size_t i = 0; i < password.size();) {
    const int32_t cp = NextCodePoint(password, i);
    if (cp < 0) {
      return std::unexpected(PasswordPolicyError::kInvalidUtf8);
    }
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) {
      return std::unexpected(PasswordPolicyError::kControlCharacter);
    }
    ++code_points;
  }
  if (code_points < kPasswordCodePointsMin) {
    return std::unexpected(PasswordPolicyError::kTooShort);
  }
  if (code_points > kPasswordCodePointsMax) {
    return std::unexpected(PasswordPolicyError::kTooLong);
  }
  for (const std::string_view common : kCommonPasswords) {
    if (EqualsIgnoringAsciiCase(password, common)) {
      return std::unexpected(PasswordPolicyError::kTooCommon);
    }
  }
  if (!username.empty() && EqualsIgnoringAsciiCase(password, username)) {
    return std::unexpected(PasswordPolicyError::kSameAsUsername);
  }
  return {};
}

std::string_view Describe(PasswordError error) {
  switch (error) {
    case PasswordError::kBusy:
      return "too many password operations in progress";
    case PasswordError::kTooLong:
      return "password too long";
    case PasswordError::kMalformedHash:
      return "stored password hash is not a readable argon2id hash";
    case PasswordError::kHashFailed:
      return "password hashing failed (out of memory)";
  }
  return "unknown password error";
}

PasswordHasher::PasswordHasher(PasswordParams params, int concurrent_max,
                               std::chrono::milliseconds wait_max)
    : params_(params), wait_max_(wait_max), slots_(concurrent_max) {
  SPOTEX_ASSERT(concurrent_max >= 1 && concurrent_max <= kConcurrentMax);
  SPOTEX_ASSERT(params.ops_limit >= kPasswordTestOnlyMin.ops_limit);
  SPOTEX_ASSERT(params.mem_limit_bytes >= kPasswordTestOnlyMin.mem_limit_bytes);
  internal::EnsureSodium();
}

std::expected<std::string, PasswordError> PasswordHasher::Hash(std::string_view password) {
  if (password.size() > kPasswordBytesMax) {
    return std::unexpected(PasswordError::kTooLong);
  }
  if (!slots_.try_acquire_for(wait_max_)) {
    return std::unexpected(PasswordError::kBusy);
  }
  SlotGuard slot(slots_);
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), params_.ops_limit,
                            params_.mem_limit_bytes, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return std::unexpected(PasswordError::kHashFailed);
  }
  return std::string(out.data());
}

std::expected<bool, PasswordError> PasswordHasher::Verify(std::string_view encoded_hash,
                                                          std::string_view password) {
  if (password.size() > kPasswordBytesMax) {
    return std::unexpected(PasswordError::kTooLong);
  }
  std::array<char, crypto_pwhash_STRBYTES> hash{};
  // Only argon2id: an argon2i hash would verify too, but nothing here ever wrote one.
  if (!encoded_hash.starts_with(crypto_pwhash_argon2id_STRPREFIX) ||
      !ToCString(encoded_hash, hash)) {
    return std::unexpected(PasswordError::kMalformedHash);
  }
  if (!slots_.try_acquire_for(wait_max_)) {
    return std::unexpected(PasswordError::kBusy);
  }
  SlotGuard slot(slots_);
  // -1 means "wrong password" or "unreadable hash"; needs_rehash tells them apart cheaply.
  if (crypto_pwhash_argon2id_str_verify(hash.data(), password.data(), password.size()) == 0) {
    return true;
  }
  if (crypto_pwhash_argon2id_str_needs_rehash(hash.data(), params_.ops_limit,
                                              params_.mem_limit_bytes) == -1) {
    return std::unexpected(PasswordError::kMalformedHash);
  }
  return false;
}

std::expected<bool, PasswordError> PasswordHasher::VerifyUnknownUser(std::string_view password) {
  std::string dummy;
  {
    std::lock_guard lock(dummy_mu_);
    if (dummy_hash_.empty()) {
      // A hash of random bytes nobody knows; made once, on first use, with this hasher's
      // parameters so that verifying against it costs what a real verify costs.
      std::array<unsigned char, 32> random{};
      randombytes_buf(random.data(), random.size());
      auto hash = Hash(std::string_view(reinterpret_cast<const char*>(random.data()), 32));
      sodium_memzero(random.data(), random.size());
      if (!hash.has_value()) {
        return std::unexpected(hash.error());
      }
      dummy_hash_ = std::move(*hash);
    }
    dummy = dummy_hash_;
  }
  auto verified = Verify(dummy, password);
  if (!verified.has_value()) {
    return verified;
  }
  return false;  // even in the 2^-256 case of a match
}

bool PasswordHasher::NeedsRehash(std::string_view encoded_hash) const {
  std::array<char, crypto_pwhash_STRBYTES> hash{};
  if (!encoded_hash.starts_with(crypto_pwhash_argon2id_STRPREFIX) ||
      !ToCString(encoded_hash, hash)) {
    return true;
  }
  return crypto_pwhash_argon2id_str_needs_rehash(hash.data(), params_.ops_limit,
                                                 params_.mem_limit_bytes) != 0;
}

}  // namespace spotex::auth
