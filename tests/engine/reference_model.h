// A deliberately naive reference implementation of docs/engine-semantics.md, for the differential
// test (tests/engine/differential_test.cc). It shares nothing with src/engine/*.cc except the
// public contract (command.h, event.h, reject.h, types.h) and aims to be obviously correct rather
// than fast: std::map books of std::list queues, a std::map of balances, linear scans, and "would
// this FOK fill?" answered by running the match on a copy of the whole state.
//
// Every place where the spec leaves a choice open is marked "AMBIGUITY:" in reference_model.cc;
// the list is repeated in the differential test's report.
//
// Thread safety: none. Copyable (the FOK dry run copies it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "engine/command.h"
#include "engine/engine.h"
#include "engine/event.h"
#include "engine/reject.h"
#include "engine/types.h"

namespace spotex::engine::ref {

struct RefOrder {
  OrderId id = 0;
  OrderListId list_id = -1;
  AccountId account = 0;
  SymbolId symbol = 0;
  Side side = Side::kBuy;
  OrderType type = OrderType::kLimit;
  TimeInForce tif = TimeInForce::kNone;
  StpMode stp = StpMode::kNone;  // effective
  OrderStatus status = OrderStatus::kNew;
  bool working = false;  // on the book or running as a taker; false: untriggered stop
  int64_t price = 0, qty = 0, quote_qty = 0, stop_price = 0, iceberg_qty = 0;
  int64_t executed = 0, cum_quote = 0;
  int64_t reserved = 0;  // locked in quote (BUY) or base (SELL)
  int64_t visible = 0;   // the current slice while on the book
  TimeMs time_ms = 0, update_ms = 0;
  ClientOrderId cid;
};

struct RefList {
  OrderListId id = 0;
  AccountId account = 0;
  SymbolId symbol = 0;
  OrderId ids[2] = {0, 0};  // above, below
  OrderId limit_leg = 0, stop_leg = 0;
  ClientOrderId cid;
};

struct RefBalance {
  int64_t free = 0;
  int64_t locked = 0;
};

struct RefAccount {
  bool own_rates = false;
  int64_t maker_e8 = 0, taker_e8 = 0;
  StpMode stp = StpMode::kDefault;
  bool frozen = false;
};

struct RefAsset {
  Name name;
  int32_t scale = 0;
};

// A price level is a FIFO queue of order ids; a side maps price -> level (iterate bids backwards).
using RefSide = std::map<int64_t, std::list<OrderId>>;

struct RefSymbol {
  SymbolConfig cfg;
  int64_t last_price = 0;
  UpdateId update_id = 0;
  std::map<int64_t, std::pair<__int128, __int128>> minute_quote_qty;  // minute -> (Σquote, Σqty)
  RefSide bids, asks;
};

// Switches that make the model follow the engine where the engine deviates from the spec in a
// way already reported (so a run can get past a known difference and look for others). All off
// by default: the model follows the spec.
class RefEngine {
 public:
  struct Result {
    RejectCode code = RejectCode::kNone;
    RejectCode cancel_code = RejectCode::kNone;
    RejectCode new_order_code = RejectCode::kNone;
    OrderId order_id = 0;
    OrderListId order_list_id = 0;
  };

  RefEngine();

  // Applies one command; the events are in events() until the next Apply.
  Result Apply(const Command& cmd);
  std::span<const std::byte> events() const { return events_.bytes(); }

