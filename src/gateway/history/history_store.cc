#include "gateway/history/history_store.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <utility>

#include "core/decimal.h"

namespace spotex::gateway {

namespace {

constexpr int64_t kDayMs = 86'400'000;

size_t Bound(size_t limit) { return std::clamp<size_t>(limit, 1, HistoryStore::kLimitMax); }

int64_t Num(const db::PgResult& r, int row, int col) {
  std::string_view t = r.Text(row, col);
  int64_t v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}
bool Flag(const db::PgResult& r, int row, int col) { return r.Text(row, col) == "t"; }

std::string Err(const db::PgError& e) {
  return e.sqlstate.empty() ? e.message : e.sqlstate + ": " + e.message;
}

// Whether a page takes the oldest items from a start point (else the newest ones).
bool Forward(const HistoryPage& p) { return p.from_id.has_value() || p.start_ms.has_value(); }

// --- orders ---

// Column list shared by the order queries; OrderFromRow reads it.
#define SPOTEX_ORDER_COLUMNS                                                               \
  "order_id, time_ms, account_id, symbol_id, order_list_id, client_order_id, side, type, " \
  "time_in_force, stp_mode, price, qty, quote_qty, stop_price, iceberg_qty, status, "      \
  "expiry_reason, working, COALESCE(working_time_ms, -1), executed_qty, cum_quote_qty, "   \
  "update_time_ms"

OrderRecord OrderFromRow(const db::PgResult& r, int i) {
  OrderRecord o;
  o.order_id = Num(r, i, 0);
  o.time_ms = Num(r, i, 1);
  o.account = static_cast<uint64_t>(Num(r, i, 2));
  o.symbol = static_cast<uint32_t>(Num(r, i, 3));
  o.order_list_id = Num(r, i, 4);
  o.client_order_id = std::string(r.Text(i, 5));
  o.side = static_cast<engine::Side>(Num(r, i, 6));
  o.type = static_cast<engine::OrderType>(Num(r, i, 7));
  o.tif = static_cast<engine::TimeInForce>(Num(r, i, 8));
  o.stp = static_cast<engine::StpMode>(Num(r, i, 9));
  o.price = Num(r, i, 10);
  o.qty = Num(r, i, 11);
  o.quote_qty = Num(r, i, 12);
  o.stop_price = Num(r, i, 13);
  o.iceberg_qty = Num(r, i, 14);
  o.status = static_cast<engine::OrderStatus>(Num(r, i, 15));
  o.reason = static_cast<engine::ExpiryReason>(Num(r, i, 16));
  o.working = Flag(r, i, 17);
  o.working_ms = Num(r, i, 18);
  o.executed_qty = Num(r, i, 19);
  o.cum_quote_qty = Num(r, i, 20);
  o.update_ms = Num(r, i, 21);
  return o;
}

constexpr const char* kOrdersAsc =
    "SELECT " SPOTEX_ORDER_COLUMNS
    " FROM orders WHERE account_id = $1 AND symbol_id = $2"
    " AND ($3::bigint IS NULL OR order_id >= $3) AND ($4::bigint IS NULL OR time_ms >= $4)"
    " AND ($5::bigint IS NULL OR time_ms <= $5) ORDER BY order_id LIMIT $6";
constexpr const char* kOrdersDesc =
    "SELECT " SPOTEX_ORDER_COLUMNS
    " FROM orders WHERE account_id = $1 AND symbol_id = $2"
    " AND ($3::bigint IS NULL OR order_id >= $3) AND ($4::bigint IS NULL OR time_ms >= $4)"
    " AND ($5::bigint IS NULL OR time_ms <= $5) ORDER BY order_id DESC LIMIT $6";
constexpr const char* kOrderById =
    "SELECT " SPOTEX_ORDER_COLUMNS
    " FROM orders WHERE account_id = $1 AND symbol_id = $2 AND order_id = $3 LIMIT 1";
constexpr const char* kOrderByClientId =
    "SELECT " SPOTEX_ORDER_COLUMNS
    " FROM orders WHERE account_id = $1 AND symbol_id = $2 AND client_order_id = $3"
    " ORDER BY order_id DESC LIMIT 1";
constexpr const char* kOrdersByIds =
    "SELECT " SPOTEX_ORDER_COLUMNS
    " FROM orders WHERE account_id = $1 AND order_id = ANY($2::bigint[]) ORDER BY order_id"
    " LIMIT 1000";

// --- fills ---

// commission_in_base: the commission's asset is the symbol's base asset (when the symbol is
// not in `symbols`, buyers pay in base, as the engine does).
#define SPOTEX_FILL_QUERY(ORDER)                                                               \
  "SELECT f.trade_id, f.symbol_id, f.order_id, f.order_list_id, f.price, f.qty, f.quote_qty, " \
  "f.commission, COALESCE(f.commission_asset = s.base_asset, f.is_buyer), f.time_ms, "         \
  "f.is_buyer, f.is_maker FROM fills f LEFT JOIN symbols s ON s.symbol_id = f.symbol_id "      \
  "WHERE f.account_id = $1 AND f.symbol_id = $2 AND ($3::bigint IS NULL OR f.order_id = $3) "  \
  "AND ($4::bigint IS NULL OR f.trade_id >= $4) AND ($5::bigint IS NULL OR f.time_ms >= $5) "  \
  "AND ($6::bigint IS NULL OR f.time_ms <= $6) ORDER BY " ORDER " LIMIT $7"

constexpr const char* kFillsAsc = SPOTEX_FILL_QUERY("f.trade_id, f.is_buyer");
constexpr const char* kFillsDesc = SPOTEX_FILL_QUERY("f.trade_id DESC, f.is_buyer DESC");

TradeRecord TradeFromRow(const db::PgResult& r, int i) {
  TradeRecord t;
  t.id = Num(r, i, 0);
  t.symbol = static_cast<uint32_t>(Num(r, i, 1));
  t.order_id = Num(r, i, 2);
  t.order_list_id = Num(r, i, 3);
  t.price = Num(r, i, 4);
  t.qty = Num(r, i, 5);
  t.quote_qty = Num(r, i, 6);
  t.commission = Num(r, i, 7);
  t.commission_in_base = Flag(r, i, 8);
  t.time_ms = Num(r, i, 9);
  t.is_buyer = Flag(r, i, 10);
  t.is_maker = Flag(r, i, 11);
  return t;
}

// --- order lists ---

#define SPOTEX_LIST_COLUMNS                                                          \
  "order_list_id, account_id, symbol_id, list_client_order_id, status, order_id_1, " \
  "order_id_2, time_ms, update_time_ms"

constexpr const char* kListsAsc =
    "SELECT " SPOTEX_LIST_COLUMNS
    " FROM order_lists WHERE account_id = $1 AND ($2::bigint IS NULL OR order_list_id >= $2)"
    " AND ($3::bigint IS NULL OR time_ms >= $3) AND ($4::bigint IS NULL OR time_ms <= $4)"
    " ORDER BY order_list_id LIMIT $5";
constexpr const char* kListsDesc =
    "SELECT " SPOTEX_LIST_COLUMNS
    " FROM order_lists WHERE account_id = $1 AND ($2::bigint IS NULL OR order_list_id >= $2)"
    " AND ($3::bigint IS NULL OR time_ms >= $3) AND ($4::bigint IS NULL OR time_ms <= $4)"
    " ORDER BY order_list_id DESC LIMIT $5";
constexpr const char* kListById =
    "SELECT " SPOTEX_LIST_COLUMNS " FROM order_lists WHERE account_id = $1 AND order_list_id = $2";
constexpr const char* kListByClientId =
    "SELECT " SPOTEX_LIST_COLUMNS
    " FROM order_lists WHERE account_id = $1 AND list_client_order_id = $2"
    " ORDER BY order_list_id DESC LIMIT 1";

OrderListRecord ListFromRow(const db::PgResult& r, int i) {
  OrderListRecord l;
  l.order_list_id = Num(r, i, 0);
  l.account = static_cast<uint64_t>(Num(r, i, 1));
  l.symbol = static_cast<uint32_t>(Num(r, i, 2));
  l.list_client_order_id = std::string(r.Text(i, 3));
  l.status = static_cast<engine::ListStatus>(Num(r, i, 4));
  l.order_ids[0] = Num(r, i, 5);
  l.order_ids[1] = Num(r, i, 6);
  l.time_ms = Num(r, i, 7);
  l.update_ms = Num(r, i, 8);
  return l;
}

// --- public trades, prevented matches, bars ---

#define SPOTEX_TRADE_COLUMNS                                   \
  "trade_id, time_ms, price, qty, quote_qty, buyer_is_maker, " \
  "CASE WHEN buyer_is_maker THEN seller_order_id ELSE buyer_order_id END"

constexpr const char* kTradesFromId =
    "SELECT " SPOTEX_TRADE_COLUMNS
    " FROM trades WHERE symbol_id = $1 AND trade_id >= $2 ORDER BY trade_id LIMIT $3";
constexpr const char* kTradesBeforeId =
    "SELECT " SPOTEX_TRADE_COLUMNS
    " FROM trades WHERE symbol_id = $1 AND trade_id < $2 ORDER BY trade_id DESC LIMIT $3";
constexpr const char* kTradesFromTime =
    "SELECT " SPOTEX_TRADE_COLUMNS
    " FROM trades WHERE symbol_id = $1 AND time_ms >= $2 AND trade_id > $3"
    " AND ($4::bigint IS NULL OR time_ms <= $4) ORDER BY trade_id LIMIT $5";
constexpr const char* kTradesUpToTime =
    "SELECT " SPOTEX_TRADE_COLUMNS
    " FROM trades WHERE symbol_id = $1 AND ($2::bigint IS NULL OR time_ms <= $2)"
    " AND trade_id < $3 ORDER BY trade_id DESC LIMIT $4";

PublicTradeRecord PublicTradeFromRow(const db::PgResult& r, int i) {
  PublicTradeRecord t;
  t.id = Num(r, i, 0);
  t.time_ms = Num(r, i, 1);
  t.price = Num(r, i, 2);
  t.qty = Num(r, i, 3);
  t.quote_qty = Num(r, i, 4);
  t.buyer_is_maker = Flag(r, i, 5);
  t.taker_order_id = Num(r, i, 6);
  return t;
}

constexpr const char* kPreventedById =
    "SELECT prevented_match_id, time_ms, symbol_id, stp_mode, taker_order_id, maker_order_id,"
    " price, qty FROM prevented_matches WHERE account_id = $1 AND symbol_id = $2"
    " AND prevented_match_id = $3 LIMIT 1";
constexpr const char* kPreventedByOrder =
    "SELECT prevented_match_id, time_ms, symbol_id, stp_mode, taker_order_id, maker_order_id,"
    " price, qty FROM prevented_matches WHERE account_id = $1 AND symbol_id = $2"
    " AND (taker_order_id = $3 OR maker_order_id = $3)"
    " AND ($4::bigint IS NULL OR prevented_match_id >= $4) ORDER BY prevented_match_id LIMIT $5";

// Bars of an interval summed from klines_1m: $3 the interval's origin (0, or a Monday for
// weeks), $4 its length. open is the first minute's, close the last minute's.
#define SPOTEX_BARS_QUERY(ORDER)                                                             \
  "SELECT b, (array_agg(open ORDER BY open_time_ms))[1], max(high), min(low), "              \
  "(array_agg(close ORDER BY open_time_ms DESC))[1], sum(volume)::bigint, "                  \
  "sum(quote_volume)::bigint, sum(taker_buy_volume)::bigint, sum(taker_buy_quote)::bigint, " \
  "sum(trades)::bigint, min(first_trade_id), max(last_trade_id) FROM (SELECT *, "            \
  "$3::bigint + div(open_time_ms - $3::bigint, $4::bigint)::bigint * $4::bigint AS b "       \
  "FROM klines_1m WHERE symbol_id = $1 AND open_time_ms >= $5 AND open_time_ms < $6) k "     \
  "GROUP BY b ORDER BY b " ORDER " LIMIT $2"

constexpr const char* kBarsAsc = SPOTEX_BARS_QUERY("ASC");
constexpr const char* kBarsDesc = SPOTEX_BARS_QUERY("DESC");

std::string IdArray(std::span<const int64_t> ids) {
  std::string out = "{";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    out += std::to_string(ids[i]);
  }
  out += '}';
  return out;
}

void Quoted(std::string& out, int64_t v, int scale) {
  out += '"';
  out += core::FormatDecimal(v, scale);
  out += '"';
}

}  // namespace

