// The account operations behind /api/v1 (docs/api-v1.md), as blocking calls: users and their
// API keys in PostgreSQL (db::UserStore over a PgPool), passwords through auth::PasswordHasher,
// HMAC secrets sealed with the master keyring, the engine account opened on registration.
// UserApi and AdminApi run these on a WorkerPool; CreateDemoUsers runs them at start-up.
//
// Contract with the request authenticator (src/gateway/auth): an HMAC secret is stored as
// auth::EncryptSecret(keyring, secret, context = the 64-character api_key string), and an
// Ed25519 key as its raw 32 bytes. Nothing else about a key is secret.
//
// Errors are the http::Error the endpoint answers with (see errors.h); a database that cannot
// be reached is -1001 (HTTP 503), a busy password hasher -1008 (HTTP 503).
//
// Thread safety: every method may be called concurrently; each borrows its own connection.
// The pool, keyring, hasher and engine must outlive the service.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/keys.h"
#include "auth/password.h"
#include "auth/secret.h"
#include "db/pool.h"
#include "db/user_store.h"
#include "gateway/http/error.h"
#include "gateway/http/params.h"
#include "gateway/users/engine_accounts.h"

namespace spotex::gateway::users {

// Emails: 3..254 bytes of printable ASCII without spaces, one '@' with 1..64 bytes before it
// and a domain after it that has a '.' neither first nor last. ASCII only, because uniqueness
// is on PostgreSQL's lower(), whose idea of case beyond ASCII depends on the collation.
// Else -1100 "Illegal characters found in parameter 'email'; legal range is '...'".
[[nodiscard]] http::Result<void> ValidateEmail(std::string_view email);

// auth::CheckPasswordPolicy (8..128 code points of valid UTF-8 without control characters, not
// a common password, not the email): -1100 for bad UTF-8 or control characters, else -7004.
[[nodiscard]] http::Result<void> ValidateNewPassword(std::string_view password,
                                                     std::string_view email);

// What POST /api/v1/apiKeys asks for, validated.
struct ApiKeyRequest {
  db::ApiKeyKind kind = db::ApiKeyKind::kHmac;
  uint32_t permissions = db::kPermissionRead;
  std::string public_key;  // kEd25519: the raw 32 bytes
  std::optional<std::vector<std::string>> ip_allowlist;  // canonical entries; nullopt = any
  std::string label;
};

// Reads `type`, `publicKey`, `permissions`, `ipAllowList` and `label` from `params` (the
// caller still runs CheckAllRead). Cheap: no I/O. Errors:
//   type not HMAC/ED25519: -1100; publicKey sent with HMAC, or missing with ED25519: -1130 /
//   -1102; publicKey not an Ed25519 PEM (or 32 raw bytes): -1130 'publicKey';
//   permissions not a comma-separated set of READ and TRADE: -1130 'permissions';
//   ipAllowList not up to 32 addresses / CIDR blocks: -1130 'ipAllowList';
//   label over 128 bytes: -1130 'label'.
[[nodiscard]] http::Result<ApiKeyRequest> ReadApiKeyRequest(http::Params& params);

// "READ", "TRADE" or "READ,TRADE" for the db::kPermission* bits.
std::string PermissionsText(uint32_t permissions);

struct RegisteredUser {
  int64_t id = 0;
  std::string email;
};

// A key just made. `secret` holds the HMAC secret in the clear (shown once, never stored in
// the clear); empty for ED25519.
struct CreatedApiKey {
  int64_t id = 0;
  std::string api_key;
  auth::Secret secret;
  ApiKeyRequest request;
};

class UserService {
 public:
  UserService(db::PgPool& pool, const auth::MasterKeyring& keyring,
              auth::PasswordHasher& hasher, EngineAccounts& engine)
      : pool_(pool), keyring_(keyring), hasher_(hasher), engine_(engine) {}

  // Validates, hashes the password (argon2id), creates the user and publishes OpenAccount for
  // it without waiting (best effort: a deposit opens the account anyway). -7001 if the email
  // is taken, ignoring case.
  [[nodiscard]] http::Result<RegisteredUser> Register(std::string_view email,
                                                      std::string_view password);

  // The user with this email and password. An unknown email costs one argon2id verification
  // against a dummy hash, like a wrong password, and both answer -7002. A frozen user with
  // the right password gets -7003.
  [[nodiscard]] http::Result<db::User> CheckLogin(std::string_view email,
                                                  std::string_view password);

  // -7007 if no such user.
  [[nodiscard]] http::Result<db::User> FindUser(int64_t user_id);
  // True if a user has this email (ignoring case).
  [[nodiscard]] http::Result<bool> EmailExists(std::string_view email);
  // Sets the database status only (AdminApi also freezes the engine account). -7007 if none.
  [[nodiscard]] http::Result<void> SetFrozen(int64_t user_id, bool frozen);

  // Makes a key for `user_id`: a new api_key string, and for HMAC a new secret sealed with the
  // primary master key under context = api_key. -7003 if the user is frozen, -7005 at the
  // per-user limit.
  [[nodiscard]] http::Result<CreatedApiKey> CreateApiKey(int64_t user_id, ApiKeyRequest request);
  [[nodiscard]] http::Result<std::vector<db::ApiKeyInfo>> ListApiKeys(int64_t user_id);
  // -7006 if no live key `key_id` belongs to `user_id` (another user's key included).
  [[nodiscard]] http::Result<void> DeleteApiKey(int64_t user_id, int64_t key_id);

  EngineAccounts& engine() { return engine_; }

 private:
  template <typename Fn>
  auto WithStore(Fn&& fn) -> decltype(fn(std::declval<db::UserStore&>()));

  db::PgPool& pool_;
  const auth::MasterKeyring& keyring_;
  auth::PasswordHasher& hasher_;
  EngineAccounts& engine_;
};

}  // namespace spotex::gateway::users
