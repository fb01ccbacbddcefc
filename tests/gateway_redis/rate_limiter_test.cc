// Rate limiters: the same behaviour checks against RedisRateLimiter (a real redis-server per
// test) and InMemoryRateLimiter (a typed test), then what only one of them has: replicas
// sharing counts, fail-open and recovery, a wrong password (Redis); long bans and day windows
// on a simulated clock (in memory).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>

#include "gateway/redis/rate_limits.h"
#include "gateway/redis/redis_rate_limiter.h"
#include "redis_harness.h"
#include "test_util.h"

namespace spotex::gateway {
namespace {

using spotex::testing::AlignToWindow;
using spotex::testing::BannedUntil;
using spotex::testing::HasHeader;
using spotex::testing::HeaderValue;
using spotex::testing::RedisServer;
using spotex::testing::WaitForNextWindow;

constexpr char kIp[] = "203.0.113.7";

struct UseRedis {
  static constexpr bool kRedis = true;
};
struct UseMemory {
  static constexpr bool kRedis = false;
};

template <typename T>
class RateLimiterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if constexpr (T::kRedis) {
      auto s = RedisServer::Start();
      ASSERT_TRUE(s.has_value()) << s.error();
      server_ = std::move(*s);
      pool_ = std::make_unique<RedisPool>(server_->Config());
    }
  }
  void TearDown() override { pool_.reset(); }

  std::unique_ptr<RateLimiter> Make(const RateLimits& limits) {
    EXPECT_TRUE(ValidateRateLimits(limits).has_value());
    if constexpr (T::kRedis) {
      return std::make_unique<RedisRateLimiter>(*pool_, limits);
    } else {
      return std::make_unique<InMemoryRateLimiter>(limits);
    }
  }

  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<RedisPool> pool_;
};

using Implementations = ::testing::Types<UseRedis, UseMemory>;
class Names {
 public:
  template <typename T>
  static std::string GetName(int) {
    return T::kRedis ? "Redis" : "InMemory";
  }
};
TYPED_TEST_SUITE(RateLimiterTest, Implementations, Names);

