// Replay cache and web sessions against a real redis-server, sessions in memory too (typed
// test), and the client's configuration parsing.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "auth/keys.h"
#include "gateway/redis/redis_client.h"
#include "gateway/redis/replay_cache.h"
#include "gateway/redis/session_store.h"
#include "redis_harness.h"

namespace spotex::gateway {
namespace {

using auth::ReplayVerdict;
using spotex::testing::RedisServer;

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

class RedisStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = RedisServer::Start();
    ASSERT_TRUE(s.has_value()) << s.error();
    server_ = std::move(*s);
    pool_ = std::make_unique<RedisPool>(server_->Config());
  }
  void TearDown() override { pool_.reset(); }
  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<RedisPool> pool_;
};

// ---------------------------------------------------------------------------------------------
// Replay cache.

TEST_F(RedisStoreTest, ReplayFirstSeenThenReplayedThenExpired) {
  RedisReplayCache cache(*pool_);
  const std::string key("\x01\x02\x00\xff signature bytes", 20);  // binary, NUL inside
  const int64_t now = auth::SystemClockMs();
  EXPECT_EQ(cache.FirstSeen(key, now + 300), ReplayVerdict::kFirstSeen);
  EXPECT_EQ(cache.FirstSeen(key, now + 300), ReplayVerdict::kReplayed);
  // A key differing only after the NUL byte is another key.
  std::string other = key;
  other.back() = 'X';
  EXPECT_EQ(cache.FirstSeen(other, now + 300), ReplayVerdict::kFirstSeen);
  // Stored under the hex of the key, with a TTL.
  auto ttl = pool_->Command({"PTTL", "spotex:replay:010200ff" + Hex(" signature bytes")});
  ASSERT_TRUE(ttl.has_value());
  EXPECT_GT(ttl->integer, 0);
  EXPECT_LE(ttl->integer, 301);
  std::this_thread::sleep_for(std::chrono::milliseconds(auth::SystemClockMs() - now + 400));
  EXPECT_EQ(cache.FirstSeen(key, auth::SystemClockMs() + 1000), ReplayVerdict::kFirstSeen);
}

TEST_F(RedisStoreTest, ReplayBoundsAndPastExpiries) {
  RedisReplayCache cache(*pool_);
  const int64_t now = auth::SystemClockMs();
  EXPECT_EQ(cache.FirstSeen("", now + 1000), ReplayVerdict::kUnavailable);
  EXPECT_EQ(cache.FirstSeen(std::string(65, 'k'), now + 1000), ReplayVerdict::kUnavailable);
  EXPECT_EQ(cache.FirstSeen(std::string(64, 'k'), now + 1000), ReplayVerdict::kFirstSeen);
  // Already expired: nothing recorded (the timestamp check refuses such a request anyway).
  EXPECT_EQ(cache.FirstSeen("old", now - 10), ReplayVerdict::kFirstSeen);
  EXPECT_EQ(cache.FirstSeen("old", now - 10), ReplayVerdict::kFirstSeen);
  // Far-future expiries are clamped to the horizon.
  EXPECT_EQ(cache.FirstSeen("far", now + 3'600'000), ReplayVerdict::kFirstSeen);
  auto ttl = pool_->Command({"PTTL", "spotex:replay:666172"});
  ASSERT_TRUE(ttl.has_value());
  EXPECT_LE(ttl->integer, auth::InMemoryReplayCache::kHorizonMaxMs + 1);
  EXPECT_GT(ttl->integer, 1000);
}

TEST_F(RedisStoreTest, ReplayUnavailableWhenRedisIsDown) {
  RedisReplayCache cache(*pool_);
  server_->Stop();
  EXPECT_EQ(cache.FirstSeen("k", auth::SystemClockMs() + 1000), ReplayVerdict::kUnavailable);
  EXPECT_EQ(cache.FirstSeen("k", auth::SystemClockMs() + 1000), ReplayVerdict::kUnavailable);
}

TEST_F(RedisStoreTest, ReplayUnavailableWithAWrongPassword) {
  RedisConfig config = server_->Config();
  config.password = "wrong";
  RedisPool pool(config);
  RedisReplayCache cache(pool);
  EXPECT_EQ(cache.FirstSeen("k", auth::SystemClockMs() + 1000), ReplayVerdict::kUnavailable);
}

