// The public market-data endpoints of /api/v3 (BINANCE_API.md §7.1-7.2): ping, time,
// exchangeInfo, depth, trades, historicalTrades, aggTrades, klines, uiKlines, avgPrice,
// ticker/24hr, ticker, ticker/price, ticker/bookTicker. Answered from the gateway's memory
// (MarketData and the symbol list read from the engine); no request reaches the engine.
//
// With a history store (SetHistory; issue 6 §2, docs/history-queries.md) the requests that
// reach beyond memory are answered from PostgreSQL on the store's threads: aggTrades with
// fromId/startTime/endTime, historicalTrades with a fromId older than memory holds, and klines
// (PostgreSQL's one-minute bars, with the last few minutes taken from memory when it has more
// trades, since the recorder lags the engine a little).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "gateway/history/history_store.h"
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

  // The PostgreSQL history for requests beyond memory (call before Register); null = none.
  // The store must outlive this API.
  void SetHistory(HistoryStore* store) { store_ = store; }

  // Adds every route to `router`.
  void Register(http::Router& router);

  // What a handler answers: `now`, or (when `later` is set) the answer `later` computes on the
  // history store's threads.
  struct Answer {
    http::Response now;
    std::function<http::Response()> later;
  };

 private:
  std::optional<SymbolRecord> Symbol(std::string_view name) const;
  Answer AggTrades(http::Params& p);
  Answer HistoricalTradesAnswer(http::Params& p);
  Answer KlinesAnswer(http::Params& p);
  // nullopt: the store failed.
  std::optional<http::Response> KlinesFromStore(const SymbolRecord& symbol, int64_t interval_ms,
                                                int64_t start_ms, int64_t end_ms, size_t limit);

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
  HistoryStore* store_ = nullptr;
};

}  // namespace spotex::gateway