// --- threads --------------------------------------------------------------------------------

HistoryStore::HistoryStore(db::PgPool& pool, HistoryOptions options)
    : pool_(pool), options_(options) {
  const size_t n = std::clamp<size_t>(options_.threads, 1, 16);
  for (size_t i = 0; i < n; ++i) {
    threads_.emplace_back([this] { Loop(); });
  }
}

HistoryStore::~HistoryStore() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    t.join();
  }
}

bool HistoryStore::Submit(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= std::max<size_t>(1, options_.queue_max)) {
      return false;
    }
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

void HistoryStore::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) {
      return;  // stopping, nothing left
    }
    auto task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    try {
      task();
    } catch (...) {
      // Tasks answer their own errors; one that throws must not take the thread down.
    }
    lock.lock();
  }
}

// --- queries --------------------------------------------------------------------------------

#define SPOTEX_QUERY(RESULT, ...)                \
  auto lease = pool_.Acquire();                  \
  if (!lease) {                                  \
    return std::unexpected(Err(lease.error()));  \
  }                                              \
  auto RESULT = (*lease)->Exec(__VA_ARGS__);     \
  if (!RESULT) {                                 \
    return std::unexpected(Err(RESULT.error())); \
  }

HistoryResult<std::vector<OrderRecord>> HistoryStore::Orders(uint64_t account, uint32_t symbol,
                                                             const HistoryPage& page) {
  const bool fwd = Forward(page);
  SPOTEX_QUERY(res, fwd ? kOrdersAsc : kOrdersDesc, static_cast<int64_t>(account),
               static_cast<int64_t>(symbol), page.from_id, page.start_ms, page.end_ms,
               static_cast<int64_t>(Bound(page.limit)));
  std::vector<OrderRecord> out;
  for (int i = 0; i < res->rows(); ++i) {
    out.push_back(OrderFromRow(*res, i));
  }
  if (!fwd) {
    std::reverse(out.begin(), out.end());
  }
  return out;
}

