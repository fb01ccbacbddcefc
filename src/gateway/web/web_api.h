// The browser-only endpoints besides the session cookie itself (docs/api-v1.md, "Web screen"):
//
//   GET /api/v1/web/config        (public) -> {"demoSymbols":["BTCUSDT",...]}
//   GET /api/v1/web/userStream    WebSocket upgrade, authenticated by the spotex_session cookie
//
// The session user stream sends exactly what a listenKey stream sends (executionReport,
// outboundAccountPosition, balanceUpdate, listStatus; Binance format, one plain JSON object per
// text frame): it subscribes the connection on the same UserStreamHub with Framing::kSession.
// A browser WebSocket cannot add the CSRF header, so the upgrade needs an `Origin` header that
// is same-origin with `Host` instead; otherwise HTTP 403 (-1002). No, malformed or unknown
// session: HTTP 401 (-1002); session store unreachable: HTTP 500 (-1001).
// The stream ends when its session does: at once on this replica's logout (UserApi calls
// UserStreamHub::EndSession), and within one ExpireStale period otherwise (expiry, logout on
// another replica): close 1000 "session ended".
//
// Thread safety: Register() before the server starts; Accept and ExpireStale may be called
// from any thread. The store and the hub must outlive the server.
#pragma once

#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/api/ports.h"
#include "gateway/http/router.h"
#include "gateway/http/websocket.h"
#include "gateway/userdata/user_stream_hub.h"

namespace spotex::gateway::web {

inline constexpr std::string_view kUserStreamPath = "/api/v1/web/userStream";
inline constexpr std::string_view kConfigPath = "/api/v1/web/config";
// Longest --demo-symbols list.
inline constexpr size_t kDemoSymbolsMax = 64;

// "BTCUSDT,ETHUSDT" -> {"BTCUSDT","ETHUSDT"}; empty -> {}. Each symbol 1..20 characters of
// [A-Z0-9], no duplicates, at most kDemoSymbolsMax.
[[nodiscard]] std::expected<std::vector<std::string>, std::string> ParseDemoSymbols(
    std::string_view text);

struct WebApiOptions {
  std::vector<std::string> demo_symbols;  // as ParseDemoSymbols returns them
};

class WebApi {
 public:
  WebApi(SessionStore& sessions, userdata::UserStreamHub& hub, WebApiOptions options = {});

  // Adds GET /api/v1/web/config. False if it was already taken.
  [[nodiscard]] bool Register(http::Router& router);

  // The upgrade of /api/v1/web/userStream (query ignored); nullopt for any other path.
  std::optional<std::expected<http::WsHandlers, http::Response>> Accept(
      const http::WsRequest& request, const std::shared_ptr<http::WsConnection>& connection);

  // Ends the streams of sessions that no longer exist (one store lookup per distinct session
  // with a stream here). A store that cannot answer ends nothing. Returns how many sessions
  // ended. Call every 30 s or so (the contract allows at most 60 s).
  size_t ExpireStale();

 private:
  SessionStore& sessions_;
  userdata::UserStreamHub& hub_;
  const std::string config_json_;
};

}  // namespace spotex::gateway::web
