#include "gateway/streams/periodic.h"

#include <simdjson.h>

#include <string_view>
#include <utility>

#include "core/decimal.h"

namespace spotex::gateway::streams {

namespace {

using Field = std::pair<std::string_view, std::string_view>;  // stream key, REST key

constexpr Field kTickerFields[] = {{"p", "priceChange"},      {"P", "priceChangePercent"},
                                   {"w", "weightedAvgPrice"}, {"x", "prevClosePrice"},
                                   {"c", "lastPrice"},        {"Q", "lastQty"},
                                   {"b", "bidPrice"},         {"B", "bidQty"},
                                   {"a", "askPrice"},         {"A", "askQty"},
                                   {"o", "openPrice"},        {"h", "highPrice"},
                                   {"l", "lowPrice"},         {"v", "volume"},
                                   {"q", "quoteVolume"},      {"O", "openTime"},
                                   {"C", "closeTime"},        {"F", "firstId"},
                                   {"L", "lastId"},           {"n", "count"}};
constexpr Field kMiniFields[] = {{"c", "lastPrice"}, {"o", "openPrice"}, {"h", "highPrice"},
                                 {"l", "lowPrice"},  {"v", "volume"},    {"q", "quoteVolume"}};
constexpr Field kRollingFields[] = {{"p", "priceChange"},      {"P", "priceChangePercent"},
                                    {"o", "openPrice"},        {"h", "highPrice"},
                                    {"l", "lowPrice"},         {"c", "lastPrice"},
                                    {"w", "weightedAvgPrice"}, {"v", "volume"},
                                    {"q", "quoteVolume"},      {"O", "openTime"},
                                    {"C", "closeTime"},        {"F", "firstId"},
                                    {"L", "lastId"},           {"n", "count"}};

// Re-keys MarketData's REST ticker JSON into the stream's event: {"e","E","s", fields...}.
// Fields the REST object lacks are left out. `traded` = the window has trades.
template <size_t N>
std::optional<std::string> Rekey(const std::string& rest, std::string_view event, int64_t now_ms,
                                 const Field (&fields)[N], bool* traded) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(rest).get(obj) != simdjson::SUCCESS) return std::nullopt;
  std::string_view symbol;
  if (obj["symbol"].get(symbol) != simdjson::SUCCESS) return std::nullopt;
  std::string out = "{\"e\":\"" + std::string(event) + "\",\"E\":" + std::to_string(now_ms) +
                    ",\"s\":\"" + std::string(symbol) + "\"";
  for (const auto& [key, rest_key] : fields) {
    simdjson::dom::element v;
    if (obj[rest_key].get(v) != simdjson::SUCCESS) continue;
    out += ",\"" + std::string(key) + "\":";
    if (v.is_string()) {
      out += '"' + std::string(std::string_view(v)) + '"';
    } else if (v.is_int64()) {
      out += std::to_string(int64_t(v));
    } else {
      return std::nullopt;  // MarketData writes only decimal strings and integers
    }
  }
  out += '}';
  if (traded != nullptr) {
    int64_t count = 0;
    *traded = obj["count"].get(count) == simdjson::SUCCESS && count > 0;
  }
  return out;
}

std::optional<std::string> SymbolTicker(const MarketData& market, std::string_view symbol,
                                        bool mini, int64_t now_ms, bool* traded) {
  auto rest = market.Ticker24h(symbol, now_ms, mini);
  if (!rest) return std::nullopt;
  return mini ? Rekey(*rest, "24hrMiniTicker", now_ms, kMiniFields, traded)
              : Rekey(*rest, "24hrTicker", now_ms, kTickerFields, traded);
}

std::optional<std::string> AllTickers(const MarketData& market, bool mini, int64_t now_ms) {
  std::string out = "[";
  for (const auto& name : market.SymbolNames()) {
    bool traded = false;
    auto t = SymbolTicker(market, name, mini, now_ms, &traded);
    if (!t || !traded) continue;
    if (out.size() > 1) out += ',';
    out += *t;
  }
  if (out.size() == 1) return std::nullopt;
  return out + "]";
}

