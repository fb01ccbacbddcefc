#include "gateway/obs/metrics.h"

#include <string>
#include <unordered_map>

namespace spotex::gateway::obs {
namespace {

constexpr std::string_view kUnmatched = "unmatched";
constexpr std::string_view kWsKinds[] = {"streams", "user_data", "ws_api"};
constexpr std::string_view kLimits[] = {"request_weight", "ip_ban", "orders_short", "orders_day",
                                        "ws_connections"};
constexpr std::string_view kUnchecked[] = {"request_weight", "orders"};

std::atomic<uint64_t> g_generation{1};

// (route, method, status) -> children; the route is copied, so the cache does not depend on
// who owns the pattern.
struct Key {
  std::string route;
  std::string_view method;  // a MethodLabel constant
  int status;
  bool operator==(const Key&) const = default;
};
struct KeyView {
  std::string_view route;
  std::string_view method;
  int status;
};
struct KeyHash {
  using is_transparent = void;
  size_t operator()(const KeyView& k) const {
    return std::hash<std::string_view>()(k.route) ^ (std::hash<std::string_view>()(k.method) << 1) ^
           (static_cast<size_t>(k.status) * 0x9e3779b97f4a7c15ULL);
  }
  size_t operator()(const Key& k) const { return (*this)(KeyView{k.route, k.method, k.status}); }
};
struct KeyEq {
  using is_transparent = void;
  static KeyView View(const Key& k) { return {k.route, k.method, k.status}; }
  static KeyView View(const KeyView& k) { return k; }
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    const KeyView x = View(a);
    const KeyView y = View(b);
    return x.status == y.status && x.method == y.method && x.route == y.route;
  }
};

template <class T>
std::vector<T*> ChildrenOf(metrics::Family<T>& family,
                           std::initializer_list<std::string_view> values) {
  std::vector<T*> out;
  for (const std::string_view v : values) {
    out.push_back(&family.With({v}));
  }
  return out;
}

}  // namespace

std::string_view MethodLabel(std::string_view method) {
  for (const std::string_view known :
       {"GET", "POST", "DELETE", "PUT", "HEAD", "OPTIONS", "PATCH"}) {
    if (method == known) {
      return known;
    }
  }
  return "OTHER";
}

GatewayMetrics::GatewayMetrics(metrics::Registry& r)
    : generation_(g_generation.fetch_add(1)),
      requests_(r.AddCounter("spotex_gateway_http_requests_total",
                             "HTTP requests answered, by route pattern, method and status.",
                             {"route", "method", "status"})),
      duration_(r.AddHistogram("spotex_gateway_http_request_duration_seconds",
                               "From a request's first byte until its answer was written.",
                               metrics::LatencyBuckets(), {"route", "method"})),
      codes_(r.AddCounter("spotex_gateway_binance_errors_total",
                          "HTTP answers carrying a Binance error code, by code.", {"code"})),
      http_open_(r.AddGauge("spotex_gateway_http_connections_open",
                            "Open HTTP connections (WebSocket connections not included).")),
      http_refused_(r.AddSampledCounter(
          "spotex_gateway_http_connections_refused_total",
          "Connections answered 503 -1008 and closed because max connections were open.")),
      http_malformed_(r.AddSampledCounter(
          "spotex_gateway_http_malformed_requests_total",
          "Requests answered 400/413/431 by the server itself (bad HTTP, over a size limit).")),
      http_timeouts_(
          r.AddSampledCounter("spotex_gateway_http_timeouts_total",
                              "Connections closed by the request, idle or write timeout.")),
      engine_timeouts_(r.AddCounter("spotex_gateway_engine_timeouts_total",
                                    "Engine requests answered 500 -1007 (no answer in time).")
                           .With({})),
      nats_publish_(r.AddHistogram("spotex_gateway_nats_publish_duration_seconds",
                                   "The publish call of one engine command (NATS JetStream, "
                                   "acknowledged asynchronously).",
                                   metrics::LatencyBuckets())
                        .With({})) {
  auto& limits =
      r.AddCounter("spotex_gateway_rate_limit_rejections_total",
                   "Requests and connections refused by a rate limit, by limit.", {"limit"});
  for (const std::string_view v : kLimits) limits_.push_back(&limits.With({v}));
  auto& unchecked = r.AddCounter(
      "spotex_gateway_rate_limit_unchecked_total",
      "Requests let through unchecked because the limit store (Redis) failed, by limit.",
      {"limit"});
  for (const std::string_view v : kUnchecked) unchecked_.push_back(&unchecked.With({v}));
  auto& engine = r.AddHistogram("spotex_gateway_engine_request_duration_seconds",
                                "From publishing an engine command or query to its answer.",
                                metrics::LatencyBuckets(), {"kind"});
  engine_ = ChildrenOf(engine, {"command", "query"});
  auto& open =
      r.AddGauge("spotex_gateway_ws_connections_open", "Open WebSocket connections.", {"endpoint"});
  auto& accepted = r.AddSampledCounter("spotex_gateway_ws_connections_total",
                                       "WebSocket connections accepted.", {"endpoint"});
  auto& sent = r.AddSampledCounter("spotex_gateway_ws_messages_sent_total",
                                   "WebSocket messages written to clients.", {"endpoint"});
  auto& received =
      r.AddSampledCounter("spotex_gateway_ws_messages_received_total",
                          "WebSocket text messages received from clients.", {"endpoint"});
  auto& slow = r.AddSampledCounter(
      "spotex_gateway_ws_slow_consumer_closes_total",
      "WebSocket connections closed (1008) because their send queue overflowed.", {"endpoint"});
  for (const std::string_view v : kWsKinds) {
    ws_open_.push_back(&open.With({v}));
    ws_accepted_.push_back(&accepted.With({v}));
    ws_sent_.push_back(&sent.With({v}));
    ws_received_.push_back(&received.With({v}));
    ws_slow_.push_back(&slow.With({v}));
  }
  auto& subs = r.AddGauge("spotex_gateway_ws_subscriptions",
                          "Stream subscriptions of market-stream connections (streams) and "
                          "account subscriptions of the user data hub (user_data).",
                          {"endpoint"});
  ws_subscriptions_ = ChildrenOf(subs, {kWsKinds[0], kWsKinds[1]});
  // Every family shows a sample from the first scrape on.
  http_open_.With({});
  http_refused_.With({});
  http_malformed_.With({});
  http_timeouts_.With({});
  r.OnCollect([this] { Collect(); });
}