HistoryResult<std::optional<OrderRecord>> HistoryStore::FindOrder(uint64_t account, uint32_t symbol,
                                                                  int64_t order_id,
                                                                  std::string_view client_id) {
  const auto acc = static_cast<int64_t>(account);
  const auto sym = static_cast<int64_t>(symbol);
  auto lease = pool_.Acquire();
  if (!lease) {
    return std::unexpected(Err(lease.error()));
  }
  auto res = order_id != 0 ? (*lease)->Exec(kOrderById, acc, sym, order_id)
                           : (*lease)->Exec(kOrderByClientId, acc, sym, client_id);
  if (!res) {
    return std::unexpected(Err(res.error()));
  }
  if (res->rows() == 0) {
    return std::optional<OrderRecord>();
  }
  OrderRecord o = OrderFromRow(*res, 0);
  if (!client_id.empty() && o.client_order_id != client_id) {
    return std::optional<OrderRecord>();
  }
  return std::optional<OrderRecord>(std::move(o));
}

HistoryResult<std::vector<OrderRecord>> HistoryStore::OrdersByIds(uint64_t account,
                                                                  std::span<const int64_t> ids) {
  std::vector<OrderRecord> out;
  if (ids.empty()) {
    return out;
  }
  ids = ids.first(std::min(ids.size(), kLimitMax));
  SPOTEX_QUERY(res, kOrdersByIds, static_cast<int64_t>(account), IdArray(ids));
  for (int i = 0; i < res->rows(); ++i) {
    out.push_back(OrderFromRow(*res, i));
  }
  return out;
}

