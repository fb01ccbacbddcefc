// The gateway's RequestAuthenticator (ports.h): who sent a request to a signed endpoint.
//
// Two ways in (docs/auth.md, "Gateway authentication"):
//
// 1. A Binance signed request (`X-MBX-APIKEY` header). Checks, in this order, the first failure
//    answering:
//      a. header present and well formed                      -2014 HTTP 401
//      b. key lookup (KeyDirectory)                           -2015 HTTP 401 unknown/deleted;
//                                                             -1001 HTTP 500 database down
//      c. IP allow-list against request.client_ip()           -2015
//      d. permission for the endpoint's security type         -2015
//      e. `signature` present once, `timestamp` present       -1102 (-1101 duplicate signature)
//      f. signature over auth::SignedPayload(query, body)     -1022 HTTP 400
//      g. recvWindow syntax and range, then timestamp window  -1100, -1131, -1021
//      h. replay cache, state-changing methods only           -1022 replay;
//                                                             -1008 HTTP 503 cache unavailable
//    HMAC-SHA256 (hex, any case, constant-time compare) and Ed25519 (base64) keys.
//    The replay cache applies to POST, PUT and PATCH, and to DELETE only when
//    AuthenticatorOptions::replay_check_delete is set: @binance/spot retries a DELETE after a 5xx or a network
//    error with the same signed query, and a refused retry would hide the cancel's real outcome
//    (docs/auth.md §4). GET and HEAD are never checked. A replay cache that cannot answer makes
//    a state-changing request fail with -1008 "Server is currently overloaded..." (retryable)
//    rather than go through unchecked.
//
// 2. A web session (`Authorization: Bearer <token>`, no X-MBX-APIKEY header, and a SessionStore
//    was given). The caller gets api_key_id 0 and read + trade permissions; no signature or
//    timestamp is needed, but a `timestamp` / `recvWindow` that is sent is parsed and checked
//    like above. Unknown, expired or malformed token: -2015 HTTP 401; store unreachable: -1001.
//    A bearer header is never sent by a browser on its own, so this path needs no CSRF token.
//    The browser's `spotex_session` cookie counts as the same session, but only with the
//    `X-Spotex-CSRF` header and a same-origin (or absent) Origin (web_session.h); otherwise it
//    is ignored. When an API key header is sent too, the API key wins.
//
// Frozen users authenticate like active ones: they may still read and cancel; the engine
// refuses their new orders. The Caller does not say "frozen".
//
// On success `timestamp`, `recvWindow` and `signature` are marked read in `params`. A refused
// request records nothing: the replay check comes last, so an entry is recorded only for a
// request that passed every other check.
//
// Thread safety: Authenticate may be called concurrently; the directory, the replay cache and
// the session store are thread-safe and must outlive the Authenticator.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>

#include "auth/replay_cache.h"
#include "gateway/api/ports.h"
#include "gateway/auth/key_directory.h"
#include "gateway/http/error.h"

namespace spotex::gateway {

// -1001, HTTP 500, Binance's text: "Internal error; unable to process your request. Please try
// again." Used when the key or session store cannot be asked (never -2015: the key may be
// fine).
http::Error InternalError();

// Longest `Authorization` value looked at ("Bearer " + a 43-character token, with slack).
inline constexpr size_t kAuthorizationBytesMax = 256;

struct AuthenticatorOptions {
  // Also refuse replayed DELETE requests (see the header comment). Default off.
  bool replay_check_delete = false;
};

class Authenticator final : public RequestAuthenticator {
 public:
  using Clock = std::function<int64_t()>;  // server wall clock, µs since the epoch
  using Options = AuthenticatorOptions;

  // `sessions` may be null: then only API keys authenticate.
  Authenticator(KeyDirectory& keys, auth::ReplayCache& replays, SessionStore* sessions,
                Clock now_us = SystemClockUs, Options options = {});

  [[nodiscard]] std::expected<Caller, http::Error> Authenticate(
      const http::Request& request, http::Params& params, auth::SecurityType security) override;

  static int64_t SystemClockUs();

 private:
  std::expected<Caller, http::Error> AuthenticateSession(const http::Request& request,
                                                         http::Params& params,
                                                         std::string_view token);
  std::expected<Caller, http::Error> AuthenticateApiKey(const http::Request& request,
                                                        http::Params& params,
                                                        auth::SecurityType security,
                                                        std::string_view api_key);
  bool ChecksReplays(http::Method method) const;

  KeyDirectory& keys_;
  auth::ReplayCache& replays_;
  SessionStore* const sessions_;
  const Clock now_us_;
  const Options options_;
};

}  // namespace spotex::gateway
