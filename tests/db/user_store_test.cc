// The user / API-key store against a real, migrated server.
#include "db/user_store.h"

#include <gtest/gtest.h>

#include "db/migrate.h"
#include "db_fixture.h"

namespace spotex::testing {
namespace {

using db::ApiKeyKind;
using db::StoreErrorCode;
using db::UserStatus;

// 64 characters of [A-Za-z0-9], distinct per `n`.
std::string KeyString(int n, char fill = 'k') {
  std::string s = "K" + std::to_string(n);
  s.resize(db::kApiKeyChars, fill);
  return s;
}

std::string Bytes32(unsigned char first) {
  std::string s(32, '\0');
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(first + i * 7);
  return s;
}

class UserStoreTest : public DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    if (HasFatalFailure()) return;
    auto conn = Connect();
    ASSERT_TRUE(conn);
    conn_.emplace(std::move(*conn));
    auto migrated = db::Migrate(*conn_, SPOTEX_MIGRATIONS_DIR);
    ASSERT_TRUE(migrated) << migrated.error().message;
    store_.emplace(*conn_);
  }

  db::UserStore& store() { return *store_; }

  int64_t NewUser(const std::string& email) {
    auto id = store().CreateUser(email, "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA");
    EXPECT_TRUE(id) << id.error().message;
    return id.value_or(-1);
  }

  db::NewApiKey Hmac(int64_t user_id, int n) {
    db::NewApiKey k;
    k.user_id = user_id;
    k.kind = ApiKeyKind::kHmac;
    k.api_key = KeyString(n);
    k.secret_ciphertext = std::string("\0nonce+mac+ciphertext\xff", 23) + std::to_string(n);
    k.permissions = db::kPermissionRead | db::kPermissionTrade;
    k.label = "key " + std::to_string(n);
    return k;
  }

  int64_t Count(const char* sql) {
    auto res = conn_->Exec(sql);
    EXPECT_TRUE(res) << res.error().message;
    return res ? res->Int64(0, 0).value_or(-1) : -1;
  }

  std::optional<db::PgConnection> conn_;
  std::optional<db::UserStore> store_;
};

TEST_F(UserStoreTest, CreateAndFindUserIgnoringCase) {
  int64_t id = NewUser("Alice@Example.COM");
  EXPECT_GT(id, 0);
  for (const char* spelling : {"alice@example.com", "ALICE@EXAMPLE.COM", "Alice@Example.COM"}) {
    auto user = store().FindUserByEmail(spelling);
    ASSERT_TRUE(user) << spelling << ": " << user.error().message;
    EXPECT_EQ(user->id, id);
    EXPECT_EQ(user->email, "Alice@Example.COM");  // kept as given
    EXPECT_EQ(user->password_hash, "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA");
    EXPECT_EQ(user->status, UserStatus::kActive);
    EXPECT_GT(user->created_at_ms, 1700000000000);
  }
  auto by_id = store().FindUserById(id);
  ASSERT_TRUE(by_id);
  EXPECT_EQ(by_id->email, "Alice@Example.COM");
  auto missing = store().FindUserByEmail("bob@example.com");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, StoreErrorCode::kNotFound);
  EXPECT_EQ(store().FindUserById(id + 1000).error().code, StoreErrorCode::kNotFound);
}

TEST_F(UserStoreTest, DuplicateEmailInAnyCaseIsATypedErrorAndIdsAreNotReused) {
  int64_t first = NewUser("carol@example.com");
  auto dup = store().CreateUser("CAROL@example.com", "h");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, StoreErrorCode::kDuplicateEmail);
  EXPECT_EQ(dup.error().sqlstate, db::kSqlStateUniqueViolation);
  int64_t second = NewUser("dave@example.com");
  EXPECT_GT(second, first);
  EXPECT_EQ(Count("SELECT count(*) FROM users"), 2);
}

TEST_F(UserStoreTest, UserIdsComeOnlyFromTheSequence) {
  NewUser("erin@example.com");
  // GENERATED ALWAYS: nobody picks an id that a later user would also get.
  auto res = conn_->Exec("INSERT INTO users (id, email, password_hash) VALUES (1000, $1, 'h')",
                         "mallory@example.com");
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().sqlstate, "428C9");  // generated_always
}

