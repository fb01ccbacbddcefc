#include "gateway/wsapi/ws_api.h"

#include <atomic>
#include <charconv>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "auth/errors.h"
#include "auth/keys.h"
#include "auth/signature.h"
#include "auth/timestamp.h"
#include "gateway/api/request_limits.h"
#include "gateway/auth/authenticator.h"

namespace spotex::gateway::wsapi {
namespace {

// The header that ties a synthetic request to its WS request context. Only requests made here
// reach the private router, so a client cannot send it.
constexpr std::string_view kContextHeader = "X-Spotex-WsApi-Request";

http::Error ToHttp(const auth::ApiError& e) { return http::Error{e.code, std::string(e.msg), e.http_status}; }

http::Error UnsupportedMethod() { return http::Error{-1020, "This operation is not supported.", 400}; }

http::Error AlreadySubscribed() {
  return http::Error{-2035, "User Data Stream subscription already active.", 409};
}
http::Error NotSubscribed() {
  return http::Error{-2036, "User Data Stream subscription not active.", 409};
}
http::Error NotLoggedOn() {
  return http::Error{-2015, "Invalid API-key, IP, or permissions for action.", 401};
}

struct RestRoute {
  std::string_view ws_method;
  http::Method method;
  std::string_view path;
};

// WebSocket API method -> REST endpoint (BINANCE_API.md §10).
constexpr RestRoute kRoutes[] = {
    {"ping", http::Method::kGet, "/api/v3/ping"},
    {"time", http::Method::kGet, "/api/v3/time"},
    {"exchangeInfo", http::Method::kGet, "/api/v3/exchangeInfo"},
    {"depth", http::Method::kGet, "/api/v3/depth"},
    {"trades.recent", http::Method::kGet, "/api/v3/trades"},
    {"trades.historical", http::Method::kGet, "/api/v3/historicalTrades"},
    {"trades.aggregate", http::Method::kGet, "/api/v3/aggTrades"},
    {"klines", http::Method::kGet, "/api/v3/klines"},
    {"uiKlines", http::Method::kGet, "/api/v3/uiKlines"},
    {"avgPrice", http::Method::kGet, "/api/v3/avgPrice"},
    {"ticker.24hr", http::Method::kGet, "/api/v3/ticker/24hr"},
    {"ticker", http::Method::kGet, "/api/v3/ticker"},
    {"ticker.price", http::Method::kGet, "/api/v3/ticker/price"},
    {"ticker.book", http::Method::kGet, "/api/v3/ticker/bookTicker"},
    {"order.place", http::Method::kPost, "/api/v3/order"},
    {"order.test", http::Method::kPost, "/api/v3/order/test"},
    {"order.cancel", http::Method::kDelete, "/api/v3/order"},
    {"order.cancelReplace", http::Method::kPost, "/api/v3/order/cancelReplace"},
    {"openOrders.cancelAll", http::Method::kDelete, "/api/v3/openOrders"},
    {"order.status", http::Method::kGet, "/api/v3/order"},
    {"openOrders.status", http::Method::kGet, "/api/v3/openOrders"},
    {"allOrders", http::Method::kGet, "/api/v3/allOrders"},
    {"myTrades", http::Method::kGet, "/api/v3/myTrades"},
    {"account.status", http::Method::kGet, "/api/v3/account"},
    {"orderList.place.oco", http::Method::kPost, "/api/v3/orderList/oco"},
    {"orderList.cancel", http::Method::kDelete, "/api/v3/orderList"},
    {"orderList.status", http::Method::kGet, "/api/v3/orderList"},
    {"openOrderLists.status", http::Method::kGet, "/api/v3/openOrderList"},
    {"allOrderLists", http::Method::kGet, "/api/v3/allOrderList"},
    {"myPreventedMatches", http::Method::kGet, "/api/v3/myPreventedMatches"},
};

const RestRoute* FindRoute(std::string_view method) {
  for (const RestRoute& r : kRoutes) {
    if (r.ws_method == method) return &r;
  }
  return nullptr;
}

bool Unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

void AppendEncoded(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : text) {
    if (Unreserved(c)) {
      out.push_back(c);
    } else {
      const auto b = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xF]);
    }
  }
}

bool HasControl(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return true;
  }
  return false;
}

// Query parameter `name` of a request target, not decoded; nullopt when absent.
std::optional<std::string_view> QueryParam(std::string_view target, std::string_view name) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    }
  }
  return std::nullopt;
}

}  // namespace