HistoryResult<std::vector<TradeRecord>> HistoryStore::Trades(uint64_t account, uint32_t symbol,
                                                             std::optional<int64_t> order_id,
                                                             const HistoryPage& page) {
  const bool fwd = Forward(page);
  SPOTEX_QUERY(res, fwd ? kFillsAsc : kFillsDesc, static_cast<int64_t>(account),
               static_cast<int64_t>(symbol), order_id, page.from_id, page.start_ms, page.end_ms,
               static_cast<int64_t>(Bound(page.limit)));
  std::vector<TradeRecord> out;
  for (int i = 0; i < res->rows(); ++i) {
    out.push_back(TradeFromRow(*res, i));
  }
  if (!fwd) {
    std::reverse(out.begin(), out.end());
  }
  return out;
}

HistoryResult<std::vector<OrderListRecord>> HistoryStore::Lists(uint64_t account,
                                                                const HistoryPage& page) {
  const bool fwd = Forward(page);
  SPOTEX_QUERY(res, fwd ? kListsAsc : kListsDesc, static_cast<int64_t>(account), page.from_id,
               page.start_ms, page.end_ms, static_cast<int64_t>(Bound(page.limit)));
  std::vector<OrderListRecord> out;
  for (int i = 0; i < res->rows(); ++i) {
    out.push_back(ListFromRow(*res, i));
  }
  if (!fwd) {
    std::reverse(out.begin(), out.end());
  }
  return out;
}

