// The gateway's historical queries (issue 6 §2), served from the PostgreSQL history schema that
// spotex-recorder fills (db/migrations/0002_history.sql, docs/history-queries.md): allOrders,
// myTrades, GET order of orders no longer open, order lists, myPreventedMatches,
// historicalTrades, aggTrades and klines beyond what the gateway's memory holds.
//
// What it is: a set of bounded, parameterised SELECTs over a db::PgPool (normally a read
// replica, `--history-pg-host/--history-pg-port`) that return the gateway's own record types
// (OrderRecord, TradeRecord, OrderListRecord of gateway/trading/account_history.h), so the
// existing JSON writers are reused, plus a small bounded pool of threads that runs them off the
// HTTP I/O threads (Submit).
//
// Binance's selection (BINANCE_API.md §1 "Ordering"), used by every paged query here:
// - `from_id` set: the oldest `limit` items with id >= from_id;
// - else `start_ms` set: the oldest `limit` items with time >= start_ms (and <= end_ms if set);
// - else: the newest `limit` items (with time <= end_ms if set).
// Results are always in ascending (chronological) order. Validating the combinations of
// parameters (-1127, -1128, ...) is the HTTP layer's job; this layer bounds `limit` to
// [1, kLimitMax] whatever it is given.
//
// Every query names the caller's account in its WHERE clause (account_id = $1): another user's
// rows are never returned. Each statement is bounded by the pool's statement_timeout (the
// gateway configures it) and by its LIMIT.
//
// The recorder lags the engine a little: callers merge these results with the gateway's live
// state and its in-memory AccountHistory (MergeOrders, MergeTrades, MergeLists below).
//
// Thread-safety: every method is thread-safe (each query borrows its own connection).
// Lifetime: the pool must outlive the store; the destructor runs the tasks still queued and
// joins the threads.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <expected>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "db/pool.h"
#include "engine/types.h"
#include "gateway/trading/account_history.h"

namespace spotex::gateway {

struct HistoryOptions {
  size_t threads = 2;       // query threads (1..16)
  size_t queue_max = 1000;  // tasks waiting beyond the running ones; more are refused
  size_t agg_trades_scanned_max = 20'000;  // trades read to build one aggTrades page
};

// A failed query (connection, timeout, ...): the message is for logs, never for clients.
template <typename T>
using HistoryResult = std::expected<T, std::string>;

struct HistoryPage {
  std::optional<int64_t> from_id;
  std::optional<int64_t> start_ms, end_ms;  // inclusive
  size_t limit = 500;
};

// One match that self-trade prevention stopped (myPreventedMatches).
struct PreventedMatchRecord {
  int64_t prevented_match_id = 0;
  int64_t time_ms = 0;
  uint32_t symbol = 0;
  engine::StpMode stp = engine::StpMode::kNone;
  int64_t taker_order_id = 0, maker_order_id = 0;
  int64_t price = 0, qty = 0;  // qty: the maker's prevented quantity
};

// One trade as the public sees it (historicalTrades).
struct PublicTradeRecord {
  int64_t id = 0, time_ms = 0, price = 0, qty = 0, quote_qty = 0;
  bool buyer_is_maker = false;
  int64_t taker_order_id = 0;
};

// Consecutive trades of one taker order at one price (aggTrades). id = first_id.
struct AggTradeRecord {
  int64_t id = 0, first_id = 0, last_id = 0, time_ms = 0, price = 0, qty = 0;
  bool buyer_is_maker = false;
};

// One kline bar (amounts in the symbol's units). A bar without trades has trades = 0 and
// first/last id -1.
struct BarRecord {
  int64_t open_time_ms = 0;
  int64_t open = 0, high = 0, low = 0, close = 0;
  int64_t volume = 0, quote_volume = 0, taker_buy_volume = 0, taker_buy_quote = 0;
  int64_t trades = 0, first_id = -1, last_id = -1;
};

class HistoryStore {
 public:
  static constexpr size_t kLimitMax = 1000;

  HistoryStore(db::PgPool& pool, HistoryOptions options = {});
  ~HistoryStore();
  HistoryStore(const HistoryStore&) = delete;
  HistoryStore& operator=(const HistoryStore&) = delete;

  // Runs `task` on a query thread; false (task dropped) when the queue is full or stopping.
  [[nodiscard]] bool Submit(std::function<void()> task);

