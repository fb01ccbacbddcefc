// API key material and other secrets at rest (DESIGN.md §3 "Users and keys").
//
// - API key ids and HMAC secrets: 64 characters [A-Za-z0-9] from libsodium's CSPRNG, like
//   Binance's. The secret is shown to the user once and stored only encrypted.
// - Encryption at rest: XChaCha20-Poly1305 (IETF AEAD) under a 32-byte master key read from the
//   secrets directory. Every ciphertext starts with a format byte and the version of the key
//   that sealed it, so the master key can rotate: new ciphertexts use the primary version, old
//   ones still open with the key of their version, and NeedsReencrypt() finds the rows to
//   rewrite before the old key file is removed. The caller's `context` (the API key id) is
//   bound as associated data, so a ciphertext copied to another key's row does not open.
// - Session tokens: 32 random bytes, base64url. Only SHA-256 of the token is stored (Redis):
//   a leaked session store does not hand out sessions.
// - Permissions per API key, checked against the endpoint's security type.
//
// Thread safety: free functions are thread-safe; a const MasterKeyring may be shared by threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/errors.h"
#include "auth/secret.h"

namespace spotex::auth {

// ---------------------------------------------------------------------------------------------
// API keys.

inline constexpr size_t kApiKeyIdChars = 64;
inline constexpr size_t kHmacSecretChars = 64;

// A new API key id: 64 characters, uniform over [A-Za-z0-9] (~381 bits).
[[nodiscard]] std::string GenerateApiKeyId();
// A new HMAC secret: 64 characters, uniform over [A-Za-z0-9]. Clients use the characters as the
// HMAC key bytes.
[[nodiscard]] Secret GenerateHmacSecret();

// Exactly kApiKeyIdChars characters of [A-Za-z0-9].
[[nodiscard]] bool IsWellFormedApiKeyId(std::string_view key_id);

// The X-MBX-APIKEY check done before any lookup: absent, empty or not well formed is -2014
// "API-key format invalid." (HTTP 401). A well-formed key that is unknown, revoked, not allowed
// from the client's IP, or lacks the permission is -2015 (errors::kRejectedApiKey), decided by
// the caller after the lookup.
[[nodiscard]] std::expected<void, ApiError> CheckApiKeyHeader(
    std::optional<std::string_view> header);

// ---------------------------------------------------------------------------------------------
// Permissions.

enum class Permission : uint32_t {
  kRead = 1u << 0,   // USER_DATA and USER_STREAM endpoints
  kTrade = 1u << 1,  // TRADE endpoints (Binance: off by default)
};

class Permissions {
 public:
  static constexpr uint32_t kKnownBits = 0b11;

  constexpr Permissions() = default;
  // nullopt if `bits` has a bit this version does not know (a newer writer, or corruption):
  // refuse rather than guess.
  static constexpr std::optional<Permissions> FromBits(uint32_t bits) {
    if ((bits & ~kKnownBits) != 0) {
      return std::nullopt;
    }
    return Permissions(bits);
  }
  constexpr Permissions With(Permission p) const {
    return Permissions(bits_ | static_cast<uint32_t>(p));
  }
  constexpr bool Has(Permission p) const { return (bits_ & static_cast<uint32_t>(p)) != 0; }
  constexpr uint32_t bits() const { return bits_; }

  friend constexpr bool operator==(Permissions, Permissions) = default;