HistoryResult<std::optional<OrderListRecord>> HistoryStore::FindList(
    uint64_t account, int64_t order_list_id, std::string_view list_client_order_id) {
  const auto acc = static_cast<int64_t>(account);
  auto lease = pool_.Acquire();
  if (!lease) {
    return std::unexpected(Err(lease.error()));
  }
  auto res = order_list_id != 0 ? (*lease)->Exec(kListById, acc, order_list_id)
                                : (*lease)->Exec(kListByClientId, acc, list_client_order_id);
  if (!res) {
    return std::unexpected(Err(res.error()));
  }
  if (res->rows() == 0) {
    return std::optional<OrderListRecord>();
  }
  OrderListRecord l = ListFromRow(*res, 0);
  if (!list_client_order_id.empty() && l.list_client_order_id != list_client_order_id) {
    return std::optional<OrderListRecord>();
  }
  return std::optional<OrderListRecord>(std::move(l));
}

HistoryResult<std::vector<PreventedMatchRecord>> HistoryStore::PreventedMatches(
    uint64_t account, uint32_t symbol, std::optional<int64_t> prevented_match_id,
    std::optional<int64_t> order_id, std::optional<int64_t> from_prevented_match_id, size_t limit) {
  const auto acc = static_cast<int64_t>(account);
  const auto sym = static_cast<int64_t>(symbol);
  auto lease = pool_.Acquire();
  if (!lease) {
    return std::unexpected(Err(lease.error()));
  }
  auto res = prevented_match_id
                 ? (*lease)->Exec(kPreventedById, acc, sym, *prevented_match_id)
                 : (*lease)->Exec(kPreventedByOrder, acc, sym, order_id.value_or(0),
                                  from_prevented_match_id, static_cast<int64_t>(Bound(limit)));
  if (!res) {
    return std::unexpected(Err(res.error()));
  }
  std::vector<PreventedMatchRecord> out;
  for (int i = 0; i < res->rows(); ++i) {
    PreventedMatchRecord m;
    m.prevented_match_id = Num(*res, i, 0);
    m.time_ms = Num(*res, i, 1);
    m.symbol = static_cast<uint32_t>(Num(*res, i, 2));
    m.stp = static_cast<engine::StpMode>(Num(*res, i, 3));
    m.taker_order_id = Num(*res, i, 4);
    m.maker_order_id = Num(*res, i, 5);
    m.price = Num(*res, i, 6);
    m.qty = Num(*res, i, 7);
    out.push_back(m);
  }
  return out;
}

HistoryResult<std::vector<PublicTradeRecord>> HistoryStore::PublicTrades(
    uint32_t symbol, std::optional<int64_t> from_id, size_t limit) {
  const auto sym = static_cast<int64_t>(symbol);
  const auto n = static_cast<int64_t>(Bound(limit));
  auto lease = pool_.Acquire();
  if (!lease) {
    return std::unexpected(Err(lease.error()));
  }
  auto res = from_id ? (*lease)->Exec(kTradesFromId, sym, *from_id, n)
                     : (*lease)->Exec(kTradesBeforeId, sym, int64_t{INT64_MAX}, n);
  if (!res) {
    return std::unexpected(Err(res.error()));
  }
  std::vector<PublicTradeRecord> out;
  for (int i = 0; i < res->rows(); ++i) {
    out.push_back(PublicTradeFromRow(*res, i));
  }
  if (!from_id) {
    std::reverse(out.begin(), out.end());
  }
  return out;
}

