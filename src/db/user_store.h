// Users and API keys in PostgreSQL (tables of db/migrations/0001_users_and_keys.sql).
//
// The store keeps what it is given: password hashes (argon2id strings) and HMAC secret
// ciphertexts are made by src/auth and are opaque here; the database never sees a password or
// a plaintext secret. Every statement is parameterised; every input is bounded (the limits
// below, also enforced by the schema's CHECK constraints).
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/pg.h"

namespace spotex::db {

enum class UserStatus : uint8_t { kActive, kFrozen };
enum class ApiKeyKind : uint8_t { kHmac, kEd25519 };

// API key permission bits (api_keys.permissions).
inline constexpr uint32_t kPermissionRead = 1;   // account and order queries (USER_DATA)
inline constexpr uint32_t kPermissionTrade = 2;  // place and cancel orders (TRADE)
inline constexpr uint32_t kPermissionsAll = kPermissionRead | kPermissionTrade;

inline constexpr size_t kEmailBytesMin = 3;
inline constexpr size_t kEmailBytesMax = 254;
inline constexpr size_t kPasswordHashBytesMax = 512;
inline constexpr size_t kApiKeyChars = 64;        // [A-Za-z0-9]{64}
inline constexpr size_t kApiKeysPerUserMax = 30;  // live (not deleted) keys per user
inline constexpr size_t kSecretCiphertextBytesMax = 1024;
inline constexpr size_t kEd25519PublicKeyBytes = 32;  // raw key (libsodium's format)
inline constexpr size_t kIpAllowlistEntriesMax = 32;
inline constexpr size_t kIpAllowlistEntryBytesMax = 64;
inline constexpr size_t kApiKeyLabelBytesMax = 128;

enum class StoreErrorCode {
  kInvalidArgument,  // an input breaks a limit or rule above (nothing was written)
  kDuplicateEmail,   // another user has this email, compared case-insensitively
  kDuplicateApiKey,  // this api_key string exists (live or deleted: never reissued)
  kNotFound,         // no such user / no such live key of this user
  kLimitExceeded,    // the user already has kApiKeysPerUserMax live keys
  kDatabase,         // the server or connection failed; the message says how
};

struct StoreError {
  StoreErrorCode code;
  std::string message;
  std::string sqlstate;  // when the server reported it
};
template <typename T>
using StoreResult = std::expected<T, StoreError>;

struct User {
  int64_t id = 0;     // > 0; also the engine account id
  std::string email;  // as it was given at creation
  std::string password_hash;
  UserStatus status = UserStatus::kActive;
  int64_t created_at_ms = 0;  // Unix epoch milliseconds
};

struct NewApiKey {
  int64_t user_id = 0;
  ApiKeyKind kind = ApiKeyKind::kHmac;
  std::string api_key;            // kApiKeyChars of [A-Za-z0-9], made by the caller
  std::string secret_ciphertext;  // kHmac: the encrypted secret (1..1024 bytes); else empty
  std::string public_key;         // kEd25519: the raw 32-byte public key; else empty
  uint32_t permissions = kPermissionRead;  // bits of kPermissionsAll
  // Addresses/CIDR blocks the key may be used from (1..32 entries of 1..64 bytes, no control
  // characters); nullopt = any address. The gateway interprets the entries.
  std::optional<std::vector<std::string>> ip_allowlist;
  std::string label;  // at most kApiKeyLabelBytesMax bytes
};

// A key as its owner lists it: no secret ciphertext, no public key.
struct ApiKeyInfo {
  int64_t id = 0;
  std::string api_key;
  ApiKeyKind kind = ApiKeyKind::kHmac;
  uint32_t permissions = 0;
  std::optional<std::vector<std::string>> ip_allowlist;
  std::string label;
  int64_t created_at_ms = 0;
};

// What the gateway needs to authenticate a request signed with a key (and may cache).
struct ApiKeyAuth {
  int64_t key_id = 0;
  int64_t user_id = 0;
  UserStatus user_status = UserStatus::kActive;
  ApiKeyKind kind = ApiKeyKind::kHmac;
  std::string secret_ciphertext;  // kHmac only
  std::string public_key;         // kEd25519 only
  uint32_t permissions = 0;
  std::optional<std::vector<std::string>> ip_allowlist;
};

std::string_view ToString(UserStatus s);  // "active" | "frozen"
std::string_view ToString(ApiKeyKind k);  // "HMAC" | "ED25519"

// Not thread-safe (it uses one connection); the connection must outlive the store and must not
// be inside a transaction when a method is called.
class UserStore {
 public:
  explicit UserStore(PgConnection& conn) : conn_(conn) {}

  // Creates an active user; returns its id (> 0, never reused).
  [[nodiscard]] StoreResult<int64_t> CreateUser(std::string_view email,
                                                std::string_view password_hash);
  // The user whose email equals `email` ignoring case, or kNotFound.
  [[nodiscard]] StoreResult<User> FindUserByEmail(std::string_view email);
  [[nodiscard]] StoreResult<User> FindUserById(int64_t user_id);
  // Freezes or unfreezes a user (kNotFound if none). Keys stay; FindApiKey reports the status.
  [[nodiscard]] StoreResult<void> SetUserStatus(int64_t user_id, UserStatus status);

  // Adds a key to an existing user (kNotFound if none); returns the key's id.
  [[nodiscard]] StoreResult<int64_t> CreateApiKey(const NewApiKey& key);
  // The user's live keys, oldest first (empty for an unknown user). Never returns secrets.
  [[nodiscard]] StoreResult<std::vector<ApiKeyInfo>> ListApiKeys(int64_t user_id);
  // Deletes the user's live key `key_id` (its ciphertext is wiped; the api_key string stays
  // reserved). kNotFound if no live key with that id belongs to this user.
  [[nodiscard]] StoreResult<void> DeleteApiKey(int64_t user_id, int64_t key_id);
  // The live key with this api_key and its user's status, or kNotFound (also for a string
  // that is not a well-formed key, without asking the server).
  [[nodiscard]] StoreResult<ApiKeyAuth> FindApiKey(std::string_view api_key);

 private:
  StoreResult<User> FindUser(const char* sql, const PgParam& param);

  PgConnection& conn_;
};

}  // namespace spotex::db
