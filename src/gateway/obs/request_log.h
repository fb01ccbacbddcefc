// The gateway's request log and request metrics, fed by the HTTP server's observer
// (http::ServerConfig::on_request): one JSON line per answered request (docs/logging.md)
//   {"ts":...,"level":"info","component":"http","msg":"request","method":"POST",
//    "path":"/api/v3/order","route":"/api/v3/order","status":400,"code":-2010,
//    "duration_s":0.000812,"request_id":"...","account_id":7,"command_id":"...",
//    "client_ip":"127.0.0.1"}
// and the per-route counters and histograms of GatewayMetrics.
//
// Never logged: the query string (it holds signatures and listenKeys), request bodies and
// headers (API keys, passwords, tokens). Path segments that look like opaque tokens (32 or more
// of [A-Za-z0-9_-], e.g. the listenKey in /ws/<listenKey>) are replaced by "<redacted>".
#pragma once

#include <expected>
#include <functional>
#include <string>
#include <string_view>

#include "gateway/http/server.h"
#include "gateway/obs/metrics.h"

namespace spotex::gateway::obs {

// Which answered requests get a log line: every one, those with status >= 400 or a failed
// write (4xx at info, 5xx and failed writes at warn), or none.
enum class AccessLog : uint8_t { kAll, kErrors, kOff };

// "all", "errors", "off".
std::expected<AccessLog, std::string> ParseAccessLog(std::string_view text);

// `path` with token-like segments redacted and cut to 256 bytes ("..." appended when cut).
std::string SanitizePath(std::string_view path);

struct RequestObserverOptions {
  AccessLog access_log = AccessLog::kErrors;
  // Where request counts and latencies go; null = no metrics.
  GatewayMetrics* metrics = nullptr;
  // The route pattern for a request the router did not see (refused by the rate limit in front
  // of it): http::Router::Match of the frozen router. Empty = such requests are "unmatched".
  std::function<std::string_view(http::Method method, std::string_view path)> route_of;
};

// The observer to put in http::ServerConfig::on_request.
http::RequestObserver MakeRequestObserver(RequestObserverOptions options);

}  // namespace spotex::gateway::obs