HistoryResult<std::vector<AggTradeRecord>> HistoryStore::AggTrades(uint32_t symbol,
                                                                   const HistoryPage& page) {
  const auto sym = static_cast<int64_t>(symbol);
  const size_t limit = Bound(page.limit);
  constexpr int64_t kBatch = 1000;
  auto lease = pool_.Acquire();
  if (!lease) {
    return std::unexpected(Err(lease.error()));
  }
  // Trades are read in batches until the page's aggregates are complete: one more aggregate
  // than the page needs has started (or the trades ran out), bounded by agg_trades_scanned_max.
  std::vector<PublicTradeRecord> trades;
  auto read = [&](const char* sql, auto... args) -> HistoryResult<int> {
    auto res = (*lease)->Exec(sql, args...);
    if (!res) {
      return std::unexpected(Err(res.error()));
    }
    for (int i = 0; i < res->rows(); ++i) {
      trades.push_back(PublicTradeFromRow(*res, i));
    }
    return res->rows();
  };
  auto enough = [&](bool ascending) {
    std::vector<PublicTradeRecord> sorted = trades;
    if (!ascending) {
      std::reverse(sorted.begin(), sorted.end());
    }
    return AggregateTrades(sorted).size() > limit + 1 ||
           trades.size() >= options_.agg_trades_scanned_max;
  };
  if (Forward(page)) {
    if (page.from_id) {
      // The trade before from_id: if it belongs to the aggregate that from_id is in the middle
      // of, that aggregate (id < from_id) must be recognised and left out.
      auto prev = read(kTradesBeforeId, sym, *page.from_id, int64_t{1});
      if (!prev) {
        return std::unexpected(prev.error());
      }
      int64_t next = *page.from_id;
      for (;;) {
        auto n = read(kTradesFromId, sym, next, kBatch);
        if (!n) {
          return std::unexpected(n.error());
        }
        if (*n < kBatch || enough(true)) {
          break;
        }
        next = trades.back().id + 1;
      }
    } else {
      int64_t after = 0;
      for (;;) {
        auto n = read(kTradesFromTime, sym, *page.start_ms, after, page.end_ms, kBatch);
        if (!n) {
          return std::unexpected(n.error());
        }
        if (*n < kBatch || enough(true)) {
          break;
        }
        after = trades.back().id;
      }
    }
    std::vector<AggTradeRecord> aggs = AggregateTrades(trades);
    std::erase_if(aggs, [&](const AggTradeRecord& a) {
      return (page.from_id && a.id < *page.from_id) ||
             (page.start_ms && a.time_ms < *page.start_ms);
    });
    if (aggs.size() > limit) {
      aggs.resize(limit);
    }
    return aggs;
  }
  int64_t before = INT64_MAX;
  for (;;) {
    auto n = read(kTradesUpToTime, sym, page.end_ms, before, kBatch);
    if (!n) {
      return std::unexpected(n.error());
    }
    if (*n < kBatch || enough(false)) {
      break;
    }
    before = trades.back().id;
  }
  std::reverse(trades.begin(), trades.end());
  std::vector<AggTradeRecord> aggs = AggregateTrades(trades);
  if (aggs.size() > limit) {
    aggs.erase(aggs.begin(), aggs.end() - static_cast<std::ptrdiff_t>(limit));
  }
  return aggs;
}

HistoryResult<std::vector<BarRecord>> HistoryStore::Bars(uint32_t symbol, int64_t interval_ms,
                                                         int64_t from_ms, int64_t to_ms,
                                                         size_t limit, bool ascending) {
  if (interval_ms <= 0) {
    return std::unexpected("interval must be positive");
  }
  const int64_t origin = interval_ms == 7 * kDayMs ? 4 * kDayMs : 0;
  SPOTEX_QUERY(res, ascending ? kBarsAsc : kBarsDesc, static_cast<int64_t>(symbol),
               static_cast<int64_t>(Bound(limit)), origin, interval_ms, from_ms, to_ms);
  std::vector<BarRecord> out;
  for (int i = 0; i < res->rows(); ++i) {
    BarRecord b;
    b.open_time_ms = Num(*res, i, 0);
    b.open = Num(*res, i, 1);
    b.high = Num(*res, i, 2);
    b.low = Num(*res, i, 3);
    b.close = Num(*res, i, 4);
    b.volume = Num(*res, i, 5);
    b.quote_volume = Num(*res, i, 6);
    b.taker_buy_volume = Num(*res, i, 7);
    b.taker_buy_quote = Num(*res, i, 8);
    b.trades = Num(*res, i, 9);
    b.first_id = Num(*res, i, 10);
    b.last_id = Num(*res, i, 11);
    out.push_back(b);
  }
  if (!ascending) {
    std::reverse(out.begin(), out.end());
  }
  return out;
}

HistoryResult<std::optional<int64_t>> HistoryStore::CloseBefore(uint32_t symbol,
                                                                int64_t before_ms) {
  SPOTEX_QUERY(res,
               "SELECT close FROM klines_1m WHERE symbol_id = $1 AND open_time_ms < $2"
               " ORDER BY open_time_ms DESC LIMIT 1",
               static_cast<int64_t>(symbol), before_ms);
  if (res->rows() == 0) {
    return std::optional<int64_t>();
  }
  return std::optional<int64_t>(Num(*res, 0, 0));
}

HistoryResult<bool> HistoryStore::AnyBarFrom(uint32_t symbol, int64_t from_ms) {
  SPOTEX_QUERY(res, "SELECT 1 FROM klines_1m WHERE symbol_id = $1 AND open_time_ms >= $2 LIMIT 1",
               static_cast<int64_t>(symbol), from_ms);
  return res->rows() > 0;
}

#undef SPOTEX_QUERY

// --- pure helpers ---------------------------------------------------------------------------

