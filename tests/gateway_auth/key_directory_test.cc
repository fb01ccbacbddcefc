// CachingKeyDirectory over an in-memory directory: TTLs, bounds, what is and is not cached.
#include "gateway/auth/key_directory.h"

#include <gtest/gtest.h>

#include <atomic>

namespace spotex::gateway {
namespace {

std::string KeyString(int n) {
  std::string s = "K" + std::to_string(n);
  s.resize(64, 'k');
  return s;
}

std::shared_ptr<const ResolvedKey> Key(int64_t id) {
  auto key = std::make_shared<ResolvedKey>();
  key->key_id = id;
  key->user_id = 100 + id;
  return key;
}

class KeyCacheTest : public ::testing::Test {
 protected:
  KeyCacheOptions Options(size_t positive_max = 100, size_t negative_max = 100) {
    KeyCacheOptions options;
    options.positive_entries_max = positive_max;
    options.negative_entries_max = negative_max;
    return options;
  }
  CachingKeyDirectory::Clock Clock() {
    return [this] { return now_ms_.load(); };
  }
  InMemoryKeyDirectory backing_;
  std::atomic<int64_t> now_ms_{5'000};
};

TEST_F(KeyCacheTest, FoundKeysAreServedFromTheCacheUntilThePositiveTtl) {
  backing_.Put(KeyString(1), Key(1));
  CachingKeyDirectory cache(backing_, Options(), Clock());
  for (int i = 0; i < 3; ++i) {
    auto found = cache.Find(KeyString(1));
    ASSERT_TRUE(found);
    EXPECT_EQ((*found)->key_id, 1);
  }
  EXPECT_EQ(backing_.find_calls(), 1u);
  backing_.Remove(KeyString(1));
  now_ms_ += 9'999;
  EXPECT_TRUE(cache.Find(KeyString(1)));
  now_ms_ += 1;
  auto gone = cache.Find(KeyString(1));
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, KeyLookupErrorCode::kNotFound);
  EXPECT_EQ(backing_.find_calls(), 2u);
}

TEST_F(KeyCacheTest, UnknownKeysAreRememberedForTheNegativeTtl) {
  CachingKeyDirectory cache(backing_, Options(), Clock());
  EXPECT_FALSE(cache.Find(KeyString(1)));
  EXPECT_FALSE(cache.Find(KeyString(1)));
  EXPECT_EQ(backing_.find_calls(), 1u);
  backing_.Put(KeyString(1), Key(1));
  now_ms_ += 1'999;
  EXPECT_FALSE(cache.Find(KeyString(1)));
  now_ms_ += 1;
  EXPECT_TRUE(cache.Find(KeyString(1)));
  EXPECT_EQ(backing_.find_calls(), 2u);
}

TEST_F(KeyCacheTest, OutagesAreNeverCached) {
  CachingKeyDirectory cache(backing_, Options(), Clock());
  backing_.Put(KeyString(1), Key(1));
  backing_.SetUnavailable(true);
  for (int i = 0; i < 3; ++i) {
    auto result = cache.Find(KeyString(1));
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, KeyLookupErrorCode::kUnavailable);
  }
  EXPECT_EQ(backing_.find_calls(), 3u);
  EXPECT_EQ(cache.positive_size() + cache.negative_size(), 0u);
  backing_.SetUnavailable(false);
  EXPECT_TRUE(cache.Find(KeyString(1)));
}

TEST_F(KeyCacheTest, InvalidateDropsBothKinds) {
  CachingKeyDirectory cache(backing_, Options(), Clock());
  backing_.Put(KeyString(1), Key(1));
  EXPECT_TRUE(cache.Find(KeyString(1)));
  EXPECT_FALSE(cache.Find(KeyString(2)));
  backing_.Remove(KeyString(1));
  backing_.Put(KeyString(2), Key(2));
  cache.Invalidate(KeyString(1));
  cache.Invalidate(KeyString(2));
  EXPECT_FALSE(cache.Find(KeyString(1)));
  EXPECT_TRUE(cache.Find(KeyString(2)));
}

TEST_F(KeyCacheTest, BoundedAndAFloodOfUnknownKeysKeepsRealOnes) {
  CachingKeyDirectory cache(backing_, Options(2, 3), Clock());
  for (int i = 1; i <= 3; ++i) {
    backing_.Put(KeyString(i), Key(i));
    now_ms_ += 1;
    EXPECT_TRUE(cache.Find(KeyString(i)));
  }
  EXPECT_EQ(cache.positive_size(), 2u);  // the entry expiring first (key 1) was dropped
  for (int i = 100; i < 200; ++i) {
    EXPECT_FALSE(cache.Find(KeyString(i)));
  }
  EXPECT_EQ(cache.negative_size(), 3u);
  const size_t calls = backing_.find_calls();
  EXPECT_TRUE(cache.Find(KeyString(2)));
  EXPECT_TRUE(cache.Find(KeyString(3)));
  EXPECT_EQ(backing_.find_calls(), calls);  // still cached despite the flood
  EXPECT_TRUE(cache.Find(KeyString(1)));
  EXPECT_EQ(backing_.find_calls(), calls + 1);
}

TEST_F(KeyCacheTest, ZeroEntriesMeansNoCache) {
  CachingKeyDirectory cache(backing_, Options(0, 0), Clock());
  backing_.Put(KeyString(1), Key(1));
  EXPECT_TRUE(cache.Find(KeyString(1)));
  EXPECT_TRUE(cache.Find(KeyString(1)));
  EXPECT_FALSE(cache.Find(KeyString(2)));
  EXPECT_FALSE(cache.Find(KeyString(2)));
  EXPECT_EQ(backing_.find_calls(), 4u);
}

TEST(ResolveApiKeyTest, RefusesRowsItCannotUse) {
  auth::MasterKeyring keyring;
  ASSERT_TRUE(keyring.Add(1, auth::Secret(std::string(32, '\x07'))));
  const std::string api_key = KeyString(1);
  db::ApiKeyAuth row;
  row.key_id = 1;
  row.user_id = 2;
  row.kind = db::ApiKeyKind::kHmac;
  row.permissions = db::kPermissionsAll;
  auto sealed = auth::EncryptSecret(keyring, std::string(64, 's'), api_key);
  ASSERT_TRUE(sealed);
  row.secret_ciphertext = *sealed;
  auto good = ResolveApiKey(row, api_key, keyring);
  ASSERT_TRUE(good) << good.error().message;
  EXPECT_EQ((*good)->hmac_secret.view(), std::string(64, 's'));
  EXPECT_TRUE((*good)->ip_allow_list.unrestricted());

  auto expect_bad = [&](db::ApiKeyAuth bad, std::string_view key) {
    auto result = ResolveApiKey(bad, key, keyring);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, KeyLookupErrorCode::kBadRecord);
    EXPECT_EQ(result.error().message.find(std::string(64, 's')), std::string::npos);
  };
  expect_bad(row, KeyString(2));  // sealed for another key's row
  db::ApiKeyAuth bits = row;
  bits.permissions = 4;
  expect_bad(bits, api_key);
  for (const std::vector<std::string>& list :
       {std::vector<std::string>{"1.2.3.4", " "}, std::vector<std::string>{"1.2.3.4,5.6.7.8"},
        std::vector<std::string>{"999.1.1.1"}, std::vector<std::string>{}}) {
    db::ApiKeyAuth allow = row;
    allow.ip_allowlist = list;
    expect_bad(allow, api_key);
  }
  db::ApiKeyAuth ed = row;
  ed.kind = db::ApiKeyKind::kEd25519;
  ed.public_key = std::string(31, 'x');
  expect_bad(ed, api_key);
  ed.public_key = std::string(32, '\0');  // small-order point
  expect_bad(ed, api_key);
}

}  // namespace
}  // namespace spotex::gateway
