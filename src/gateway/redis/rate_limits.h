// Binance's rate limits (BINANCE_API.md §3, docs/rate-limits.md): request weight per IP per
// minute, new orders per account per 10 s and per day, and the IP ban that repeated abuse
// earns. This header holds the configuration, the decision rules shared by both limiters
// (what a charge's outcome answers: headers, 429 -1003 / -1015, 418), and the in-memory
// limiter for a single process (tests, running without Redis). The Redis limiter shared by
// every gateway replica is in redis_rate_limiter.h.
//
// Windows are fixed and aligned to the epoch on the wall clock: a minute window is
// [k*60000, (k+1)*60000) ms, a day window is a UTC day. Every replica derives the same window
// from the same instant, so their counts add up in one counter.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "gateway/api/ports.h"

namespace spotex::gateway {

struct RateLimits {
  // REQUEST_WEIGHT per IP. Binance's exchangeInfo: 6000 per 1 MINUTE.
  int64_t weight_per_window = 6000;
  int64_t weight_window_ms = 60'000;
  // ORDERS per account: 100 per 10 SECOND and 200000 per 1 DAY.
  int64_t orders_per_short_window = 100;
  int64_t orders_short_window_ms = 10'000;
  int64_t orders_per_day_window = 200'000;
  int64_t orders_day_window_ms = 86'400'000;
  // Escalation: after `refusals_before_ban` refused (429) requests of one IP in one weight
  // window, the next one bans the IP (418). 0 disables bans. Each ban is a strike; a strike
  // counter lives `strike_memory_ms` after the last ban, and the ban lasts
  // ban_base_ms * 2^(strikes-1), at most ban_max_ms.
  int64_t refusals_before_ban = 20;
  int64_t ban_base_ms = 120'000;          // 2 minutes
  int64_t ban_max_ms = 259'200'000;       // 3 days
  int64_t strike_memory_ms = 259'200'000;  // 3 days
};

// Checks that every limit and window is positive (bans: base <= max, refusals >= 0) and
// bounded (windows at most 7 days, limits at most 10^12).
[[nodiscard]] std::expected<void, std::string> ValidateRateLimits(const RateLimits& limits);

// Binance's interval text for a window: "1 MINUTE", "10 SECOND", "1 DAY", "1 HOUR"; windows
// that are no whole number of seconds read "<n> MILLISECOND".
std::string IntervalText(int64_t window_ms);
// The header suffix for a window: "1M", "10S", "1D", "1H" (lowercase-insensitive for clients).
std::string IntervalSuffix(int64_t window_ms);

// A weight charge no larger than this is taken as is; larger ones are clamped (a bug in an
// endpoint's weight must not overflow a counter).
inline constexpr int kWeightMax = 100'000;
// Client IPs longer than this are cut (IPv6 text is at most 45 bytes).
inline constexpr size_t kIpBytesMax = 64;

// What a weight charge found, from the Redis script or the in-memory table.
struct WeightOutcome {
  enum class Kind { kAllowed, kRefused, kBanned };
  Kind kind = Kind::kAllowed;
  int64_t used = 0;      // the IP's weight in the current window, this charge included
  int64_t now_ms = 0;    // the clock the decision was made with
  int64_t until_ms = 0;  // kRefused: end of the window; kBanned: end of the ban
};

// What an order charge found.
struct OrderOutcome {
  enum class Kind { kAllowed, kRefusedShort, kRefusedDay };
  Kind kind = Kind::kAllowed;
  int64_t short_count = 0;  // orders in the current 10-second window (this one if allowed)
  int64_t day_count = 0;
  int64_t now_ms = 0;
  int64_t until_ms = 0;  // when refused: end of the window that refused
};

// The verdict for an outcome: X-MBX-USED-WEIGHT-<interval> and X-MBX-USED-WEIGHT always;
// when refused 429 -1003 or 418 -1003 with Retry-After (header and field).
LimitVerdict MakeWeightVerdict(const RateLimits& limits, const WeightOutcome& outcome);
// X-MBX-ORDER-COUNT-<short interval> and -<day interval>; when refused 429 -1015.
LimitVerdict MakeOrderVerdict(const RateLimits& limits, const OrderOutcome& outcome);

// Length of the ban for the `strikes`-th offence (strikes >= 1).
int64_t BanLengthMs(const RateLimits& limits, int64_t strikes);

// Whole seconds from now to `until` (rounded up, at least 1).
int64_t RetryAfterSeconds(int64_t now_ms, int64_t until_ms);

// Logs at most one line per `interval_ms` and counts the lines it held back, so that an outage
// hit by every request does not flood the log. Thread-safe.
class LogThrottle {
 public:
  explicit LogThrottle(std::string component, int64_t interval_ms = 10'000)
      : component_(std::move(component)), interval_ms_(interval_ms) {}
  void Warn(std::string_view message);

 private:
  const std::string component_;
  const int64_t interval_ms_;
  std::mutex mu_;
  int64_t last_ms_ = INT64_MIN / 2;
  int64_t suppressed_ = 0;
};

// The limits of one process, kept in memory. Same rules as RedisRateLimiter, against an
// injectable wall clock. The tables are bounded: when one is full (even after dropping
// expired entries) the charge fails open, as the Redis limiter does when Redis is away.
// Thread-safe (one mutex).
class InMemoryRateLimiter final : public RateLimiter {
 public:
  using Clock = std::function<int64_t()>;  // wall clock, ms since the epoch
  static constexpr size_t kDefaultEntriesMax = 1'000'000;

  // `limits` must pass ValidateRateLimits (asserted); `entries_max` > 0 per table.
  explicit InMemoryRateLimiter(RateLimits limits = {}, Clock now_ms = nullptr,
                               size_t entries_max = kDefaultEntriesMax);

  LimitVerdict ChargeRequest(std::string_view ip, int weight) override;
  LimitVerdict ChargeOrder(int64_t account) override;

 private:
  struct IpState {
    int64_t window = -1;  // window index the counts belong to
    int64_t used = 0;
    int64_t refused = 0;
    int64_t ban_until_ms = 0;
    int64_t strikes = 0;
    int64_t strikes_expire_ms = 0;
  };
  struct AccountState {
    int64_t short_window = -1;
    int64_t short_count = 0;
    int64_t day_window = -1;
    int64_t day_count = 0;
  };
  bool Room(size_t size, int64_t now_ms);  // makes room by dropping stale entries
  void DropStale(int64_t now_ms);

  const RateLimits limits_;
  const Clock now_ms_;
  const size_t entries_max_;
  LogThrottle log_{"rate-limit"};
  std::mutex mu_;
  std::unordered_map<std::string, IpState> ips_;
  std::unordered_map<int64_t, AccountState> accounts_;
};

}  // namespace spotex::gateway
