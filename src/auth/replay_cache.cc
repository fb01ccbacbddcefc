#include "auth/replay_cache.h"

#include <chrono>

#include "core/assert.h"

namespace spotex::auth {

int64_t SystemClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

InMemoryReplayCache::InMemoryReplayCache(size_t entries_max, Clock now_ms)
    : entries_max_(entries_max), now_ms_(std::move(now_ms)) {
  SPOTEX_ASSERT(entries_max_ > 0);
  SPOTEX_ASSERT(now_ms_ != nullptr);
  by_key_.reserve(entries_max_);
}

ReplayVerdict InMemoryReplayCache::FirstSeen(std::string_view key, int64_t expires_at_ms) {
  if (key.empty() || key.size() > kKeyBytesMax) {
    return ReplayVerdict::kUnavailable;
  }
  std::lock_guard lock(mu_);
  const int64_t now_ms = now_ms_();
  EvictExpired(now_ms);
  if (by_key_.contains(key)) {
    return ReplayVerdict::kReplayed;
  }
  if (expires_at_ms < now_ms) {
    return ReplayVerdict::kFirstSeen;
  }
  if (by_key_.size() >= entries_max_) {
    return ReplayVerdict::kUnavailable;
  }
  if (expires_at_ms - now_ms > kHorizonMaxMs) {
    expires_at_ms = now_ms + kHorizonMaxMs;
  }
  const auto [it, inserted] = by_expiry_.emplace(expires_at_ms, std::string(key));
  SPOTEX_ASSERT(inserted);
  by_key_.emplace(std::string_view(it->second), it);
  SPOTEX_DCHECK(by_key_.size() == by_expiry_.size());
  return ReplayVerdict::kFirstSeen;
}

void InMemoryReplayCache::EvictExpired(int64_t now_ms) {
  // An entry is live through its expiry millisecond: CheckTimestamp still accepts
  // server_time - timestamp == recvWindow.
  while (!by_expiry_.empty() && by_expiry_.begin()->first < now_ms) {
    by_key_.erase(std::string_view(by_expiry_.begin()->second));
    by_expiry_.erase(by_expiry_.begin());
  }
}

size_t InMemoryReplayCache::size() const {
  std::lock_guard lock(mu_);
  return by_key_.size();
}

}  // namespace spotex::auth
