// The history projection without I/O: a run of engine event envelopes -> the rows that
// db/migrations/0002_history.sql holds, per table, coalesced within the run (one latest-state
// row per order, one merged bar per symbol and minute, one absolute balance per account and
// asset). HistoryWriter (history_writer.h) writes a ProjectedBatch in one transaction; keeping
// the projection pure lets the tests and the benchmark drive it without a database.
//
// State: to update an order placed by an earlier run the writer needs its placement time (the
// partition key of `orders`), and fills need the order list of each side's order. The
// projection reads them from ProjectionState (orders still open, symbols) plus the orders of
// the run itself; ProjectionState changes only through Commit(), after the batch is durable.
//
// Ledger (see the migration's header): per Trade the buyer's base leg +qty, the seller's -qty,
// the seller's quote leg +quote_qty, the buyer's -quote_qty (kind 4); buyer_commission (base)
// and seller_commission (quote) as -commission from the payer and +commission to the fee
// account -1 (kind 5). Per Transfer the account's +/-amount against the outside world, account
// 0 (kind 1 deposit, 2 withdrawal). Per BalanceChanged with delta_locked != 0 one lock pair at
// that event (bucket 1 +delta_locked, bucket 0 -delta_locked, kind 3). The engine's fee
// account (engine account 0) is ledger account -1. Zero amounts make no entry. For every
// (account, asset) a command touched, delta_free + delta_locked of its BalanceChanged must equal
// the sum of its trade, commission and transfer entries (and an untouched balance must have
// entries summing to zero); otherwise Project() fails rather than produce an unbalanced
// ledger.
//
// Thread-safety: none (plain values).
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <map>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/event.h"
#include "engine/types.h"
#include "proto/envelope.h"

