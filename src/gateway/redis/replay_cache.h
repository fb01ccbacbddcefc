// The replay cache shared by every gateway replica (src/auth/replay_cache.h, docs/auth.md §4):
// `SET <prefix><hex key> 1 NX PX <ttl>` in one round trip. OK -> first seen, nil -> replayed,
// anything else (Redis away, an error reply) -> kUnavailable, which the caller turns into a
// refusal for state-changing requests.
//
// The TTL comes from the gateway's wall clock (expires_at_ms - now + 1, inclusive expiry),
// not PXAT: the expiry was computed on the gateway's clock, and a relative TTL does not depend
// on Redis's clock agreeing with it. Same bounds as InMemoryReplayCache: keys of 1..64 bytes,
// an expiry in the past records nothing and answers kFirstSeen, expiries are clamped to
// InMemoryReplayCache::kHorizonMaxMs ahead.
#pragma once

#include <string>

#include "auth/replay_cache.h"
#include "gateway/redis/rate_limits.h"
#include "gateway/redis/redis_client.h"

namespace spotex::gateway {

class RedisReplayCache final : public auth::ReplayCache {
 public:
  using Clock = std::function<int64_t()>;  // server wall clock, ms

  // `pool` must outlive the cache. `key_prefix` at most 64 bytes. Thread-safe.
  explicit RedisReplayCache(RedisPool& pool, std::string key_prefix = "spotex:replay:",
                            Clock now_ms = auth::SystemClockMs);

  [[nodiscard]] auth::ReplayVerdict FirstSeen(std::string_view key,
                                              int64_t expires_at_ms) override;

 private:
  RedisPool& pool_;
  const std::string prefix_;
  const Clock now_ms_;
  LogThrottle log_{"replay-cache"};
};

}  // namespace spotex::gateway