  // --- Queries ---
  Seq last_seq() const { return last_seq_; }
  bool HasAccount(AccountId a) const { return accounts_.count(a) != 0; }
  std::vector<AccountId> Accounts() const;  // incl. the fee account
  size_t asset_count() const { return assets_.size(); }
  size_t symbol_count() const { return symbols_.size(); }
  const RefSymbol& symbol(SymbolId s) const { return symbols_.at(s); }
  RefBalance Balance(AccountId a, AssetId asset) const;
  // Open orders (incl. untriggered stops) of `a`, optionally on one symbol, in id order.
  std::vector<OrderView> OpenOrders(AccountId a, std::optional<SymbolId> symbol) const;
  // Σ reserves of the open orders of `a` held in `asset`.
  int64_t LockedNeeds(AccountId a, AssetId asset) const;
  BookView Book(SymbolId s, size_t depth) const;
  std::vector<Engine::AssetTotals> Totals() const;
  // The model's own consistency (locked == needs, books sorted/uncrossed, no negatives).
  std::string SelfCheck() const;
  size_t open_order_count() const { return orders_.size(); }

 private:
  using BalKey = std::pair<AccountId, AssetId>;
  struct LevelKey {
    SymbolId symbol;
    Side side;
    int64_t price;
    bool operator==(const LevelKey&) const = default;
  };

  struct MatchEnd {
    enum Kind { kFilled, kRanOut, kNoCross, kFundsCap, kStpTaker } kind;
    int64_t prevented_id;
  };

  // --- commands ---
  Result DoPlace(const PlaceOrder& c);
  Result DoCancelCmd(const CancelOrder& c);
  Result DoCancelReplace(const CancelReplace& c);
  Result DoCancelAll(const CancelAll& c);
  Result DoAmend(const AmendOrder& c);
  Result DoOco(const PlaceOco& c);
  Result DoCancelList(const CancelOrderList& c);
  Result DoAddAsset(const AddAsset& c);
  Result DoAddSymbol(const AddSymbol& c);
  Result DoSetStatus(const SetSymbolStatus& c);
  Result DoOpenAccount(const OpenAccount& c);
  Result DoDeposit(const Deposit& c);
  Result DoWithdraw(const Withdraw& c);
  Result DoSetFees(const SetFees& c);
  Result DoSetStp(const SetAccountStp& c);
  Result DoFreeze(const FreezeAccount& c);

  // --- validation (no state change) ---
  RejectCode CheckTrader(AccountId a) const;  // exists, not the fee account, not frozen
  RejectCode ValidateShape(const NewOrder& o, const RefSymbol& s) const;    // steps 2-4
  RejectCode ValidateFilters(const NewOrder& o, const RefSymbol& s) const;  // step 5 w/o counts
  RejectCode ValidateNew(const NewOrder& o, int extra_orders, bool check_funds,
                         int64_t* reserve) const;  // steps 1-10
  RejectCode ValidateOco(const PlaceOco& c, int64_t* limit_res, int64_t* stop_res) const;
  RejectCode FindRef(const OrderRef& ref, OrderId* out) const;
  OrderStatus TakerStatusAfterFill(const RefOrder& t, int64_t price) const;
  NewOrder LegOrder(const PlaceOco& c, const OcoLeg& leg) const;
  std::optional<int64_t> AvgPrice(const RefSymbol& s) const;
  int64_t MarketStep(const RefSymbol& s) const;
  int64_t BaseUnit(const RefSymbol& s) const;
  int CountOpen(AccountId a, SymbolId s, bool algo_only) const;
  bool ClientIdInUse(AccountId a, const ClientOrderId& cid) const;
  const RefOrder* FindOpen(AccountId a, SymbolId s, OrderId id, const ClientOrderId& cid) const;
  bool WouldTrigger(const RefSymbol& s, Side side, OrderType type, int64_t stop) const;
  bool WouldTake(const RefSymbol& s, Side side, int64_t price) const;
  std::optional<__int128> ReserveFor(const NewOrder& o, const RefSymbol& s) const;
  __int128 QuoteWalk(const RefSymbol& s, Side taker_side, int64_t qty) const;
  __int128 BaseWalk(const RefSymbol& s, int64_t quote) const;              // a SELL by quote
  int64_t LevelTotal(const RefSymbol& s, Side side, int64_t price) const;  // incl. hidden
  int64_t LevelVisible(const RefSymbol& s, Side side, int64_t price) const;
  void EffectiveRates(AccountId a, int64_t* maker, int64_t* taker) const;
  StpMode EffectiveStp(AccountId a, StpMode order_stp, const RefSymbol& s) const;
  AssetId ReserveAsset(const RefOrder& o) const;
  bool FokWouldFill(OrderId id) const;  // runs the match on a copy of everything