std::vector<AggTradeRecord> AggregateTrades(std::span<const PublicTradeRecord> trades) {
  std::vector<AggTradeRecord> out;
  for (size_t i = 0; i < trades.size(); ++i) {
    const PublicTradeRecord& t = trades[i];
    if (i > 0 && !out.empty() && out.back().price == t.price && out.back().last_id + 1 == t.id &&
        trades[i - 1].taker_order_id == t.taker_order_id) {
      out.back().last_id = t.id;
      out.back().qty += t.qty;
      continue;
    }
    out.push_back(AggTradeRecord{t.id, t.id, t.id, t.time_ms, t.price, t.qty, t.buyer_is_maker});
  }
  return out;
}

const OrderRecord& NewerOrder(const OrderRecord& a, const OrderRecord& b) {
  if (a.update_ms != b.update_ms) {
    return a.update_ms > b.update_ms ? a : b;
  }
  if (a.executed_qty != b.executed_qty) {
    return a.executed_qty > b.executed_qty ? a : b;
  }
  if (a.final() != b.final()) {
    return a.final() ? a : b;
  }
  return b;
}

std::vector<OrderRecord> MergeOrders(std::vector<OrderRecord> a, std::vector<OrderRecord> b) {
  std::map<int64_t, OrderRecord> by_id;
  for (auto& o : a) {
    by_id.insert_or_assign(o.order_id, std::move(o));
  }
  for (auto& o : b) {
    auto it = by_id.find(o.order_id);
    if (it == by_id.end()) {
      by_id.emplace(o.order_id, std::move(o));
    } else {
      it->second = NewerOrder(it->second, o);
    }
  }
  std::vector<OrderRecord> out;
  out.reserve(by_id.size());
  for (auto& [id, o] : by_id) {
    out.push_back(std::move(o));
  }
  return out;
}

