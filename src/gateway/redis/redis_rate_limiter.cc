#include "gateway/redis/redis_rate_limiter.h"

#include <algorithm>
#include <array>

#include "core/assert.h"
#include "gateway/obs/metrics.h"

namespace spotex::gateway {
namespace {

// KEYS: weight hash, ban key, strikes key.
// ARGV: weight, limit, window_ms, refusals_before_ban, ban_base_ms, ban_max_ms,
//       strike_memory_ms.
// Returns {kind (0 allowed, 1 refused, 2 banned), used, now_ms, until_ms}.
// Numbers stay below 2^53 (ms since the epoch, limits <= 10^12): exact in Lua's doubles.
constexpr const char* kWeightScript = R"lua(
redis.replicate_commands()
local weight = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local window_ms = tonumber(ARGV[3])
local refusals_max = tonumber(ARGV[4])
local ban_base = tonumber(ARGV[5])
local ban_max = tonumber(ARGV[6])
local strike_memory = tonumber(ARGV[7])
local function fmt(x) return string.format('%d', x) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local win = math.floor(now / window_ms)
local state = redis.call('HMGET', KEYS[1], 'w', 'n', 'r')
local used, refused = 0, 0
if tonumber(state[1]) == win then
  used = tonumber(state[2]) or 0
  refused = tonumber(state[3]) or 0
end
local ban_until = tonumber(redis.call('GET', KEYS[2]))
if ban_until and ban_until > now then
  return {2, used, now, ban_until}
end
used = used + weight
local window_end = (win + 1) * window_ms
local kind = 0
local until_ms = window_end
if used > limit then
  kind = 1
  refused = refused + 1
  if refusals_max > 0 and refused > refusals_max then
    local strikes = redis.call('INCR', KEYS[3])
    redis.call('PEXPIRE', KEYS[3], fmt(strike_memory))
    local ban = ban_base
    for i = 2, strikes do
      if ban >= ban_max then break end
      ban = ban * 2
    end
    if ban > ban_max then ban = ban_max end
    until_ms = now + ban
    redis.call('SET', KEYS[2], fmt(until_ms), 'PX', fmt(ban))
    refused = 0
    kind = 2
  end
end
redis.call('HSET', KEYS[1], 'w', fmt(win), 'n', fmt(used), 'r', fmt(refused))
redis.call('PEXPIRE', KEYS[1], fmt(window_end - now))
return {kind, used, now, until_ms}
)lua";

// KEYS: order hash. ARGV: short limit, short window ms, day limit, day window ms.
// Returns {kind (0 allowed, 1 refused by the short window, 2 by the day), short count,
// day count, now_ms, until_ms}. A refused order is not counted.
constexpr const char* kOrderScript = R"lua(
redis.replicate_commands()
local short_limit = tonumber(ARGV[1])
local short_ms = tonumber(ARGV[2])
local day_limit = tonumber(ARGV[3])
local day_ms = tonumber(ARGV[4])
local function fmt(x) return string.format('%d', x) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = math.floor(now / short_ms)
local d = math.floor(now / day_ms)
local h = redis.call('HMGET', KEYS[1], 's', 'sn', 'd', 'dn')
local sn, dn = 0, 0
if tonumber(h[1]) == s then sn = tonumber(h[2]) or 0 end
if tonumber(h[3]) == d then dn = tonumber(h[4]) or 0 end
if dn >= day_limit then return {2, sn, dn, now, (d + 1) * day_ms} end
if sn >= short_limit then return {1, sn, dn, now, (s + 1) * short_ms} end
sn = sn + 1
dn = dn + 1
redis.call('HSET', KEYS[1], 's', fmt(s), 'sn', fmt(sn), 'd', fmt(d), 'dn', fmt(dn))
local last_end = math.max((s + 1) * short_ms, (d + 1) * day_ms)
redis.call('PEXPIRE', KEYS[1], fmt(last_end - now))
return {0, sn, dn, now, 0}
)lua";

// The script's integers, or nullopt when the reply is not an array of `n` integers.
std::optional<std::array<int64_t, 5>> Integers(const RedisReply& reply, size_t n) {
  if (reply.type != RedisReply::Type::kArray || reply.elements.size() != n) {
    return std::nullopt;
  }
  std::array<int64_t, 5> out{};
  for (size_t i = 0; i < n; ++i) {
    if (reply.elements[i].type != RedisReply::Type::kInteger) {
      return std::nullopt;
    }
    out[i] = reply.elements[i].integer;
  }
  return out;
}

}  // namespace

