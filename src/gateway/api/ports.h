// What the gateway's endpoint libraries share: who the caller is, and the interfaces of the
// stores they need (rate limits and web sessions), so that each library can be tested with an
// in-memory implementation and run with the Redis one (src/gateway/redis) shared by every
// gateway replica.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "auth/keys.h"
#include "gateway/http/message.h"
#include "gateway/http/params.h"

namespace spotex::gateway {

// An authenticated caller of a signed (or session-authenticated) endpoint.
struct Caller {
  int64_t account = 0;       // users.id, also the engine account id (> 0)
  int64_t api_key_id = 0;    // api_keys.id; 0 when authenticated by a web session
  uint32_t permissions = 0;  // db::kPermissionRead | db::kPermissionTrade bits
  std::string client_ip;
};

// The answer of a rate limiter for one charge. `headers` go on the response whether or not the
// charge was allowed (X-MBX-USED-WEIGHT-1M, X-MBX-ORDER-COUNT-10S, ...).
struct LimitVerdict {
  bool allowed = true;
  // When refused: the error to send (429 -1003 / -1015, or 418 -1003 for a banned address) and
  // the Retry-After value in seconds (also added to `headers`).
  http::Error error;
  int64_t retry_after_s = 0;
  http::HeaderList headers;
};

// Binance's limits (BINANCE_API.md §3), shared by every gateway replica. Implementations must
// be thread-safe. A limiter whose store is unreachable fails open (allowed, no headers) and
// logs: refusing all traffic because Redis blinked would be the bigger outage.
class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // Adds `weight` to the request weight of `ip` in the current minute.
  virtual LimitVerdict ChargeRequest(std::string_view ip, int weight) = 0;
  // Counts one new order of `account` in its 10-second and 1-day windows.
  virtual LimitVerdict ChargeOrder(int64_t account) = 0;
};

// Web sessions (login -> opaque token). Only a hash of the token is stored. Thread-safe.
class SessionStore {
 public:
  virtual ~SessionStore() = default;
  // A new token for `user_id`, valid for `ttl`. Error text when the store is unreachable.
  virtual std::expected<std::string, std::string> Create(int64_t user_id,
                                                         std::chrono::seconds ttl) = 0;
  // The user of a live token; nullopt when unknown or expired.
  virtual std::expected<std::optional<int64_t>, std::string> Find(std::string_view token) = 0;
  // Ends the session (no error if it did not exist).
  virtual std::expected<void, std::string> Delete(std::string_view token) = 0;
};

// Authenticates a request to a signed endpoint (BINANCE_API.md §2): an API key with a signed
// request, or a web session (`Authorization: Bearer <token>`, for the web UI). Implemented by
// src/gateway/auth; thread-safe. On success `params` has `timestamp`, `recvWindow` and
// `signature` marked read. Errors are the Binance ones in the recommended order (-2014, -2015,
// -1102, -1022, -1021, replay -1022); nothing is charged or changed by a refused request.
class RequestAuthenticator {
 public:
  virtual ~RequestAuthenticator() = default;
  virtual std::expected<Caller, http::Error> Authenticate(const http::Request& request,
                                                          http::Params& params,
                                                          auth::SecurityType security) = 0;
};

}  // namespace spotex::gateway
