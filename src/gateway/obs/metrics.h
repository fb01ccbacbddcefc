// The gateway's Prometheus metrics (docs/metrics.md, "Gateway"): every family is registered
// when GatewayMetrics is built, so /metrics lists each name from the start, and the hot paths
// (one HTTP answer, one rate-limit refusal, one engine round trip) update children they
// obtained once: a thread-local cache maps (route, method, status) to its children, so an
// answer costs a hash lookup without a lock after warm-up, and a few relaxed atomics.
//
// Label values are bounded: routes are the router's patterns ("" = "unmatched"), methods the
// known tokens or "OTHER", statuses the server's own (100..599), codes the gateway's Binance
// codes (the families cap label sets anyway, metrics::Family::kSeriesMax).
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string_view>
#include <vector>

#include "gateway/http/server.h"
#include "gateway/http/websocket.h"
#include "service/metrics.h"

namespace spotex::gateway::obs {

// What refused a request (label `limit` of spotex_gateway_rate_limit_rejections_total).
enum class Limit : uint8_t {
  kRequestWeight,  // 429 -1003: request weight per minute per IP
  kIpBan,          // 418 -1003: the IP is banned for ignoring 429s
  kOrdersShort,    // 429 -1015: orders per 10 s per account
  kOrdersDay,      // 429 -1015: orders per day per account
  kWsConnections,  // 429 -1003: new market-stream connections per IP
};

// Which limit a failing Redis left unchecked (spotex_gateway_rate_limit_unchecked_total).
enum class Unchecked : uint8_t { kRequestWeight, kOrders };

// Kinds of WebSocket endpoint (label `endpoint`).
enum class WsKind : uint8_t { kStreams, kUserData, kWsApi };

// Engine requests (label `kind` of spotex_gateway_engine_request_duration_seconds).
enum class EngineCall : uint8_t { kCommand, kQuery };

class GatewayMetrics {
 public:
  explicit GatewayMetrics(metrics::Registry& registry);
  GatewayMetrics(const GatewayMetrics&) = delete;
  GatewayMetrics& operator=(const GatewayMetrics&) = delete;

  // One answered HTTP request. `route` empty = unmatched; `code` 0 = no Binance error.
  void ObserveRequest(std::string_view route, std::string_view method, int status, int code,
                      double seconds);
  void RateLimitRejected(Limit limit);
  void RateLimitUnchecked(Unchecked limit);
  // From publishing a command (or sending a query) to the engine's answer.
  void EngineRoundTrip(EngineCall kind, double seconds);
  // An engine request answered -1007 because the engine did not answer in time.
  void EngineTimeout();
  // The publish call of one command (a JetStream publish, acknowledged asynchronously).
  void NatsPublish(double seconds);

  // The transport's counters of one kind of endpoint: put in WsHandlers::stats.
  http::WsStats& ws(WsKind kind) { return ws_[static_cast<size_t>(kind)]; }

  // Sources read at each scrape. The callbacks must stay valid until the metrics server stops;
  // set each once (later calls replace the earlier source).
  void SetServerStats(std::function<http::ServerStats()> source);
  void SetSubscriptions(WsKind kind, std::function<size_t()> source);

 private:
  struct RouteChildren {
    metrics::Counter* requests;
    metrics::Histogram* duration;
  };
  RouteChildren& Children(std::string_view route, std::string_view method, int status);
  metrics::Counter& CodeCounter(int code);
  void Collect();

  const uint64_t generation_;  // tells the thread-local caches of two instances apart
  metrics::Family<metrics::Counter>& requests_;
  metrics::Family<metrics::Histogram>& duration_;
  metrics::Family<metrics::Counter>& codes_;
  metrics::Family<metrics::Gauge>& http_open_;
  metrics::Family<metrics::Gauge>& http_refused_;
  metrics::Family<metrics::Gauge>& http_malformed_;
  metrics::Family<metrics::Gauge>& http_timeouts_;
  std::vector<metrics::Counter*> limits_;
  std::vector<metrics::Counter*> unchecked_;
  std::vector<metrics::Histogram*> engine_;
  metrics::Counter& engine_timeouts_;
  metrics::Histogram& nats_publish_;
  http::WsStats ws_[3];
  std::vector<metrics::Gauge*> ws_open_, ws_accepted_, ws_sent_, ws_received_, ws_slow_;
  std::vector<metrics::Gauge*> ws_subscriptions_;  // streams, user_data (ws_api has none)

  std::mutex sources_mu_;
  std::function<http::ServerStats()> server_stats_;
  std::function<size_t()> subscriptions_[3];
};

// The process's instance, on metrics::DefaultRegistry(); built on first use.
GatewayMetrics& Metrics();

// The label value of an HTTP method token: the known ones as sent, anything else "OTHER".
std::string_view MethodLabel(std::string_view method);

}  // namespace spotex::gateway::obs
