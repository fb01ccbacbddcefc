#include "gateway/redis/session_store.h"

#include <charconv>

#include "auth/keys.h"
#include "auth/replay_cache.h"
#include "core/assert.h"

namespace spotex::gateway {
namespace {

std::expected<void, std::string> CheckCreate(int64_t user_id, std::chrono::seconds ttl) {
  if (user_id <= 0) {
    return std::unexpected(std::string("session user id must be positive"));
  }
  if (ttl.count() < 1 || ttl > kSessionTtlMax) {
    return std::unexpected(std::string("session TTL must be 1 s..30 days"));
  }
  return {};
}

}  // namespace

RedisSessionStore::RedisSessionStore(RedisPool& pool, std::string key_prefix)
    : pool_(pool), prefix_(std::move(key_prefix)) {
  SPOTEX_ASSERT(prefix_.size() <= 64);
}

std::expected<std::string, std::string> RedisSessionStore::Create(int64_t user_id,
                                                                  std::chrono::seconds ttl) {
  if (auto ok = CheckCreate(user_id, ttl); !ok) {
    return std::unexpected(ok.error());
  }
  std::string token = auth::GenerateSessionToken();
  auto hash = auth::SessionTokenHash(token);
  SPOTEX_ASSERT(hash.has_value());
  const std::string key = prefix_ + *hash;
  const std::string user = std::to_string(user_id);
  const std::string seconds = std::to_string(ttl.count());
  // NX: a 256-bit token never collides, but if it did, no session would be taken over.
  auto reply = pool_.Command({"SET", key, user, "EX", seconds, "NX"});
  if (!reply) {
    return std::unexpected("session store unavailable: " + reply.error().message);
  }
  if (reply->type != RedisReply::Type::kStatus || reply->str != "OK") {
    return std::unexpected("session store refused the session: " + reply->str);
  }
  return token;
}

std::expected<std::optional<int64_t>, std::string> RedisSessionStore::Find(
    std::string_view token) {
  auto hash = auth::SessionTokenHash(token);
  if (!hash) {
    return std::optional<int64_t>();
  }
  auto reply = pool_.Command({"GET", prefix_ + *hash});
  if (!reply) {
    return std::unexpected("session store unavailable: " + reply.error().message);
  }
  if (reply->type == RedisReply::Type::kNil) {
    return std::optional<int64_t>();
  }
  int64_t user_id = 0;
  if (reply->type == RedisReply::Type::kString) {
    const std::string& s = reply->str;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), user_id);
    if (ec == std::errc() && p == s.data() + s.size() && user_id > 0) {
      return std::optional<int64_t>(user_id);
    }
  }
  return std::unexpected(std::string("session store holds a malformed session"));
}

std::expected<void, std::string> RedisSessionStore::Delete(std::string_view token) {
  auto hash = auth::SessionTokenHash(token);
  if (!hash) {
    return {};
  }
  auto reply = pool_.Command({"DEL", prefix_ + *hash});
  if (!reply) {
    return std::unexpected("session store unavailable: " + reply.error().message);
  }
  if (reply->type != RedisReply::Type::kInteger) {
    return std::unexpected("session store refused the delete: " + reply->str);
  }
  return {};
}

InMemorySessionStore::InMemorySessionStore(size_t entries_max, Clock now_ms)
    : entries_max_(entries_max),
      now_ms_(now_ms != nullptr ? std::move(now_ms) : Clock(auth::SystemClockMs)) {
  SPOTEX_ASSERT(entries_max_ > 0);
}

std::expected<std::string, std::string> InMemorySessionStore::Create(int64_t user_id,
                                                                     std::chrono::seconds ttl) {
  if (auto ok = CheckCreate(user_id, ttl); !ok) {
    return std::unexpected(ok.error());
  }
  std::string token = auth::GenerateSessionToken();
  auto hash = auth::SessionTokenHash(token);
  SPOTEX_ASSERT(hash.has_value());
  std::lock_guard lock(mu_);
  const int64_t now_ms = now_ms_();
  if (sessions_.size() >= entries_max_) {
    std::erase_if(sessions_, [&](const auto& kv) { return kv.second.expires_ms <= now_ms; });
    if (sessions_.size() >= entries_max_) {
      return std::unexpected(std::string("session store full"));
    }
  }
  const int64_t expires_ms = now_ms + ttl.count() * 1000;
  if (!sessions_.emplace(std::move(*hash), Entry{user_id, expires_ms}).second) {
    return std::unexpected(std::string("session store refused the session"));
  }
  return token;
}

std::expected<std::optional<int64_t>, std::string> InMemorySessionStore::Find(
    std::string_view token) {
  auto hash = auth::SessionTokenHash(token);
  if (!hash) {
    return std::optional<int64_t>();
  }
  std::lock_guard lock(mu_);
  auto it = sessions_.find(*hash);
  if (it == sessions_.end()) {
    return std::optional<int64_t>();
  }
  if (it->second.expires_ms <= now_ms_()) {
    sessions_.erase(it);
    return std::optional<int64_t>();
  }
  return std::optional<int64_t>(it->second.user_id);
}

std::expected<void, std::string> InMemorySessionStore::Delete(std::string_view token) {
  auto hash = auth::SessionTokenHash(token);
  if (!hash) {
    return {};
  }
  std::lock_guard lock(mu_);
  sessions_.erase(*hash);
  return {};
}

size_t InMemorySessionStore::size() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

}  // namespace spotex::gateway