// One connection's state. Guarded by `mu` (requests run on the connection's strand, but REST
// answers and the authenticator may run on other threads).
struct Conn {
  std::shared_ptr<http::WsConnection> ws;
  std::string client_ip;
  bool return_rate_limits = true;
  int64_t connected_ms = 0;

  struct Logon {
    std::string api_key;
    int64_t account = 0;
    int64_t since_ms = 0;
  };
  struct Sub {
    int64_t account = 0;
    userdata::UserStreamHub::SubscriberId hub_id = 0;
  };

  std::mutex mu;
  std::optional<Logon> logon;
  std::map<int64_t, Sub> subs;  // by subscriptionId
  int64_t next_sub_id = 0;
  bool closed = false;
  std::atomic<size_t> in_flight{0};
};

// A WS request being served by a REST handler: what the authenticator needs.
struct RequestContext {
  std::shared_ptr<Conn> conn;
  std::vector<Param> params;
};

class WsApi::Impl final : public RequestAuthenticator,
                          public std::enable_shared_from_this<WsApi::Impl> {
 public:
  Impl(KeyDirectory& keys, auth::ReplayCache& replays, RateLimiter& limiter,
       userdata::UserStreamHub& users, Clock now_ms, WsApiOptions options)
      : keys_(keys),
        replays_(replays),
        limiter_(limiter),
        users_(users),
        now_ms_(std::move(now_ms)),
        options_(options) {}

  std::expected<Caller, http::Error> Authenticate(const http::Request& request,
                                                  http::Params& params,
                                                  auth::SecurityType security) override {
    std::shared_ptr<RequestContext> ctx;
    if (auto header = request.Header(kContextHeader); header.has_value()) {
      std::lock_guard lock(contexts_mu_);
      if (auto it = contexts_.find(std::string(*header)); it != contexts_.end()) ctx = it->second;
    }
    if (ctx == nullptr) return std::unexpected(InternalError());
    const bool state_changing =
        request.method() == http::Method::kPost || request.method() == http::Method::kPut;
    auto verified = Verify(*ctx->conn, ctx->params, security, state_changing, /*logon_ok=*/true);
    if (!verified.has_value()) return std::unexpected(std::move(verified.error()));
    // Read in the REST sense, so that -1104 does not count them.
    (void)params.GetOptionalString("timestamp");
    (void)params.GetOptionalString("recvWindow");
    return verified->caller;
  }

  struct Verified {
    Caller caller;
    std::string api_key;
  };

  // Binance's checks for a signed WS API request, in the REST order (-2014/-2015, -1102,
  // -1022, -1021, replay). `logon_ok`: a logged-on connection may omit apiKey and signature.
  std::expected<Verified, http::Error> Verify(Conn& conn, const std::vector<Param>& params,
                                              auth::SecurityType security, bool state_changing,
                                              bool logon_ok) {
    std::optional<std::string_view> api_key;
    std::optional<std::string_view> signature;
    std::optional<std::string_view> timestamp;
    std::optional<std::string_view> recv_window;
    for (const Param& p : params) {
      if (p.name == "apiKey") api_key = p.value;
      else if (p.name == "signature") signature = p.value;
      else if (p.name == "timestamp") timestamp = p.value;
      else if (p.name == "recvWindow") recv_window = p.value;
    }
    std::optional<Conn::Logon> logon;
    {
      std::lock_guard lock(conn.mu);
      logon = conn.logon;
    }
    const bool use_logon = logon_ok && logon.has_value() && !signature.has_value() &&
                           (!api_key.has_value() || *api_key == logon->api_key);
    std::string key_text;
    if (use_logon) {
      key_text = logon->api_key;
    } else {
      if (!api_key.has_value()) return std::unexpected(http::errors::MandatoryParameter("apiKey"));
      if (auto ok = auth::CheckApiKeyHeader(api_key); !ok.has_value()) {
        return std::unexpected(ToHttp(ok.error()));
      }
      key_text = std::string(*api_key);
    }
    const KeyLookupResult found = keys_.Find(key_text);
    if (!found.has_value()) {
      if (found.error().code == KeyLookupErrorCode::kNotFound) {
        return std::unexpected(ToHttp(auth::errors::kRejectedApiKey));
      }
      return std::unexpected(InternalError());
    }
    const ResolvedKey& key = **found;
    if (!key.ip_allow_list.Allows(conn.client_ip) || !auth::Allows(key.permissions, security)) {
      return std::unexpected(ToHttp(auth::errors::kRejectedApiKey));
    }
    if (!use_logon && !signature.has_value()) {
      return std::unexpected(http::errors::MandatoryParameter("signature"));
    }
    if (!timestamp.has_value()) return std::unexpected(ToHttp(auth::errors::kTimestampMissing));
    auto timestamp_us = auth::ParseTimestampUs(*timestamp);
    if (!timestamp_us.has_value()) return std::unexpected(ToHttp(timestamp_us.error()));

    std::optional<auth::VerifiedSignature> verified;
    if (!use_logon) {
      std::vector<auth::WsApiParam> list;
      list.reserve(params.size());
      for (const Param& p : params) list.push_back({p.name, p.value});
      auto payloads = auth::WsApiSignedPayload(list);
      if (!payloads.has_value()) return std::unexpected(ToHttp(payloads.error()));
      auto check = [&](std::string_view payload) {
        return key.kind == db::ApiKeyKind::kHmac
                   ? auth::VerifyHmac(key.hmac_secret.view(), payload, *signature)
                   : auth::VerifyEd25519(key.ed25519_key, payload, *signature);
      };
      auto result = check(payloads->raw);
      if (!result.has_value() && payloads->uri_encoded != payloads->raw) {
        result = check(payloads->uri_encoded);
      }
      if (!result.has_value()) return std::unexpected(ToHttp(auth::ToApiError(result.error())));
      verified = *result;
    }
    auto recv_window_us = auth::ParseRecvWindowUs(recv_window);
    if (!recv_window_us.has_value()) return std::unexpected(ToHttp(recv_window_us.error()));
    if (auto in_window = auth::CheckTimestampUs(*timestamp_us, *recv_window_us, now_ms_() * 1000);
        !in_window.has_value()) {
      return std::unexpected(ToHttp(in_window.error()));
    }
    if (verified.has_value() && state_changing) {
      switch (replays_.FirstSeen(verified->ReplayKey(),
                                 auth::ReplayExpiryMs(*timestamp_us, *recv_window_us))) {
        case auth::ReplayVerdict::kFirstSeen:
          break;
        case auth::ReplayVerdict::kReplayed:
          return std::unexpected(ToHttp(auth::errors::kInvalidSignature));
        case auth::ReplayVerdict::kUnavailable:
          return std::unexpected(http::errors::ServerBusy());
      }
    }
    return Verified{Caller{key.user_id, key.key_id, key.permissions.bits(), conn.client_ip},
                    key_text};
  }

  std::expected<http::WsHandlers, http::Response> Accept(
      const http::WsRequest& request, const std::shared_ptr<http::WsConnection>& ws) {
    auto conn = std::make_shared<Conn>();
    conn->ws = ws;
    conn->client_ip = request.client_ip;
    conn->connected_ms = now_ms_();
    if (auto flag = QueryParam(request.target, "returnRateLimits"); flag.has_value()) {
      if (*flag == "false") {
        conn->return_rate_limits = false;
      } else if (*flag != "true") {
        return std::unexpected(http::Response::FromError(
            http::errors::IllegalCharacters("returnRateLimits", "true, false")));
      }
    }
    open_.fetch_add(1);
    std::weak_ptr<Impl> weak = weak_from_this();
    http::WsHandlers handlers;
    handlers.on_message = [weak, conn](std::string_view text) {
      if (auto self = weak.lock()) self->OnMessage(conn, text);
    };
    handlers.on_close = [weak, conn](uint16_t, std::string_view) {
      if (auto self = weak.lock()) self->OnClose(*conn);
    };
    handlers.on_shutdown = [weak, conn]() {
      if (auto self = weak.lock()) {
        conn->ws->Send(std::make_shared<const std::string>(
            "{\"event\":{\"e\":\"serverShutdown\",\"E\":" + std::to_string(self->now_ms_()) + "}}"));
      }
    };
    handlers.max_messages_per_second = options_.messages_per_second_max;
    return handlers;
  }

  void Start() {
    std::lock_guard lock(router_mu_);
    handler_ = WithRequestLimits(std::move(router_).ToHandler(), limiter_);
  }

  http::Router& router() { return router_; }
  size_t connections() const { return open_.load(); }

 private:
  void Send(Conn& conn, std::string text) {
    conn.ws->Send(std::make_shared<const std::string>(std::move(text)));
  }

  std::string RateLimits(const Conn& conn, const RateLimitCounts& counts) const {
    // Omitted too when nothing was charged (e.g. a frame that is not JSON).
    if (!conn.return_rate_limits || (!counts.weight_1m && !counts.orders_10s && !counts.orders_1d)) {
      return {};
    }
    return RateLimitsJson(options_.limits, counts);
  }

  void SendError(Conn& conn, std::string_view id_json, const http::Error& error,
                 const RateLimitCounts& counts = {}) {
    Send(conn, ErrorResponse(id_json, error, RateLimits(conn, counts)));
  }

  void OnMessage(const std::shared_ptr<Conn>& conn, std::string_view text) {
    auto request = ParseRequest(text);
    if (!request.has_value()) {
      SendError(*conn, request.error().id_json, request.error().error);
      return;
    }
    const std::string& method = request->method;
    if (method.starts_with("session.") || method.starts_with("userDataStream.")) {
      Session(conn, *request);
      return;
    }
    const RestRoute* route = FindRoute(method);
    if (route == nullptr) {
      SendError(*conn, request->id_json, UnsupportedMethod());
      return;
    }
    Rest(conn, std::move(*request), *route);
  }

  // Session and user-data methods: weight 2 each, charged here.
  void Session(const std::shared_ptr<Conn>& conn, const Request& request) {
    const std::string& method = request.method;
    const bool known = method == "session.logon" || method == "session.status" ||
                       method == "session.logout" || method == "session.subscriptions" ||
                       method == "userDataStream.subscribe" ||
                       method == "userDataStream.subscribe.signature" ||
                       method == "userDataStream.unsubscribe";
    if (!known) {
      SendError(*conn, request.id_json, UnsupportedMethod());
      return;
    }
    LimitVerdict verdict = limiter_.ChargeRequest(conn->client_ip, 2);
    const RateLimitCounts counts = CountsFromHeaders(verdict.headers);
    if (!verdict.allowed) {
      SendError(*conn, request.id_json, verdict.error, counts);
      return;
    }
    auto result = SessionResult(conn, request);
    if (!result.has_value()) {
      SendError(*conn, request.id_json, result.error(), counts);
      return;
    }
    Send(*conn, SuccessResponse(request.id_json, *result, RateLimits(*conn, counts)));
  }

  // Only `allowed` parameters may be sent: others get -1104 like REST.
  static std::expected<void, http::Error> OnlyParams(const Request& request,
                                                     std::initializer_list<std::string_view> allowed) {
    size_t read = 0;
    for (const Param& p : request.params) {
      for (std::string_view a : allowed) {
        if (p.name == a) {
          ++read;
          break;
        }
      }
    }
    if (read != request.params.size()) {
      return std::unexpected(http::errors::NotAllParametersRead(read, request.params.size()));
    }
    return {};
  }

  std::string StatusJson(Conn& conn) {
    std::lock_guard lock(conn.mu);
    std::string out = "{\"apiKey\":";
    if (conn.logon.has_value()) {
      http::AppendJsonString(out, conn.logon->api_key);
      out.append(",\"authorizedSince\":").append(std::to_string(conn.logon->since_ms));
    } else {
      out.append("null,\"authorizedSince\":null");
    }
    out.append(",\"connectedSince\":").append(std::to_string(conn.connected_ms));
    out.append(",\"returnRateLimits\":").append(conn.return_rate_limits ? "true" : "false");
    out.append(",\"serverTime\":").append(std::to_string(now_ms_()));
    out.append(",\"userDataStream\":").append(conn.subs.empty() ? "false" : "true").append("}");
    return out;
  }

  std::expected<std::string, http::Error> SessionResult(const std::shared_ptr<Conn>& conn,
                                                        const Request& request) {
    const std::string& method = request.method;
    if (method == "session.logon") {
      if (auto ok = OnlyParams(request, {"apiKey", "signature", "timestamp", "recvWindow"});
          !ok.has_value()) {
        return std::unexpected(ok.error());
      }
      auto verified = Verify(*conn, request.params, auth::SecurityType::kUserData,
                             /*state_changing=*/true, /*logon_ok=*/false);
      if (!verified.has_value()) return std::unexpected(verified.error());
      {
        std::lock_guard lock(conn->mu);
        if (conn->logon.has_value() && conn->logon->api_key != verified->api_key &&
            !conn->subs.empty()) {
          // Another account's stream is active on this connection: refuse the switch.
          return std::unexpected(AlreadySubscribed());
        }
        conn->logon = Conn::Logon{verified->api_key, verified->caller.account, now_ms_()};
      }
      return StatusJson(*conn);
    }
    if (method == "session.status") {
      if (auto ok = OnlyParams(request, {}); !ok.has_value()) return std::unexpected(ok.error());
      return StatusJson(*conn);
    }
    if (method == "session.logout") {
      if (auto ok = OnlyParams(request, {}); !ok.has_value()) return std::unexpected(ok.error());
      {
        std::lock_guard lock(conn->mu);
        conn->logon.reset();
      }
      return StatusJson(*conn);
    }
    if (method == "session.subscriptions") {
      if (auto ok = OnlyParams(request, {}); !ok.has_value()) return std::unexpected(ok.error());
      std::lock_guard lock(conn->mu);
      std::string out = "[";
      for (const auto& [id, sub] : conn->subs) {
        if (out.size() > 1) out.push_back(',');
        out.append("{\"subscriptionId\":").append(std::to_string(id)).append("}");
      }
      out.push_back(']');
      return out;
    }
    if (method == "userDataStream.subscribe") {
      if (auto ok = OnlyParams(request, {}); !ok.has_value()) return std::unexpected(ok.error());
      std::optional<Conn::Logon> logon;
      {
        std::lock_guard lock(conn->mu);
        logon = conn->logon;
      }
      if (!logon.has_value()) return std::unexpected(NotLoggedOn());
      // The key must still exist and be allowed to stream.
      const KeyLookupResult found = keys_.Find(logon->api_key);
      if (!found.has_value()) {
        return std::unexpected(found.error().code == KeyLookupErrorCode::kNotFound
                                   ? ToHttp(auth::errors::kRejectedApiKey)
                                   : InternalError());
      }
      if (!(*found)->ip_allow_list.Allows(conn->client_ip) ||
          !auth::Allows((*found)->permissions, auth::SecurityType::kUserStream)) {
        return std::unexpected(ToHttp(auth::errors::kRejectedApiKey));
      }
      return Subscribe(conn, (*found)->user_id);
    }
    if (method == "userDataStream.subscribe.signature") {
      if (auto ok = OnlyParams(request, {"apiKey", "signature", "timestamp", "recvWindow"});
          !ok.has_value()) {
        return std::unexpected(ok.error());
      }
      auto verified = Verify(*conn, request.params, auth::SecurityType::kUserStream,
                             /*state_changing=*/true, /*logon_ok=*/false);
      if (!verified.has_value()) return std::unexpected(verified.error());
      return Subscribe(conn, verified->caller.account);
    }
    // userDataStream.unsubscribe
    if (auto ok = OnlyParams(request, {"subscriptionId"}); !ok.has_value()) {
      return std::unexpected(ok.error());
    }
    std::optional<int64_t> only;
    if (auto text = request.Find("subscriptionId"); text.has_value()) {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
      if (ec != std::errc() || p != text->data() + text->size() || v < 0) {
        return std::unexpected(http::errors::IllegalCharacters("subscriptionId", "^[0-9]{1,20}$"));
      }
      only = v;
    }
    std::vector<std::pair<int64_t, Conn::Sub>> ended;
    {
      std::lock_guard lock(conn->mu);
      if (only.has_value()) {
        auto it = conn->subs.find(*only);
        if (it == conn->subs.end()) return std::unexpected(NotSubscribed());
        ended.emplace_back(*it);
        conn->subs.erase(it);
      } else {
        ended.assign(conn->subs.begin(), conn->subs.end());
        conn->subs.clear();
      }
    }
    for (const auto& [id, sub] : ended) {
      users_.Unsubscribe(sub.hub_id);
      Send(*conn, "{\"subscriptionId\":" + std::to_string(id) +
                      ",\"event\":{\"e\":\"eventStreamTerminated\",\"E\":" +
                      std::to_string(now_ms_()) + "}}");
    }
    return std::string("{}");
  }

  std::expected<std::string, http::Error> Subscribe(const std::shared_ptr<Conn>& conn,
                                                    int64_t account) {
    std::lock_guard lock(conn->mu);
    if (conn->closed) return std::unexpected(http::errors::Unknown());
    for (const auto& [id, sub] : conn->subs) {
      if (sub.account == account) return std::unexpected(AlreadySubscribed());
    }
    const int64_t id = conn->next_sub_id++;
    // Under conn->mu: on_close cannot miss this subscription.
    const auto hub_id = users_.Subscribe(account, conn->ws, userdata::Framing::kWsApi,
                                         std::to_string(id));
    conn->subs.emplace(id, Conn::Sub{account, hub_id});
    return "{\"subscriptionId\":" + std::to_string(id) + "}";
  }

  void OnClose(Conn& conn) {
    std::map<int64_t, Conn::Sub> subs;
    {
      std::lock_guard lock(conn.mu);
      if (conn.closed) return;
      conn.closed = true;
      subs.swap(conn.subs);
    }
    for (const auto& [id, sub] : subs) users_.Unsubscribe(sub.hub_id);
    open_.fetch_sub(1);
  }

  void Rest(const std::shared_ptr<Conn>& conn, Request request, const RestRoute& route) {
    std::string target(route.path);
    bool first = true;
    for (const Param& p : request.params) {
      if (p.name == "apiKey" || p.name == "signature") continue;
      if (HasControl(p.value)) {
        SendError(*conn, request.id_json, http::errors::IllegalCharacters());
        return;
      }
      target.push_back(first ? '?' : '&');
      first = false;
      AppendEncoded(target, p.name);
      target.push_back('=');
      AppendEncoded(target, p.value);
    }
    if (conn->in_flight.fetch_add(1) >= options_.in_flight_max) {
      conn->in_flight.fetch_sub(1);
      SendError(*conn, request.id_json, http::errors::ServerBusy());
      return;
    }
    http::Handler handler;
    {
      std::lock_guard lock(router_mu_);
      handler = handler_;
    }
    if (!handler) {
      conn->in_flight.fetch_sub(1);
      SendError(*conn, request.id_json, UnsupportedMethod());
      return;
    }
    const std::string key = std::to_string(next_context_.fetch_add(1));
    auto ctx = std::make_shared<RequestContext>(RequestContext{conn, std::move(request.params)});
    {
      std::lock_guard lock(contexts_mu_);
      contexts_.emplace(key, ctx);
    }
    std::weak_ptr<Impl> weak = weak_from_this();
    auto responder = http::Responder::ToCallback(
        [weak, conn, key, id_json = request.id_json](http::Response response) {
          auto self = weak.lock();
          if (self == nullptr) return;
          {
            std::lock_guard lock(self->contexts_mu_);
            self->contexts_.erase(key);
          }
          conn->in_flight.fetch_sub(1);
          const std::string limits = self->RateLimits(*conn, CountsFromHeaders(response.headers));
          if (response.status >= 200 && response.status < 300) {
            self->Send(*conn, SuccessResponse(id_json, response.body.empty() ? "{}" : response.body,
                                              limits));
          } else {
            std::string_view body = response.body;
            std::string fallback;
            if (body.empty() || body.front() != '{') {
              fallback = http::ErrorBody(http::errors::Unknown());
              body = fallback;
            }
            self->Send(*conn, ErrorResponseRaw(id_json, response.status, body, limits));
          }
        });
    http::Request synthetic(route.method, std::string(http::MethodName(route.method)),
                            std::move(target), {{std::string(kContextHeader), key}}, "",
                            conn->client_ip, conn->client_ip);
    handler(std::move(synthetic), std::move(responder));
  }

  KeyDirectory& keys_;
  auth::ReplayCache& replays_;
  RateLimiter& limiter_;
  userdata::UserStreamHub& users_;
  const Clock now_ms_;
  const WsApiOptions options_;

  std::mutex router_mu_;
  http::Router router_;
  http::Handler handler_;

  std::mutex contexts_mu_;
  std::unordered_map<std::string, std::shared_ptr<RequestContext>> contexts_;
  std::atomic<uint64_t> next_context_{1};
  std::atomic<size_t> open_{0};
};

WsApi::WsApi(KeyDirectory& keys, auth::ReplayCache& replays, RateLimiter& limiter,
             userdata::UserStreamHub& users, Clock now_ms, WsApiOptions options)
    : impl_(std::make_shared<Impl>(keys, replays, limiter, users, std::move(now_ms), options)) {}

WsApi::~WsApi() = default;

RequestAuthenticator& WsApi::authenticator() { return *impl_; }
http::Router& WsApi::router() { return impl_->router(); }
void WsApi::Start() { impl_->Start(); }

std::expected<http::WsHandlers, http::Response> WsApi::Accept(
    const http::WsRequest& request, const std::shared_ptr<http::WsConnection>& connection) {
  return impl_->Accept(request, connection);
}

size_t WsApi::connections() const { return impl_->connections(); }

}  // namespace spotex::gateway::wsapi
