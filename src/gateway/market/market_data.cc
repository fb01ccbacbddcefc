#include "gateway/market/market_data.h"

#include <algorithm>
#include <mutex>

#include "core/decimal.h"
#include "engine/event.h"

namespace spotex::gateway {

namespace {

constexpr int64_t kMinute = 60'000;
constexpr int64_t kDay = 24 * 60 * kMinute;

std::string Dec(int64_t units, int scale) { return core::FormatDecimal(units, scale); }

void Quoted(std::string& out, int64_t units, int scale) {
  out += '"';
  out += Dec(units, scale);
  out += '"';
}

int64_t Pow10(int n) {
  int64_t p = 1;
  while (n-- > 0) p *= 10;
  return p;
}

// Days since 1970-01-01 of a civil date, and back (proleptic Gregorian; H. Hinnant's method).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}
void CivilFromDays(int64_t z, int64_t* y, unsigned* m) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

// Start of the bar of `interval_ms` (0 = one calendar month) that contains t.
int64_t BarStart(int64_t t, int64_t interval_ms) {
  if (interval_ms == 0) {
    int64_t days = t >= 0 ? t / kDay : (t - kDay + 1) / kDay;
    int64_t y;
    unsigned m;
    CivilFromDays(days, &y, &m);
    return DaysFromCivil(y, m, 1) * kDay;
  }
  if (interval_ms == 7 * kDay) {  // weeks start on Monday; 1970-01-05 was one
    const int64_t monday = 4 * kDay;
    int64_t k = t - monday;
    return monday + (k >= 0 ? k / interval_ms : (k - interval_ms + 1) / interval_ms) * interval_ms;
  }
  return (t >= 0 ? t / interval_ms : (t - interval_ms + 1) / interval_ms) * interval_ms;
}

int64_t BarEnd(int64_t start, int64_t interval_ms) {
  if (interval_ms == 0) {
    int64_t y;
    unsigned m;
    CivilFromDays(start / kDay, &y, &m);
    if (++m > 12) {
      m = 1;
      ++y;
    }
    return DaysFromCivil(y, m, 1) * kDay;
  }
  return start + interval_ms;
}

}  // namespace

std::optional<int64_t> MarketData::ParseInterval(std::string_view s) {
  static constexpr std::pair<std::string_view, int64_t> kIntervals[] = {
      {"1m", kMinute},       {"3m", 3 * kMinute},    {"5m", 5 * kMinute},
      {"15m", 15 * kMinute}, {"30m", 30 * kMinute},  {"1h", 60 * kMinute},
      {"2h", 120 * kMinute}, {"4h", 240 * kMinute},  {"6h", 360 * kMinute},
      {"8h", 480 * kMinute}, {"12h", 720 * kMinute}, {"1d", kDay},
      {"3d", 3 * kDay},      {"1w", 7 * kDay},       {"1M", 0}};
  for (const auto& [name, ms] : kIntervals) {
    if (s == name) return ms;
  }
  return std::nullopt;
}

void MarketData::AddSymbol(const SymbolInfo& info, int64_t last_update_id,
                           const std::vector<Level>& bids, const std::vector<Level>& asks) {
  std::unique_lock lock(mu_);
  Book& b = books_[info.name];
  b.info = info;
  b.last_update_id = last_update_id;
  b.bids.clear();
  b.asks.clear();
  for (const auto& l : bids) b.bids[l.price] = l.qty;
  for (const auto& l : asks) b.asks[l.price] = l.qty;
  names_[info.id] = info.name;
  if (b.bars_complete_from == 0) ++books_waiting_;
}

bool MarketData::HasSymbol(std::string_view name) const {
  std::shared_lock lock(mu_);
  return books_.contains(name);
}

std::vector<std::string> MarketData::SymbolNames() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, b] : books_) out.push_back(name);
  return out;
}