void Quoted(std::string& out, int64_t units, int scale) {
  out += '"';
  out += core::FormatDecimal(units, scale);
  out += '"';
}

std::optional<std::string> KlineJson(const MarketData& market, const StreamKey& key,
                                     int64_t now_ms, const SecondBars* seconds) {
  std::optional<MarketData::Kline> k;
  if (key.param == "1s") {
    if (seconds == nullptr) return std::nullopt;
    k = seconds->Current(market, key.symbol, now_ms);
  } else if (auto interval_ms = MarketData::ParseInterval(key.param)) {
    k = market.CurrentKline(key.symbol, *interval_ms, now_ms);
  }
  if (!k) return std::nullopt;
  const int qs = k->info.quote_scale, bs = k->info.base_scale;
  std::string out = "{\"e\":\"kline\",\"E\":" + std::to_string(now_ms) + ",\"s\":\"" +
                    k->info.name + "\",\"k\":{\"t\":" + std::to_string(k->open_time) +
                    ",\"T\":" + std::to_string(k->close_time) + ",\"s\":\"" + k->info.name +
                    "\",\"i\":\"" + key.param + "\",\"f\":" + std::to_string(k->first_id) +
                    ",\"L\":" + std::to_string(k->last_id) + ",\"o\":";
  Quoted(out, k->open, qs);
  out += ",\"c\":";
  Quoted(out, k->close, qs);
  out += ",\"h\":";
  Quoted(out, k->high, qs);
  out += ",\"l\":";
  Quoted(out, k->low, qs);
  out += ",\"v\":";
  Quoted(out, k->volume, bs);
  out += ",\"n\":" + std::to_string(k->trades);
  out += now_ms >= k->close_time ? ",\"x\":true" : ",\"x\":false";
  out += ",\"q\":";
  Quoted(out, k->quote_volume, qs);
  out += ",\"V\":";
  Quoted(out, k->taker_buy_volume, bs);
  out += ",\"Q\":";
  Quoted(out, k->taker_buy_quote, qs);
  out += ",\"B\":\"0\"}}";
  return out;
}

std::optional<std::string> Payload(const MarketData& market, const StreamKey& key, int64_t now_ms,
                                   const SecondBars* seconds) {
  switch (key.kind) {
    case StreamKind::kPartialDepth: {
      const size_t levels = key.param.starts_with("5") ? 5 : key.param.starts_with("10") ? 10 : 20;
      return market.Depth(key.symbol, levels);
    }
    case StreamKind::kMiniTicker:
      return SymbolTicker(market, key.symbol, true, now_ms, nullptr);
    case StreamKind::kTicker:
      return SymbolTicker(market, key.symbol, false, now_ms, nullptr);
    case StreamKind::kRollingTicker: {
      const int64_t hour = 3'600'000;
      const int64_t window = key.param == "1h" ? hour : key.param == "4h" ? 4 * hour : 24 * hour;
      auto rest = market.RollingTicker(key.symbol, now_ms, window, false);
      if (!rest) return std::nullopt;
      return Rekey(*rest, key.param + "Ticker", now_ms, kRollingFields, nullptr);
    }
    case StreamKind::kKline:
      return KlineJson(market, key, now_ms, seconds);
    case StreamKind::kAllMiniTickers:
      return AllTickers(market, true, now_ms);
    case StreamKind::kAllTickers:
      return AllTickers(market, false, now_ms);
    default:
      return std::nullopt;
  }
}

}  // namespace

std::optional<StreamMessage> EncodePeriodic(const MarketData& market, const StreamKey& key,
                                            int64_t now_ms, const SecondBars* seconds) {
  auto raw = Payload(market, key, now_ms, seconds);
  if (!raw) return std::nullopt;
  StreamMessage m{key, std::move(*raw), ""};
  m.combined = Combined(m.key, m.raw);
  return m;
}

}  // namespace spotex::gateway::streams
