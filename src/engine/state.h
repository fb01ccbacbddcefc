// The engine's internal state and the operations on it. Private to src/engine: other layers use
// engine.h. Layout notes: orders, levels and balances live in pools (vectors) addressed by
// uint32 slots, linked intrusively, so the matching path does not allocate after warm-up.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/assert.h"
#include "engine/command.h"
#include "engine/engine.h"
#include "engine/event.h"
#include "engine/flat_map.h"
#include "engine/order_id_index.h"

namespace spotex::engine {

inline constexpr uint32_t kNil = UINT32_MAX;

// An open order's hot part: two cache lines, the first holding everything a cancel or a fill
// reads. Data needed only at placement or for queries lives in OrderCold (same slot).
struct alignas(64) Order {
  // Line 1.
  uint32_t next = kNil;  // level queue
  uint32_t prev = kNil;
  uint32_t level = kNil;  // when in the book
  uint32_t account = 0;   // account slot
  OrderId id = 0;
  Price price;
  Qty qty;  // original quantity (amend lowers it); 0 for MARKET by quote
  Qty executed;
  Qty display;  // visible part while in the book (iceberg slice, else all that remains)
  Side side = Side::kBuy;
  OrderType type = OrderType::kLimit;
  TimeInForce tif = TimeInForce::kNone;
  StpMode stp = StpMode::kNone;  // effective
  OrderStatus status = OrderStatus::kNew;
  bool in_book = false;
  bool working = false;  // false while an untriggered stop
  bool has_client_id = false;
  // Line 2.
  Amount reserved;  // locked for this order: quote for BUY, base for SELL
  Amount cum_quote;
  uint32_t base_bal = 0;  // balance slots
  uint32_t quote_bal = 0;
  SymbolId symbol = 0;
  uint32_t acct_sym = 0;  // AccountSymbol slot
  uint32_t acct_pos = 0;  // index in AccountSymbol::open
  uint32_t list = kNil;   // ListState slot while the list executes
  Qty iceberg_qty;
  TimeMs update_ms = 0;
  Amount quote_qty;  // MARKET by quote: what to spend (BUY) or receive (SELL)

  Qty Remaining() const { return qty - executed; }
  bool IsPriced() const {
    return type == OrderType::kLimit || type == OrderType::kLimitMaker ||
           type == OrderType::kStopLossLimit || type == OrderType::kTakeProfitLimit;
  }
};
static_assert(sizeof(Order) == 128);

struct OrderCold {
  Price stop_price;
  OrderListId list_id = -1;
  TimeMs time_ms = 0;
  ClientOrderId client_id;
};

struct Level {
  Price price;
  Qty visible;         // Σ display of its orders
  Qty total;           // Σ remaining, hidden iceberg parts included
  Qty visible_before;  // at the first touch in the current command
  uint32_t head = kNil;
  uint32_t tail = kNil;
  uint32_t count = 0;
  uint32_t touch_epoch = 0;
  SymbolId symbol = 0;
  Side side = Side::kBuy;
  bool live = false;  // in its side's price vector
};

// One side of a book: prices sorted worst-to-best, so the best level is at the back.
struct BookSide {
  std::vector<int64_t> prices;
  std::vector<uint32_t> levels;
};

struct StopEntry {
  Price stop;
  OrderId id;
  uint32_t slot;
};

struct AvgBucket {
  static constexpr __int128 kMax = static_cast<__int128>(1) << 115;  // sums saturate here
  int64_t minute = -1;
  __int128 quote = 0;
  __int128 qty = 0;
};

struct SymbolState {
  SymbolConfig cfg;
  int64_t base_unit = 1;  // 10^base_scale
  BookSide bids;
  BookSide asks;
  UpdateId update_id = 0;
  Price last_price;
  std::vector<AvgBucket> buckets;     // ring, one per minute, avg_price_mins long
  __int128 open_qty[2] = {0, 0};      // Σ remaining of open orders, per side (≤ INT64_MAX)
  std::vector<StopEntry> stops_up;    // trigger when last >= stop; ascending (stop, id)
  std::vector<StopEntry> stops_down;  // trigger when last <= stop; descending stop, asc id