std::optional<MarketData::Top> MarketData::BookTop(engine::SymbolId symbol) const {
  std::shared_lock lock(mu_);
  auto n = names_.find(symbol);
  if (n == names_.end()) return std::nullopt;
  const Book* b = Find(n->second);
  if (b == nullptr) return std::nullopt;
  Top top{b->info, b->last_update_id, std::nullopt, std::nullopt};
  if (!b->bids.empty()) top.bid = Level{b->bids.begin()->first, b->bids.begin()->second};
  if (!b->asks.empty()) top.ask = Level{b->asks.begin()->first, b->asks.begin()->second};
  return top;
}

std::optional<MarketData::Kline> MarketData::CurrentKline(std::string_view symbol,
                                                          int64_t interval_ms,
                                                          int64_t now_ms) const {
  std::shared_lock lock(mu_);
  const Book* b = Find(symbol);
  if (b == nullptr) return std::nullopt;
  Kline k;
  k.info = b->info;
  k.open_time = BarStart(now_ms, interval_ms);
  k.close_time = BarEnd(k.open_time, interval_ms) - 1;
  int64_t prev_close = 0;
  for (const Bar& m : b->bars) {
    if (m.open_time < k.open_time) {
      prev_close = m.close;
      continue;
    }
    if (m.open_time > k.close_time) break;
    if (k.trades == 0) {
      k.open = k.high = k.low = m.open;
      k.first_id = m.first_id;
    }
    k.high = std::max(k.high, m.high);
    k.low = std::min(k.low, m.low);
    k.close = m.close;
    k.volume += m.volume;
    k.quote_volume += m.quote_volume;
    k.taker_buy_volume += m.taker_buy_volume;
    k.taker_buy_quote += m.taker_buy_quote;
    k.trades += m.trades;
    k.last_id = m.last_id;
  }
  if (k.trades == 0) k.open = k.high = k.low = k.close = prev_close;
  return k;
}

const MarketData::Book* MarketData::Find(std::string_view symbol) const {
  auto it = books_.find(symbol);
  return it == books_.end() ? nullptr : &it->second;
}

int64_t MarketData::KlinesCompleteFrom(std::string_view symbol) const {
  std::shared_lock lock(mu_);
  const Book* b = Find(symbol);
  return b ? b->bars_complete_from : 0;
}

void MarketData::Apply(const proto::Envelope& envelope) {
  std::unique_lock lock(mu_);
  // Symbols seeded since the last event see events from now on: their bars are complete from
  // the next minute.
  if (books_waiting_ > 0) {
    for (auto& [name, b] : books_) {
      if (b.bars_complete_from == 0) {
        b.bars_complete_from = BarStart(envelope.header().time_ms, kMinute) + kMinute;
      }
    }
    books_waiting_ = 0;
  }
  for (auto r = envelope.reader(); !r.Done(); r.Next()) {
    if (const auto* l = r.If<engine::BookLevel>()) {
      auto n = names_.find(l->symbol);
      if (n == names_.end()) continue;
      Book& b = books_[n->second];
      if (l->update_id <= b.last_update_id) continue;  // already in the seed
      b.last_update_id = l->update_id;
      if (l->side == engine::Side::kBuy) {
        if (l->qty.v == 0) {
          b.bids.erase(l->price.v);
        } else {
          b.bids[l->price.v] = l->qty.v;
        }
      } else {
        if (l->qty.v == 0) {
          b.asks.erase(l->price.v);
        } else {
          b.asks[l->price.v] = l->qty.v;
        }
      }
    } else if (const auto* t = r.If<engine::Trade>()) {
      auto n = names_.find(t->symbol);
      if (n == names_.end()) continue;
      Book& b = books_[n->second];
      if (!b.trades.empty() && t->trade_id <= b.trades.back().id) continue;  // seen
      b.trades.push_back(Trade{t->trade_id, t->price.v, t->qty.v, t->quote_qty.v, t->time_ms,
                               t->buyer_is_maker,
                               t->buyer_is_maker ? t->seller_order_id : t->buyer_order_id});
      if (b.trades.size() > kTradesKept) b.trades.pop_front();
      const int64_t minute = BarStart(t->time_ms, kMinute);
      if (b.bars.empty() || minute > b.bars.back().open_time) {
        Bar bar;
        bar.open_time = minute;
        bar.open = bar.high = bar.low = t->price.v;
        bar.first_id = t->trade_id;
        b.bars.push_back(bar);
        if (b.bars.size() > kBarsKept) {
          b.bars_complete_from = std::max(b.bars_complete_from, b.bars.front().open_time + kMinute);
          b.bars.pop_front();
        }
      }
      Bar& bar = b.bars.back();
      bar.high = std::max(bar.high, t->price.v);
      bar.low = std::min(bar.low, t->price.v);
      bar.close = t->price.v;
      bar.volume += t->qty.v;
      bar.quote_volume += t->quote_qty.v;
      if (!t->buyer_is_maker) {  // the taker bought
        bar.taker_buy_volume += t->qty.v;
        bar.taker_buy_quote += t->quote_qty.v;
      }
      ++bar.trades;
      bar.last_id = t->trade_id;
    }
  }
}

