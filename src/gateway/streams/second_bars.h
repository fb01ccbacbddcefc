// One-second bars for <symbol>@kline_1s. MarketData keeps one-minute bars (every other interval
// is summed from them); a second is finer, so the hub keeps, per symbol, the bar of the latest
// second with trades and the last price, fed from the trade messages it publishes.
//
// Thread safety: every method may be called from any thread (one mutex).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/market/market_data.h"
#include "gateway/streams/encoder.h"

namespace spotex::gateway::streams {

class SecondBars {
 public:
  // Adds one trade of `symbol` (upper case); trades come in trade-id order. A trade older than
  // the current bar's second is ignored (it would belong to a bar already sent).
  void Add(const std::string& symbol, int64_t trade_id, const TradeFacts& trade);

  // The 1s bar containing `now_ms`, with the symbol's info from `market`: its trades, or, if it
  // has none, flat at the last price (0 before the first trade) with first/last id -1. nullopt =
  // the symbol is not registered in `market`.
  std::optional<MarketData::Kline> Current(const MarketData& market, std::string_view symbol,
                                           int64_t now_ms) const;

 private:
  struct Symbol {
    MarketData::Kline bar;  // the latest second with trades (info unset)
    int64_t last_price = 0;
  };
  mutable std::mutex mu_;
  std::map<std::string, Symbol, std::less<>> symbols_;  // only registered symbols trade
};

}  // namespace spotex::gateway::streams
