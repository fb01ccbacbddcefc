#include "gateway/market/public_api.h"

#include <simdjson.h>

#include "gateway/http/params.h"

namespace spotex::gateway {

namespace {

using http::Error;
using http::Params;
using http::Response;

Error InvalidSymbol() { return Error{-1121, "Invalid symbol.", 400}; }

Response Fail(const Error& e) { return Response::FromError(e); }

// `symbols=["A","B"]` as Binance takes it: a JSON array of names.
std::expected<std::vector<std::string>, Error> SymbolList(std::string_view json) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  simdjson::ondemand::array arr;
  std::vector<std::string> out;
  if (parser.iterate(padded).get(doc) || doc.get_array().get(arr)) {
    return std::unexpected(http::errors::IllegalCharacters("symbols", "[\"SYMBOL\",...]"));
  }
  for (auto v : arr) {
    std::string_view s;
    if (v.get_string().get(s) || s.empty() || s.size() > 20) {
      return std::unexpected(http::errors::IllegalCharacters("symbols", "[\"SYMBOL\",...]"));
    }
    out.emplace_back(s);
    if (out.size() > 100) return std::unexpected(http::errors::TooManyParameters());
  }
  return out;
}

// Runs `body` with the request's parameters; a parse error or unread parameter answers itself.
void Serve(http::Request&& req, http::Responder respond,
           const std::function<Response(Params&)>& body) {
  auto params = Params::FromRequest(req);
  if (!params) {
    respond(Fail(params.error()));
    return;
  }
  Response r = body(*params);
  if (r.status == 200) {
    if (auto all = params->CheckAllRead(); !all) r = Fail(all.error());
  }
  respond(std::move(r));
}

// The `limit` parameter: default, and Binance's clamp to the maximum... except that a value
// outside [1, max] is an error.
std::expected<size_t, Error> Limit(Params& p, int64_t def, int64_t max) {
  auto v = p.GetOptionalLong("limit", http::LongRange{1, max});
  if (!v) return std::unexpected(v.error());
  return static_cast<size_t>(v->value_or(def));
}

}  // namespace

void PublicApi::SetSymbols(std::vector<SymbolRecord> symbols) {
  std::lock_guard lock(mu_);
  symbols_ = std::move(symbols);
}

void PublicApi::Register(http::Router& router) {
  using M = http::Method;
  auto add = [&](const char* path, std::function<Response(Params&)> fn) {
    auto handler = [fn = std::move(fn)](http::Request&& req, http::Responder respond) {
      Serve(std::move(req), std::move(respond), fn);
    };
    (void)router.Add(M::kGet, path, handler);
  };
  add("/api/v3/ping", [](Params&) { return Response::Json(200, "{}"); });
  add("/api/v3/time", [this](Params&) {
    return Response::Json(200, "{\"serverTime\":" + std::to_string(clock_()) + "}");
  });
  add("/api/v3/exchangeInfo", [this](Params& p) { return ExchangeInfo(p); });
  add("/api/v3/depth", [this](Params& p) { return Depth(p); });
  add("/api/v3/trades", [this](Params& p) { return Trades(p, false); });
  add("/api/v3/aggTrades", [this](Params& p) { return Trades(p, true); });
  add("/api/v3/historicalTrades", [this](Params& p) { return HistoricalTrades(p); });
  add("/api/v3/klines", [this](Params& p) { return Klines(p); });
  add("/api/v3/uiKlines", [this](Params& p) { return Klines(p); });
  add("/api/v3/avgPrice", [this](Params& p) { return AvgPrice(p); });
  add("/api/v3/ticker/24hr", [this](Params& p) { return Ticker(p, 0); });
  add("/api/v3/ticker", [this](Params& p) { return Ticker(p, 1); });
  add("/api/v3/ticker/price", [this](Params& p) { return Ticker(p, 2); });
  add("/api/v3/ticker/bookTicker", [this](Params& p) { return Ticker(p, 3); });
}