std::optional<std::string> MarketData::Depth(std::string_view symbol, size_t limit) const {
  std::shared_lock lock(mu_);
  const Book* b = Find(symbol);
  if (b == nullptr) return std::nullopt;
  const int qs = b->info.quote_scale, bs = b->info.base_scale;
  std::string out = "{\"lastUpdateId\":" + std::to_string(b->last_update_id);
  auto side = [&](const char* key, const auto& levels) {
    out += ",\"";
    out += key;
    out += "\":[";
    size_t n = 0;
    for (const auto& [price, qty] : levels) {
      if (n == limit) break;
      if (n++ > 0) out += ',';
      out += '[';
      Quoted(out, price, qs);
      out += ',';
      Quoted(out, qty, bs);
      out += ']';
    }
    out += ']';
  };
  side("bids", b->bids);
  side("asks", b->asks);
  out += '}';
  return out;
}

std::string MarketData::TradesJson(const Book& b, size_t from, size_t to) {
  const int qs = b.info.quote_scale, bs = b.info.base_scale;
  std::string out = "[";
  for (size_t i = from; i < to; ++i) {
    const Trade& t = b.trades[i];
    if (i > from) out += ',';
    out += "{\"id\":" + std::to_string(t.id) + ",\"price\":";
    Quoted(out, t.price, qs);
    out += ",\"qty\":";
    Quoted(out, t.qty, bs);
    out += ",\"quoteQty\":";
    Quoted(out, t.quote_qty, qs);
    out += ",\"time\":" + std::to_string(t.time);
    out += t.buyer_maker ? ",\"isBuyerMaker\":true" : ",\"isBuyerMaker\":false";
    out += ",\"isBestMatch\":true}";
  }
  out += ']';
  return out;
}

std::optional<std::string> MarketData::Trades(std::string_view symbol, size_t limit) const {
  std::shared_lock lock(mu_);
  const Book* b = Find(symbol);
  if (b == nullptr) return std::nullopt;
  size_t from = b->trades.size() > limit ? b->trades.size() - limit : 0;
  return TradesJson(*b, from, b->trades.size());
}

std::optional<std::string> MarketData::TradesFrom(std::string_view symbol, int64_t from_id,
                                                  size_t limit, bool& not_held) const {
  not_held = false;
  std::shared_lock lock(mu_);
  const Book* b = Find(symbol);
  if (b == nullptr) return std::nullopt;
  if (b->trades.empty() || from_id > b->trades.back().id) return std::string("[]");
  if (from_id < b->trades.front().id && b->trades.front().id > 1) {
    not_held = true;
    return std::string();
  }
  size_t from = 0;
  while (from < b->trades.size() && b->trades[from].id < from_id) ++from;
  return TradesJson(*b, from, std::min(b->trades.size(), from + limit));
}