  BookSide& SideOf(Side s) { return s == Side::kBuy ? bids : asks; }
};

struct Account {
  AccountId id = 0;
  int64_t maker_rate_e8 = 0;
  int64_t taker_rate_e8 = 0;
  bool own_fees = false;
  bool frozen = false;
  StpMode stp = StpMode::kDefault;
};

struct AccountSymbol {
  uint32_t account = 0;
  SymbolId symbol = 0;
  uint32_t base_bal = 0;  // balance slots of this account in the symbol's assets
  uint32_t quote_bal = 0;
  std::vector<uint32_t> open;  // slots of its open orders (any state), unordered
  int32_t open_orders = 0;
  int32_t algo_orders = 0;          // untriggered stops
  int32_t book_orders[2] = {0, 0};  // resting, per side
};

struct Balance {
  Amount free;
  Amount locked;
  Amount free_before;
  Amount locked_before;
  uint32_t account = 0;
  AssetId asset = 0;
  uint32_t touch_epoch = 0;
};

struct AssetState {
  Name name;
  int32_t scale = 0;
  __int128 net_deposits = 0;
};

struct ListState {
  OrderListId id = 0;
  uint32_t account = 0;
  SymbolId symbol = 0;
  uint32_t legs[2] = {kNil, kNil};  // above, below (order slots)
  OrderId leg_ids[2] = {0, 0};
  TimeMs time_ms = 0;
  ClientOrderId client_id;
};

struct ClientKey {
  uint32_t account = 0;
  ClientOrderId id;
  bool operator==(const ClientKey& o) const { return account == o.account && id == o.id; }
};

struct ClientKeyHash {
  uint64_t operator()(const ClientKey& k) const {
    uint64_t h = 1469598103934665603ULL ^ k.account;
    for (uint8_t i = 0; i < k.id.len; ++i) {
      h = (h ^ static_cast<uint8_t>(k.id.bytes[i])) * 1099511628211ULL;
    }
    return Mix64(h);
  }
};

// Validates a symbol listing (AddSymbol, and snapshots on restore).
RejectCode CheckSymbolConfig(const SymbolConfig& c, const std::vector<AssetState>& assets);

// Why a taker stopped matching.
enum class MatchStop : uint8_t { kFilled, kNoCross, kBookEmpty, kCapped, kQuoteDone, kStp };

class EngineState {
 public:
  EngineState();

  ApplyResult Apply(const Command& cmd);

  // ---- state (kept simple and public inside the engine library) ----
  Seq last_seq = 0;
  TimeMs now_ms = 0;
  OrderId next_order_id = 1;
  OrderListId next_list_id = 1;
  TradeId next_trade_id = 1;
  int64_t next_prevented_id = 1;
  int64_t default_maker_e8 = 0;
  int64_t default_taker_e8 = 0;

  std::vector<AssetState> assets;
  std::vector<SymbolState> symbols;
  std::vector<Account> accounts;  // slot 0 = the fee account
  FlatMap<uint64_t, uint32_t> account_index;
  std::vector<Balance> balances;
  FlatMap<uint64_t, uint32_t> balance_index;  // (account slot << 32 | asset)
  std::vector<uint32_t> fee_balance;          // per asset: the fee account's balance slot
  std::vector<AccountSymbol> acct_syms;
  FlatMap<uint64_t, uint32_t> acct_sym_index;  // (account slot << 32 | symbol)
  std::vector<Order> orders;
  std::vector<OrderCold> cold;  // per order slot
  std::vector<uint32_t> free_orders;
  OrderIdIndex order_index;  // order id -> slot
  FlatMap<ClientKey, uint32_t, ClientKeyHash> client_index;
  std::vector<Level> levels;
  std::vector<uint32_t> free_levels;
  std::vector<ListState> lists;
  std::vector<uint32_t> free_lists;
  FlatMap<uint64_t, uint32_t> list_index;                         // list id -> slot
  FlatMap<ClientKey, uint32_t, ClientKeyHash> list_client_index;  // (account, list client id)

  // ---- per-command scratch ----
  uint32_t epoch = 0;
  Seq cur_seq = 0;
  EventBuffer events;
  std::vector<uint32_t> touched_balances;
  std::vector<uint32_t> touched_levels;
  bool price_moved = false;
  std::vector<OrderId> scratch_ids;  // CancelAll's working list