TYPED_TEST(RateLimiterTest, WeightAccumulatesAndIsReportedInHeaders) {
  auto limiter = this->Make(RateLimits{});
  AlignToWindow(60'000, 5000);
  auto v = limiter->ChargeRequest(kIp, 1);
  EXPECT_TRUE(v.allowed);
  EXPECT_EQ(HeaderValue(v, "X-MBX-USED-WEIGHT-1M"), "1");
  EXPECT_EQ(HeaderValue(v, "X-MBX-USED-WEIGHT"), "1");
  EXPECT_FALSE(HasHeader(v, "Retry-After"));
  v = limiter->ChargeRequest(kIp, 20);
  EXPECT_EQ(HeaderValue(v, "X-MBX-USED-WEIGHT-1M"), "21");
  v = limiter->ChargeRequest(kIp, 5);
  EXPECT_TRUE(v.allowed);
  EXPECT_EQ(HeaderValue(v, "X-MBX-USED-WEIGHT-1M"), "26");
  EXPECT_EQ(HeaderValue(v, "X-MBX-USED-WEIGHT"), "26");
  // Another address has its own count.
  v = limiter->ChargeRequest("2001:db8::1", 4);
  EXPECT_EQ(HeaderValue(v, "X-MBX-USED-WEIGHT-1M"), "4");
}

TYPED_TEST(RateLimiterTest, OverTheWeightLimitIs429With1003AndRetryAfter) {
  RateLimits limits;
  limits.weight_per_window = 10;
  limits.refusals_before_ban = 0;  // no bans here
  auto limiter = this->Make(limits);
  AlignToWindow(60'000, 5000);
  EXPECT_TRUE(limiter->ChargeRequest(kIp, 10).allowed);
  auto v = limiter->ChargeRequest(kIp, 1);
  ASSERT_FALSE(v.allowed);
  EXPECT_EQ(v.error.http_status, 429);
  EXPECT_EQ(v.error.code, -1003);
  EXPECT_EQ(v.error.msg,
            "Too much request weight used; current limit is 10 request weight per 1 MINUTE. "
            "Please use WebSocket Streams for live updates to avoid polling the API.");
  EXPECT_GE(v.retry_after_s, 1);
  EXPECT_LE(v.retry_after_s, 60);
  EXPECT_EQ(HeaderValue(v, "Retry-After"), std::to_string(v.retry_after_s));
  EXPECT_EQ(HeaderValue(v, "X-MBX-USED-WEIGHT-1M"), "11");
  // Still refused while the window lasts; without bans it never escalates.
  for (int i = 0; i < 30; ++i) {
    v = limiter->ChargeRequest(kIp, 1);
    ASSERT_FALSE(v.allowed);
    ASSERT_EQ(v.error.http_status, 429);
  }
}

TYPED_TEST(RateLimiterTest, WeightWindowResets) {
  RateLimits limits;
  limits.weight_per_window = 5;
  limits.weight_window_ms = 1000;
  limits.refusals_before_ban = 0;
  auto limiter = this->Make(limits);
  AlignToWindow(1000, 500);
  EXPECT_TRUE(limiter->ChargeRequest(kIp, 5).allowed);
  auto v = limiter->ChargeRequest(kIp, 1);
  ASSERT_FALSE(v.allowed);
  EXPECT_EQ(v.retry_after_s, 1);
  EXPECT_NE(v.error.msg.find("per 1 SECOND."), std::string::npos) << v.error.msg;
  EXPECT_EQ(HeaderValue(v, "X-MBX-USED-WEIGHT-1S"), "6");
  WaitForNextWindow(1000);
  v = limiter->ChargeRequest(kIp, 2);
  EXPECT_TRUE(v.allowed);
  EXPECT_EQ(HeaderValue(v, "X-MBX-USED-WEIGHT-1S"), "2");
}

TYPED_TEST(RateLimiterTest, OrdersPer10SecondsAreLimitedWith1015) {
  RateLimits limits;
  limits.orders_per_short_window = 3;
  auto limiter = this->Make(limits);
  AlignToWindow(10'000, 3000);
  for (int i = 1; i <= 3; ++i) {
    auto v = limiter->ChargeOrder(42);
    ASSERT_TRUE(v.allowed);
    EXPECT_EQ(HeaderValue(v, "X-MBX-ORDER-COUNT-10S"), std::to_string(i));
    EXPECT_EQ(HeaderValue(v, "X-MBX-ORDER-COUNT-1D"), std::to_string(i));
  }
  auto v = limiter->ChargeOrder(42);
  ASSERT_FALSE(v.allowed);
  EXPECT_EQ(v.error.http_status, 429);
  EXPECT_EQ(v.error.code, -1015);
  EXPECT_EQ(v.error.msg, "Too many new orders; current limit is 3 orders per 10 SECOND.");
  EXPECT_GE(v.retry_after_s, 1);
  EXPECT_LE(v.retry_after_s, 10);
  EXPECT_EQ(HeaderValue(v, "Retry-After"), std::to_string(v.retry_after_s));
  // A refused order is not counted.
  EXPECT_EQ(HeaderValue(v, "X-MBX-ORDER-COUNT-10S"), "3");
  EXPECT_EQ(HeaderValue(v, "X-MBX-ORDER-COUNT-1D"), "3");
  // Another account is not affected.
  v = limiter->ChargeOrder(43);
  EXPECT_TRUE(v.allowed);
  EXPECT_EQ(HeaderValue(v, "X-MBX-ORDER-COUNT-10S"), "1");
}

TYPED_TEST(RateLimiterTest, OrdersPerDayAreLimitedWith1015) {
  RateLimits limits;
  limits.orders_per_day_window = 2;
  auto limiter = this->Make(limits);
  AlignToWindow(10'000, 3000);
  EXPECT_TRUE(limiter->ChargeOrder(7).allowed);
  EXPECT_TRUE(limiter->ChargeOrder(7).allowed);
  auto v = limiter->ChargeOrder(7);
  ASSERT_FALSE(v.allowed);
  EXPECT_EQ(v.error.code, -1015);
  EXPECT_EQ(v.error.msg, "Too many new orders; current limit is 2 orders per 1 DAY.");
  // Retry when the UTC day ends.
  const int64_t now = auth::SystemClockMs();
  const int64_t day_end_s = (86'400'000 - now % 86'400'000 + 999) / 1000;
  EXPECT_NEAR(static_cast<double>(v.retry_after_s), static_cast<double>(day_end_s), 2.0);
  EXPECT_EQ(HeaderValue(v, "X-MBX-ORDER-COUNT-1D"), "2");
}

TYPED_TEST(RateLimiterTest, RepeatedRefusalsEscalateToABanThatExpiresAndDoubles) {
  RateLimits limits;
  limits.weight_per_window = 2;
  limits.refusals_before_ban = 3;
  limits.ban_base_ms = 1000;
  limits.ban_max_ms = 60'000;
  auto limiter = this->Make(limits);
  AlignToWindow(60'000, 8000);
  EXPECT_TRUE(limiter->ChargeRequest(kIp, 2).allowed);
  for (int i = 0; i < 3; ++i) {
    auto v = limiter->ChargeRequest(kIp, 1);
    ASSERT_FALSE(v.allowed);
    ASSERT_EQ(v.error.http_status, 429) << i;
  }
  int64_t before = auth::SystemClockMs();
  auto v = limiter->ChargeRequest(kIp, 1);
  ASSERT_FALSE(v.allowed);
  EXPECT_EQ(v.error.http_status, 418);
  EXPECT_EQ(v.error.code, -1003);
  const int64_t until = BannedUntil(v.error.msg);
  EXPECT_EQ(v.error.msg, "Way too much request weight used; IP banned until " +
                             std::to_string(until) +
                             ". Please use WebSocket Streams for live updates to avoid bans.");
  EXPECT_GE(until, before + 1000 - 50);
  EXPECT_LE(until, auth::SystemClockMs() + 1000 + 50);
  EXPECT_EQ(v.retry_after_s, 1);
  EXPECT_EQ(HeaderValue(v, "Retry-After"), "1");
  // While banned every request is 418, whatever its weight; the other addresses are fine.
  v = limiter->ChargeRequest(kIp, 0);
  EXPECT_EQ(v.error.http_status, 418);
  EXPECT_EQ(BannedUntil(v.error.msg), until);
  EXPECT_TRUE(HasHeader(v, "Retry-After"));
  EXPECT_TRUE(limiter->ChargeRequest("198.51.100.1", 1).allowed);

  // The ban ends; the window still being over its limit, the address is refused (429) again,
  // and the next offence is banned twice as long.
  std::this_thread::sleep_for(std::chrono::milliseconds(until - auth::SystemClockMs() + 50));
  for (int i = 0; i < 3; ++i) {
    v = limiter->ChargeRequest(kIp, 1);
    ASSERT_EQ(v.error.http_status, 429) << i << " " << v.error.msg;
  }
  before = auth::SystemClockMs();
  v = limiter->ChargeRequest(kIp, 1);
  ASSERT_EQ(v.error.http_status, 418);
  const int64_t second = BannedUntil(v.error.msg);
  EXPECT_GE(second, before + 2000 - 50);
  EXPECT_LE(second, auth::SystemClockMs() + 2000 + 50);
  EXPECT_EQ(v.retry_after_s, 2);
}

// ---------------------------------------------------------------------------------------------
// Redis only.

class RedisRateLimiterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = RedisServer::Start();
    ASSERT_TRUE(s.has_value()) << s.error();
    server_ = std::move(*s);
  }
  std::unique_ptr<RedisServer> server_;
};

TEST_F(RedisRateLimiterTest, TwoReplicasShareTheirCounts) {
  RedisPool pool_a(server_->Config());
  RedisPool pool_b(server_->Config());
  RateLimits limits;
  limits.weight_per_window = 10;
  limits.orders_per_short_window = 2;
  RedisRateLimiter a(pool_a, limits);
  RedisRateLimiter b(pool_b, limits);
  AlignToWindow(10'000, 3000);
  EXPECT_EQ(HeaderValue(a.ChargeRequest(kIp, 4), "X-MBX-USED-WEIGHT-1M"), "4");
  EXPECT_EQ(HeaderValue(b.ChargeRequest(kIp, 4), "X-MBX-USED-WEIGHT-1M"), "8");
  auto v = a.ChargeRequest(kIp, 4);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(HeaderValue(v, "X-MBX-USED-WEIGHT-1M"), "12");
  EXPECT_TRUE(a.ChargeOrder(5).allowed);
  EXPECT_TRUE(b.ChargeOrder(5).allowed);
  v = a.ChargeOrder(5);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.error.code, -1015);
}

TEST_F(RedisRateLimiterTest, KeysHaveTheDocumentedNamesAndExpire) {
  RedisPool pool(server_->Config());
  RateLimits limits;
  limits.weight_per_window = 1;
  limits.refusals_before_ban = 1;
  RedisRateLimiter limiter(pool, limits);
  AlignToWindow(60'000, 5000);
  limiter.ChargeRequest(kIp, 1);
  limiter.ChargeRequest(kIp, 1);
  EXPECT_EQ(limiter.ChargeRequest(kIp, 1).error.http_status, 418);
  limiter.ChargeOrder(9);
  const std::string ip(kIp);
  for (const std::string& key : {"spotex:rl:weight:" + ip, "spotex:rl:ban:" + ip,
                                "spotex:rl:strikes:" + ip, std::string("spotex:rl:orders:9")}) {
    auto ttl = pool.Command({"PTTL", key});
    ASSERT_TRUE(ttl.has_value());
    EXPECT_GT(ttl->integer, 0) << key;  // exists and expires (-1: no TTL, -2: missing)
  }
  auto ttl = pool.Command({"PTTL", "spotex:rl:weight:" + ip});
  EXPECT_LE(ttl->integer, 60'000);
  ttl = pool.Command({"PTTL", "spotex:rl:ban:" + ip});
  EXPECT_LE(ttl->integer, 120'000);
}

TEST_F(RedisRateLimiterTest, LostScriptCacheFallsBackToEval) {
  RedisPool pool(server_->Config());
  RedisRateLimiter limiter(pool, RateLimits{});
  AlignToWindow(60'000, 5000);
  EXPECT_EQ(HeaderValue(limiter.ChargeRequest(kIp, 1), "X-MBX-USED-WEIGHT-1M"), "1");
  ASSERT_TRUE(pool.Command({"SCRIPT", "FLUSH"}).has_value());
  EXPECT_EQ(HeaderValue(limiter.ChargeRequest(kIp, 1), "X-MBX-USED-WEIGHT-1M"), "2");
  EXPECT_EQ(HeaderValue(limiter.ChargeRequest(kIp, 1), "X-MBX-USED-WEIGHT-1M"), "3");
}

TEST_F(RedisRateLimiterTest, FailsOpenWhileRedisIsDownAndRecovers) {
  RedisPool pool(server_->Config());
  RateLimits limits;
  limits.weight_per_window = 1;
  limits.refusals_before_ban = 0;
  RedisRateLimiter limiter(pool, limits);
  AlignToWindow(60'000, 10'000);
  EXPECT_TRUE(limiter.ChargeRequest(kIp, 1).allowed);
  EXPECT_FALSE(limiter.ChargeRequest(kIp, 1).allowed);

  server_->Stop();
  for (int i = 0; i < 5; ++i) {
    auto v = limiter.ChargeRequest(kIp, 1);
    EXPECT_TRUE(v.allowed);
    EXPECT_TRUE(v.headers.empty());
    auto o = limiter.ChargeOrder(1);
    EXPECT_TRUE(o.allowed);
    EXPECT_TRUE(o.headers.empty());
  }

  ASSERT_TRUE(server_->Restart().has_value());
  // The breaker (200 ms in tests) lets a connect through again shortly; the new server is
  // empty and has no scripts loaded.
  LimitVerdict v;
  for (int i = 0; i < 100 && v.headers.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    v = limiter.ChargeRequest(kIp, 1);
  }
  EXPECT_EQ(HeaderValue(v, "X-MBX-USED-WEIGHT-1M"), "1");
  v = limiter.ChargeRequest(kIp, 1);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.error.code, -1003);
}

TEST_F(RedisRateLimiterTest, HungServerTimesOutThenTheBreakerFailsFast) {
  RedisConfig config = server_->Config();
  config.pool_size = 1;
  config.command_timeout = std::chrono::milliseconds(200);
  config.breaker_open = std::chrono::milliseconds(60'000);
  RedisPool pool(config);
  RedisRateLimiter limiter(pool, RateLimits{});
  ASSERT_FALSE(limiter.ChargeRequest(kIp, 1).headers.empty());
  server_->Pause();
  auto first = pool.Ping();
  ASSERT_FALSE(first.has_value());
  EXPECT_NE(first.error().message.find("timed out"), std::string::npos) << first.error().message;
  // The timed-out connection was dropped; with the breaker open no new connect is tried.
  auto second = pool.Ping();
  ASSERT_FALSE(second.has_value());
  EXPECT_NE(second.error().message.find("recent failure"), std::string::npos)
      << second.error().message;
  auto v = limiter.ChargeRequest(kIp, 1);
  EXPECT_TRUE(v.allowed);
  EXPECT_TRUE(v.headers.empty());
  server_->Resume();
}

TEST_F(RedisRateLimiterTest, WrongPasswordFailsOpenAndSaysWhy) {
  RedisConfig config = server_->Config();
  config.password = "not-the-password";
  RedisPool pool(config);
  auto ping = pool.Ping();
  ASSERT_FALSE(ping.has_value());
  EXPECT_NE(ping.error().message.find("AUTH"), std::string::npos) << ping.error().message;
  EXPECT_EQ(ping.error().message.find("not-the-password"), std::string::npos);
  RedisRateLimiter limiter(pool, RateLimits{});
  auto v = limiter.ChargeRequest(kIp, 1);
  EXPECT_TRUE(v.allowed);
  EXPECT_TRUE(v.headers.empty());
}

TEST_F(RedisRateLimiterTest, ConcurrentChargesAreAllCounted) {
  RedisPool pool(server_->Config());
  RedisRateLimiter limiter(pool, RateLimits{});
  AlignToWindow(60'000, 20'000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        (void)limiter.ChargeRequest(kIp, 1);
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(HeaderValue(limiter.ChargeRequest(kIp, 0), "X-MBX-USED-WEIGHT-1M"), "200");
}

// ---------------------------------------------------------------------------------------------
// In memory, on a simulated clock.

class SimulatedClock {
 public:
  int64_t now_ms = 1'700'000'040'000;  // 40 s into a minute
  InMemoryRateLimiter::Clock clock() {
    return [this] { return now_ms; };
  }
};

TEST(InMemoryRateLimiter, BansDoubleUpToTheMaximumAndStrikesAreForgotten) {
  SimulatedClock c;
  RateLimits limits;
  limits.weight_per_window = 1;
  limits.refusals_before_ban = 1;
  InMemoryRateLimiter limiter(limits, c.clock());
  auto offend = [&] {
    c.now_ms += 60'000;  // a fresh window each time
    EXPECT_TRUE(limiter.ChargeRequest(kIp, 1).allowed);
    EXPECT_EQ(limiter.ChargeRequest(kIp, 1).error.http_status, 429);
    auto v = limiter.ChargeRequest(kIp, 1);
    EXPECT_EQ(v.error.http_status, 418);
    return BannedUntil(v.error.msg) - c.now_ms;
  };
  int64_t expected = 120'000;
  for (int strike = 1; strike <= 13; ++strike) {
    const int64_t ban = offend();
    EXPECT_EQ(ban, std::min<int64_t>(expected, 259'200'000)) << strike;
    c.now_ms += ban;  // sit the ban out
    expected *= 2;
  }
  // Three quiet days: the strikes are forgotten, the next ban is the shortest again.
  c.now_ms += 259'200'000;
  EXPECT_EQ(offend(), 120'000);
}

TEST(InMemoryRateLimiter, BanLengthHelper) {
  RateLimits limits;
  EXPECT_EQ(BanLengthMs(limits, 1), 120'000);
  EXPECT_EQ(BanLengthMs(limits, 2), 240'000);
  EXPECT_EQ(BanLengthMs(limits, 12), 245'760'000);
  EXPECT_EQ(BanLengthMs(limits, 13), 259'200'000);
  EXPECT_EQ(BanLengthMs(limits, 1'000'000), 259'200'000);
}

TEST(InMemoryRateLimiter, DayWindowIsTheUtcDay) {
  SimulatedClock c;
  c.now_ms = 1'700'006'400'000 - 1000;  // 1 s before a UTC midnight (1700006400 % 86400 == 0)
  ASSERT_EQ((c.now_ms + 1000) % 86'400'000, 0);
  RateLimits limits;
  limits.orders_per_day_window = 1;
  InMemoryRateLimiter limiter(limits, c.clock());
  EXPECT_TRUE(limiter.ChargeOrder(1).allowed);
  auto v = limiter.ChargeOrder(1);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.retry_after_s, 1);
  c.now_ms += 1000;
  v = limiter.ChargeOrder(1);
  EXPECT_TRUE(v.allowed);
  EXPECT_EQ(HeaderValue(v, "X-MBX-ORDER-COUNT-1D"), "1");
}

TEST(InMemoryRateLimiter, FullTableFailsOpenAndStaleEntriesAreDropped) {
  SimulatedClock c;
  RateLimits limits;
  limits.weight_per_window = 1;
  limits.refusals_before_ban = 0;
  InMemoryRateLimiter limiter(limits, c.clock(), 2);
  EXPECT_TRUE(limiter.ChargeRequest("10.0.0.1", 1).allowed);
  EXPECT_TRUE(limiter.ChargeRequest("10.0.0.2", 1).allowed);
  auto v = limiter.ChargeRequest("10.0.0.3", 1);
  EXPECT_TRUE(v.allowed);
  EXPECT_TRUE(v.headers.empty());
  EXPECT_FALSE(limiter.ChargeRequest("10.0.0.1", 1).allowed);  // known entries still counted
  c.now_ms += 60'000;
  v = limiter.ChargeRequest("10.0.0.3", 1);
  EXPECT_EQ(HeaderValue(v, "X-MBX-USED-WEIGHT-1M"), "1");
}

TEST(InMemoryRateLimiter, WeightIsClampedAndIpsCut) {
  SimulatedClock c;
  InMemoryRateLimiter limiter(RateLimits{}, c.clock());
  auto v = limiter.ChargeRequest(kIp, -5);
  EXPECT_EQ(HeaderValue(v, "X-MBX-USED-WEIGHT-1M"), "0");
  const std::string long_ip(100, 'a');
  limiter.ChargeRequest(long_ip, 3);
  v = limiter.ChargeRequest(long_ip.substr(0, kIpBytesMax) + "zzz", 3);
  EXPECT_EQ(HeaderValue(v, "X-MBX-USED-WEIGHT-1M"), "6");
}

TEST(RateLimitsConfig, ValidationAndIntervalNames) {
  EXPECT_TRUE(ValidateRateLimits(RateLimits{}).has_value());
  RateLimits bad;
  bad.weight_window_ms = 1500;
  EXPECT_FALSE(ValidateRateLimits(bad).has_value());
  bad = RateLimits{};
  bad.orders_per_short_window = 0;
  EXPECT_FALSE(ValidateRateLimits(bad).has_value());
  bad = RateLimits{};
  bad.ban_max_ms = bad.ban_base_ms - 1;
  EXPECT_FALSE(ValidateRateLimits(bad).has_value());
  EXPECT_EQ(IntervalText(60'000), "1 MINUTE");
  EXPECT_EQ(IntervalText(10'000), "10 SECOND");
  EXPECT_EQ(IntervalText(86'400'000), "1 DAY");
  EXPECT_EQ(IntervalText(3'600'000), "1 HOUR");
  EXPECT_EQ(IntervalSuffix(60'000), "1M");
  EXPECT_EQ(IntervalSuffix(10'000), "10S");
  EXPECT_EQ(IntervalSuffix(86'400'000), "1D");
  EXPECT_EQ(RetryAfterSeconds(1000, 1001), 1);
  EXPECT_EQ(RetryAfterSeconds(1000, 3001), 3);
  EXPECT_EQ(RetryAfterSeconds(1000, 500), 1);
}

}  // namespace
}  // namespace spotex::gateway