std::optional<std::string> MarketData::AggTrades(std::string_view symbol, size_t limit) const {
  std::shared_lock lock(mu_);
  const Book* b = Find(symbol);
  if (b == nullptr) return std::nullopt;
  // Fills of one taker order at one price form one aggregate trade, id = its first trade id.
  struct Agg {
    int64_t first, last, price, qty, time;
    bool buyer_maker;
  };
  std::vector<Agg> aggs;
  for (size_t i = 0; i < b->trades.size(); ++i) {
    const Trade& t = b->trades[i];
    if (i > 0 && aggs.back().price == t.price && aggs.back().last + 1 == t.id &&
        b->trades[i - 1].taker_order == t.taker_order) {
      aggs.back().last = t.id;
      aggs.back().qty += t.qty;
    } else {
      aggs.push_back(Agg{t.id, t.id, t.price, t.qty, t.time, t.buyer_maker});
    }
  }
  const int qs = b->info.quote_scale, bs = b->info.base_scale;
  std::string out = "[";
  size_t from = aggs.size() > limit ? aggs.size() - limit : 0;
  for (size_t i = from; i < aggs.size(); ++i) {
    const Agg& a = aggs[i];
    if (i > from) out += ',';
    out += "{\"a\":" + std::to_string(a.first) + ",\"p\":";
    Quoted(out, a.price, qs);
    out += ",\"q\":";
    Quoted(out, a.qty, bs);
    out += ",\"f\":" + std::to_string(a.first) + ",\"l\":" + std::to_string(a.last) +
           ",\"T\":" + std::to_string(a.time);
    out += a.buyer_maker ? ",\"m\":true" : ",\"m\":false";
    out += ",\"M\":true}";
  }
  out += ']';
  return out;
}

std::optional<std::string> MarketData::Klines(std::string_view symbol, int64_t interval_ms,
                                              int64_t start_ms, int64_t end_ms,
                                              size_t limit) const {
  std::shared_lock lock(mu_);
  const Book* b = Find(symbol);
  if (b == nullptr) return std::nullopt;
  // Merge the one-minute bars into bars of the interval, then fill the quiet intervals between
  // them with flat bars at the previous close (as Binance's klines are continuous).
  std::vector<Bar> bars;
  for (const Bar& m : b->bars) {
    int64_t start = BarStart(m.open_time, interval_ms);
    if (!bars.empty() && bars.back().open_time == start) {
      Bar& x = bars.back();
      x.high = std::max(x.high, m.high);
      x.low = std::min(x.low, m.low);
      x.close = m.close;
      x.volume += m.volume;
      x.quote_volume += m.quote_volume;
      x.taker_buy_volume += m.taker_buy_volume;
      x.taker_buy_quote += m.taker_buy_quote;
      x.trades += m.trades;
      x.last_id = m.last_id;
      continue;
    }
    while (!bars.empty() && BarEnd(bars.back().open_time, interval_ms) < start) {
      Bar flat;
      flat.open_time = BarEnd(bars.back().open_time, interval_ms);
      flat.open = flat.high = flat.low = flat.close = bars.back().close;
      bars.push_back(flat);
    }
    Bar x = m;
    x.open_time = start;
    bars.push_back(x);
  }
  std::vector<const Bar*> picked;
  for (const Bar& x : bars) {
    if (start_ms > 0 && x.open_time < BarStart(start_ms, interval_ms)) continue;
    if (end_ms > 0 && x.open_time > end_ms) continue;
    picked.push_back(&x);
  }
  size_t from = 0, to = picked.size();
  if (picked.size() > limit) {
    if (start_ms > 0) {
      to = limit;  // from the start forwards
    } else {
      from = picked.size() - limit;  // the most recent
    }
  }
  const int qs = b->info.quote_scale, bs = b->info.base_scale;
  std::string out = "[";
  for (size_t i = from; i < to; ++i) {
    const Bar& x = *picked[i];
    if (i > from) out += ',';
    out += '[' + std::to_string(x.open_time) + ',';
    Quoted(out, x.open, qs);
    out += ',';
    Quoted(out, x.high, qs);
    out += ',';
    Quoted(out, x.low, qs);
    out += ',';
    Quoted(out, x.close, qs);
    out += ',';
    Quoted(out, x.volume, bs);
    out += ',' + std::to_string(BarEnd(x.open_time, interval_ms) - 1) + ',';
    Quoted(out, x.quote_volume, qs);
    out += ',' + std::to_string(x.trades) + ',';
    Quoted(out, x.taker_buy_volume, bs);
    out += ',';
    Quoted(out, x.taker_buy_quote, qs);
    out += ",\"0\"]";
  }
  out += ']';
  return out;
}