  // allOrders: page.from_id is Binance's orderId (order id >= it).
  HistoryResult<std::vector<OrderRecord>> Orders(uint64_t account, uint32_t symbol,
                                                 const HistoryPage& page);
  // The order by id (non-zero) and/or client id (non-empty; the newest with that id). Both
  // given: they must name the same order.
  HistoryResult<std::optional<OrderRecord>> FindOrder(uint64_t account, uint32_t symbol,
                                                      int64_t order_id, std::string_view client_id);
  // The account's orders among `ids` (at most kLimitMax ids), by id.
  HistoryResult<std::vector<OrderRecord>> OrdersByIds(uint64_t account,
                                                      std::span<const int64_t> ids);
  // myTrades: page.from_id is a trade id; `order_id` keeps only that order's trades.
  HistoryResult<std::vector<TradeRecord>> Trades(uint64_t account, uint32_t symbol,
                                                 std::optional<int64_t> order_id,
                                                 const HistoryPage& page);
  // allOrderList: page.from_id is an order list id.
  HistoryResult<std::vector<OrderListRecord>> Lists(uint64_t account, const HistoryPage& page);
  HistoryResult<std::optional<OrderListRecord>> FindList(uint64_t account, int64_t order_list_id,
                                                         std::string_view list_client_order_id);
  // myPreventedMatches: by `prevented_match_id` alone, or by `order_id` (taker or maker) with
  // ids >= `from_prevented_match_id` if given; ascending, at most `limit`.
  HistoryResult<std::vector<PreventedMatchRecord>> PreventedMatches(
      uint64_t account, uint32_t symbol, std::optional<int64_t> prevented_match_id,
      std::optional<int64_t> order_id, std::optional<int64_t> from_prevented_match_id,
      size_t limit);

  // historicalTrades: from_id set: the oldest `limit` with id >= from_id; else the newest.
  HistoryResult<std::vector<PublicTradeRecord>> PublicTrades(uint32_t symbol,
                                                             std::optional<int64_t> from_id,
                                                             size_t limit);
  // aggTrades built from `trades` (AggregateTrades), selected by Binance's rule with from_id an
  // aggregate id (aggregates whose id >= from_id).
  HistoryResult<std::vector<AggTradeRecord>> AggTrades(uint32_t symbol, const HistoryPage& page);

  // The bars of `interval_ms` (> 0; weeks start on Monday) whose open time is in
  // [from_ms, to_ms), summed from klines_1m, with trades only, ascending: the first `limit`
  // when `ascending`, else the last `limit`.
  HistoryResult<std::vector<BarRecord>> Bars(uint32_t symbol, int64_t interval_ms, int64_t from_ms,
                                             int64_t to_ms, size_t limit, bool ascending);
  // The close of the last one-minute bar before `before_ms`; nullopt if none.
  HistoryResult<std::optional<int64_t>> CloseBefore(uint32_t symbol, int64_t before_ms);
  // Whether a one-minute bar opens at or after `from_ms`.
  HistoryResult<bool> AnyBarFrom(uint32_t symbol, int64_t from_ms);

 private:
  void Loop();

  db::PgPool& pool_;
  const HistoryOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;
};

// --- pure helpers (thread-safe) ---------------------------------------------------------------

// Groups `trades` (ascending ids, one symbol) into aggregate trades: a trade joins the previous
// aggregate when it has the same taker order and price and the next trade id. id = first id.
std::vector<AggTradeRecord> AggregateTrades(std::span<const PublicTradeRecord> trades);

// The newer state of one order: larger update time, then larger executed quantity, then a
// final status over an open one; `b` on a full tie.
const OrderRecord& NewerOrder(const OrderRecord& a, const OrderRecord& b);
// Unions by order id (newest state wins, NewerOrder), by id ascending.
std::vector<OrderRecord> MergeOrders(std::vector<OrderRecord> a, std::vector<OrderRecord> b);
// Unions by (trade id, side), by trade id ascending.
std::vector<TradeRecord> MergeTrades(std::vector<TradeRecord> a, std::vector<TradeRecord> b);
// Unions by list id (larger update time wins, `b` on a tie), by id ascending.
std::vector<OrderListRecord> MergeLists(std::vector<OrderListRecord> a,
                                        std::vector<OrderListRecord> b);

// Binance's klines over bars with trades (ascending, one interval), as the in-memory klines
// do it (market_data.cc): quiet intervals between two bars with trades become flat bars at the
// previous close; `prev_close` (the close before the first bar, if any) fills the quiet
// intervals from BarStart(start_ms) to the first bar. Keeps bars with open time in
// [BarStart(start_ms), end_ms] (start/end 0 = not sent); with a start the first `limit`, else
// the last `limit`. `fill_to_end`: quiet intervals after the last bar up to end_ms are filled
// too (a later bar exists).
std::vector<BarRecord> FillKlines(std::vector<BarRecord> bars, std::optional<int64_t> prev_close,
                                  int64_t interval_ms, int64_t start_ms, int64_t end_ms,
                                  size_t limit, bool fill_to_end);
// Start of the interval containing `t` (weeks start on Monday 1970-01-05); interval_ms > 0.
int64_t KlineStart(int64_t t, int64_t interval_ms);

// Binance JSON (BINANCE_API.md §7.2); scales are the symbol's base and quote scales.
std::string PublicTradesJson(std::span<const PublicTradeRecord> trades, int base_scale,
                             int quote_scale);
std::string AggTradesJson(std::span<const AggTradeRecord> aggs, int base_scale, int quote_scale);
std::string KlinesJson(std::span<const BarRecord> bars, int64_t interval_ms, int base_scale,
                       int quote_scale);
std::string PreventedMatchesJson(std::span<const PreventedMatchRecord> matches,
                                 std::string_view symbol, int base_scale, int quote_scale);

}  // namespace spotex::gateway