TEST_F(RedisStoreTest, SessionsAreStoredByHashWithATtl) {
  RedisSessionStore store(*pool_);
  auto token = store.Create(77, std::chrono::seconds(100));
  ASSERT_TRUE(token.has_value()) << token.error();
  auto hash = auth::SessionTokenHash(*token);
  ASSERT_TRUE(hash.has_value());
  auto value = pool_->Command({"GET", "spotex:session:" + *hash});
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(value->str, "77");
  auto ttl = pool_->Command({"TTL", "spotex:session:" + *hash});
  EXPECT_GT(ttl->integer, 90);
  EXPECT_LE(ttl->integer, 100);
  // Nothing holds the token itself.
  auto keys = pool_->Command({"KEYS", "*"});
  ASSERT_EQ(keys->elements.size(), 1u);
  EXPECT_EQ(keys->elements[0].str.find(*token), std::string::npos);
}

TEST_F(RedisStoreTest, SessionErrorsWhenRedisIsDownButMalformedTokensNeedNoRedis) {
  RedisSessionStore store(*pool_);
  server_->Stop();
  EXPECT_FALSE(store.Create(1, std::chrono::seconds(60)).has_value());
  EXPECT_FALSE(store.Find(auth::GenerateSessionToken()).has_value());
  EXPECT_FALSE(store.Delete(auth::GenerateSessionToken()).has_value());
  auto found = store.Find("not-a-token");
  ASSERT_TRUE(found.has_value());
  EXPECT_FALSE(found->has_value());
  EXPECT_TRUE(store.Delete("not-a-token").has_value());
}

TEST_F(RedisStoreTest, CorruptSessionValueIsAnError) {
  RedisSessionStore store(*pool_);
  const std::string token = auth::GenerateSessionToken();
  ASSERT_TRUE(pool_->Command({"SET", "spotex:session:" + *auth::SessionTokenHash(token), "x"}));
  EXPECT_FALSE(store.Find(token).has_value());
}

// ---------------------------------------------------------------------------------------------
// Sessions, both stores.

struct UseRedis {
  static constexpr bool kRedis = true;
};
struct UseMemory {
  static constexpr bool kRedis = false;
};

template <typename T>
class SessionStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if constexpr (T::kRedis) {
      auto s = RedisServer::Start();
      ASSERT_TRUE(s.has_value()) << s.error();
      server_ = std::move(*s);
      pool_ = std::make_unique<RedisPool>(server_->Config());
      store_ = std::make_unique<RedisSessionStore>(*pool_);
    } else {
      store_ = std::make_unique<InMemorySessionStore>();
    }
  }
  void TearDown() override {
    store_.reset();
    pool_.reset();
  }
  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<RedisPool> pool_;
  std::unique_ptr<SessionStore> store_;
};

using Implementations = ::testing::Types<UseRedis, UseMemory>;
class Names {
 public:
  template <typename T>
  static std::string GetName(int) {
    return T::kRedis ? "Redis" : "InMemory";
  }
};
TYPED_TEST_SUITE(SessionStoreTest, Implementations, Names);

TYPED_TEST(SessionStoreTest, CreateFindDelete) {
  auto a = this->store_->Create(11, std::chrono::seconds(60));
  auto b = this->store_->Create(12, std::chrono::seconds(60));
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(a->size(), auth::kSessionTokenChars);
  EXPECT_NE(*a, *b);
  auto found = this->store_->Find(*a);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(*found, std::optional<int64_t>(11));
  EXPECT_EQ(*this->store_->Find(*b), std::optional<int64_t>(12));
  ASSERT_TRUE(this->store_->Delete(*a).has_value());
  EXPECT_EQ(*this->store_->Find(*a), std::nullopt);
  EXPECT_EQ(*this->store_->Find(*b), std::optional<int64_t>(12));
  // Deleting again, or a session that never existed, is fine.
  EXPECT_TRUE(this->store_->Delete(*a).has_value());
  EXPECT_TRUE(this->store_->Delete(auth::GenerateSessionToken()).has_value());
  EXPECT_EQ(*this->store_->Find(auth::GenerateSessionToken()), std::nullopt);
}

