// InMemoryReplayCache against a fake clock: first use, replay, expiry at the boundary,
// capacity, horizon, concurrency.
#include "auth/replay_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <string>
#include <thread>
#include <vector>

namespace spotex::auth {
namespace {

class ReplayCacheTest : public ::testing::Test {
 protected:
  std::atomic<int64_t> now_ms_{1'000'000};
  InMemoryReplayCache::Clock clock_ = [this] { return now_ms_.load(); };
};

TEST_F(ReplayCacheTest, FirstSeenThenReplayed) {
  InMemoryReplayCache cache(16, clock_);
  EXPECT_EQ(cache.FirstSeen("sig-a", 1'005'000), ReplayVerdict::kFirstSeen);
  EXPECT_EQ(cache.FirstSeen("sig-a", 1'005'000), ReplayVerdict::kReplayed);
  EXPECT_EQ(cache.FirstSeen("sig-a", 1'009'000), ReplayVerdict::kReplayed);
  EXPECT_EQ(cache.FirstSeen("sig-b", 1'005'000), ReplayVerdict::kFirstSeen);
  EXPECT_EQ(cache.size(), 2u);
}

TEST_F(ReplayCacheTest, EntryLivesThroughItsExpiryMillisecond) {
  InMemoryReplayCache cache(16, clock_);
  ASSERT_EQ(cache.FirstSeen("k", 1'005'000), ReplayVerdict::kFirstSeen);
  now_ms_ = 1'005'000;
  EXPECT_EQ(cache.FirstSeen("k", 1'005'000), ReplayVerdict::kReplayed);
  now_ms_ = 1'005'001;
  EXPECT_EQ(cache.FirstSeen("other", 1'010'000), ReplayVerdict::kFirstSeen);
  EXPECT_EQ(cache.size(), 1u) << "the expired entry is evicted";
  EXPECT_EQ(cache.FirstSeen("k", 1'010'000), ReplayVerdict::kFirstSeen);
}

TEST_F(ReplayCacheTest, AlreadyExpiredRequestIsNotStored) {
  InMemoryReplayCache cache(16, clock_);
  EXPECT_EQ(cache.FirstSeen("old", 999'999), ReplayVerdict::kFirstSeen);
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(ReplayCacheTest, FullCacheSaysUnavailableUntilEntriesExpire) {
  InMemoryReplayCache cache(3, clock_);
  EXPECT_EQ(cache.FirstSeen("a", 1'001'000), ReplayVerdict::kFirstSeen);
  EXPECT_EQ(cache.FirstSeen("b", 1'002'000), ReplayVerdict::kFirstSeen);
  EXPECT_EQ(cache.FirstSeen("c", 1'003'000), ReplayVerdict::kFirstSeen);
  EXPECT_EQ(cache.FirstSeen("d", 1'003'000), ReplayVerdict::kUnavailable);
  EXPECT_EQ(cache.FirstSeen("a", 1'001'000), ReplayVerdict::kReplayed) << "live entries stay";
  now_ms_ = 1'001'001;
  EXPECT_EQ(cache.FirstSeen("d", 1'003'000), ReplayVerdict::kFirstSeen);
  EXPECT_EQ(cache.FirstSeen("d", 1'003'000), ReplayVerdict::kReplayed);
}

TEST_F(ReplayCacheTest, ExpiryIsClampedToTheHorizon) {
  InMemoryReplayCache cache(16, clock_);
  ASSERT_EQ(cache.FirstSeen("far", INT64_MAX), ReplayVerdict::kFirstSeen);
  now_ms_ += InMemoryReplayCache::kHorizonMaxMs;
  EXPECT_EQ(cache.FirstSeen("far", INT64_MAX), ReplayVerdict::kReplayed);
  now_ms_ += 1;
  EXPECT_EQ(cache.FirstSeen("x", now_ms_ + 1), ReplayVerdict::kFirstSeen);
  EXPECT_EQ(cache.size(), 1u);
}

TEST_F(ReplayCacheTest, BadKeysAreUnavailable) {
  InMemoryReplayCache cache(16, clock_);
  EXPECT_EQ(cache.FirstSeen("", 1'005'000), ReplayVerdict::kUnavailable);
  EXPECT_EQ(cache.FirstSeen(std::string(InMemoryReplayCache::kKeyBytesMax + 1, 'k'), 1'005'000),
            ReplayVerdict::kUnavailable);
  EXPECT_EQ(cache.FirstSeen(std::string(InMemoryReplayCache::kKeyBytesMax, 'k'), 1'005'000),
            ReplayVerdict::kFirstSeen);
  // Keys are bytes: NULs and high bytes are fine.
  EXPECT_EQ(cache.FirstSeen(std::string("\0\xff", 2), 1'005'000), ReplayVerdict::kFirstSeen);
  EXPECT_EQ(cache.FirstSeen(std::string("\0\xff", 2), 1'005'000), ReplayVerdict::kReplayed);
}

TEST_F(ReplayCacheTest, ConcurrentCallersSeeExactlyOneFirst) {
  InMemoryReplayCache cache(1024, clock_);
  constexpr int kThreads = 8;
  constexpr int kKeys = 100;
  std::atomic<int> firsts{0};
  std::atomic<int> replays{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int k = 0; k < kKeys; ++k) {
        const ReplayVerdict v = cache.FirstSeen("key" + std::to_string(k), 1'005'000);
        (v == ReplayVerdict::kFirstSeen ? firsts : replays).fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  EXPECT_EQ(firsts.load(), kKeys);
  EXPECT_EQ(replays.load(), kKeys * (kThreads - 1));
}

TEST(SystemClockTest, IsWallClockMilliseconds) {
  const int64_t now = SystemClockMs();
  EXPECT_GT(now, 1'700'000'000'000);  // after 2023
  EXPECT_LT(now, 4'102'444'800'000);  // before 2100
}

}  // namespace
}  // namespace spotex::auth
