// The rate limiter shared by every gateway replica (BINANCE_API.md §3, docs/rate-limits.md):
// the same rules as InMemoryRateLimiter, with the counters in Redis. One round trip per charge:
// a Lua script reads the clock (Redis TIME), checks the ban, counts the charge in its fixed
// window, sets the key's expiry, and on repeated refusals records a strike and a ban, all
// atomically.
//
// The clock is Redis's, not the gateway's: every replica then agrees on which window a charge
// falls into and on when a ban ends, whatever the skew between the gateway hosts, and a
// window's counter and its Retry-After come from the same clock.
//
// Keys (prefix default "spotex:rl:"):
//   <prefix>weight:<ip>       hash {w: window index, n: weight used, r: refused requests}
//   <prefix>ban:<ip>          ban end (ms since the epoch), expires with the ban
//   <prefix>strikes:<ip>      bans so far; expires strike_memory_ms after the last ban
//   <prefix>orders:<account>  hash {s, sn: 10-second window and count, d, dn: day and count}
// Every key expires by itself at the end of its window (or ban, or strike memory).
//
// When Redis cannot be reached (or answers nonsense) a charge fails open: allowed, no headers,
// and a warning logged at most every 10 s.
#pragma once

#include <string>

#include "gateway/redis/rate_limits.h"
#include "gateway/redis/redis_client.h"

namespace spotex::gateway {

class RedisRateLimiter final : public RateLimiter {
 public:
  // `pool` must outlive the limiter; `limits` must pass ValidateRateLimits (asserted).
  // `key_prefix` at most 64 bytes. Thread-safe.
  RedisRateLimiter(RedisPool& pool, RateLimits limits, std::string key_prefix = "spotex:rl:");

  LimitVerdict ChargeRequest(std::string_view ip, int weight) override;
  LimitVerdict ChargeOrder(int64_t account) override;

 private:
  RedisPool& pool_;
  const RateLimits limits_;
  const std::string prefix_;
  RedisScript weight_script_;
  RedisScript order_script_;
  LogThrottle log_{"rate-limit"};
};

}  // namespace spotex::gateway