  // --- state changes ---
  void Reject(AccountId a, RejectCode code, CommandPart part, uint8_t index,
              const ClientOrderId& cid);
  void Mutate(AccountId a, AssetId asset, int64_t dfree, int64_t dlocked);
  // Zero amounts touch nothing.
  void Lock(AccountId a, AssetId asset, int64_t amount) {
    if (amount != 0) {
      Mutate(a, asset, -amount, amount);
    }
  }
  void Unlock(AccountId a, AssetId asset, int64_t amount) {
    if (amount != 0) {
      Mutate(a, asset, amount, -amount);
    }
  }
  void TouchLevel(SymbolId s, Side side, int64_t price);
  void LevelErased(SymbolId s, Side side, int64_t price);
  RefOrder MakeOrder(const NewOrder& n, OrderListId list_id) const;
  OrderId PlaceValidated(const NewOrder& n, int64_t reserve);
  MatchEnd Match(OrderId id);
  void Fill(RefOrder& taker, RefOrder& maker, int64_t q, int64_t price);
  void EndTaker(OrderId id, MatchEnd end);
  void RestOnBook(RefOrder& o);
  void RemoveFromBook(const RefOrder& o);
  // Sets the status, emits the OrderUpdate, releases the reserve and forgets the order.
  void FinishOrder(OrderId id, OrderStatus status, ExecType exec, ExpiryReason reason,
                   int64_t prevented_id, bool emit = true);
  void ExpireInMatch(OrderId id, int64_t prevented_id);
  void EndListOf(OrderId id, bool move_reserve);
  void EmitUpdate(const RefOrder& o, ExecType exec, ExpiryReason reason, int64_t prevented_id);
  void EmitAccepted(const RefOrder& o);
  void EmitList(const RefList& l, ListStatus status);
  void EmitAccount(AccountId a);
  RejectCode TryCancel(const CancelOrder& c, OrderId* cancelled);
  void CancelOne(OrderId id, const ClientOrderId& cancel_cid);
  void CancelWithList(OrderId id, const ClientOrderId& cancel_cid);
  void RunStops(SymbolId s);
  void Activate(OrderId id);
  void FinishCommand();  // BalanceChanged + BookLevel

  // --- state ---
  std::vector<RefAsset> assets_;
  std::vector<RefSymbol> symbols_;
  std::map<AccountId, RefAccount> accounts_;
  std::map<BalKey, RefBalance> balances_;
  std::map<OrderId, RefOrder> orders_;    // open orders only
  std::map<OrderListId, RefList> lists_;  // open lists only
  std::vector<__int128> net_deposits_;
  int64_t default_maker_e8_ = 0, default_taker_e8_ = 0;
  OrderId next_order_id_ = 1;
  OrderListId next_list_id_ = 1;
  TradeId next_trade_id_ = 1;
  int64_t next_prevented_id_ = 1;
  Seq last_seq_ = 0;

  // --- per command ---
  Seq seq_ = 0;
  TimeMs now_ = 0;
  bool traded_ = false;
  std::vector<std::pair<BalKey, RefBalance>> touched_balances_;  // first touch, value before
  struct TouchedLevel {
    LevelKey key;
    int64_t before;
    bool dead;  // emptied during the command: a re-created level is a new entry
  };
  std::vector<TouchedLevel> touched_levels_;  // in order of first touch
  EventBuffer events_;
};

// floor(x / step) * step for x >= 0, step > 0.
inline __int128 FloorStep(__int128 x, int64_t step) { return x - x % step; }

}  // namespace spotex::engine::ref