namespace spotex::store {

// Ledger system accounts (the migration's conventions).
inline constexpr int64_t kLedgerOutsideAccount = 0;
inline constexpr int64_t kLedgerFeeAccount = -1;

enum class LedgerKind : int16_t {
  kDeposit = 1,
  kWithdrawal = 2,
  kLock = 3,
  kTrade = 4,
  kCommission = 5,
};

// Orders with status NEW, PARTIALLY_FILLED or PENDING_NEW (the migration's "open").
inline constexpr bool IsOpenStatus(engine::OrderStatus s) {
  return s == engine::OrderStatus::kNew || s == engine::OrderStatus::kPartiallyFilled ||
         s == engine::OrderStatus::kPendingNew;
}

// What the projection remembers of an open order placed by an earlier run.
struct OpenOrderState {
  int64_t time_ms = 0;         // placement time: the partition key
  int64_t order_list_id = -1;  // for fills
  int64_t cum_quote_qty = 0;   // for the order_events row of an amendment
  bool working = false;
};

struct SymbolAssets {
  uint32_t base_asset = 0;
  uint32_t quote_asset = 0;
};

struct ProjectionState {
  std::unordered_map<int64_t, OpenOrderState> open_orders;  // by order id
  std::unordered_map<uint32_t, SymbolAssets> symbols;       // by symbol id
};

// One order's row of `orders`. `placed` rows (accepted in this run) are inserted whole;
// the others update the mutable columns of the stored row.
struct OrderRow {
  bool placed = false;
  bool client_order_id_changed = false;  // amended (for an update: write client_order_id)
  bool qty_changed = false;              // amended (for an update: write qty)
  bool working_time_set = false;         // working_time_ms is known (for an update: write it)
  int64_t order_id = 0;
  int64_t time_ms = 0;
  int64_t account_id = 0;
  uint32_t symbol_id = 0;
  int64_t order_list_id = -1;
  engine::ClientOrderId client_order_id;
  uint8_t side = 0, type = 0, time_in_force = 0, stp_mode = 0;
  int64_t price = 0, qty = 0, quote_qty = 0, stop_price = 0, iceberg_qty = 0;
  uint8_t status = 0, expiry_reason = 0;
  bool working = false;
  int64_t working_time_ms = 0;
  int64_t executed_qty = 0, cum_quote_qty = 0;
  int64_t update_time_ms = 0;
  uint64_t seq = 0, last_seq = 0;
};

struct OrderEventRow {
  uint64_t seq = 0;
  uint32_t idx = 0;
  int64_t time_ms = 0;
  int64_t order_id = 0;
  int64_t account_id = 0;
  uint32_t symbol_id = 0;
  uint8_t exec_type = 0, status = 0, expiry_reason = 0;
  int64_t executed_qty = 0, cum_quote_qty = 0, last_qty = 0, last_price = 0, trade_id = 0;
  int64_t commission = 0;
  int64_t commission_asset = -1;  // -1: NULL
};

struct TradeRow {
  engine::Trade trade;
  uint64_t seq = 0;
  uint32_t idx = 0;
};

struct FillRow {
  int64_t account_id = 0;
  uint32_t symbol_id = 0;
  int64_t trade_id = 0, time_ms = 0, order_id = 0, order_list_id = -1;
  bool is_buyer = false, is_maker = false;
  int64_t price = 0, qty = 0, quote_qty = 0, commission = 0;
  uint32_t commission_asset = 0;
};

struct LedgerRow {
  uint64_t seq = 0;
  uint32_t idx = 0;
  uint16_t leg = 0;
  int64_t time_ms = 0;
  int64_t account_id = 0;
  uint32_t asset_id = 0;
  uint8_t bucket = 0;  // 0 free, 1 locked
  LedgerKind kind = LedgerKind::kTrade;
  int64_t amount = 0;
};

struct PreventedMatchRow {
  engine::PreventedMatch match;
  uint64_t seq = 0;
  uint32_t idx = 0;
};

struct BalanceRow {
  int64_t account_id = 0;
  uint32_t asset_id = 0;
  int64_t free = 0, locked = 0;
  uint64_t seq = 0;
  int64_t update_time_ms = 0;
};

struct KlineRow {
  uint32_t symbol_id = 0;
  int64_t open_time_ms = 0;
  int64_t open = 0, high = 0, low = 0, close = 0;
  int64_t volume = 0, quote_volume = 0, trades = 0, taker_buy_volume = 0, taker_buy_quote = 0;
  int64_t first_trade_id = 0, last_trade_id = 0;
};

struct OrderListRow {
  int64_t order_list_id = 0;
  int64_t account_id = 0;
  uint32_t symbol_id = 0;
  engine::ClientOrderId list_client_order_id;
  uint8_t status = 0;
  int64_t order_id_1 = 0, order_id_2 = 0;
  int64_t time_ms = 0, update_time_ms = 0;
};

struct AssetRow {
  uint32_t asset_id = 0;
  engine::Name name;
  int32_t scale = 0;
};

struct SymbolRow {
  uint32_t symbol_id = 0;
  engine::Name name;
  uint32_t base_asset = 0, quote_asset = 0;
  uint8_t status = 0;
};

struct SymbolStatusRow {
  uint32_t symbol_id = 0;
  uint8_t status = 0;
};

struct ProjectedBatch {
  std::vector<OrderRow> orders;                     // placed first-seen order; see order_index
  std::unordered_map<int64_t, size_t> order_index;  // order id -> orders[i]
  std::vector<OrderEventRow> order_events;
  std::vector<TradeRow> trades;
  std::vector<FillRow> fills;
  std::vector<LedgerRow> ledger;
  std::vector<PreventedMatchRow> prevented_matches;
  std::vector<BalanceRow> balances;       // one per (account, asset), the last value
  std::vector<KlineRow> klines;           // one per (symbol, minute), merged
  std::vector<OrderListRow> order_lists;  // one per list, the latest status
  std::vector<AssetRow> assets;
  std::vector<SymbolRow> symbols;
  std::vector<SymbolStatusRow> symbol_statuses;  // in order; applied after `symbols`
  std::set<int32_t> months;  // year * 12 + (month - 1) of every partitioned row's time_ms
  size_t events = 0;         // event records read

  // Index helpers (not rows).
  std::unordered_map<uint64_t, size_t> balance_index;
  std::map<std::pair<uint32_t, int64_t>, size_t> kline_index;
  std::unordered_map<int64_t, size_t> order_list_index;

  void Clear();
  size_t Rows() const;
};

// "auto-<order id>": what `orders` holds for an order placed without a client order id (the
// schema requires 1..36 characters; the gateway always sends one).
std::string PlaceholderClientId(std::string_view prefix, int64_t id);

// UTC year * 12 + (month - 1) of a time in ms since the epoch, and the first day of that month
// as "YYYY-MM-01".
int32_t MonthOf(int64_t time_ms);
std::string MonthStartDate(int32_t month);

// Projects `envelopes` (in seq order) into `out` (cleared first) given `state`. Returns an
// error message (and leaves `out` unspecified) when the events contradict the state or the
// ledger identity.
[[nodiscard]] std::expected<void, std::string> Project(
    const ProjectionState& state, std::span<const proto::Envelope* const> envelopes,
    ProjectedBatch& out);

// Folds a committed batch into `state`: orders that closed leave it, orders still open enter
// or update it, listed symbols are added.
void Commit(const ProjectedBatch& batch, ProjectionState& state);

}  // namespace spotex::store