MarketData::Bar MarketData::Window(const Book& b, int64_t from_ms, int64_t to_ms) const {
  Bar w;
  bool any = false;
  for (const Bar& m : b.bars) {
    if (m.open_time < BarStart(from_ms, kMinute) || m.open_time >= to_ms) continue;
    if (!any) {
      w = m;
      any = true;
      continue;
    }
    w.high = std::max(w.high, m.high);
    w.low = std::min(w.low, m.low);
    w.close = m.close;
    w.volume += m.volume;
    w.quote_volume += m.quote_volume;
    w.trades += m.trades;
    w.last_id = m.last_id;
  }
  return w;
}

std::string MarketData::TickerJson(const Book& b, const Bar& w, int64_t open_ms, int64_t close_ms,
                                   bool mini, int64_t prev_close) const {
  const int qs = b.info.quote_scale, bs = b.info.base_scale;
  const bool traded = w.trades > 0;
  const int64_t last = traded ? w.close : 0;
  std::string out = "{\"symbol\":\"" + b.info.name + "\"";
  if (!mini) {
    const int64_t change = traded ? w.close - w.open : 0;
    // percent with 3 decimals: change / open * 100
    const int64_t pct_e3 =
        traded && w.open != 0
            ? static_cast<int64_t>(static_cast<__int128>(change) * 100'000 / w.open)
            : 0;
    const int64_t wavg =
        w.volume > 0
            ? static_cast<int64_t>(static_cast<__int128>(w.quote_volume) * Pow10(bs) / w.volume)
            : 0;
    out += ",\"priceChange\":";
    Quoted(out, change, qs);
    out += ",\"priceChangePercent\":";
    Quoted(out, pct_e3, 3);
    out += ",\"weightedAvgPrice\":";
    Quoted(out, wavg, qs);
    out += ",\"prevClosePrice\":";
    Quoted(out, prev_close, qs);
    out += ",\"lastPrice\":";
    Quoted(out, last, qs);
    out += ",\"lastQty\":";
    Quoted(out, traded && !b.trades.empty() ? b.trades.back().qty : 0, bs);
    auto bid = b.bids.begin();
    auto ask = b.asks.begin();
    out += ",\"bidPrice\":";
    Quoted(out, bid != b.bids.end() ? bid->first : 0, qs);
    out += ",\"bidQty\":";
    Quoted(out, bid != b.bids.end() ? bid->second : 0, bs);
    out += ",\"askPrice\":";
    Quoted(out, ask != b.asks.end() ? ask->first : 0, qs);
    out += ",\"askQty\":";
    Quoted(out, ask != b.asks.end() ? ask->second : 0, bs);
  }
  out += ",\"openPrice\":";
  Quoted(out, traded ? w.open : 0, qs);
  out += ",\"highPrice\":";
  Quoted(out, traded ? w.high : 0, qs);
  out += ",\"lowPrice\":";
  Quoted(out, traded ? w.low : 0, qs);
  if (mini) {
    out += ",\"lastPrice\":";
    Quoted(out, last, qs);
  }
  out += ",\"volume\":";
  Quoted(out, w.volume, bs);
  out += ",\"quoteVolume\":";
  Quoted(out, w.quote_volume, qs);
  out += ",\"openTime\":" + std::to_string(open_ms) + ",\"closeTime\":" + std::to_string(close_ms);
  out += ",\"firstId\":" + std::to_string(traded ? w.first_id : -1) +
         ",\"lastId\":" + std::to_string(traded ? w.last_id : -1) +
         ",\"count\":" + std::to_string(w.trades) + "}";
  return out;
}

std::optional<std::string> MarketData::RollingTicker(std::string_view symbol, int64_t now_ms,
                                                     int64_t window_ms, bool mini) const {
  std::shared_lock lock(mu_);
  const Book* b = Find(symbol);
  if (b == nullptr) return std::nullopt;
  const int64_t from = now_ms - window_ms;
  Bar w = Window(*b, from, now_ms + kMinute);
  int64_t prev_close = 0;
  for (const Bar& m : b->bars) {
    if (m.open_time < BarStart(from, kMinute)) prev_close = m.close;
  }
  return TickerJson(*b, w, from, now_ms, mini, prev_close);
}

std::optional<std::string> MarketData::Ticker24h(std::string_view symbol, int64_t now_ms,
                                                 bool mini) const {
  return RollingTicker(symbol, now_ms, kDay, mini);
}

std::optional<std::string> MarketData::TickerPrice(std::string_view symbol) const {
  std::shared_lock lock(mu_);
  const Book* b = Find(symbol);
  if (b == nullptr) return std::nullopt;
  std::string out = "{\"symbol\":\"" + b->info.name + "\",\"price\":";
  Quoted(out, b->trades.empty() ? 0 : b->trades.back().price, b->info.quote_scale);
  out += '}';
  return out;
}

std::optional<std::string> MarketData::BookTicker(std::string_view symbol) const {
  std::shared_lock lock(mu_);
  const Book* b = Find(symbol);
  if (b == nullptr) return std::nullopt;
  const int qs = b->info.quote_scale, bs = b->info.base_scale;
  auto bid = b->bids.begin();
  auto ask = b->asks.begin();
  std::string out = "{\"symbol\":\"" + b->info.name + "\",\"bidPrice\":";
  Quoted(out, bid != b->bids.end() ? bid->first : 0, qs);
  out += ",\"bidQty\":";
  Quoted(out, bid != b->bids.end() ? bid->second : 0, bs);
  out += ",\"askPrice\":";
  Quoted(out, ask != b->asks.end() ? ask->first : 0, qs);
  out += ",\"askQty\":";
  Quoted(out, ask != b->asks.end() ? ask->second : 0, bs);
  out += '}';
  return out;
}

std::optional<std::string> MarketData::AvgPrice(std::string_view symbol, int64_t now_ms,
                                                int mins) const {
  std::shared_lock lock(mu_);
  const Book* b = Find(symbol);
  if (b == nullptr) return std::nullopt;
  Bar w = Window(*b, now_ms - mins * kMinute, now_ms + kMinute);
  int64_t price = 0;
  if (w.volume > 0) {
    price = static_cast<int64_t>(static_cast<__int128>(w.quote_volume) * Pow10(b->info.base_scale) /
                                 w.volume);
  } else if (!b->trades.empty()) {
    price = b->trades.back().price;
  }
  std::string out = "{\"mins\":" + std::to_string(mins) + ",\"price\":";
  Quoted(out, price, b->info.quote_scale);
  out += ",\"closeTime\":" + std::to_string(b->trades.empty() ? 0 : b->trades.back().time) + '}';
  return out;
}

}  // namespace spotex::gateway
