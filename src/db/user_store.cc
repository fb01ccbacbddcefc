#include "db/user_store.h"

#include <array>

namespace spotex::db {

namespace {

StoreError Invalid(std::string message) {
  return StoreError{StoreErrorCode::kInvalidArgument, std::move(message), ""};
}

StoreError NotFound(std::string message) {
  return StoreError{StoreErrorCode::kNotFound, std::move(message), ""};
}

// Maps a server error to the store's codes by SQLSTATE and constraint name.
StoreError FromPg(std::string_view what, const PgError& e) {
  StoreErrorCode code = StoreErrorCode::kDatabase;
  if (e.sqlstate == kSqlStateUniqueViolation && e.constraint == "users_email_lower_key") {
    code = StoreErrorCode::kDuplicateEmail;
  } else if (e.sqlstate == kSqlStateUniqueViolation && e.constraint == "api_keys_api_key_key") {
    code = StoreErrorCode::kDuplicateApiKey;
  } else if (e.sqlstate == kSqlStateForeignKeyViolation) {
    code = StoreErrorCode::kNotFound;
  } else if (e.sqlstate == kSqlStateCheckViolation || e.sqlstate.starts_with("22")) {
    code = StoreErrorCode::kInvalidArgument;  // 22xxx: data exceptions (bad UTF-8, too long)
  }
  return StoreError{code, std::string(what) + ": " + e.message, e.sqlstate};
}

StoreError Corrupt(std::string_view what, const PgError& e) {
  return StoreError{StoreErrorCode::kDatabase, std::string(what) + ": " + e.message, e.sqlstate};
}

bool HasControl(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

bool WellFormedApiKey(std::string_view s) {
  if (s.size() != kApiKeyChars) return false;
  for (char c : s) {
    bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum) return false;
  }
  return true;
}

std::optional<UserStatus> ParseStatus(std::string_view s) {
  if (s == "active") return UserStatus::kActive;
  if (s == "frozen") return UserStatus::kFrozen;
  return std::nullopt;
}

std::optional<ApiKeyKind> ParseKind(std::string_view s) {
  if (s == "HMAC") return ApiKeyKind::kHmac;
  if (s == "ED25519") return ApiKeyKind::kEd25519;
  return std::nullopt;
}

std::optional<StoreError> CheckNewApiKey(const NewApiKey& k) {
  if (k.user_id <= 0) return NotFound("no user with id " + std::to_string(k.user_id));
  if (!WellFormedApiKey(k.api_key)) return Invalid("api_key must be 64 characters of [A-Za-z0-9]");
  if (k.kind == ApiKeyKind::kHmac &&
      (k.secret_ciphertext.empty() || k.secret_ciphertext.size() > kSecretCiphertextBytesMax ||
       !k.public_key.empty())) {
    return Invalid("an HMAC key needs a secret ciphertext of 1..1024 bytes and no public key");
  }
  if (k.kind == ApiKeyKind::kEd25519 &&
      (k.public_key.size() != kEd25519PublicKeyBytes || !k.secret_ciphertext.empty())) {
    return Invalid("an ED25519 key needs a 32-byte public key and no secret ciphertext");
  }
  if ((k.permissions & ~kPermissionsAll) != 0) return Invalid("unknown permission bits");
  if (k.label.size() > kApiKeyLabelBytesMax || HasControl(k.label)) {
    return Invalid("label is longer than 128 bytes or holds control characters");
  }
  if (k.ip_allowlist) {
    const auto& list = *k.ip_allowlist;
    if (list.empty() || list.size() > kIpAllowlistEntriesMax) {
      return Invalid("ip_allowlist must hold 1..32 entries (or be absent for any address)");
    }
    for (const auto& entry : list) {
      if (entry.empty() || entry.size() > kIpAllowlistEntryBytesMax || HasControl(entry)) {
        return Invalid(
            "an ip_allowlist entry is empty, longer than 64 bytes or holds control "
            "characters");
      }
    }
  }
  return std::nullopt;
}

// Reads an optional text[] column.
PgExpected<std::optional<std::vector<std::string>>> OptionalTextArray(const PgResult& res, int row,
                                                                      int col) {
  if (res.IsNull(row, col)) return std::nullopt;
  auto items = res.TextArray(row, col);
  if (!items) return std::unexpected(std::move(items.error()));
  return std::optional<std::vector<std::string>>(std::move(*items));
}

PgExpected<uint32_t> Permissions(const PgResult& res, int row, int col) {
  auto v = res.Int64(row, col);
  if (!v) return std::unexpected(std::move(v.error()));
  if (*v < 0 || (*v & ~static_cast<int64_t>(kPermissionsAll)) != 0) {
    return std::unexpected(PgError{"", "", "permissions out of range"});
  }
  return static_cast<uint32_t>(*v);
}

constexpr const char* kUserColumns =
    "id, email, password_hash, status, (extract(epoch FROM created_at) * 1000)::bigint";

}  // namespace

std::string_view ToString(UserStatus s) { return s == UserStatus::kFrozen ? "frozen" : "active"; }
std::string_view ToString(ApiKeyKind k) { return k == ApiKeyKind::kEd25519 ? "ED25519" : "HMAC"; }

StoreResult<int64_t> UserStore::CreateUser(std::string_view email, std::string_view password_hash) {
  if (email.size() < kEmailBytesMin || email.size() > kEmailBytesMax || HasControl(email)) {
    return std::unexpected(Invalid("email must be 3..254 bytes without control characters"));
  }
  if (password_hash.empty() || password_hash.size() > kPasswordHashBytesMax ||
      HasControl(password_hash)) {
    return std::unexpected(Invalid("password hash must be 1..512 bytes of text"));
  }
  auto res = conn_.Exec("INSERT INTO users (email, password_hash) VALUES ($1, $2) RETURNING id",
                        email, password_hash);
  if (!res) return std::unexpected(FromPg("creating user", res.error()));
  auto id = res->Int64(0, 0);
  if (!id) return std::unexpected(Corrupt("creating user", id.error()));
  return *id;
}

StoreResult<User> UserStore::FindUser(const char* sql, const PgParam& param) {
  auto res = conn_.ExecParams(sql, std::span<const PgParam>(&param, 1));
  if (!res) return std::unexpected(FromPg("finding user", res.error()));
  if (res->rows() == 0) return std::unexpected(NotFound("no such user"));
  User u;
  auto id = res->Int64(0, 0);
  auto created = res->Int64(0, 4);
  auto status = ParseStatus(res->Text(0, 3));
  if (!id || !created || !status) {
    return std::unexpected(
        Corrupt("reading user", PgError{"", "", "unexpected id, status or created_at"}));
  }
  u.id = *id;
  u.email = res->Text(0, 1);
  u.password_hash = res->Text(0, 2);
  u.status = *status;
  u.created_at_ms = *created;
  return u;
}

StoreResult<User> UserStore::FindUserByEmail(std::string_view email) {
  if (email.size() > kEmailBytesMax || HasControl(email)) {
    return std::unexpected(NotFound("no such user"));
  }
  // lower(email) = lower($1) is what the unique index users_email_lower_key is on.
  static const std::string sql =
      std::string("SELECT ") + kUserColumns + " FROM users WHERE lower(email) = lower($1)";
  return FindUser(sql.c_str(), ToPgParam(email));
}

StoreResult<User> UserStore::FindUserById(int64_t user_id) {
  static const std::string sql =
      std::string("SELECT ") + kUserColumns + " FROM users WHERE id = $1";
  return FindUser(sql.c_str(), ToPgParam(user_id));
}

StoreResult<void> UserStore::SetUserStatus(int64_t user_id, UserStatus status) {
  auto res = conn_.Exec("UPDATE users SET status = $2 WHERE id = $1", user_id, ToString(status));
  if (!res) return std::unexpected(FromPg("setting user status", res.error()));
  if (res->affected_rows() == 0) {
    return std::unexpected(NotFound("no user with id " + std::to_string(user_id)));
  }
  return {};
}

StoreResult<int64_t> UserStore::CreateApiKey(const NewApiKey& key) {
  if (auto err = CheckNewApiKey(key)) return std::unexpected(*err);
  auto tx = PgTransaction::Begin(conn_);
  if (!tx) return std::unexpected(FromPg("creating api key", tx.error()));
  // Locking the user row serialises concurrent creations for one user, so the count below
  // cannot be raced past the limit. NO KEY UPDATE does not block foreign-key checks.
  auto user = conn_.Exec("SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE", key.user_id);
  if (!user) return std::unexpected(FromPg("creating api key", user.error()));
  if (user->rows() == 0) {
    return std::unexpected(NotFound("no user with id " + std::to_string(key.user_id)));
  }
  auto count = conn_.Exec("SELECT count(*) FROM api_keys WHERE user_id = $1 AND deleted_at IS NULL",
                          key.user_id);
  if (!count) return std::unexpected(FromPg("counting api keys", count.error()));
  auto n = count->Int64(0, 0);
  if (!n) return std::unexpected(Corrupt("counting api keys", n.error()));
  if (*n >= static_cast<int64_t>(kApiKeysPerUserMax)) {
    return std::unexpected(StoreError{StoreErrorCode::kLimitExceeded,
                                      "user " + std::to_string(key.user_id) + " already has " +
                                          std::to_string(kApiKeysPerUserMax) + " api keys",
                                      ""});
  }
  std::optional<PgBytes> secret, public_key;
  if (key.kind == ApiKeyKind::kHmac) secret = PgBytes{key.secret_ciphertext};
  if (key.kind == ApiKeyKind::kEd25519) public_key = PgBytes{key.public_key};
  std::optional<PgTextArray> allowlist;
  if (key.ip_allowlist) allowlist.emplace(PgTextArray{*key.ip_allowlist});
  auto res = conn_.Exec(
      "INSERT INTO api_keys (user_id, api_key, kind, secret_ciphertext, public_key, permissions, "
      "ip_allowlist, label) VALUES ($1, $2, $3, $4, $5, $6, $7::text[], $8) RETURNING id",
      key.user_id, key.api_key, ToString(key.kind), secret, public_key,
      static_cast<int64_t>(key.permissions), allowlist, key.label);
  if (!res) return std::unexpected(FromPg("creating api key", res.error()));
  auto id = res->Int64(0, 0);
  if (!id) return std::unexpected(Corrupt("creating api key", id.error()));
  if (auto done = tx->Commit(); !done) {
    return std::unexpected(FromPg("creating api key", done.error()));
  }
  return *id;
}

StoreResult<std::vector<ApiKeyInfo>> UserStore::ListApiKeys(int64_t user_id) {
  auto res = conn_.Exec(
      "SELECT id, api_key, kind, permissions, ip_allowlist, label, "
      "(extract(epoch FROM created_at) * 1000)::bigint FROM api_keys "
      "WHERE user_id = $1 AND deleted_at IS NULL ORDER BY id LIMIT $2",
      user_id, static_cast<int64_t>(kApiKeysPerUserMax));
  if (!res) return std::unexpected(FromPg("listing api keys", res.error()));
  std::vector<ApiKeyInfo> out;
  out.reserve(static_cast<size_t>(res->rows()));
  for (int r = 0; r < res->rows(); ++r) {
    ApiKeyInfo k;
    auto id = res->Int64(r, 0);
    auto kind = ParseKind(res->Text(r, 2));
    auto perms = Permissions(*res, r, 3);
    auto allow = OptionalTextArray(*res, r, 4);
    auto created = res->Int64(r, 6);
    if (!id || !kind || !perms || !allow || !created) {
      return std::unexpected(
          Corrupt("reading api keys", PgError{"", "", "unexpected column values"}));
    }
    k.id = *id;
    k.api_key = res->Text(r, 1);
    k.kind = *kind;
    k.permissions = *perms;
    k.ip_allowlist = std::move(*allow);
    k.label = res->Text(r, 5);
    k.created_at_ms = *created;
    out.push_back(std::move(k));
  }
  return out;
}

StoreResult<void> UserStore::DeleteApiKey(int64_t user_id, int64_t key_id) {
  // One statement: the owner check and the delete cannot be separated by another writer.
  auto res = conn_.Exec(
      "UPDATE api_keys SET deleted_at = now(), secret_ciphertext = NULL "
      "WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL",
      key_id, user_id);
  if (!res) return std::unexpected(FromPg("deleting api key", res.error()));
  if (res->affected_rows() == 0) {
    return std::unexpected(
        NotFound("user " + std::to_string(user_id) + " has no api key " + std::to_string(key_id)));
  }
  return {};
}

StoreResult<ApiKeyAuth> UserStore::FindApiKey(std::string_view api_key) {
  if (!WellFormedApiKey(api_key)) return std::unexpected(NotFound("no such api key"));
  // The gateway's hot path: one probe of the unique index on api_key, one of users' primary key.
  auto res = conn_.Exec(
      "SELECT k.id, k.user_id, u.status, k.kind, k.secret_ciphertext, k.public_key, "
      "k.permissions, k.ip_allowlist FROM api_keys k JOIN users u ON u.id = k.user_id "
      "WHERE k.api_key = $1 AND k.deleted_at IS NULL",
      api_key);
  if (!res) return std::unexpected(FromPg("finding api key", res.error()));
  if (res->rows() == 0) return std::unexpected(NotFound("no such api key"));
  ApiKeyAuth a;
  auto key_id = res->Int64(0, 0);
  auto user_id = res->Int64(0, 1);
  auto status = ParseStatus(res->Text(0, 2));
  auto kind = ParseKind(res->Text(0, 3));
  auto perms = Permissions(*res, 0, 6);
  auto allow = OptionalTextArray(*res, 0, 7);
  if (!key_id || !user_id || !status || !kind || !perms || !allow) {
    return std::unexpected(Corrupt("reading api key", PgError{"", "", "unexpected column values"}));
  }
  a.key_id = *key_id;
  a.user_id = *user_id;
  a.user_status = *status;
  a.kind = *kind;
  a.permissions = *perms;
  a.ip_allowlist = std::move(*allow);
  const int material_col = a.kind == ApiKeyKind::kHmac ? 4 : 5;
  auto material = res->Bytes(0, material_col);
  if (!material) return std::unexpected(Corrupt("reading api key", material.error()));
  (a.kind == ApiKeyKind::kHmac ? a.secret_ciphertext : a.public_key) = std::move(*material);
  return a;
}

}  // namespace spotex::db