TEST_F(UserStoreTest, InvalidUserInputIsRejected) {
  EXPECT_EQ(store().CreateUser("a@", "h").error().code, StoreErrorCode::kInvalidArgument);
  EXPECT_EQ(store().CreateUser(std::string(250, 'a') + "@x.io", "h").error().code,
            StoreErrorCode::kInvalidArgument);
  EXPECT_EQ(store().CreateUser("tab\t@example.com", "h").error().code,
            StoreErrorCode::kInvalidArgument);
  EXPECT_EQ(store().CreateUser("frank@example.com", "").error().code,
            StoreErrorCode::kInvalidArgument);
  EXPECT_EQ(store().CreateUser("frank@example.com", std::string(513, 'h')).error().code,
            StoreErrorCode::kInvalidArgument);
  // Not UTF-8: the server refuses it (SQLSTATE 22021), reported as invalid input.
  auto bad = store().CreateUser("fr\xff\xfe@example.com", "h");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, StoreErrorCode::kInvalidArgument);
  EXPECT_EQ(Count("SELECT count(*) FROM users"), 0);
}

TEST_F(UserStoreTest, FreezeAndUnfreeze) {
  int64_t id = NewUser("grace@example.com");
  auto key_id = store().CreateApiKey(Hmac(id, 1));
  ASSERT_TRUE(key_id) << key_id.error().message;
  ASSERT_TRUE(store().SetUserStatus(id, UserStatus::kFrozen));
  EXPECT_EQ(store().FindUserByEmail("grace@example.com")->status, UserStatus::kFrozen);
  auto auth = store().FindApiKey(KeyString(1));
  ASSERT_TRUE(auth) << auth.error().message;
  EXPECT_EQ(auth->user_status, UserStatus::kFrozen);
  ASSERT_TRUE(store().SetUserStatus(id, UserStatus::kActive));
  EXPECT_EQ(store().FindApiKey(KeyString(1))->user_status, UserStatus::kActive);
  EXPECT_EQ(store().SetUserStatus(id + 1, UserStatus::kFrozen).error().code,
            StoreErrorCode::kNotFound);
}

TEST_F(UserStoreTest, HmacAndEd25519KeysRoundTrip) {
  int64_t id = NewUser("heidi@example.com");
  auto hmac = Hmac(id, 1);
  hmac.ip_allowlist = std::vector<std::string>{"203.0.113.7", "2001:db8::/32"};
  auto hmac_id = store().CreateApiKey(hmac);
  ASSERT_TRUE(hmac_id) << hmac_id.error().message;

  db::NewApiKey ed;
  ed.user_id = id;
  ed.kind = ApiKeyKind::kEd25519;
  ed.api_key = KeyString(2);
  ed.public_key = Bytes32(0xf0);
  ed.permissions = db::kPermissionRead;
  auto ed_id = store().CreateApiKey(ed);
  ASSERT_TRUE(ed_id) << ed_id.error().message;
  EXPECT_GT(*ed_id, *hmac_id);

  auto a = store().FindApiKey(hmac.api_key);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->key_id, *hmac_id);
  EXPECT_EQ(a->user_id, id);
  EXPECT_EQ(a->user_status, UserStatus::kActive);
  EXPECT_EQ(a->kind, ApiKeyKind::kHmac);
  EXPECT_EQ(a->secret_ciphertext, hmac.secret_ciphertext);  // NUL and 0xff bytes included
  EXPECT_TRUE(a->public_key.empty());
  EXPECT_EQ(a->permissions, db::kPermissionRead | db::kPermissionTrade);
  EXPECT_EQ(a->ip_allowlist, hmac.ip_allowlist);

  auto b = store().FindApiKey(ed.api_key);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->kind, ApiKeyKind::kEd25519);
  EXPECT_EQ(b->public_key, ed.public_key);
  EXPECT_TRUE(b->secret_ciphertext.empty());
  EXPECT_EQ(b->permissions, db::kPermissionRead);
  EXPECT_FALSE(b->ip_allowlist.has_value());

  auto list = store().ListApiKeys(id);
  ASSERT_TRUE(list) << list.error().message;
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, *hmac_id);
  EXPECT_EQ((*list)[0].api_key, hmac.api_key);
  EXPECT_EQ((*list)[0].kind, ApiKeyKind::kHmac);
  EXPECT_EQ((*list)[0].label, "key 1");
  EXPECT_EQ((*list)[0].ip_allowlist, hmac.ip_allowlist);
  EXPECT_EQ((*list)[1].id, *ed_id);
  EXPECT_EQ((*list)[1].kind, ApiKeyKind::kEd25519);
  EXPECT_GT((*list)[1].created_at_ms, 0);
}

