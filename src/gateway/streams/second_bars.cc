#include "gateway/streams/second_bars.h"

#include <algorithm>

namespace spotex::gateway::streams {

namespace {
int64_t SecondOf(int64_t ms) { return (ms >= 0 ? ms / 1000 : (ms - 999) / 1000) * 1000; }
}  // namespace

void SecondBars::Add(const std::string& symbol, int64_t trade_id, const TradeFacts& t) {
  std::lock_guard lock(mu_);
  Symbol& s = symbols_[symbol];
  const int64_t second = SecondOf(t.time_ms);
  MarketData::Kline& b = s.bar;
  if (b.trades > 0 && second < b.open_time) return;
  if (b.trades == 0 || second > b.open_time) {
    b = MarketData::Kline{};
    b.open_time = second;
    b.close_time = second + 999;
    b.open = b.high = b.low = t.price;
    b.first_id = trade_id;
  }
  b.high = std::max(b.high, t.price);
  b.low = std::min(b.low, t.price);
  b.close = t.price;
  b.volume += t.qty;
  b.quote_volume += t.quote_qty;
  if (!t.buyer_maker) {  // the taker bought
    b.taker_buy_volume += t.qty;
    b.taker_buy_quote += t.quote_qty;
  }
  ++b.trades;
  b.last_id = trade_id;
  s.last_price = t.price;
}

std::optional<MarketData::Kline> SecondBars::Current(const MarketData& market,
                                                     std::string_view symbol,
                                                     int64_t now_ms) const {
  // The minute bar's call gives the symbol's info (and says whether it is registered).
  auto minute = market.CurrentKline(symbol, 60'000, now_ms);
  if (!minute) return std::nullopt;
  const int64_t second = SecondOf(now_ms);
  MarketData::Kline k;
  {
    std::lock_guard lock(mu_);
    auto it = symbols_.find(symbol);
    if (it != symbols_.end() && it->second.bar.trades > 0 && it->second.bar.open_time == second) {
      k = it->second.bar;
    } else {
      k.open_time = second;
      k.close_time = second + 999;
      k.open = k.high = k.low = k.close = it != symbols_.end() ? it->second.last_price : 0;
    }
  }
  k.info = minute->info;
  return k;
}

}  // namespace spotex::gateway::streams
