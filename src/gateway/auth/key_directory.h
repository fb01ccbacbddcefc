// Where the gateway looks up the API key of a signed request (X-MBX-APIKEY): the key's owner,
// its kind, the material that verifies its signatures, its permissions and its IP allow-list,
// resolved once (secret decrypted, public key and allow-list parsed) and then shared.
//
// Three implementations of one small interface:
// - PgKeyDirectory: PostgreSQL (db::UserStore::FindApiKey over a db::PgPool) plus the master
//   keyring that opens HMAC secrets. No cache: every call is a query.
// - CachingKeyDirectory: an in-process cache in front of another directory, with a positive
//   TTL (found keys) and a shorter negative TTL (unknown keys), each bounded in entries.
//   Production wiring: CachingKeyDirectory(PgKeyDirectory).
// - InMemoryKeyDirectory: a map, for tests and tools.
//
// Contract with the code that creates keys (src/gateway/users): an HMAC secret is stored as
//     auth::EncryptSecret(keyring, secret, /*context=*/api_key)
// where `api_key` is the 64-character X-MBX-APIKEY string of the same row. The context binds
// the ciphertext to its row (docs/auth.md §5); a ciphertext sealed with any other context does
// not open here and the key is reported as kBadRecord. Ed25519 keys are stored as their 32 raw
// bytes (db::NewApiKey::public_key); IP allow-lists as the entries IpAllowList::Parse accepts.
//
// Deleting a key: a replica that deletes a key calls Invalidate(api_key) on its own cache;
// other replicas keep accepting the key until their positive TTL (default 10 s) runs out.
// Creating a key: a replica that looked the key up just before it existed answers -2015 until
// the negative TTL (default 2 s) runs out.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "auth/ip_allow_list.h"
#include "auth/keys.h"
#include "auth/secret.h"
#include "auth/signature.h"
#include "db/pool.h"
#include "db/user_store.h"

namespace spotex::gateway {

// One API key, ready to verify requests. Immutable once built; shared (read-only) by threads.
struct ResolvedKey {
  int64_t key_id = 0;   // api_keys.id (> 0)
  int64_t user_id = 0;  // users.id = engine account (> 0)
  // A frozen user still authenticates (reads, cancels); the engine refuses new orders.
  bool user_frozen = false;
  db::ApiKeyKind kind = db::ApiKeyKind::kHmac;
  auth::Secret hmac_secret;               // kHmac: the 64-character secret in the clear
  auth::Ed25519PublicKey ed25519_key{};   // kEd25519
  auth::Permissions permissions;          // only known bits
  auth::IpAllowList ip_allow_list;        // unrestricted when the row has no list
};

enum class KeyLookupErrorCode {
  kNotFound,     // no live key with this string (never created, or deleted): -2015
  kUnavailable,  // the database could not be asked (down, pool exhausted, timeout): -1001
  kBadRecord,    // the row exists but cannot be used (secret does not open, unknown permission
                 // bits, bad public key or allow-list): a server-side fault, -1001 and a log
};

struct KeyLookupError {
  KeyLookupErrorCode code = KeyLookupErrorCode::kNotFound;
  std::string message;  // for logs; never holds secret material
};

using KeyLookupResult = std::expected<std::shared_ptr<const ResolvedKey>, KeyLookupError>;

// Thread-safe in every implementation.
class KeyDirectory {
 public:
  virtual ~KeyDirectory() = default;
  // The live key `api_key` (callers pass only strings that passed auth::CheckApiKeyHeader).
  [[nodiscard]] virtual KeyLookupResult Find(std::string_view api_key) = 0;
  // Forgets anything remembered about `api_key` (after this replica deleted or created it).
  virtual void Invalidate(std::string_view api_key) = 0;
};

// Builds a ResolvedKey from a database row: opens the HMAC secret (context = api_key), parses
// the Ed25519 key and the allow-list, checks the permission bits. kBadRecord on any failure.
[[nodiscard]] KeyLookupResult ResolveApiKey(const db::ApiKeyAuth& row, std::string_view api_key,
                                            const auth::MasterKeyring& keyring);

// PostgreSQL-backed, uncached. `pool` and `keyring` must outlive it.
class PgKeyDirectory final : public KeyDirectory {
 public:
  PgKeyDirectory(db::PgPool& pool, const auth::MasterKeyring& keyring)
      : pool_(pool), keyring_(keyring) {}

  // One FindApiKey query on a pooled connection. kUnavailable when no connection could be had
  // or the query failed; kNotFound for no live key.
  [[nodiscard]] KeyLookupResult Find(std::string_view api_key) override;
  void Invalidate(std::string_view) override {}

 private:
  db::PgPool& pool_;
  const auth::MasterKeyring& keyring_;
};

struct KeyCacheOptions {
  std::chrono::milliseconds positive_ttl{10'000};  // found keys
  std::chrono::milliseconds negative_ttl{2'000};   // unknown keys and unusable rows
  // Separate bounds, so that a flood of made-up keys cannot push real keys out.
  size_t positive_entries_max = 100'000;
  size_t negative_entries_max = 10'000;
};

// A cache in front of `backing` (which must outlive it). kUnavailable is never cached: the
// next request asks again. Concurrent misses for the same key may each ask `backing` (no
// request coalescing; the TTL bounds the load to one query per key per TTL and replica
// otherwise). Thread-safe: one mutex, never held while `backing` is asked.
class CachingKeyDirectory final : public KeyDirectory {
 public:
  using Clock = std::function<int64_t()>;  // monotonic, ms

  CachingKeyDirectory(KeyDirectory& backing, KeyCacheOptions options, Clock now_ms = SteadyClockMs);

  [[nodiscard]] KeyLookupResult Find(std::string_view api_key) override;
  // Drops the entry here and in `backing`.
  void Invalidate(std::string_view api_key) override;

  size_t positive_size() const;
  size_t negative_size() const;

  static int64_t SteadyClockMs();

 private:
  // Entries by key with an expiry each; when full, the entry expiring first is dropped.
  class ExpiringMap {
   public:
    explicit ExpiringMap(size_t entries_max) : entries_max_(entries_max) {}
    const KeyLookupResult* Find(std::string_view key, int64_t now_ms);
    void Put(std::string_view key, KeyLookupResult value, int64_t expires_at_ms);
    void Erase(std::string_view key);
    size_t size() const { return by_key_.size(); }

   private:
    struct Entry {
      KeyLookupResult value;
      int64_t expires_at_ms = 0;
    };
    const size_t entries_max_;
    std::unordered_map<std::string, Entry> by_key_;
    std::set<std::pair<int64_t, std::string>> by_expiry_;
  };

  KeyDirectory& backing_;
  const KeyCacheOptions options_;
  const Clock now_ms_;
  mutable std::mutex mu_;
  ExpiringMap positive_;  // values: found keys
  ExpiringMap negative_;  // values: kNotFound and kBadRecord errors
};

// A fixed set of keys in memory, for tests and tools. `SetUnavailable(true)` makes every Find
// answer kUnavailable (a database outage). Counts calls to Find.
class InMemoryKeyDirectory final : public KeyDirectory {
 public:
  void Put(std::string api_key, std::shared_ptr<const ResolvedKey> key);
  void Remove(std::string_view api_key);
  void SetUnavailable(bool unavailable);
  size_t find_calls() const;

  [[nodiscard]] KeyLookupResult Find(std::string_view api_key) override;
  void Invalidate(std::string_view) override {}

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const ResolvedKey>, std::less<>> keys_;
  bool unavailable_ = false;
  size_t find_calls_ = 0;
};

}  // namespace spotex::gateway