TEST_F(UserStoreTest, FindApiKeyMisses) {
  int64_t id = NewUser("ivan@example.com");
  ASSERT_TRUE(store().CreateApiKey(Hmac(id, 1)));
  for (const std::string& probe : {KeyString(2), std::string("short"), KeyString(1) + "x",
                                   KeyString(1).substr(0, 63) + "'", std::string()}) {
    auto miss = store().FindApiKey(probe);
    ASSERT_FALSE(miss) << probe;
    EXPECT_EQ(miss.error().code, StoreErrorCode::kNotFound);
  }
}

TEST_F(UserStoreTest, DeleteOnlyTheOwnersKey) {
  int64_t owner = NewUser("judy@example.com");
  int64_t other = NewUser("ken@example.com");
  auto key_id = store().CreateApiKey(Hmac(owner, 1));
  ASSERT_TRUE(key_id);
  auto others_key = store().CreateApiKey(Hmac(other, 2));
  ASSERT_TRUE(others_key);

  // Another user's key id looks exactly like a missing one.
  auto stolen = store().DeleteApiKey(other, *key_id);
  ASSERT_FALSE(stolen);
  EXPECT_EQ(stolen.error().code, StoreErrorCode::kNotFound);
  EXPECT_TRUE(store().FindApiKey(KeyString(1)));
  EXPECT_EQ(store().DeleteApiKey(owner, *key_id + 100).error().code, StoreErrorCode::kNotFound);

  ASSERT_TRUE(store().DeleteApiKey(owner, *key_id));
  EXPECT_EQ(store().FindApiKey(KeyString(1)).error().code, StoreErrorCode::kNotFound);
  EXPECT_TRUE(store().ListApiKeys(owner)->empty());
  EXPECT_EQ(store().DeleteApiKey(owner, *key_id).error().code, StoreErrorCode::kNotFound);
  // The deleted key's ciphertext is gone; the other user's key is untouched.
  EXPECT_EQ(Count("SELECT count(*) FROM api_keys WHERE secret_ciphertext IS NULL"), 1);
  EXPECT_TRUE(store().FindApiKey(KeyString(2)));
  EXPECT_EQ(store().ListApiKeys(other)->size(), 1u);
}

TEST_F(UserStoreTest, ApiKeyStringsAreNeverReissued) {
  int64_t id = NewUser("leo@example.com");
  auto key_id = store().CreateApiKey(Hmac(id, 1));
  ASSERT_TRUE(key_id);
  auto dup = store().CreateApiKey(Hmac(id, 1));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, StoreErrorCode::kDuplicateApiKey);
  ASSERT_TRUE(store().DeleteApiKey(id, *key_id));
  auto after_delete = store().CreateApiKey(Hmac(id, 1));
  ASSERT_FALSE(after_delete);
  EXPECT_EQ(after_delete.error().code, StoreErrorCode::kDuplicateApiKey);
}

TEST_F(UserStoreTest, KeyForUnknownUserIsNotFound) {
  auto res = store().CreateApiKey(Hmac(424242, 1));
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, StoreErrorCode::kNotFound);
  EXPECT_EQ(Count("SELECT count(*) FROM api_keys"), 0);
}

TEST_F(UserStoreTest, LiveKeysPerUserAreLimited) {
  int64_t id = NewUser("mia@example.com");
  std::vector<int64_t> ids;
  for (size_t i = 0; i < db::kApiKeysPerUserMax; ++i) {
    auto k = store().CreateApiKey(Hmac(id, static_cast<int>(i)));
    ASSERT_TRUE(k) << k.error().message;
    ids.push_back(*k);
  }
  auto over = store().CreateApiKey(Hmac(id, 1000));
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, StoreErrorCode::kLimitExceeded);
  EXPECT_EQ(store().ListApiKeys(id)->size(), db::kApiKeysPerUserMax);
  ASSERT_TRUE(store().DeleteApiKey(id, ids.front()));
  EXPECT_TRUE(store().CreateApiKey(Hmac(id, 1000)));
  // Another user is not affected by this one's count.
  EXPECT_TRUE(store().CreateApiKey(Hmac(NewUser("nick@example.com"), 2000)));
}