GatewayMetrics::RouteChildren& GatewayMetrics::Children(std::string_view route,
                                                        std::string_view method, int status) {
  struct Cache {
    uint64_t generation = 0;
    std::unordered_map<Key, RouteChildren, KeyHash, KeyEq> map;
  };
  thread_local Cache cache;
  if (cache.generation != generation_) {
    cache.map.clear();
    cache.generation = generation_;
  }
  const KeyView view{route, method, status};
  if (auto it = cache.map.find(view); it != cache.map.end()) {
    return it->second;
  }
  const std::string status_text = std::to_string(status);
  RouteChildren children{&requests_.With({route, method, status_text}),
                         &duration_.With({route, method})};
  return cache.map.emplace(Key{std::string(route), method, status}, children).first->second;
}

metrics::Counter& GatewayMetrics::CodeCounter(int code) {
  struct Cache {
    uint64_t generation = 0;
    std::unordered_map<int, metrics::Counter*> map;
  };
  thread_local Cache cache;
  if (cache.generation != generation_) {
    cache.map.clear();
    cache.generation = generation_;
  }
  if (auto it = cache.map.find(code); it != cache.map.end()) {
    return *it->second;
  }
  metrics::Counter& counter = codes_.With({std::to_string(code)});
  cache.map.emplace(code, &counter);
  return counter;
}

void GatewayMetrics::ObserveRequest(std::string_view route, std::string_view method, int status,
                                    int code, double seconds) {
  if (route.empty()) {
    route = kUnmatched;
  }
  RouteChildren& children = Children(route, MethodLabel(method), status);
  children.requests->Inc();
  children.duration->Observe(seconds);
  if (code != 0) {
    CodeCounter(code).Inc();
  }
}

void GatewayMetrics::RateLimitRejected(Limit limit) { limits_[static_cast<size_t>(limit)]->Inc(); }

void GatewayMetrics::RateLimitUnchecked(Unchecked limit) {
  unchecked_[static_cast<size_t>(limit)]->Inc();
}

void GatewayMetrics::EngineRoundTrip(EngineCall kind, double seconds) {
  engine_[static_cast<size_t>(kind)]->Observe(seconds);
}

void GatewayMetrics::EngineTimeout() { engine_timeouts_.Inc(); }

void GatewayMetrics::NatsPublish(double seconds) { nats_publish_.Observe(seconds); }

void GatewayMetrics::SetServerStats(std::function<http::ServerStats()> source) {
  std::lock_guard lock(sources_mu_);
  server_stats_ = std::move(source);
}

void GatewayMetrics::SetSubscriptions(WsKind kind, std::function<size_t()> source) {
  std::lock_guard lock(sources_mu_);
  subscriptions_[static_cast<size_t>(kind)] = std::move(source);
}

void GatewayMetrics::Collect() {
  int64_t ws_open_total = 0;
  for (size_t i = 0; i < 3; ++i) {
    const int64_t open = ws_[i].open.load(std::memory_order_relaxed);
    ws_open_total += open;
    ws_open_[i]->Set(static_cast<double>(open));
    ws_accepted_[i]->Set(static_cast<double>(ws_[i].accepted.load(std::memory_order_relaxed)));
    ws_sent_[i]->Set(static_cast<double>(ws_[i].messages_sent.load(std::memory_order_relaxed)));
    ws_received_[i]->Set(
        static_cast<double>(ws_[i].messages_received.load(std::memory_order_relaxed)));
    ws_slow_[i]->Set(
        static_cast<double>(ws_[i].slow_consumer_closes.load(std::memory_order_relaxed)));
  }
  std::lock_guard lock(sources_mu_);
  for (size_t i = 0; i < ws_subscriptions_.size(); ++i) {
    if (subscriptions_[i]) {
      ws_subscriptions_[i]->Set(static_cast<double>(subscriptions_[i]()));
    }
  }
  if (server_stats_) {
    const http::ServerStats s = server_stats_();
    const int64_t http_open = static_cast<int64_t>(s.connections_active) - ws_open_total;
    http_open_.With({}).Set(static_cast<double>(http_open > 0 ? http_open : 0));
    http_refused_.With({}).Set(static_cast<double>(s.connections_refused));
    http_malformed_.With({}).Set(static_cast<double>(s.malformed_requests));
    http_timeouts_.With({}).Set(static_cast<double>(s.timeouts));
  }
}

GatewayMetrics& Metrics() {
  // Never destroyed: instrumented code may run during static destruction.
  static GatewayMetrics* instance = new GatewayMetrics(metrics::DefaultRegistry());
  return *instance;
}

}  // namespace spotex::gateway::obs
