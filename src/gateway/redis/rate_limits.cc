#include "gateway/redis/rate_limits.h"

#include <algorithm>
#include <chrono>

#include "auth/replay_cache.h"
#include "core/assert.h"
#include "gateway/obs/metrics.h"
#include "service/log.h"

namespace spotex::gateway {
namespace {

constexpr int64_t kWindowMaxMs = 7LL * 86'400'000;
constexpr int64_t kLimitMax = 1'000'000'000'000;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

std::expected<void, std::string> ValidateRateLimits(const RateLimits& l) {
  for (int64_t w : {l.weight_window_ms, l.orders_short_window_ms, l.orders_day_window_ms}) {
    if (w < 1000 || w > kWindowMaxMs || w % 1000 != 0) {
      return std::unexpected(std::string("rate-limit windows must be whole seconds, 1 s..7 days"));
    }
  }
  for (int64_t n : {l.weight_per_window, l.orders_per_short_window, l.orders_per_day_window}) {
    if (n < 1 || n > kLimitMax) {
      return std::unexpected(std::string("rate limits must be 1..10^12"));
    }
  }
  if (l.refusals_before_ban < 0 || l.refusals_before_ban > kLimitMax) {
    return std::unexpected(std::string("refusals_before_ban must be 0..10^12"));
  }
  if (l.ban_base_ms < 1 || l.ban_max_ms < l.ban_base_ms || l.ban_max_ms > 30LL * 86'400'000 ||
      l.strike_memory_ms < 1 || l.strike_memory_ms > 30LL * 86'400'000) {
    return std::unexpected(
        std::string("ban lengths must satisfy 1 <= base <= max <= 30 days; strike memory 1 ms..30 "
                    "days"));
  }
  return {};
}

std::string IntervalText(int64_t window_ms) {
  struct Unit {
    int64_t ms;
    const char* name;
  };
  for (Unit u : {Unit{86'400'000, "DAY"}, Unit{3'600'000, "HOUR"}, Unit{60'000, "MINUTE"},
                 Unit{1000, "SECOND"}}) {
    if (window_ms % u.ms == 0) {
      return std::to_string(window_ms / u.ms) + " " + u.name;
    }
  }
  return std::to_string(window_ms) + " MILLISECOND";
}

std::string IntervalSuffix(int64_t window_ms) {
  struct Unit {
    int64_t ms;
    char letter;
  };
  for (Unit u : {Unit{86'400'000, 'D'}, Unit{3'600'000, 'H'}, Unit{60'000, 'M'},
                 Unit{1000, 'S'}}) {
    if (window_ms % u.ms == 0) {
      return std::to_string(window_ms / u.ms) + u.letter;
    }
  }
  return std::to_string(window_ms) + "MS";
}

int64_t RetryAfterSeconds(int64_t now_ms, int64_t until_ms) {
  const int64_t left_ms = until_ms - now_ms;
  return std::max<int64_t>(1, (left_ms + 999) / 1000);
}

int64_t BanLengthMs(const RateLimits& limits, int64_t strikes) {
  int64_t ban = limits.ban_base_ms;
  for (int64_t i = 1; i < strikes && ban < limits.ban_max_ms; ++i) {
    ban *= 2;
  }
  return std::min(ban, limits.ban_max_ms);
}

LimitVerdict MakeWeightVerdict(const RateLimits& limits, const WeightOutcome& o) {
  LimitVerdict v;
  const std::string used = std::to_string(o.used);
  v.headers.emplace_back("X-MBX-USED-WEIGHT-" + IntervalSuffix(limits.weight_window_ms), used);
  v.headers.emplace_back("X-MBX-USED-WEIGHT", used);
  if (o.kind == WeightOutcome::Kind::kAllowed) {
    return v;
  }
  v.allowed = false;
  v.retry_after_s = RetryAfterSeconds(o.now_ms, o.until_ms);
  v.headers.emplace_back("Retry-After", std::to_string(v.retry_after_s));
  obs::Metrics().RateLimitRejected(
      o.kind == WeightOutcome::Kind::kRefused ? obs::Limit::kRequestWeight : obs::Limit::kIpBan);
  if (o.kind == WeightOutcome::Kind::kRefused) {
    v.error = http::Error{-1003,
                          "Too much request weight used; current limit is " +
                              std::to_string(limits.weight_per_window) + " request weight per " +
                              IntervalText(limits.weight_window_ms) +
                              ". Please use WebSocket Streams for live updates to avoid polling "
                              "the API.",
                          429};
  } else {
    v.error = http::Error{-1003,
                          "Way too much request weight used; IP banned until " +
                              std::to_string(o.until_ms) +
                              ". Please use WebSocket Streams for live updates to avoid bans.",
                          418};
  }
  return v;
}

LimitVerdict MakeOrderVerdict(const RateLimits& limits, const OrderOutcome& o) {
  LimitVerdict v;
  v.headers.emplace_back("X-MBX-ORDER-COUNT-" + IntervalSuffix(limits.orders_short_window_ms),
                         std::to_string(o.short_count));
  v.headers.emplace_back("X-MBX-ORDER-COUNT-" + IntervalSuffix(limits.orders_day_window_ms),
                         std::to_string(o.day_count));
  if (o.kind == OrderOutcome::Kind::kAllowed) {
    return v;
  }
  const bool short_window = o.kind == OrderOutcome::Kind::kRefusedShort;
  obs::Metrics().RateLimitRejected(short_window ? obs::Limit::kOrdersShort
                                                : obs::Limit::kOrdersDay);
  const int64_t limit =
      short_window ? limits.orders_per_short_window : limits.orders_per_day_window;
  const int64_t window_ms =
      short_window ? limits.orders_short_window_ms : limits.orders_day_window_ms;
  v.allowed = false;
  v.retry_after_s = RetryAfterSeconds(o.now_ms, o.until_ms);
  v.headers.emplace_back("Retry-After", std::to_string(v.retry_after_s));
  v.error = http::Error{-1015,
                        "Too many new orders; current limit is " + std::to_string(limit) +
                            " orders per " + IntervalText(window_ms) + ".",
                        429};
  return v;
}

void LogThrottle::Warn(std::string_view message) {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now().time_since_epoch())
                             .count();
  int64_t suppressed = 0;
  {
    std::lock_guard lock(mu_);
    if (now_ms - last_ms_ < interval_ms_) {
      ++suppressed_;
      return;
    }
    last_ms_ = now_ms;
    suppressed = std::exchange(suppressed_, 0);
  }
  std::string line(message);
  if (suppressed > 0) {
    line += " (" + std::to_string(suppressed) + " similar messages suppressed)";
  }
  service::Log(service::LogLevel::kWarn, component_, line);
}

InMemoryRateLimiter::InMemoryRateLimiter(RateLimits limits, Clock now_ms, size_t entries_max)
    : limits_(limits),
      now_ms_(now_ms != nullptr ? std::move(now_ms) : Clock(auth::SystemClockMs)),
      entries_max_(entries_max) {
  SPOTEX_ASSERT(ValidateRateLimits(limits_).has_value());
  SPOTEX_ASSERT(entries_max_ > 0);
}

void InMemoryRateLimiter::DropStale(int64_t now_ms) {
  const int64_t win = FloorDiv(now_ms, limits_.weight_window_ms);
  std::erase_if(ips_, [&](const auto& kv) {
    const IpState& s = kv.second;
    return s.window != win && s.ban_until_ms <= now_ms && s.strikes_expire_ms <= now_ms;
  });
  const int64_t day = FloorDiv(now_ms, limits_.orders_day_window_ms);
  std::erase_if(accounts_, [&](const auto& kv) { return kv.second.day_window != day; });
}

bool InMemoryRateLimiter::Room(size_t size, int64_t now_ms) {
  if (size < entries_max_) {
    return true;
  }
  DropStale(now_ms);
  return ips_.size() < entries_max_ && accounts_.size() < entries_max_;
}

LimitVerdict InMemoryRateLimiter::ChargeRequest(std::string_view ip, int weight) {
  ip = ip.substr(0, kIpBytesMax);
  const int64_t w = std::clamp(weight, 0, kWeightMax);
  WeightOutcome o;
  {
    std::lock_guard lock(mu_);
    o.now_ms = now_ms_();
    auto it = ips_.find(std::string(ip));
    if (it == ips_.end()) {
      if (!Room(ips_.size(), o.now_ms)) {
        log_.Warn("in-memory rate-limit table full; request allowed unchecked");
        return LimitVerdict{};
      }
      it = ips_.emplace(std::string(ip), IpState{}).first;
    }
    IpState& s = it->second;
    const int64_t win = FloorDiv(o.now_ms, limits_.weight_window_ms);
    if (s.ban_until_ms > o.now_ms) {
      o.kind = WeightOutcome::Kind::kBanned;
      o.used = s.window == win ? s.used : 0;
      o.until_ms = s.ban_until_ms;
      return MakeWeightVerdict(limits_, o);
    }
    if (s.window != win) {
      s.window = win;
      s.used = 0;
      s.refused = 0;
    }
    s.used += w;
    o.used = s.used;
    o.until_ms = (win + 1) * limits_.weight_window_ms;
    if (s.used > limits_.weight_per_window) {
      o.kind = WeightOutcome::Kind::kRefused;
      ++s.refused;
      if (limits_.refusals_before_ban > 0 && s.refused > limits_.refusals_before_ban) {
        if (s.strikes_expire_ms <= o.now_ms) {
          s.strikes = 0;
        }
        ++s.strikes;
        s.strikes_expire_ms = o.now_ms + limits_.strike_memory_ms;
        s.ban_until_ms = o.now_ms + BanLengthMs(limits_, s.strikes);
        s.refused = 0;
        o.kind = WeightOutcome::Kind::kBanned;
        o.until_ms = s.ban_until_ms;
      }
    }
  }
  return MakeWeightVerdict(limits_, o);
}

LimitVerdict InMemoryRateLimiter::ChargeOrder(int64_t account) {
  OrderOutcome o;
  {
    std::lock_guard lock(mu_);
    o.now_ms = now_ms_();
    auto it = accounts_.find(account);
    if (it == accounts_.end()) {
      if (!Room(accounts_.size(), o.now_ms)) {
        log_.Warn("in-memory rate-limit table full; order allowed unchecked");
        return LimitVerdict{};
      }
      it = accounts_.emplace(account, AccountState{}).first;
    }
    AccountState& s = it->second;
    const int64_t sw = FloorDiv(o.now_ms, limits_.orders_short_window_ms);
    const int64_t dw = FloorDiv(o.now_ms, limits_.orders_day_window_ms);
    o.short_count = s.short_window == sw ? s.short_count : 0;
    o.day_count = s.day_window == dw ? s.day_count : 0;
    if (o.day_count >= limits_.orders_per_day_window) {
      o.kind = OrderOutcome::Kind::kRefusedDay;
      o.until_ms = (dw + 1) * limits_.orders_day_window_ms;
    } else if (o.short_count >= limits_.orders_per_short_window) {
      o.kind = OrderOutcome::Kind::kRefusedShort;
      o.until_ms = (sw + 1) * limits_.orders_short_window_ms;
    } else {
      s.short_window = sw;
      s.short_count = ++o.short_count;
      s.day_window = dw;
      s.day_count = ++o.day_count;
    }
  }
  return MakeOrderVerdict(limits_, o);
}

}  // namespace spotex::gateway
