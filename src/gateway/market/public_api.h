// The public market-data endpoints of /api/v3 (BINANCE_API.md §7.1-7.2): ping, time,
// exchangeInfo, depth, trades, historicalTrades, aggTrades, klines, uiKlines, avgPrice, ticker/24hr, ticker,
// ticker/price, ticker/bookTicker. Answered from the gateway's memory (MarketData and the
// symbol list read from the engine); no request reaches the engine.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "gateway/http/params.h"
#include "gateway/http/router.h"
#include "gateway/market/engine_json.h"
#include "gateway/market/market_data.h"

namespace spotex::gateway {

class PublicApi {
 public:
  using Clock = std::function<int64_t()>;  // ms since the epoch
  PublicApi(MarketData& market, Clock clock) : market_(market), clock_(std::move(clock)) {}

  // Replaces the symbol list (exchangeInfo) — at start and when the markets change.
  void SetSymbols(std::vector<SymbolRecord> symbols);

  // The limits exchangeInfo announces (call before Register).
  void SetAnnouncedLimits(AnnouncedLimits limits) { limits_ = limits; }

  // Adds every route to `router`.
  void Register(http::Router& router);

 private:
  http::Response ExchangeInfo(http::Params& p);
  http::Response Depth(http::Params& p);
  http::Response Trades(http::Params& p, bool agg);
  http::Response HistoricalTrades(http::Params& p);
  http::Response Klines(http::Params& p);
  http::Response AvgPrice(http::Params& p);
  http::Response Ticker(http::Params& p, int kind);

  MarketData& market_;
  Clock clock_;
  mutable std::mutex mu_;
  std::vector<SymbolRecord> symbols_;
  AnnouncedLimits limits_;
};

}  // namespace spotex::gateway
