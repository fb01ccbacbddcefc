// Replay protection for signed requests.
//
// The timestamp check alone lets a captured request be sent again for as long as its
// recvWindow lasts (up to 60 s). A ReplayCache remembers each verified signature until the
// request would fail the timestamp check anyway, so a second copy inside the window is refused.
//
// Key: VerifiedSignature::ReplayKey(), the DECODED signature bytes (32 for HMAC, 64 for
// Ed25519). Decoding first matters: the same HMAC signature in upper- and lowercase hex is the
// same request. A signature covers timestamp and every parameter, so two different requests
// never share a key; the only way to get the same key is to send the same signed bytes again.
// Expiry: ReplayExpiryMs(timestamp, recvWindow) = timestamp + recvWindow (server clock, ms).
// Remembering longer is pointless (the timestamp check refuses the request by then); shorter
// would reopen the window.
// Error for a replay: -1022 "Signature for this request is not valid." (errors::
// kInvalidSignature). Binance has no replay error; the signature is single-use here, so a
// second use is an invalid signature. Logs and metrics should say "replay".
//
// Where to apply it: requests that change state (POST/PUT: new order, cancelReplace, ...).
// @binance/spot retries GET and DELETE after a 5xx or a network error with the SAME query
// string (signed once, sent up to 4 times), so rejecting replays there would turn a retried
// cancel into -1022; those are idempotent or read-only, and a replay gains an attacker little.
//
// The interface is kept minimal so that a Redis implementation (SET key 1 NX PXAT expiry,
// shared by every gateway replica) can follow.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace spotex::auth {

enum class ReplayVerdict {
  kFirstSeen,    // not seen before: recorded; let the request through
  kReplayed,     // seen before and not expired: reject with -1022
  kUnavailable,  // could not check (cache full, store down, key too long): the caller decides;
                 // the safe default for a state-changing request is to refuse it (-1008/-1000)
};

class ReplayCache {
 public:
  virtual ~ReplayCache() = default;

  // Atomically checks whether `key` was recorded and not yet expired, and if not records it
  // until `expires_at_ms` (inclusive, server wall clock in ms). Thread-safe.
  [[nodiscard]] virtual ReplayVerdict FirstSeen(std::string_view key, int64_t expires_at_ms) = 0;
};

// Milliseconds since the epoch from the system (wall) clock: the clock timestamps are checked
// against.
int64_t SystemClockMs();

// A ReplayCache for one process, bounded in entries and in how far ahead entries may expire.
// Thread-safe (one mutex; each call is O(log n) plus the expired entries it evicts).
class InMemoryReplayCache final : public ReplayCache {
 public:
  using Clock = std::function<int64_t()>;  // server wall clock, ms

  static constexpr size_t kKeyBytesMax = 64;
  // recvWindow (60 s) plus the 1 s a timestamp may be ahead, plus slack for clock reads.
  static constexpr int64_t kHorizonMaxMs = 62'000;

  // `entries_max` > 0 unexpired keys at most; when full, new keys get kUnavailable until old
  // ones expire (never evicting a live entry, which would silently reopen a replay window).
  explicit InMemoryReplayCache(size_t entries_max, Clock now_ms = SystemClockMs);

  // Evicts expired entries, then checks and records. An `expires_at_ms` already in the past
  // records nothing and answers kFirstSeen: the timestamp check refuses such a request anyway.
  // Expiries further than kHorizonMaxMs ahead are clamped to it.
  [[nodiscard]] ReplayVerdict FirstSeen(std::string_view key, int64_t expires_at_ms) override;

  size_t size() const;

 private:
  void EvictExpired(int64_t now_ms);

  const size_t entries_max_;
  const Clock now_ms_;
  mutable std::mutex mu_;
  // (expiry, key), oldest first; by_key_ points into it (set nodes never move).
  std::set<std::pair<int64_t, std::string>> by_expiry_;
  std::unordered_map<std::string_view, std::set<std::pair<int64_t, std::string>>::iterator> by_key_;
};

}  // namespace spotex::auth
