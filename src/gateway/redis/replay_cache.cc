#include "gateway/redis/replay_cache.h"

#include "core/assert.h"

namespace spotex::gateway {

RedisReplayCache::RedisReplayCache(RedisPool& pool, std::string key_prefix, Clock now_ms)
    : pool_(pool), prefix_(std::move(key_prefix)), now_ms_(std::move(now_ms)) {
  SPOTEX_ASSERT(prefix_.size() <= 64);
  SPOTEX_ASSERT(now_ms_ != nullptr);
}

auth::ReplayVerdict RedisReplayCache::FirstSeen(std::string_view key, int64_t expires_at_ms) {
  using auth::InMemoryReplayCache;
  if (key.empty() || key.size() > InMemoryReplayCache::kKeyBytesMax) {
    return auth::ReplayVerdict::kUnavailable;
  }
  const int64_t now_ms = now_ms_();
  if (expires_at_ms < now_ms) {
    return auth::ReplayVerdict::kFirstSeen;  // the timestamp check refuses it anyway
  }
  // Live through expires_at_ms inclusive.
  const int64_t ttl_ms =
      std::min(expires_at_ms - now_ms, InMemoryReplayCache::kHorizonMaxMs) + 1;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string redis_key = prefix_;
  redis_key.reserve(prefix_.size() + key.size() * 2);
  for (unsigned char c : key) {
    redis_key.push_back(kHex[c >> 4]);
    redis_key.push_back(kHex[c & 0xf]);
  }
  const std::string ttl = std::to_string(ttl_ms);
  auto reply = pool_.Command({"SET", redis_key, "1", "NX", "PX", ttl});
  if (!reply) {
    log_.Warn("replay check unavailable: " + reply.error().message);
    return auth::ReplayVerdict::kUnavailable;
  }
  if (reply->type == RedisReply::Type::kStatus && reply->str == "OK") {
    return auth::ReplayVerdict::kFirstSeen;
  }
  if (reply->type == RedisReply::Type::kNil) {
    return auth::ReplayVerdict::kReplayed;
  }
  log_.Warn("replay check unavailable: unexpected reply " + reply->str);
  return auth::ReplayVerdict::kUnavailable;
}

}  // namespace spotex::gateway
