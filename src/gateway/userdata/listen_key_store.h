// listenKeys of the legacy user data stream (BINANCE_API.md §9.4): a key is 64 random
// alphanumerics that names one account's stream for 60 minutes after its creation or its last
// keepalive. As on Binance an account has at most one live key: creating again returns the
// live key and extends it.
//
// RedisListenKeyStore: shared by every gateway replica (a key made on one works on all):
//   <prefix><listenKey>      -> account id, EX ttl
//   <prefix>account:<id>     -> the account's listenKey, EX ttl
// each operation one Lua script (atomic). InMemoryListenKeyStore: the same in one process
// (tests, running without Redis), bounded.
//
// Errors (std::unexpected) are "the store could not be asked" texts, for logs; the endpoints
// answer them with -1001. Thread-safe in both implementations.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/redis/redis_client.h"

namespace spotex::gateway::userdata {

inline constexpr size_t kListenKeyChars = 64;
inline constexpr std::chrono::seconds kListenKeyTtl{3600};

// A new random listenKey (64 of [A-Za-z0-9], from libsodium's generator).
std::string GenerateListenKey();
// True if `key` has the listenKey format (64 alphanumerics). Stream names never do: they
// contain '@' or '!'.
bool IsListenKeyFormat(std::string_view key);

class ListenKeyStore {
 public:
  virtual ~ListenKeyStore() = default;
  // The account's live key, extended by the TTL, or a new one. `account` > 0.
  virtual std::expected<std::string, std::string> Create(int64_t account) = 0;
  // Extends `key` if it is live and belongs to `account`; false otherwise (-1125).
  virtual std::expected<bool, std::string> KeepAlive(int64_t account, std::string_view key) = 0;
  // Deletes `key` if it is live and belongs to `account`; false otherwise (-1125).
  virtual std::expected<bool, std::string> Delete(int64_t account, std::string_view key) = 0;
  // The account of a live key; nullopt when unknown or expired.
  virtual std::expected<std::optional<int64_t>, std::string> Find(std::string_view key) = 0;
  // Find for many keys at once (the periodic expiry check): one answer per key, in order.
  // This default asks one by one; the Redis store batches (MGET).
  virtual std::expected<std::vector<std::optional<int64_t>>, std::string> FindMany(
      const std::vector<std::string>& keys);
};

class RedisListenKeyStore final : public ListenKeyStore {
 public:
  // `pool` must outlive the store; `key_prefix` at most 64 bytes; ttl 1 s .. 1 day.
  explicit RedisListenKeyStore(RedisPool& pool, std::chrono::seconds ttl = kListenKeyTtl,
                               std::string key_prefix = "spotex:listenkey:");

  std::expected<std::string, std::string> Create(int64_t account) override;
  std::expected<bool, std::string> KeepAlive(int64_t account, std::string_view key) override;
  std::expected<bool, std::string> Delete(int64_t account, std::string_view key) override;
  std::expected<std::optional<int64_t>, std::string> Find(std::string_view key) override;
  // MGET in batches of up to kRedisArgsMax - 1 keys: one round trip per batch.
  std::expected<std::vector<std::optional<int64_t>>, std::string> FindMany(
      const std::vector<std::string>& keys) override;

 private:
  std::expected<bool, std::string> Owned(RedisScript& script, int64_t account,
                                         std::string_view key);

  RedisPool& pool_;
  const std::string ttl_s_;
  const std::string prefix_;
  RedisScript create_, keepalive_, delete_;
};

class InMemoryListenKeyStore final : public ListenKeyStore {
 public:
  using Clock = std::function<int64_t()>;  // ms, any epoch
  static constexpr size_t kDefaultKeysMax = 100'000;

  // At most `keys_max` (> 0) live keys: Create fails when full.
  explicit InMemoryListenKeyStore(std::chrono::seconds ttl = kListenKeyTtl,
                                  size_t keys_max = kDefaultKeysMax, Clock now_ms = nullptr);

  std::expected<std::string, std::string> Create(int64_t account) override;
  std::expected<bool, std::string> KeepAlive(int64_t account, std::string_view key) override;
  std::expected<bool, std::string> Delete(int64_t account, std::string_view key) override;
  std::expected<std::optional<int64_t>, std::string> Find(std::string_view key) override;

  size_t size() const;

 private:
  struct Entry {
    int64_t account;
    int64_t expires_ms;  // exclusive
  };
  // Under mu_: the live entry of `key`, erasing it when expired.
  Entry* Live(std::string_view key, int64_t now_ms);

  const int64_t ttl_ms_;
  const size_t keys_max_;
  const Clock now_ms_;
  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> keys_;
  std::map<int64_t, std::string> by_account_;
};

}  // namespace spotex::gateway::userdata