TEST_F(UserStoreTest, InvalidKeysAreRejectedAndNothingIsWritten) {
  int64_t id = NewUser("olivia@example.com");
  auto expect_invalid = [&](db::NewApiKey k, const char* what) {
    auto res = store().CreateApiKey(k);
    ASSERT_FALSE(res) << what;
    EXPECT_EQ(res.error().code, StoreErrorCode::kInvalidArgument) << what;
  };
  auto k = Hmac(id, 1);
  k.api_key = KeyString(1).substr(0, 63) + "-";
  expect_invalid(k, "api_key with a dash");
  k = Hmac(id, 1);
  k.api_key.pop_back();
  expect_invalid(k, "63-character api_key");
  k = Hmac(id, 1);
  k.secret_ciphertext.clear();
  expect_invalid(k, "HMAC without secret");
  k = Hmac(id, 1);
  k.public_key = Bytes32(1);
  expect_invalid(k, "HMAC with public key");
  k = Hmac(id, 1);
  k.kind = ApiKeyKind::kEd25519;
  expect_invalid(k, "ED25519 with secret");
  k = Hmac(id, 1);
  k.kind = ApiKeyKind::kEd25519;
  k.secret_ciphertext.clear();
  k.public_key = std::string(31, 'p');
  expect_invalid(k, "31-byte public key");
  k = Hmac(id, 1);
  k.permissions = 4;
  expect_invalid(k, "unknown permission bit");
  k = Hmac(id, 1);
  k.ip_allowlist = std::vector<std::string>{};
  expect_invalid(k, "empty allow-list");
  k = Hmac(id, 1);
  k.ip_allowlist = std::vector<std::string>(33, "10.0.0.1");
  expect_invalid(k, "33 allow-list entries");
  k = Hmac(id, 1);
  k.ip_allowlist = std::vector<std::string>{"10.0.0.1", ""};
  expect_invalid(k, "empty allow-list entry");
  k = Hmac(id, 1);
  k.label = std::string(129, 'l');
  expect_invalid(k, "long label");
  EXPECT_EQ(Count("SELECT count(*) FROM api_keys"), 0);
}

TEST_F(UserStoreTest, InjectionLookingInputIsStoredVerbatim) {
  const std::string email = "x'); DROP TABLE users; --@example.com";
  const std::string hash = "$argon2id$'; DELETE FROM users WHERE ''='";
  auto id = store().CreateUser(email, hash);
  ASSERT_TRUE(id) << id.error().message;
  auto user = store().FindUserByEmail("X'); drop table USERS; --@EXAMPLE.com");
  ASSERT_TRUE(user) << user.error().message;
  EXPECT_EQ(user->email, email);
  EXPECT_EQ(user->password_hash, hash);

  auto k = Hmac(*id, 1);
  k.label = "'; DELETE FROM api_keys; -- \"$1\" \\ é 🚀";
  k.ip_allowlist = std::vector<std::string>{"1.2.3.4, 5.6.7.8", "{\"a\",\"b\"}", "NULL",
                                            "' OR '1'='1",      "back\\slash",   "sp ace"};
  ASSERT_TRUE(store().CreateApiKey(k));
  auto auth = store().FindApiKey(k.api_key);
  ASSERT_TRUE(auth) << auth.error().message;
  EXPECT_EQ(auth->ip_allowlist, k.ip_allowlist);
  auto list = store().ListApiKeys(*id);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].label, k.label);
  EXPECT_EQ((*list)[0].ip_allowlist, k.ip_allowlist);
  // Still one user, one key: nothing was executed.
  EXPECT_EQ(Count("SELECT count(*) FROM users"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM api_keys"), 1);
  EXPECT_EQ(Count("SELECT cardinality(ip_allowlist) FROM api_keys"), 6);
}

TEST_F(UserStoreTest, HotPathLookupUsesTheUniqueIndex) {
  // The plan of FindApiKey's statement, with sequential scans priced out: the index on
  // api_key must be able to answer it (a missing or unusable index shows a Seq Scan).
  ASSERT_TRUE(conn_->Exec("SET enable_seqscan = off"));
  auto plan = conn_->Exec(
      "EXPLAIN SELECT k.id, k.user_id, u.status FROM api_keys k JOIN users u ON u.id = k.user_id "
      "WHERE k.api_key = $1 AND k.deleted_at IS NULL",
      KeyString(1));
  ASSERT_TRUE(plan) << plan.error().message;
  std::string text;
  for (int r = 0; r < plan->rows(); ++r) text += std::string(plan->Text(r, 0)) + "\n";
  EXPECT_NE(text.find("api_keys_api_key_key"), std::string::npos) << text;
  EXPECT_EQ(text.find("Seq Scan"), std::string::npos) << text;
}

}  // namespace
}  // namespace spotex::testing