RedisRateLimiter::RedisRateLimiter(RedisPool& pool, RateLimits limits, std::string key_prefix)
    : pool_(pool),
      limits_(limits),
      prefix_(std::move(key_prefix)),
      weight_script_(kWeightScript),
      order_script_(kOrderScript) {
  SPOTEX_ASSERT(ValidateRateLimits(limits_).has_value());
  SPOTEX_ASSERT(prefix_.size() <= 64);
}

LimitVerdict RedisRateLimiter::ChargeRequest(std::string_view ip, int weight) {
  ip = ip.substr(0, kIpBytesMax);
  const int w = std::clamp(weight, 0, kWeightMax);
  const std::string weight_key = prefix_ + "weight:" + std::string(ip);
  const std::string ban_key = prefix_ + "ban:" + std::string(ip);
  const std::string strikes_key = prefix_ + "strikes:" + std::string(ip);
  const std::array<std::string, 7> args = {
      std::to_string(w),
      std::to_string(limits_.weight_per_window),
      std::to_string(limits_.weight_window_ms),
      std::to_string(limits_.refusals_before_ban),
      std::to_string(limits_.ban_base_ms),
      std::to_string(limits_.ban_max_ms),
      std::to_string(limits_.strike_memory_ms)};
  const std::array<std::string_view, 3> keys = {weight_key, ban_key, strikes_key};
  const std::array<std::string_view, 7> argv = {args[0], args[1], args[2], args[3],
                                                args[4], args[5], args[6]};
  auto reply = pool_.Eval(weight_script_, keys, argv);
  if (!reply) {
    obs::Metrics().RateLimitUnchecked(obs::Unchecked::kRequestWeight);
    log_.Warn("request weight not checked (failing open): " + reply.error().message);
    return LimitVerdict{};
  }
  auto v = Integers(*reply, 4);
  if (!v || (*v)[0] < 0 || (*v)[0] > 2) {
    obs::Metrics().RateLimitUnchecked(obs::Unchecked::kRequestWeight);
    log_.Warn("request weight not checked (failing open): unexpected script reply " + reply->str);
    return LimitVerdict{};
  }
  WeightOutcome o;
  o.kind = static_cast<WeightOutcome::Kind>((*v)[0]);
  o.used = (*v)[1];
  o.now_ms = (*v)[2];
  o.until_ms = (*v)[3];
  return MakeWeightVerdict(limits_, o);
}

LimitVerdict RedisRateLimiter::ChargeOrder(int64_t account) {
  const std::string key = prefix_ + "orders:" + std::to_string(account);
  const std::array<std::string, 4> args = {std::to_string(limits_.orders_per_short_window),
                                           std::to_string(limits_.orders_short_window_ms),
                                           std::to_string(limits_.orders_per_day_window),
                                           std::to_string(limits_.orders_day_window_ms)};
  const std::array<std::string_view, 1> keys = {key};
  const std::array<std::string_view, 4> argv = {args[0], args[1], args[2], args[3]};
  auto reply = pool_.Eval(order_script_, keys, argv);
  if (!reply) {
    obs::Metrics().RateLimitUnchecked(obs::Unchecked::kOrders);
    log_.Warn("order count not checked (failing open): " + reply.error().message);
    return LimitVerdict{};
  }
  auto v = Integers(*reply, 5);
  if (!v || (*v)[0] < 0 || (*v)[0] > 2) {
    obs::Metrics().RateLimitUnchecked(obs::Unchecked::kOrders);
    log_.Warn("order count not checked (failing open): unexpected script reply " + reply->str);
    return LimitVerdict{};
  }
  OrderOutcome o;
  o.kind = (*v)[0] == 0   ? OrderOutcome::Kind::kAllowed
           : (*v)[0] == 1 ? OrderOutcome::Kind::kRefusedShort
                          : OrderOutcome::Kind::kRefusedDay;
  o.short_count = (*v)[1];
  o.day_count = (*v)[2];
  o.now_ms = (*v)[3];
  o.until_ms = (*v)[4];
  return MakeOrderVerdict(limits_, o);
}

}  // namespace spotex::gateway