TYPED_TEST(SessionStoreTest, SessionsExpire) {
  auto token = this->store_->Create(5, std::chrono::seconds(1));
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(*this->store_->Find(*token), std::optional<int64_t>(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(*this->store_->Find(*token), std::nullopt);
}

TYPED_TEST(SessionStoreTest, MalformedTokensAndBadArguments) {
  for (std::string_view bad : {std::string_view(""), std::string_view("abc"),
                               std::string_view("*******************************************"),
                               std::string_view(std::string(43, 'A') + "A")}) {
    auto found = this->store_->Find(bad);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(*found, std::nullopt);
    EXPECT_TRUE(this->store_->Delete(bad).has_value());
  }
  EXPECT_FALSE(this->store_->Create(0, std::chrono::seconds(60)).has_value());
  EXPECT_FALSE(this->store_->Create(-3, std::chrono::seconds(60)).has_value());
  EXPECT_FALSE(this->store_->Create(1, std::chrono::seconds(0)).has_value());
  EXPECT_FALSE(this->store_->Create(1, kSessionTtlMax + std::chrono::seconds(1)).has_value());
  EXPECT_TRUE(this->store_->Create(1, kSessionTtlMax).has_value());
}

TEST(InMemorySessionStore, BoundedAndExpiredEntriesMakeRoom) {
  int64_t now = 1'000'000;
  InMemorySessionStore store(2, [&] { return now; });
  ASSERT_TRUE(store.Create(1, std::chrono::seconds(10)).has_value());
  ASSERT_TRUE(store.Create(2, std::chrono::seconds(100)).has_value());
  EXPECT_FALSE(store.Create(3, std::chrono::seconds(10)).has_value());
  now += 10'000;
  auto t = store.Create(3, std::chrono::seconds(10));
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(*store.Find(*t), std::optional<int64_t>(3));
}

// ---------------------------------------------------------------------------------------------
// Configuration.

TEST(RedisConfigTest, ParsesUrls) {
  auto c = ParseRedisUrl("redis://127.0.0.1:6380/2");
  ASSERT_TRUE(c.has_value()) << c.error();
  EXPECT_EQ(c->host, "127.0.0.1");
  EXPECT_EQ(c->port, 6380);
  EXPECT_EQ(c->db, 2);
  EXPECT_EQ(c->password, "");
  c = ParseRedisUrl("redis://:p%40ss@w0rd@cache.internal");
  ASSERT_TRUE(c.has_value()) << c.error();
  EXPECT_EQ(c->password, "p@ss@w0rd");
  EXPECT_EQ(c->username, "");
  EXPECT_EQ(c->host, "cache.internal");
  EXPECT_EQ(c->port, 6379);
  EXPECT_EQ(c->db, 0);
  c = ParseRedisUrl("redis://gateway:secret@[::1]:7000/");
  ASSERT_TRUE(c.has_value()) << c.error();
  EXPECT_EQ(c->username, "gateway");
  EXPECT_EQ(c->password, "secret");
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->port, 7000);
  for (const char* bad : {"http://h:1", "rediss://h:1", "redis://", "redis://h:0",
                          "redis://h:70000", "redis://h:x", "redis://h/db", "redis://h/2000",
                          "redis://nopass@h", "redis://:%zz@h", "redis://[::1:5"}) {
    EXPECT_FALSE(ParseRedisUrl(bad).has_value()) << bad;
  }
}

TEST(RedisConfigTest, ValidatesRanges) {
  RedisConfig c;
  EXPECT_TRUE(ValidateRedisConfig(c).has_value());
  c.pool_size = 0;
  EXPECT_FALSE(ValidateRedisConfig(c).has_value());
  c = RedisConfig{};
  c.command_timeout = std::chrono::milliseconds(0);
  EXPECT_FALSE(ValidateRedisConfig(c).has_value());
  c = RedisConfig{};
  c.password = std::string("a\0b", 3);
  EXPECT_FALSE(ValidateRedisConfig(c).has_value());
}

TEST(RedisConfigTest, ReadsThePasswordFile) {
  const std::string path = ::testing::TempDir() + "/redis-password-" + std::to_string(::getpid());
  std::ofstream(path) << "s3cret \r\nsecond line\n";
  auto pw = ReadRedisPasswordFile(path);
  ASSERT_TRUE(pw.has_value()) << pw.error();
  EXPECT_EQ(*pw, "s3cret");
  std::ofstream(path) << "\n";
  pw = ReadRedisPasswordFile(path);
  ASSERT_FALSE(pw.has_value());
  EXPECT_NE(pw.error().find(path), std::string::npos);
  std::remove(path.c_str());
  EXPECT_FALSE(ReadRedisPasswordFile(path).has_value());
}

TEST(RedisPoolTest, UnreachableServerFailsFastWhileTheBreakerIsOpen) {
  RedisConfig c;
  c.port = 1;  // nothing listens there
  c.breaker_open = std::chrono::milliseconds(60'000);
  RedisPool pool(c);
  auto first = pool.Ping();
  ASSERT_FALSE(first.has_value());
  EXPECT_NE(first.error().message.find("cannot connect"), std::string::npos);
  auto second = pool.Ping();
  ASSERT_FALSE(second.has_value());
  EXPECT_NE(second.error().message.find("recent failure"), std::string::npos);
}

}  // namespace
}  // namespace spotex::gateway