 private:
  constexpr explicit Permissions(uint32_t bits) : bits_(bits) {}
  uint32_t bits_ = 0;
};

// Binance endpoint security types (BINANCE_API.md §2).
enum class SecurityType { kNone, kTrade, kUserData, kUserStream };

// Whether a key with `permissions` may call an endpoint of `type`. kNone needs no key at all.
// When false, answer errors::kRejectedApiKey.
[[nodiscard]] constexpr bool Allows(Permissions permissions, SecurityType type) {
  switch (type) {
    case SecurityType::kNone:
      return true;
    case SecurityType::kTrade:
      return permissions.Has(Permission::kTrade);
    case SecurityType::kUserData:
    case SecurityType::kUserStream:
      return permissions.Has(Permission::kRead);
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Master keys.

inline constexpr size_t kMasterKeyBytes = 32;
inline constexpr size_t kMasterKeyFileBytesMax = 256;
// Key files in the secrets directory are named <prefix><version>, version 1..255.
inline constexpr std::string_view kMasterKeyFilePrefix = "auth_master_key.";

enum class MasterKeyError {
  kCannotRead,        // open/stat/read failed
  kNotRegularFile,    // a directory, device, ...
  kWritableByOthers,  // group or other may write: someone else could swap the key
  kTooLarge,          // more than kMasterKeyFileBytesMax bytes
  kBadFormat,         // neither 64 hex digits (optionally with whitespace around) nor 32 bytes
  kAllZero,           // a placeholder, not a key
  kBadVersion,        // version 0, a version given twice, or no key files found
  kNoPrimary,         // the requested primary version has no key file
};

struct MasterKeyLoadError {
  MasterKeyError kind = MasterKeyError::kCannotRead;
  std::string message;  // names the file and the reason; never contains key bytes
};

struct LoadedMasterKey {
  Secret key;  // kMasterKeyBytes bytes
  // Things that are allowed but should be logged: group/other may read the file (Kubernetes
  // mounts secrets 0644 unless defaultMode says otherwise), or it belongs to another user.
  std::vector<std::string> warnings;
};

// Parses key file contents: 64 hex digits (surrounding ASCII whitespace ignored) or exactly 32
// raw bytes. Errors: kBadFormat, kAllZero.
[[nodiscard]] std::expected<Secret, MasterKeyError> ParseMasterKey(std::string_view contents);

// Reads and parses the key file at `path` (symlinks are followed: Kubernetes secret volumes
// are symlinks). The read buffer is wiped before returning.
[[nodiscard]] std::expected<LoadedMasterKey, MasterKeyLoadError> LoadMasterKey(
    const std::string& path);

// The master keys by version, and which one seals new secrets.
class MasterKeyring {
 public:
  // `version` in 1..255, not yet present; `key` kMasterKeyBytes bytes. The first key added
  // becomes the primary.
  [[nodiscard]] bool Add(uint8_t version, Secret key);
  // false if no key has `version`.
  [[nodiscard]] bool SetPrimary(uint8_t version);

  // 0 if the ring is empty.
  uint8_t primary_version() const { return primary_; }
  // nullptr if no key has `version`.
  const Secret* Find(uint8_t version) const;

 private:
  std::array<Secret, 256> keys_;  // index = version; keys_[0] unused
  uint8_t primary_ = 0;
};

struct LoadedMasterKeyring {
  MasterKeyring keyring;
  std::vector<std::string> warnings;
};

// Loads every <secrets_dir>/auth_master_key.<N> (N = 1..255, decimal, no leading zeros).
// `primary_version` names the key that seals new secrets; nullopt picks the highest N.
// Rotation: (1) add the new file on every replica with the OLD version still primary, (2) make
// the new version primary, (3) re-encrypt the rows for which NeedsReencrypt() is true,
// (4) remove the old file. Skipping (1) would let a replica seal with a key the others lack.
[[nodiscard]] std::expected<LoadedMasterKeyring, MasterKeyLoadError> LoadMasterKeyring(
    const std::string& secrets_dir, std::optional<uint8_t> primary_version = std::nullopt);

// ---------------------------------------------------------------------------------------------
// Secrets at rest.

inline constexpr uint8_t kSealedFormat = 1;
// format byte + key version byte + 24-byte nonce + 16-byte tag.
inline constexpr size_t kSealedOverheadBytes = 2 + 24 + 16;
inline constexpr size_t kSealedPlaintextBytesMax = 1024;
inline constexpr size_t kSealedContextBytesMax = 256;

enum class SealError {
  kNoPrimaryKey,          // the keyring is empty
  kTooLong,               // plaintext or context above its maximum
  kTooShort,              // shorter than the overhead: not a sealed secret
  kUnknownFormat,         // first byte is not kSealedFormat
  kUnknownKeyVersion,     // sealed with a key version the ring does not hold
  kAuthenticationFailed,  // wrong key, wrong context, or the bytes were changed
};
std::string_view Describe(SealError error);

// Seals `plaintext` under the primary key, binding `context` (e.g. the API key id). The result
// is binary (store it as BYTEA): format, key version, random nonce, ciphertext with tag.
[[nodiscard]] std::expected<std::string, SealError> EncryptSecret(const MasterKeyring& keyring,
                                                                  std::string_view plaintext,
                                                                  std::string_view context);

// Opens what EncryptSecret returned, with the same `context`.
[[nodiscard]] std::expected<Secret, SealError> DecryptSecret(const MasterKeyring& keyring,
                                                             std::string_view sealed,
                                                             std::string_view context);

// The key version a sealed secret names (without opening it).
[[nodiscard]] std::expected<uint8_t, SealError> SealedKeyVersion(std::string_view sealed);

// True if `sealed` is under a key other than the primary: re-encrypt it during rotation.
[[nodiscard]] bool NeedsReencrypt(const MasterKeyring& keyring, std::string_view sealed);

// ---------------------------------------------------------------------------------------------
// Session tokens.

inline constexpr size_t kSessionTokenBytes = 32;
inline constexpr size_t kSessionTokenChars = 43;  // base64url, no padding

// A new opaque session token: 32 random bytes, base64url without padding. Give it to the
// client; store only SessionTokenHash(token).
[[nodiscard]] std::string GenerateSessionToken();

// Lowercase hex SHA-256 of `bytes` (64 characters).
[[nodiscard]] std::string Sha256Hex(std::string_view bytes);

// Lowercase hex SHA-256 of the token's 32 bytes: the session's storage key. nullopt if `token`
// is not a well-formed token (then no session can match; do not even ask the store).
[[nodiscard]] std::optional<std::string> SessionTokenHash(std::string_view token);

}  // namespace spotex::auth