  // ---- helpers (engine.cc / matching.cc) ----
  int64_t MakerRate(const Account& a) const {
    return a.own_fees ? a.maker_rate_e8 : default_maker_e8;
  }
  int64_t TakerRate(const Account& a) const {
    return a.own_fees ? a.taker_rate_e8 : default_taker_e8;
  }
  // Index lookups with a one-entry memo: a command looks up the same account (and account and
  // symbol) several times. Both indexes only grow and slots never move, so a memo never stales.
  const uint32_t* FindAccount(AccountId id) const {
    if (memo_account_valid_ && memo_account_id_ == id) {
      return &memo_account_slot_;
    }
    const uint32_t* p = account_index.Find(id);
    if (p != nullptr) {
      memo_account_valid_ = true;
      memo_account_id_ = id;
      memo_account_slot_ = *p;
    }
    return p;
  }
  const uint32_t* FindAcctSym(uint64_t key) const {
    if (memo_as_valid_ && memo_as_key_ == key) {
      return &memo_as_slot_;
    }
    const uint32_t* p = acct_sym_index.Find(key);
    if (p != nullptr) {
      memo_as_valid_ = true;
      memo_as_key_ = key;
      memo_as_slot_ = *p;
    }
    return p;
  }
  mutable bool memo_account_valid_ = false;
  mutable AccountId memo_account_id_ = 0;
  mutable uint32_t memo_account_slot_ = 0;
  mutable bool memo_as_valid_ = false;
  mutable uint64_t memo_as_key_ = 0;
  mutable uint32_t memo_as_slot_ = 0;
  uint32_t BalanceSlot(uint32_t account, AssetId asset);  // creates on first use
  void TouchBalance(uint32_t slot);
  void TouchLevel(uint32_t level);
  uint32_t AcctSymSlot(uint32_t account, SymbolId symbol);  // creates on first use
  Amount FreeFor(const NewOrder& o) const;  // free balance the order would reserve from
  void Reject(RejectCode code, CommandPart part, AccountId account, uint8_t command_index,
              const ClientOrderId* client_id);
  // A whole command rejected: its one CommandRejected event and the result to return.
  ApplyResult Rejected(RejectCode code, AccountId account, const ClientOrderId* client_id) {
    Reject(code, CommandPart::kWhole, account, command_index, client_id);
    ApplyResult r;
    r.code = code;
    return r;
  }
  void FinishCommand();

  // Placement (validated input).
  RejectCode ValidateNewOrder(const NewOrder& o, int extra_orders, Amount* reserve) const;
  uint32_t CreateOrder(const NewOrder& o, Amount reserve, OrderListId list_id);
  void EmitAccepted(uint32_t slot);
  void StartOrder(uint32_t slot);  // after EmitAccepted: park a stop, or run as taker
  void RunTaker(uint32_t slot);
  void ProcessTriggers(SymbolId symbol);

  // Matching internals (matching.cc).
  bool FokCanFill(const Order& o) const;
  MatchStop Match(uint32_t slot);
  void Fill(uint32_t taker, uint32_t maker, uint32_t level, Qty q);
  void ExpireStp(uint32_t slot, int64_t prevented_id);
  void Rest(uint32_t slot);
  void RemoveFromBook(uint32_t slot);
  void FinishOrder(uint32_t slot);  // releases reserve, unindexes, frees the slot
  void EndOrder(uint32_t slot, ExecType exec, OrderStatus status, ExpiryReason reason);
  OrderUpdate& EmitUpdate(const Order& o, ExecType exec, ExpiryReason reason);
  void Unlock(Order& o, Amount amount);
  void AddStop(uint32_t slot);
  void RemoveStop(const Order& o);
  bool StopTriggered(Side side, OrderType type, Price stop, Price last) const;
  void Activate(uint32_t slot);
  void OnListLegEvent(uint32_t slot, bool triggered);
  Amount WalkBuyCost(const SymbolState& s, Qty qty) const;
  Qty WalkSellBase(const SymbolState& s, Amount quote, Qty step) const;
  void RecordTrade(SymbolState& s, Price price, Qty qty, Amount quote);
  std::optional<Price> AvgPrice(const SymbolState& s) const;
  Qty MarketStep(const SymbolState& s) const;

  // Command handlers (engine.cc).
  ApplyResult DoPlace(const PlaceOrder& c);
  ApplyResult DoCancel(const CancelOrder& c, CommandPart part);
  ApplyResult DoCancelReplace(const CancelReplace& c);
  ApplyResult DoCancelAll(const CancelAll& c);
  ApplyResult DoAmend(const AmendOrder& c);
  ApplyResult DoPlaceOco(const PlaceOco& c);
  ApplyResult DoCancelList(const CancelOrderList& c);
  ApplyResult DoAddAsset(const AddAsset& c);
  ApplyResult DoAddSymbol(const AddSymbol& c);
  ApplyResult DoSetSymbolStatus(const SetSymbolStatus& c);
  ApplyResult DoOpenAccount(const OpenAccount& c);
  ApplyResult DoDeposit(const Deposit& c);
  ApplyResult DoWithdraw(const Withdraw& c);
  ApplyResult DoSetFees(const SetFees& c);
  ApplyResult DoSetAccountStp(const SetAccountStp& c);
  ApplyResult DoFreeze(const FreezeAccount& c);
  RejectCode FindOpenOrder(const OrderRef& r, uint32_t* slot) const;
  void CancelOrderSlot(uint32_t slot, const ClientOrderId* cancel_id);
  void EmitAccountUpdated(uint32_t account_slot);
  void EmitListStatus(const ListState& l, ListStatus status);
  uint32_t FindListByClientId(uint32_t account, const ClientOrderId& id) const;
  void ForgetList(uint32_t slot);  // unindexes a finished list and frees its slot
  uint32_t OpenAccountSlot(AccountId id);

  std::string CheckConsistency() const;

  uint8_t command_index = 0;
};

}  // namespace spotex::engine
