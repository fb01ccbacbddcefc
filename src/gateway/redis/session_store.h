// Web sessions (login -> opaque token, docs/auth.md §5): the token goes to the client, only
// auth::SessionTokenHash(token) is stored, with the user id and a TTL. A token that is not
// well formed has no hash: Find answers nullopt and Delete succeeds without asking the store.
//
// RedisSessionStore: `SET <prefix><hash> <user id> EX <ttl> NX`, shared by every replica.
// InMemorySessionStore: the same in one process (tests, running without Redis), bounded.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "gateway/api/ports.h"
#include "gateway/redis/redis_client.h"

namespace spotex::gateway {

// Sessions last 1 s .. 30 days; Create refuses other TTLs.
inline constexpr std::chrono::seconds kSessionTtlMax{30LL * 86'400};

class RedisSessionStore final : public SessionStore {
 public:
  // `pool` must outlive the store; `key_prefix` at most 64 bytes. Thread-safe.
  explicit RedisSessionStore(RedisPool& pool, std::string key_prefix = "spotex:session:");

  std::expected<std::string, std::string> Create(int64_t user_id,
                                                 std::chrono::seconds ttl) override;
  std::expected<std::optional<int64_t>, std::string> Find(std::string_view token) override;
  std::expected<void, std::string> Delete(std::string_view token) override;

 private:
  RedisPool& pool_;
  const std::string prefix_;
};

class InMemorySessionStore final : public SessionStore {
 public:
  using Clock = std::function<int64_t()>;  // wall clock, ms since the epoch
  static constexpr size_t kDefaultEntriesMax = 100'000;

  // At most `entries_max` (> 0) live sessions: Create fails when full. Thread-safe.
  explicit InMemorySessionStore(size_t entries_max = kDefaultEntriesMax, Clock now_ms = nullptr);

  std::expected<std::string, std::string> Create(int64_t user_id,
                                                 std::chrono::seconds ttl) override;
  std::expected<std::optional<int64_t>, std::string> Find(std::string_view token) override;
  std::expected<void, std::string> Delete(std::string_view token) override;

  size_t size() const;

 private:
  struct Entry {
    int64_t user_id;
    int64_t expires_ms;  // exclusive
  };
  const size_t entries_max_;
  const Clock now_ms_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> sessions_;  // by token hash
};

}  // namespace spotex::gateway
