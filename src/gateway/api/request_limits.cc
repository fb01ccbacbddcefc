#include "gateway/api/request_limits.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <utility>

namespace spotex::gateway {

namespace {

using http::Method;

std::optional<std::string_view> Param(const http::Params* params, std::string_view name) {
  if (params == nullptr) return std::nullopt;
  return params->Peek(name);
}

bool HasParam(const http::Params* params, std::string_view name) {
  return Param(params, name).has_value();
}

std::optional<int64_t> LongParam(const http::Params* params, std::string_view name) {
  auto text = Param(params, name);
  if (!text) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || p != text->data() + text->size()) return std::nullopt;
  return v;
}

// Entries of a `symbols=["A","B"]` array; 0 when absent or not an array.
int64_t SymbolCount(const http::Params* params) {
  auto text = Param(params, "symbols");
  if (!text || text->size() < 2 || text->front() != '[') return 0;
  int64_t commas = 0;
  bool any = false;
  for (char c : *text) {
    if (c == ',') ++commas;
    if (c != '[' && c != ']' && c != ' ') any = true;
  }
  return any ? commas + 1 : 0;
}

int DepthWeight(const http::Params* params) {
  int64_t limit = LongParam(params, "limit").value_or(100);
  if (limit <= 100) return 5;
  if (limit <= 500) return 25;
  if (limit <= 1000) return 50;
  return 250;
}

int Ticker24hWeight(const http::Params* params) {
  if (HasParam(params, "symbol")) return 2;
  int64_t n = SymbolCount(params);
  if (n == 0) return 80;
  if (n <= 20) return 2;
  if (n <= 100) return 40;
  return 80;
}

// Rolling-window and trading-day tickers: 4 per symbol, at most 200.
int PerSymbolTickerWeight(const http::Params* params) {
  if (HasParam(params, "symbol")) return 4;
  int64_t n = SymbolCount(params);
  if (n == 0) return 4;
  return static_cast<int>(std::min<int64_t>(4 * n, 200));
}

}  // namespace

bool IsRateLimitedPath(std::string_view path) { return path != "/health"; }

int RequestWeight(Method method, std::string_view path, const http::Params* params) {
  constexpr std::string_view kV3 = "/api/v3/";
  constexpr std::string_view kV1 = "/api/v1/";
  if (path.starts_with(kV1)) {
    std::string_view rest = path.substr(kV1.size());
    // Password checks cost the server tens of milliseconds each: make guessing expensive.
    if (method == Method::kPost && (rest == "users" || rest == "session")) return 100;
    return 1;
  }
  if (!path.starts_with(kV3)) return 1;
  std::string_view p = path.substr(kV3.size());
  if (p == "ping" || p == "time") return 1;
  if (p == "exchangeInfo") return 20;
  if (p == "depth") return DepthWeight(params);
  if (p == "trades" || p == "historicalTrades") return 25;
  if (p == "aggTrades") return 4;
  if (p == "klines" || p == "uiKlines" || p == "avgPrice") return 2;
  if (p == "ticker/24hr") return Ticker24hWeight(params);
  if (p == "ticker" || p == "ticker/tradingDay") return PerSymbolTickerWeight(params);
  if (p == "ticker/price" || p == "ticker/bookTicker") return HasParam(params, "symbol") ? 2 : 4;
  if (p == "order") {
    if (method == Method::kGet) return 4;
    return 1;  // POST and DELETE
  }
  if (p == "order/test") return Param(params, "computeCommissionRates") == "true" ? 20 : 1;
  if (p == "order/cancelReplace") return 1;
  if (p == "openOrders") {
    if (method == Method::kDelete) return 1;
    return HasParam(params, "symbol") ? 6 : 80;
  }
  if (p == "allOrders" || p == "account") return 20;
  if (p == "myTrades") return HasParam(params, "orderId") ? 5 : 20;
  if (p == "orderList/oco" || p == "orderList/oto" || p == "orderList/otoco") return 1;
  if (p == "orderList") return method == Method::kGet ? 4 : 1;
  if (p == "allOrderList") return 20;
  if (p == "myPreventedMatches") return HasParam(params, "preventedMatchId") ? 2 : 20;
  if (p == "openOrderList") return 6;
  if (p == "rateLimit/order") return 40;
  if (p == "account/commission") return 20;
  return 1;
}

int RequestWeight(const http::Request& request) {
  auto params = http::Params::FromRequest(request);
  return RequestWeight(request.method(), request.path(), params ? &*params : nullptr);
}

http::Handler WithRequestLimits(http::Handler inner, RateLimiter& limiter) {
  return [inner = std::move(inner), &limiter](http::Request&& request, http::Responder respond) {
    if (!IsRateLimitedPath(request.path())) {
      inner(std::move(request), std::move(respond));
      return;
    }
    LimitVerdict verdict = limiter.ChargeRequest(request.client_ip(), RequestWeight(request));
    if (!verdict.allowed) {
      http::Response response = http::Response::FromError(verdict.error);
      response.headers = std::move(verdict.headers);
      respond(std::move(response));
      return;
    }
    respond.AddHeaders(std::move(verdict.headers));
    inner(std::move(request), std::move(respond));
  };
}

}  // namespace spotex::gateway
