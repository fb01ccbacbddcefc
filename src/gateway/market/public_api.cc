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

// Like Serve, for handlers that may hand their work to the history store's threads.
void ServeAnswer(http::Request&& req, http::Responder respond, HistoryStore* store,
                 const std::function<PublicApi::Answer(Params&)>& body) {
  auto params = Params::FromRequest(req);
  if (!params) {
    respond(Fail(params.error()));
    return;
  }
  PublicApi::Answer a = body(*params);
  if (a.later || a.now.status == 200) {
    if (auto all = params->CheckAllRead(); !all) {
      respond(Fail(all.error()));
      return;
    }
  }
  if (!a.later) {
    respond(std::move(a.now));
    return;
  }
  auto shared = std::make_shared<http::Responder>(std::move(respond));
  if (store == nullptr ||
      !store->Submit([shared, later = std::move(a.later)] { shared->Send(later()); })) {
    shared->Send(Fail(http::errors::ServerBusy()));
  }
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
  auto add_answer = [&](const char* path, std::function<Answer(Params&)> fn) {
    auto handler = [this, fn = std::move(fn)](http::Request&& req, http::Responder respond) {
      ServeAnswer(std::move(req), std::move(respond), store_, fn);
    };
    (void)router.Add(M::kGet, path, handler);
  };
  add_answer("/api/v3/aggTrades", [this](Params& p) { return AggTrades(p); });
  add_answer("/api/v3/historicalTrades", [this](Params& p) { return HistoricalTradesAnswer(p); });
  add_answer("/api/v3/klines", [this](Params& p) { return KlinesAnswer(p); });
  add_answer("/api/v3/uiKlines", [this](Params& p) { return KlinesAnswer(p); });
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

std::optional<SymbolRecord> PublicApi::Symbol(std::string_view name) const {
  std::lock_guard lock(mu_);
  for (const auto& r : symbols_) {
    if (r.info.name == name) return r;
  }
  return std::nullopt;
}

PublicApi::Answer PublicApi::AggTrades(Params& p) {
  if (store_ == nullptr || !(p.Has("fromId") || p.Has("startTime") || p.Has("endTime"))) {
    return Answer{Trades(p, true), {}};
  }
  auto symbol = p.GetString("symbol");
  if (!symbol) return Answer{Fail(symbol.error()), {}};
  auto limit = Limit(p, 500, 1000);
  if (!limit) return Answer{Fail(limit.error()), {}};
  HistoryPage page;
  page.limit = *limit;
  auto from = p.GetOptionalLong("fromId");
  if (!from) return Answer{Fail(from.error()), {}};
  auto start = p.GetOptionalLong("startTime");
  if (!start) return Answer{Fail(start.error()), {}};
  auto end = p.GetOptionalLong("endTime");
  if (!end) return Answer{Fail(end.error()), {}};
  page.from_id = *from;
  page.start_ms = *start;
  page.end_ms = *end;
  if (page.from_id && (page.start_ms || page.end_ms)) {
    return Answer{Fail(Error{-1128, "Combination of optional parameters invalid.", 400}), {}};
  }
  if (page.start_ms && page.end_ms && *page.end_ms < *page.start_ms) {
    return Answer{Fail(Error{-1128, "Combination of optional parameters invalid.", 400}), {}};
  }
  auto rec = Symbol(*symbol);
  if (!rec) return Answer{Fail(InvalidSymbol()), {}};
  HistoryStore* store = store_;
  const SymbolInfo info = rec->info;
  return Answer{{}, [store, info, page] {
                  auto aggs = store->AggTrades(info.id, page);
                  if (!aggs) return Fail(http::errors::Unknown());
                  return Response::Json(200,
                                        AggTradesJson(*aggs, info.base_scale, info.quote_scale));
                }};
}

PublicApi::Answer PublicApi::HistoricalTradesAnswer(Params& p) {
  if (store_ == nullptr || !p.Has("fromId")) {
    return Answer{HistoricalTrades(p), {}};
  }
  auto symbol = p.GetString("symbol");
  if (!symbol) return Answer{Fail(symbol.error()), {}};
  auto limit = Limit(p, 500, 1000);
  if (!limit) return Answer{Fail(limit.error()), {}};
  auto from_id = p.GetOptionalLong("fromId");
  if (!from_id) return Answer{Fail(from_id.error()), {}};
  bool not_held = false;
  auto out = market_.TradesFrom(*symbol, from_id->value_or(0), *limit, not_held);
  if (!out) return Answer{Fail(InvalidSymbol()), {}};
  // Memory answers when it holds the trade from_id itself; otherwise (older than memory, or
  // memory empty since the gateway started) PostgreSQL does.
  if (!not_held && out->starts_with("[{\"id\":" + std::to_string(from_id->value_or(0)) + ",")) {
    return Answer{Response::Json(200, std::move(*out)), {}};
  }
  auto rec = Symbol(*symbol);
  if (!rec) return Answer{Fail(InvalidSymbol()), {}};
  HistoryStore* store = store_;
  const SymbolInfo info = rec->info;
  const int64_t from = from_id->value_or(0);
  const size_t n = *limit;
  return Answer{{}, [store, info, from, n] {
                  auto trades = store->PublicTrades(info.id, from, n);
                  if (!trades) return Fail(http::errors::Unknown());
                  return Response::Json(
                      200, PublicTradesJson(*trades, info.base_scale, info.quote_scale));
                }};
}

PublicApi::Answer PublicApi::KlinesAnswer(Params& p) {
  if (store_ == nullptr) return Answer{Klines(p), {}};
  auto symbol = p.GetString("symbol");
  if (!symbol) return Answer{Fail(symbol.error()), {}};
  auto interval_text = p.GetString("interval");
  if (!interval_text) return Answer{Fail(interval_text.error()), {}};
  auto interval = MarketData::ParseInterval(*interval_text);
  if (!interval) return Answer{Fail(Error{-1120, "Invalid interval.", 400}), {}};
  auto start = p.GetOptionalLong("startTime");
  if (!start) return Answer{Fail(start.error()), {}};
  auto end = p.GetOptionalLong("endTime");
  if (!end) return Answer{Fail(end.error()), {}};
  if (auto tz = p.GetOptionalString("timeZone"); tz && *tz != "0" && *tz != "+00:00") {
    return Answer{Fail(Error{-1130, "Data sent for parameter 'timeZone' is not valid.", 400}), {}};
  }
  auto limit = Limit(p, 500, 1000);
  if (!limit) return Answer{Fail(limit.error()), {}};
  if (*interval <= 0) {
    // Calendar months: memory only (as before).
    auto out = market_.Klines(*symbol, *interval, start->value_or(0), end->value_or(0), *limit);
    return Answer{out ? Response::Json(200, std::move(*out)) : Fail(InvalidSymbol()), {}};
  }
  auto rec = Symbol(*symbol);
  if (!rec) return Answer{Fail(InvalidSymbol()), {}};
  const SymbolRecord r = *rec;
  const int64_t iv = *interval, s = start->value_or(0), e = end->value_or(0);
  const size_t n = *limit;
  // The first bar the answer can hold: from startTime, else `limit` bars back from endTime or
  // now. When memory holds every minute from there on, it answers alone (no database trip).
  const int64_t last = KlineStart(e > 0 ? e : clock_(), iv);
  const int64_t first = s > 0 ? KlineStart(s, iv) : last - static_cast<int64_t>(n - 1) * iv;
  const int64_t held_from = market_.KlinesCompleteFrom(r.info.name);
  if (held_from > 0 && first >= held_from) {
    auto out = market_.Klines(r.info.name, iv, s, e, n);
    return Answer{out ? Response::Json(200, std::move(*out)) : Fail(InvalidSymbol()), {}};
  }
  return Answer{{}, [this, r, iv, s, e, n] {
                  if (auto from_store = KlinesFromStore(r, iv, s, e, n)) return *from_store;
                  // The history store is unreachable: what memory holds (the bars since this
                  // gateway started), as before there was a store, rather than no chart at all.
                  auto out = market_.Klines(r.info.name, iv, s, e, n);
                  return out ? Response::Json(200, std::move(*out)) : Fail(InvalidSymbol());
                }};
}

// PostgreSQL's bars, the recorder's last minutes completed from memory: for each of the last
// kRecentMinutes minutes the version with more trades (memory's or PostgreSQL's) counts.
std::optional<Response> PublicApi::KlinesFromStore(const SymbolRecord& symbol, int64_t interval_ms,
                                                   int64_t start_ms, int64_t end_ms, size_t limit) {
  constexpr int64_t kMinute = 60'000, kRecentMinutes = 5;
  const SymbolInfo& info = symbol.info;
  const int64_t now = clock_();
  const int64_t from = start_ms > 0 ? KlineStart(start_ms, interval_ms) : 0;
  const int64_t to = end_ms > 0 ? KlineStart(end_ms, interval_ms) + interval_ms : INT64_MAX;
  const int64_t cutoff = std::max(from, KlineStart(now, kMinute) - kRecentMinutes * kMinute);
  auto bars = store_->Bars(info.id, interval_ms, from, std::min(to, cutoff), limit, start_ms > 0);
  if (!bars) return std::nullopt;
  if (to > cutoff) {
    auto minutes = store_->Bars(info.id, kMinute, cutoff, to, 2 * kRecentMinutes, true);
    if (!minutes) return std::nullopt;
    for (int64_t m = cutoff; m < std::min(to, now + 1); m += kMinute) {
      BarRecord pick;
      for (const auto& b : *minutes) {
        if (b.open_time_ms == m) pick = b;
      }
      if (auto k = market_.CurrentKline(info.name, kMinute, m); k && k->trades > pick.trades) {
        pick = BarRecord{m,
                         k->open,
                         k->high,
                         k->low,
                         k->close,
                         k->volume,
                         k->quote_volume,
                         k->taker_buy_volume,
                         k->taker_buy_quote,
                         k->trades,
                         k->first_id,
                         k->last_id};
      }
      if (pick.trades == 0) continue;
      const int64_t open = KlineStart(m, interval_ms);
      if (!bars->empty() && bars->back().open_time_ms == open) {
        BarRecord& x = bars->back();
        x.high = std::max(x.high, pick.high);
        x.low = std::min(x.low, pick.low);
        x.close = pick.close;
        x.volume += pick.volume;
        x.quote_volume += pick.quote_volume;
        x.taker_buy_volume += pick.taker_buy_volume;
        x.taker_buy_quote += pick.taker_buy_quote;
        x.trades += pick.trades;
        x.last_id = pick.last_id;
      } else {
        pick.open_time_ms = open;
        bars->push_back(pick);
      }
    }
  }
  std::optional<int64_t> prev_close;
  if (start_ms > 0) {
    auto prev = store_->CloseBefore(info.id, from);
    if (!prev) return std::nullopt;
    prev_close = *prev;
  }
  bool fill_to_end = false;
  if (end_ms > 0 && to != INT64_MAX) {
    auto later = store_->AnyBarFrom(info.id, to);
    if (!later) return std::nullopt;
    fill_to_end = *later;
  }
  auto out =
      FillKlines(std::move(*bars), prev_close, interval_ms, start_ms, end_ms, limit, fill_to_end);
  return Response::Json(200, KlinesJson(out, interval_ms, info.base_scale, info.quote_scale));
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