Response PublicApi::ExchangeInfo(Params& p) {
  auto one = p.GetOptionalString("symbol");
  auto many = p.GetOptionalString("symbols");
  (void)p.GetOptionalString("permissions");  // spot only: every symbol is SPOT
  (void)p.GetOptionalString("showPermissionSets");
  (void)p.GetOptionalString("symbolStatus");
  std::vector<SymbolRecord> all;
  {
    std::lock_guard lock(mu_);
    all = symbols_;
  }
  if (!one && !many) return Response::Json(200, RenderExchangeInfo(all, clock_(), limits_));
  std::vector<std::string> wanted;
  if (one) wanted.emplace_back(*one);
  if (many) {
    auto list = SymbolList(*many);
    if (!list) return Fail(list.error());
    wanted.insert(wanted.end(), list->begin(), list->end());
  }
  std::vector<SymbolRecord> picked;
  for (const auto& name : wanted) {
    bool found = false;
    for (const auto& r : all) {
      if (r.info.name == name) {
        picked.push_back(r);
        found = true;
      }
    }
    if (!found) return Fail(InvalidSymbol());
  }
  return Response::Json(200, RenderExchangeInfo(picked, clock_(), limits_));
}

Response PublicApi::Depth(Params& p) {
  auto symbol = p.GetString("symbol");
  if (!symbol) return Fail(symbol.error());
  auto limit = Limit(p, 100, 5000);
  if (!limit) return Fail(limit.error());
  auto out = market_.Depth(*symbol, *limit);
  return out ? Response::Json(200, std::move(*out)) : Fail(InvalidSymbol());
}

Response PublicApi::Trades(Params& p, bool agg) {
  auto symbol = p.GetString("symbol");
  if (!symbol) return Fail(symbol.error());
  auto limit = Limit(p, 500, 1000);
  if (!limit) return Fail(limit.error());
  if (agg) {
    // Only the most recent trades are in memory; range queries need the history store.
    for (const char* name : {"fromId", "startTime", "endTime"}) {
      if (p.Has(name)) {
        return Fail(Error{-1128,
                          "Combination of optional parameters invalid. '" + std::string(name) +
                              "' needs the trade history, which this gateway does not "
                              "serve yet.",
                          400});
      }
    }
  }
  auto out = agg ? market_.AggTrades(*symbol, *limit) : market_.Trades(*symbol, *limit);
  return out ? Response::Json(200, std::move(*out)) : Fail(InvalidSymbol());
}

// Binance's historicalTrades is MARKET_DATA: it needs an API key header but no signature. The
// header is not checked here (the data is public; @binance/spot sends its key on every call).
Response PublicApi::HistoricalTrades(Params& p) {
  auto symbol = p.GetString("symbol");
  if (!symbol) return Fail(symbol.error());
  auto limit = Limit(p, 500, 1000);
  if (!limit) return Fail(limit.error());
  auto from_id = p.GetOptionalLong("fromId");
  if (!from_id) return Fail(from_id.error());
  if (!*from_id) {
    auto out = market_.Trades(*symbol, *limit);
    return out ? Response::Json(200, std::move(*out)) : Fail(InvalidSymbol());
  }
  bool not_held = false;
  auto out = market_.TradesFrom(*symbol, **from_id, *limit, not_held);
  if (!out) return Fail(InvalidSymbol());
  if (not_held) {
    return Fail(Error{-1128,
                      "Combination of optional parameters invalid. Trades before the oldest one "
                      "this gateway holds need the trade history, which it does not serve yet.",
                      400});
  }
  return Response::Json(200, std::move(*out));
}

