// Market data kept in the gateway's memory from the event stream (issue 4 §2): order books with
// their update ids, recent trades, one-minute bars (every kline interval is built from them),
// and the tickers derived from those. Seeded per symbol from the engine's `book` query (with its
// lastUpdateId); events at or below a book's update id are skipped, so a seed and the stream
// join without a gap or a double count.
//
// Thread safety: Apply (one writer: the event-stream subscription) and the readers (HTTP
// threads) may run concurrently; a shared mutex guards the state.
//
// Granularity: trades are kept (the last kTradesKept per symbol) and bars are one minute
// (the last kBarsKept, 8 days). The 24-hour and rolling-window tickers are computed from the
// bars of the window, so their open price and range are minute-granular — documented in
// docs/gateway-market-data.md — where Binance's are trade-granular.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/orders/new_order.h"
#include "proto/envelope.h"

namespace spotex::gateway {

class MarketData {
 public:
  static constexpr size_t kTradesKept = 1000;
  static constexpr size_t kBarsKept = 8 * 24 * 60;

  // Registers a symbol (from exchangeInfo) with its book snapshot: levels best first.
  struct Level {
    int64_t price, qty;
  };
  void AddSymbol(const SymbolInfo& info, int64_t last_update_id, const std::vector<Level>& bids,
                 const std::vector<Level>& asks);
  bool HasSymbol(std::string_view name) const;

  // Applies one command's events (in log order).
  void Apply(const proto::Envelope& envelope);

  // Binance JSON for each endpoint (BINANCE_API.md §7.2); nullopt = unknown symbol.
  std::optional<std::string> Depth(std::string_view symbol, size_t limit) const;
  std::optional<std::string> Trades(std::string_view symbol, size_t limit) const;
  std::optional<std::string> AggTrades(std::string_view symbol, size_t limit) const;
  // historicalTrades: trades with id >= from_id, oldest first, at most `limit`. Only the trades
  // this gateway holds can be served: when from_id is older than the oldest one held (and that
  // one is not the symbol's first trade), `not_held` is set and nothing is returned.
  std::optional<std::string> TradesFrom(std::string_view symbol, int64_t from_id, size_t limit,
                                        bool& not_held) const;
  // `interval_ms` one of the supported intervals (ParseInterval); start/end 0 = not sent.
  std::optional<std::string> Klines(std::string_view symbol, int64_t interval_ms, int64_t start_ms,
                                    int64_t end_ms, size_t limit) const;
  std::optional<std::string> Ticker24h(std::string_view symbol, int64_t now_ms, bool mini) const;
  std::optional<std::string> RollingTicker(std::string_view symbol, int64_t now_ms,
                                           int64_t window_ms, bool mini) const;
  std::optional<std::string> TickerPrice(std::string_view symbol) const;
  std::optional<std::string> BookTicker(std::string_view symbol) const;
  std::optional<std::string> AvgPrice(std::string_view symbol, int64_t now_ms, int mins) const;
  std::vector<std::string> SymbolNames() const;

  // The book's update id and best levels (for the real-time streams, src/gateway/streams);
  // nullopt = symbol id not registered. An empty side has no level.
  struct Top {
    SymbolInfo info;
    int64_t last_update_id = 0;
    std::optional<Level> bid, ask;
  };
  std::optional<Top> BookTop(engine::SymbolId symbol) const;

  // The bar of `interval_ms` (a ParseInterval value; 0 = calendar month) that contains now_ms,
  // summed from the one-minute bars (for the kline streams). A bar without trades is flat at
  // the previous close (0 if none) with first/last trade id -1. nullopt = unknown symbol.
  struct Kline {
    SymbolInfo info;
    int64_t open_time = 0, close_time = 0;  // close_time = the last millisecond of the bar
    int64_t open = 0, high = 0, low = 0, close = 0;
    int64_t volume = 0, quote_volume = 0, taker_buy_volume = 0, taker_buy_quote = 0;
    int64_t trades = 0, first_id = -1, last_id = -1;
  };
  std::optional<Kline> CurrentKline(std::string_view symbol, int64_t interval_ms,
                                    int64_t now_ms) const;

  // The open time of the first minute whose one-minute bar this gateway holds complete: the
  // minute after the first event it applied for the symbol (trades of the minute it started in
  // may be missing), later if old bars were dropped. 0 = nothing complete yet (no event since
  // the seed). Klines from this time on can be answered from memory alone.
  int64_t KlinesCompleteFrom(std::string_view symbol) const;

  // Kline interval ("1m".."1M") -> milliseconds; months are 0 (calendar months are not
  // supported yet: -1120). nullopt = not an interval.
  static std::optional<int64_t> ParseInterval(std::string_view s);

 private:
  struct Trade {
    int64_t id, price, qty, quote_qty, time;
    bool buyer_maker;
    int64_t taker_order;
  };
  struct Bar {
    int64_t open_time = 0;
    int64_t open = 0, high = 0, low = 0, close = 0;
    int64_t volume = 0, quote_volume = 0, taker_buy_volume = 0, taker_buy_quote = 0;
    int64_t trades = 0, first_id = 0, last_id = 0;
  };
  struct Book {
    SymbolInfo info;
    int64_t last_update_id = 0;
    std::map<int64_t, int64_t, std::greater<>> bids;  // best (highest) first
    std::map<int64_t, int64_t> asks;                  // best (lowest) first
    std::deque<Trade> trades;
    std::deque<Bar> bars;            // one-minute bars, oldest first, only minutes with trades
    int64_t bars_complete_from = 0;  // see KlinesCompleteFrom
  };

  const Book* Find(std::string_view symbol) const;
  // Trades [from, to) of `b` as a JSON array.
  static std::string TradesJson(const Book& b, size_t from, size_t to);
  // Sums the bars whose open time is in [from, to).
  Bar Window(const Book& b, int64_t from_ms, int64_t to_ms) const;
  std::string TickerJson(const Book& b, const Bar& w, int64_t open_ms, int64_t close_ms, bool mini,
                         int64_t prev_close) const;

  mutable std::shared_mutex mu_;
  std::map<std::string, Book, std::less<>> books_;
  std::map<engine::SymbolId, std::string> names_;
  size_t books_waiting_ = 0;  // books whose bars_complete_from is not set yet
};

}  // namespace spotex::gateway