std::vector<TradeRecord> MergeTrades(std::vector<TradeRecord> a, std::vector<TradeRecord> b) {
  std::map<std::pair<int64_t, bool>, TradeRecord> by_id;
  for (auto* v : {&a, &b}) {
    for (auto& t : *v) {
      by_id.insert_or_assign({t.id, t.is_buyer}, std::move(t));
    }
  }
  std::vector<TradeRecord> out;
  out.reserve(by_id.size());
  for (auto& [id, t] : by_id) {
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<OrderListRecord> MergeLists(std::vector<OrderListRecord> a,
                                        std::vector<OrderListRecord> b) {
  std::map<int64_t, OrderListRecord> by_id;
  for (auto& l : a) {
    by_id.insert_or_assign(l.order_list_id, std::move(l));
  }
  for (auto& l : b) {
    auto it = by_id.find(l.order_list_id);
    if (it == by_id.end() || l.update_ms >= it->second.update_ms) {
      by_id.insert_or_assign(l.order_list_id, std::move(l));
    }
  }
  std::vector<OrderListRecord> out;
  for (auto& [id, l] : by_id) {
    out.push_back(std::move(l));
  }
  return out;
}

int64_t KlineStart(int64_t t, int64_t interval_ms) {
  const int64_t origin = interval_ms == 7 * kDayMs ? 4 * kDayMs : 0;
  const int64_t k = t - origin;
  return origin + (k >= 0 ? k / interval_ms : (k - interval_ms + 1) / interval_ms) * interval_ms;
}

std::vector<BarRecord> FillKlines(std::vector<BarRecord> bars, std::optional<int64_t> prev_close,
                                  int64_t interval_ms, int64_t start_ms, int64_t end_ms,
                                  size_t limit, bool fill_to_end) {
  limit = Bound(limit);
  auto flat = [](int64_t open_time, int64_t close) {
    BarRecord f;
    f.open_time_ms = open_time;
    f.open = f.high = f.low = f.close = close;
    return f;
  };
  std::vector<BarRecord> all;
  const int64_t first = start_ms > 0 ? KlineStart(start_ms, interval_ms) : 0;
  if (prev_close && start_ms > 0 && (!bars.empty() || fill_to_end)) {
    const int64_t stop = bars.empty() ? end_ms : bars.front().open_time_ms - 1;
    for (int64_t t = first; t <= stop && all.size() < limit; t += interval_ms) {
      all.push_back(flat(t, *prev_close));
    }
  }
  for (const BarRecord& b : bars) {
    while (!all.empty() && all.back().open_time_ms + interval_ms < b.open_time_ms &&
           all.size() <= 2 * limit + bars.size()) {
      all.push_back(flat(all.back().open_time_ms + interval_ms, all.back().close));
    }
    all.push_back(b);
  }
  if (fill_to_end && end_ms > 0) {
    while (!all.empty() && all.back().open_time_ms + interval_ms <= end_ms &&
           all.size() <= 2 * limit + bars.size()) {
      all.push_back(flat(all.back().open_time_ms + interval_ms, all.back().close));
    }
  }
  std::erase_if(all, [&](const BarRecord& b) {
    return (start_ms > 0 && b.open_time_ms < first) || (end_ms > 0 && b.open_time_ms > end_ms);
  });
  if (all.size() > limit) {
    if (start_ms > 0) {
      all.resize(limit);
    } else {
      all.erase(all.begin(), all.end() - static_cast<std::ptrdiff_t>(limit));
    }
  }
  return all;
}

std::string PublicTradesJson(std::span<const PublicTradeRecord> trades, int base_scale,
                             int quote_scale) {
  std::string out = "[";
  for (const auto& t : trades) {
    if (out.size() > 1) {
      out += ',';
    }
    out += "{\"id\":" + std::to_string(t.id) + ",\"price\":";
    Quoted(out, t.price, quote_scale);
    out += ",\"qty\":";
    Quoted(out, t.qty, base_scale);
    out += ",\"quoteQty\":";
    Quoted(out, t.quote_qty, quote_scale);
    out += ",\"time\":" + std::to_string(t.time_ms);
    out += t.buyer_is_maker ? ",\"isBuyerMaker\":true" : ",\"isBuyerMaker\":false";
    out += ",\"isBestMatch\":true}";
  }
  out += ']';
  return out;
}

std::string AggTradesJson(std::span<const AggTradeRecord> aggs, int base_scale, int quote_scale) {
  std::string out = "[";
  for (const auto& a : aggs) {
    if (out.size() > 1) {
      out += ',';
    }
    out += "{\"a\":" + std::to_string(a.id) + ",\"p\":";
    Quoted(out, a.price, quote_scale);
    out += ",\"q\":";
    Quoted(out, a.qty, base_scale);
    out += ",\"f\":" + std::to_string(a.first_id) + ",\"l\":" + std::to_string(a.last_id) +
           ",\"T\":" + std::to_string(a.time_ms);
    out += a.buyer_is_maker ? ",\"m\":true" : ",\"m\":false";
    out += ",\"M\":true}";
  }
  out += ']';
  return out;
}

std::string KlinesJson(std::span<const BarRecord> bars, int64_t interval_ms, int base_scale,
                       int quote_scale) {
  std::string out = "[";
  for (const auto& x : bars) {
    if (out.size() > 1) {
      out += ',';
    }
    out += '[' + std::to_string(x.open_time_ms) + ',';
    Quoted(out, x.open, quote_scale);
    out += ',';
    Quoted(out, x.high, quote_scale);
    out += ',';
    Quoted(out, x.low, quote_scale);
    out += ',';
    Quoted(out, x.close, quote_scale);
    out += ',';
    Quoted(out, x.volume, base_scale);
    out += ',' + std::to_string(x.open_time_ms + interval_ms - 1) + ',';
    Quoted(out, x.quote_volume, quote_scale);
    out += ',' + std::to_string(x.trades) + ',';
    Quoted(out, x.taker_buy_volume, base_scale);
    out += ',';
    Quoted(out, x.taker_buy_quote, quote_scale);
    out += ",\"0\"]";
  }
  out += ']';
  return out;
}

std::string PreventedMatchesJson(std::span<const PreventedMatchRecord> matches,
                                 std::string_view symbol, int base_scale, int quote_scale) {
  std::string out = "[";
  for (const auto& m : matches) {
    if (out.size() > 1) {
      out += ',';
    }
    std::string sym = "\"" + std::string(symbol) + "\"";
    out += "{\"symbol\":" + sym + ",\"preventedMatchId\":" + std::to_string(m.prevented_match_id) +
           ",\"takerOrderId\":" + std::to_string(m.taker_order_id) + ",\"makerSymbol\":" + sym +
           ",\"makerOrderId\":" + std::to_string(m.maker_order_id) +
           ",\"tradeGroupId\":-1,\"selfTradePreventionMode\":\"" +
           std::string(engine::ToString(m.stp)) + "\",\"price\":";
    Quoted(out, m.price, quote_scale);
    out += ",\"makerPreventedQuantity\":";
    Quoted(out, m.qty, base_scale);
    out += ",\"transactTime\":" + std::to_string(m.time_ms) + '}';
  }
  out += ']';
  return out;
}

}  // namespace spotex::gateway