Response PublicApi::Klines(Params& p) {
  auto symbol = p.GetString("symbol");
  if (!symbol) return Fail(symbol.error());
  auto interval_text = p.GetString("interval");
  if (!interval_text) return Fail(interval_text.error());
  auto interval = MarketData::ParseInterval(*interval_text);
  if (!interval) return Fail(Error{-1120, "Invalid interval.", 400});
  auto start = p.GetOptionalLong("startTime");
  if (!start) return Fail(start.error());
  auto end = p.GetOptionalLong("endTime");
  if (!end) return Fail(end.error());
  if (auto tz = p.GetOptionalString("timeZone"); tz && *tz != "0" && *tz != "+00:00") {
    return Fail(Error{-1130, "Data sent for parameter 'timeZone' is not valid.", 400});
  }
  auto limit = Limit(p, 500, 1000);
  if (!limit) return Fail(limit.error());
  auto out = market_.Klines(*symbol, *interval, start->value_or(0), end->value_or(0), *limit);
  return out ? Response::Json(200, std::move(*out)) : Fail(InvalidSymbol());
}

Response PublicApi::AvgPrice(Params& p) {
  auto symbol = p.GetString("symbol");
  if (!symbol) return Fail(symbol.error());
  int mins = 5;
  {
    std::lock_guard lock(mu_);
    for (const auto& r : symbols_) {
      if (r.info.name == *symbol) mins = static_cast<int>(r.avg_price_mins);
    }
  }
  auto out = market_.AvgPrice(*symbol, clock_(), mins);
  return out ? Response::Json(200, std::move(*out)) : Fail(InvalidSymbol());
}

// kind: 0 ticker/24hr, 1 ticker (rolling window), 2 ticker/price, 3 ticker/bookTicker.
Response PublicApi::Ticker(Params& p, int kind) {
  auto one = p.GetOptionalString("symbol");
  auto many = p.GetOptionalString("symbols");
  bool mini = false;
  if (kind <= 1) {
    if (auto type = p.GetOptionalString("type")) {
      if (*type == "MINI") {
        mini = true;
      } else if (*type != "FULL") {
        return Fail(http::errors::IllegalCharacters("type", "FULL, MINI"));
      }
    }
  }
  int64_t window_ms = 24 * 3'600'000LL;
  if (kind == 1) {
    if (auto w = p.GetOptionalString("windowSize")) {
      // 1m..59m, 1h..23h, 1d..7d
      int64_t n = 0;
      size_t i = 0;
      while (i < w->size() && (*w)[i] >= '0' && (*w)[i] <= '9' && i < 3)
        n = n * 10 + ((*w)[i++] - '0');
      std::string_view unit = w->substr(i);
      int64_t ms = 0;
      if (unit == "m" && n >= 1 && n <= 59) ms = n * 60'000;
      if (unit == "h" && n >= 1 && n <= 23) ms = n * 3'600'000;
      if (unit == "d" && n >= 1 && n <= 7) ms = n * 86'400'000;
      if (ms == 0)
        return Fail(Error{-1130, "Data sent for parameter 'windowSize' is not valid.", 400});
      window_ms = ms;
    }
  }
  std::vector<std::string> names;
  bool array = true;
  if (one && many) return Fail(Error{-1128, "Combination of optional parameters invalid.", 400});
  if (one) {
    names.emplace_back(*one);
    array = false;
  } else if (many) {
    auto list = SymbolList(*many);
    if (!list) return Fail(list.error());
    names = std::move(*list);
  } else {
    if (kind == 1) return Fail(http::errors::MandatoryParameter("symbol"));
    names = market_.SymbolNames();
  }
  const int64_t now = clock_();
  std::string out = array ? "[" : "";
  for (size_t i = 0; i < names.size(); ++i) {
    std::optional<std::string> t;
    switch (kind) {
      case 0:
        t = market_.Ticker24h(names[i], now, mini);
        break;
      case 1:
        t = market_.RollingTicker(names[i], now, window_ms, mini);
        break;
      case 2:
        t = market_.TickerPrice(names[i]);
        break;
      default:
        t = market_.BookTicker(names[i]);
        break;
    }
    if (!t) return Fail(InvalidSymbol());
    if (i > 0) out += ',';
    out += *t;
  }
  if (array) out += ']';
  return Response::Json(200, std::move(out));
}

}  // namespace spotex::gateway
