// The WebSocket API at /ws-api/v3 (issue 5 §2, BINANCE_API.md §10, docs/websocket-api.md).
//
// One WsApi per gateway. Each connection's text frames are requests (envelope.h). Methods:
// - session.logon / session.status / session.logout / session.subscriptions, and
//   userDataStream.subscribe / userDataStream.subscribe.signature / userDataStream.unsubscribe
//   are answered here. User data goes through userdata::UserStreamHub (Framing::kWsApi,
//   tag = the decimal subscriptionId); one subscription per account per connection (-2035).
// - every other method is the REST endpoint behind it: the request becomes a synthetic
//   http::Request (method, path, query built from params; apiKey and signature left out) that is
//   dispatched through a private http::Router on which the caller registered the same REST
//   handlers (PublicApi, TradingApi), wrapped by WithRequestLimits so weights are charged like
//   REST to the connection's IP. The REST answer becomes the WS answer: 2xx body -> result,
//   error body -> error, X-MBX-* counts -> rateLimits. Nothing blocks: the answer is sent from
//   whichever thread the handler answers on.
// - Signed methods are authenticated by authenticator(): the signature over the sorted params
//   (auth::WsApiSignedPayload, ccxt's raw and @binance/spot's URI-encoded form), HMAC or Ed25519,
//   keys from the gateway's KeyDirectory; on a logged-on connection apiKey and signature may be
//   omitted, timestamp is still required. The TradingApi on the private router must be built
//   with this authenticator.
//
// Wiring:
//   WsApi ws_api(keys, replays, limiter, user_hub, options);
//   TradingApi ws_trading(client, ws_api.authenticator(), limiter, ...);
//   public_api.Register(ws_api.router()); ws_trading.Register(ws_api.router());
//   ws_api.Start();                        // freezes the router
//   factory: path "/ws-api/v3" -> ws_api.Accept(request, connection)
//
// Thread safety: Accept and the connection callbacks may run concurrently on any I/O threads.
// Lifetime: the KeyDirectory, ReplayCache, RateLimiter and UserStreamHub must outlive the WsApi;
// destroy the WsApi after the HTTP server has stopped.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <string>

#include "auth/replay_cache.h"
#include "gateway/api/ports.h"
#include "gateway/auth/key_directory.h"
#include "gateway/http/router.h"
#include "gateway/http/websocket.h"
#include "gateway/userdata/user_stream_hub.h"
#include "gateway/wsapi/envelope.h"

namespace spotex::gateway::wsapi {

inline constexpr std::string_view kPath = "/ws-api/v3";

struct WsApiOptions {
  // The limits announced in rateLimits (the limiter's configuration).
  RateLimitConfig limits;
  // Requests answered but not yet sent back, per connection; more: -1008 (server busy).
  size_t in_flight_max = 64;
  // Incoming messages per second per connection (the transport closes with 1008 "Too many
  // requests" beyond it). Binance limits its WebSocket API by request weight, not by message
  // rate, and @binance/spot sends requests back to back; the weight limits still apply.
  uint32_t messages_per_second_max = 100;
};

class WsApi {
 public:
  using Clock = std::function<int64_t()>;  // ms since the epoch

  WsApi(KeyDirectory& keys, auth::ReplayCache& replays, RateLimiter& limiter,
        userdata::UserStreamHub& users, Clock now_ms, WsApiOptions options = {});
  ~WsApi();
  WsApi(const WsApi&) = delete;
  WsApi& operator=(const WsApi&) = delete;

  // The authenticator for the REST handlers registered on router(). Valid while this lives.
  RequestAuthenticator& authenticator();
  // The private router; register REST handlers on it, then call Start() once.
  http::Router& router();
  // Freezes the router. Requests before Start() are answered -1020.
  void Start();

  // The WsFactory body for kPath: accepts every upgrade (query returnRateLimits=false turns the
  // rateLimits member off; any other value of it is refused with 400 -1100).
  std::expected<http::WsHandlers, http::Response> Accept(
      const http::WsRequest& request, const std::shared_ptr<http::WsConnection>& connection);

  // Open WebSocket API connections (for tests and logs).
  size_t connections() const;

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace spotex::gateway::wsapi
