// What each account did since this gateway started: its orders (open and finished), its
// trades and its order lists, rebuilt from event envelopes.
//
// Why it exists: the engine keeps only live state (open orders and balances), but Binance's
// GET order of a FILLED or CANCELED order, allOrders, myTrades and the order-list queries need
// finished ones. Until the history store (issue 6) serves them from PostgreSQL, the gateway
// keeps them in memory.
//
// Honest limits (docs/gateway.md "Trading endpoints"):
// - it holds only what happened while this gateway process ran: an order that finished before
//   it started, or a trade made before, is not here (GET order then answers -2013, as Binance
//   does for an order it does not know);
// - per account it keeps the last `orders_max` finished orders, `trades_max` trades and
//   `lists_max` finished order lists; older ones are forgotten;
// - an order that was already open when the gateway started is known only once the gateway
//   has read it from the engine (Seed) or from its OrderAccepted event.
//
// Feeding: Apply() every envelope of every event batch of spotex.evt.<shard>, and the reply
// envelope of every command this gateway submitted (before answering the client, so that a
// GET right after a POST sees the order). Applying an envelope twice, in any order relative
// to the other source, changes nothing the second time (envelopes are keyed by command seq).
//
// Thread-safety: every method is thread-safe (one mutex; each call is short).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/types.h"
#include "proto/envelope.h"

namespace spotex::gateway {

// One order as Binance's GET order shows it; amounts in units of the symbol's scales.
struct OrderRecord {
  int64_t order_id = 0;
  int64_t order_list_id = -1;
  uint64_t account = 0;
  uint32_t symbol = 0;
  std::string client_order_id;
  engine::Side side = engine::Side::kBuy;
  engine::OrderType type = engine::OrderType::kLimit;
  engine::TimeInForce tif = engine::TimeInForce::kNone;
  engine::StpMode stp = engine::StpMode::kNone;
  engine::OrderStatus status = engine::OrderStatus::kNew;
  engine::ExpiryReason reason = engine::ExpiryReason::kNone;
  bool working = true;
  int64_t price = 0, qty = 0, quote_qty = 0, stop_price = 0, iceberg_qty = 0;
  int64_t executed_qty = 0, cum_quote_qty = 0;
  int64_t time_ms = 0, update_ms = 0, working_ms = 0;

  bool final() const {
    return status != engine::OrderStatus::kNew &&
           status != engine::OrderStatus::kPartiallyFilled &&
           status != engine::OrderStatus::kPendingNew;
  }

  // An order as the engine accepted it (its state before any fill of the same command).
  static OrderRecord FromAccepted(const engine::OrderAccepted& e);
};

// One side of a trade, as myTrades shows it to that side's account.
struct TradeRecord {
  int64_t id = 0;
  uint32_t symbol = 0;
  int64_t order_id = 0;
  int64_t order_list_id = -1;
  int64_t price = 0, qty = 0, quote_qty = 0;
  int64_t commission = 0;
  bool commission_in_base = false;  // buyers pay in the base asset, sellers in the quote
  int64_t time_ms = 0;
  bool is_buyer = false;
  bool is_maker = false;
};

struct OrderListRecord {
  int64_t order_list_id = 0;
  uint64_t account = 0;
  uint32_t symbol = 0;
  std::string list_client_order_id;
  engine::ListStatus status = engine::ListStatus::kExecuting;
  int64_t order_ids[2] = {0, 0};
  int64_t time_ms = 0;       // created
  int64_t update_ms = 0;     // last status change
};

struct HistoryLimits {
  size_t orders_max = 1000;  // finished orders kept per account
  size_t trades_max = 1000;  // trades kept per account
  size_t lists_max = 1000;   // finished order lists kept per account
  size_t accounts_max = 1'000'000;  // accounts tracked; beyond it new accounts are not recorded
  size_t seqs_remembered = 1 << 16;  // envelopes remembered for de-duplication
};

// Commission rates seen on the event stream (AccountUpdated), 8-decimal fixed point.
struct FeeRates {
  int64_t maker_rate_e8 = 0;
  int64_t taker_rate_e8 = 0;
};

class AccountHistory {
 public:
  explicit AccountHistory(HistoryLimits limits = {}) : limits_(limits) {}

  // Records what the envelope's command did. Malformed envelopes and seqs already applied (or
  // older than the de-duplication window) are ignored.
  void Apply(const proto::Envelope& envelope);

  // Adds an order read from the engine (open when read) unless it is already known, so that
  // its later updates can be applied.
  void Seed(const OrderRecord& order);

  // The order of `account` on `symbol` with `order_id` (when non-zero) and/or client id (when
  // not empty; the newest order with that id). Both given: they must name the same order.
  std::optional<OrderRecord> FindOrder(uint64_t account, uint32_t symbol, int64_t order_id,
                                       std::string_view client_order_id) const;
  // Every known order of `account` on `symbol`, by order id.
  std::vector<OrderRecord> Orders(uint64_t account, uint32_t symbol) const;
  // Every kept trade of `account` on `symbol`, by trade id.
  std::vector<TradeRecord> Trades(uint64_t account, uint32_t symbol) const;

  std::optional<OrderListRecord> FindList(uint64_t account, int64_t order_list_id,
                                          std::string_view list_client_order_id) const;
  // Every known order list of `account`, by list id.
  std::vector<OrderListRecord> Lists(uint64_t account) const;

  // The account's own rates if an AccountUpdated event set them, else the defaults if seen,
  // else nullopt.
  std::optional<FeeRates> Fees(uint64_t account) const;

 private:
  struct Account {
    std::unordered_map<int64_t, OrderRecord> orders;
    std::deque<int64_t> finished;  // order ids in the order they finished
    std::deque<TradeRecord> trades;
    std::map<int64_t, OrderListRecord> lists;
    std::deque<int64_t> finished_lists;
    std::optional<FeeRates> fees;
  };

  Account* AccountFor(uint64_t account);  // creates it (nullptr when over accounts_max)
  bool MarkApplied(uint64_t seq);         // false if seen before
  void Finish(Account& a, const OrderRecord& order);
  void AddTrade(Account& a, TradeRecord trade);

  const HistoryLimits limits_;
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, Account> accounts_;
  std::set<uint64_t> applied_;
  uint64_t applied_floor_ = 0;  // every seq <= this counts as applied
  std::optional<FeeRates> default_fees_;
};

}  // namespace spotex::gateway
