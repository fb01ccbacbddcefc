// Naive reference model of docs/engine-semantics.md. See reference_model.h.
//
// This file is long (one reason: it is a single, linear reading of the spec, kept in one place so
// a reviewer can hold it against the spec page side by side). Comments marked "AMBIGUITY:" record
// every choice the spec leaves open; they are listed again in the differential test's report.
#include "reference_model.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <variant>

namespace spotex::engine::ref {
namespace {

constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kE8 = 100'000'000;

bool ValidCid(const ClientOrderId& c) {
  if (c.len == 0 || c.len > ClientOrderId::kMaxLen) {
    return false;
  }
  for (size_t i = 0; i < c.len; ++i) {
    const char ch = c.bytes[i];
    const bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                    (ch >= '0' && ch <= '9') || ch == '.' || ch == ':' || ch == '/' || ch == '_' ||
                    ch == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

bool ValidName(const Name& n) {
  if (n.len == 0 || n.len > Name::kMaxLen) {
    return false;
  }
  for (size_t i = 0; i < n.len; ++i) {
    const char ch = n.bytes[i];
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))) {
      return false;
    }
  }
  return true;
}

bool IsPriced(OrderType t) {
  return t == OrderType::kLimit || t == OrderType::kLimitMaker || t == OrderType::kStopLossLimit ||
         t == OrderType::kTakeProfitLimit;
}

bool ValidSide(Side s) { return static_cast<uint8_t>(s) <= 1; }
bool ValidType(OrderType t) { return static_cast<uint8_t>(t) <= 6; }
bool ValidTif(TimeInForce t) { return static_cast<uint8_t>(t) <= 3; }
bool ValidStp(StpMode m) { return static_cast<uint8_t>(m) <= 4; }

}  // namespace

RefEngine::RefEngine() { accounts_[kFeeAccount] = RefAccount{}; }

// ---------------------------------------------------------------------------------------------
// Queries

std::vector<AccountId> RefEngine::Accounts() const {
  std::vector<AccountId> out;
  for (const auto& [a, acct] : accounts_) {
    out.push_back(a);
  }
  return out;
}

RefBalance RefEngine::Balance(AccountId a, AssetId asset) const {
  auto it = balances_.find({a, asset});
  return it == balances_.end() ? RefBalance{} : it->second;
}

std::vector<OrderView> RefEngine::OpenOrders(AccountId a, std::optional<SymbolId> symbol) const {
  std::vector<OrderView> out;
  for (const auto& [id, o] : orders_) {
    if (o.account != a || (symbol && o.symbol != *symbol)) {
      continue;
    }
    OrderView v{};
    v.order_id = o.id;
    v.order_list_id = o.list_id;
    v.account = o.account;
    v.symbol = o.symbol;
    v.side = o.side;
    v.type = o.type;
    v.tif = o.tif;
    v.stp = o.stp;
    v.status = o.status;
    v.working = o.working;
    v.price = Price(o.price);
    v.qty = Qty(o.qty);
    v.quote_qty = Amount(o.quote_qty);
    v.stop_price = Price(o.stop_price);
    v.iceberg_qty = Qty(o.iceberg_qty);
    v.executed_qty = Qty(o.executed);
    v.cum_quote_qty = Amount(o.cum_quote);
    v.reserved = Amount(o.reserved);
    v.time_ms = o.time_ms;
    v.update_ms = o.update_ms;
    v.client_order_id = o.cid;
    out.push_back(v);
  }
  return out;
}

AssetId RefEngine::ReserveAsset(const RefOrder& o) const {
  const SymbolConfig& c = symbols_[o.symbol].cfg;
  return o.side == Side::kBuy ? c.quote_asset : c.base_asset;
}

int64_t RefEngine::LockedNeeds(AccountId a, AssetId asset) const {
  int64_t sum = 0;
  for (const auto& [id, o] : orders_) {
    if (o.account == a && ReserveAsset(o) == asset) {
      sum += o.reserved;
    }
  }
  return sum;
}

int64_t RefEngine::LevelVisible(const RefSymbol& s, Side side, int64_t price) const {
  const RefSide& book = side == Side::kBuy ? s.bids : s.asks;
  auto it = book.find(price);
  if (it == book.end()) {
    return 0;
  }
  int64_t sum = 0;
  for (OrderId id : it->second) {
    sum += orders_.at(id).visible;
  }
  return sum;
}

int64_t RefEngine::LevelTotal(const RefSymbol& s, Side side, int64_t price) const {
  const RefSide& book = side == Side::kBuy ? s.bids : s.asks;
  auto it = book.find(price);
  if (it == book.end()) {
    return 0;
  }
  int64_t sum = 0;
  for (OrderId id : it->second) {
    const RefOrder& o = orders_.at(id);
    sum += o.qty - o.executed;
  }
  return sum;
}

BookView RefEngine::Book(SymbolId sid, size_t depth) const {
  const RefSymbol& s = symbols_.at(sid);
  BookView v;
  v.last_update_id = s.update_id;
  for (auto it = s.bids.rbegin(); it != s.bids.rend() && v.bids.size() < depth; ++it) {
    v.bids.push_back({Price(it->first), Qty(LevelVisible(s, Side::kBuy, it->first))});
  }
  for (auto it = s.asks.begin(); it != s.asks.end() && v.asks.size() < depth; ++it) {
    v.asks.push_back({Price(it->first), Qty(LevelVisible(s, Side::kSell, it->first))});
  }
  return v;
}

std::vector<Engine::AssetTotals> RefEngine::Totals() const {
  std::vector<Engine::AssetTotals> out;
  for (AssetId a = 0; a < assets_.size(); ++a) {
    out.push_back({a, net_deposits_[a], 0});
  }
  for (const auto& [key, b] : balances_) {
    out[key.second].balances += static_cast<__int128>(b.free) + b.locked;
  }
  return out;
}

std::string RefEngine::SelfCheck() const {
  std::map<BalKey, int64_t> needs;
  for (const auto& [id, o] : orders_) {
    needs[{o.account, ReserveAsset(o)}] += o.reserved;
  }
  for (const auto& [key, b] : balances_) {
    if (b.free < 0 || b.locked < 0) {
      return "negative balance of account " + std::to_string(key.first);
    }
    auto it = needs.find(key);
    if (b.locked != (it == needs.end() ? 0 : it->second)) {
      return "locked != needs for account " + std::to_string(key.first) + " asset " +
             std::to_string(key.second);
    }
  }
  for (const auto& t : Totals()) {
    if (t.net_deposits != t.balances) {
      return "conservation broken for asset " + std::to_string(t.asset);
    }
  }
  for (const auto& s : symbols_) {
    if (!s.bids.empty() && !s.asks.empty() && s.bids.rbegin()->first >= s.asks.begin()->first) {
      return "crossed book";
    }
    for (const RefSide* side : {&s.bids, &s.asks}) {
      for (const auto& [p, level] : *side) {
        if (level.empty()) {
          return "empty level";
        }
        for (OrderId id : level) {
          auto it = orders_.find(id);
          if (it == orders_.end() || it->second.visible <= 0 || it->second.price != p ||
              !it->second.working) {
            return "bad book entry " + std::to_string(id);
          }
        }
      }
    }
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Small helpers

int64_t RefEngine::BaseUnit(const RefSymbol& s) const {
  return core::Pow10(assets_[s.cfg.base_asset].scale);
}

// AMBIGUITY: "floor_step" for market orders: the MARKET_LOT_SIZE step, or LOT_SIZE's when zero.
int64_t RefEngine::MarketStep(const RefSymbol& s) const {
  return s.cfg.filters.market_step_size.v > 0 ? s.cfg.filters.market_step_size.v
                                              : s.cfg.filters.step_size.v;
}

void RefEngine::EffectiveRates(AccountId a, int64_t* maker, int64_t* taker) const {
  const RefAccount& acct = accounts_.at(a);
  *maker = acct.own_rates ? acct.maker_e8 : default_maker_e8_;
  *taker = acct.own_rates ? acct.taker_e8 : default_taker_e8_;
}

StpMode RefEngine::EffectiveStp(AccountId a, StpMode order_stp, const RefSymbol& s) const {
  if (order_stp != StpMode::kDefault) {
    return order_stp;
  }
  const RefAccount& acct = accounts_.at(a);
  return acct.stp != StpMode::kDefault ? acct.stp : s.cfg.default_stp;
}

std::optional<int64_t> RefEngine::AvgPrice(const RefSymbol& s) const {
  if (s.last_price == 0) {
    return std::nullopt;
  }
  const int64_t cur = now_ / 60000;
  const int64_t lo = cur - s.cfg.filters.avg_price_mins;  // exclusive
  __int128 quote = 0, qty = 0;
  for (auto it = s.minute_quote_qty.upper_bound(lo);
       it != s.minute_quote_qty.end() && it->first <= cur; ++it) {
    quote += it->second.first;
    qty += it->second.second;
  }
  if (qty == 0) {
    return s.last_price;
  }
  // Halve both sums together until the quantity fits 64 bits, so quote × base_unit cannot
  // overflow (the spec's rule; only extreme volumes lose low bits).
  while (qty > (static_cast<__int128>(1) << 64)) {
    quote >>= 1;
    qty >>= 1;
  }
  const __int128 avg = quote / qty * BaseUnit(s) + quote % qty * BaseUnit(s) / qty;
  return static_cast<int64_t>(std::min<__int128>(avg, kI64Max));
}

int RefEngine::CountOpen(AccountId a, SymbolId s, bool algo_only) const {
  int n = 0;
  for (const auto& [id, o] : orders_) {
    if (o.account == a && o.symbol == s && (!algo_only || !o.working)) {
      ++n;
    }
  }
  return n;
}

bool RefEngine::ClientIdInUse(AccountId a, const ClientOrderId& cid) const {
  for (const auto& [id, o] : orders_) {
    if (o.account == a && o.cid == cid) {
      return true;
    }
  }
  return false;
}

const RefOrder* RefEngine::FindOpen(AccountId a, SymbolId s, OrderId id,
                                    const ClientOrderId& cid) const {
  const RefOrder* by_id = nullptr;
  const RefOrder* by_cid = nullptr;
  if (id != 0) {
    auto it = orders_.find(id);
    if (it == orders_.end() || it->second.account != a || it->second.symbol != s) {
      return nullptr;
    }
    by_id = &it->second;
  }
  if (!cid.empty()) {
    for (const auto& [oid, o] : orders_) {
      if (o.account == a && o.symbol == s && o.cid == cid) {
        by_cid = &o;
        break;
      }
    }
    if (by_cid == nullptr) {
      return nullptr;
    }
  }
  if (by_id != nullptr && by_cid != nullptr && by_id != by_cid) {
    return nullptr;
  }
  return by_id != nullptr ? by_id : by_cid;
}

bool RefEngine::WouldTrigger(const RefSymbol& s, Side side, OrderType type, int64_t stop) const {
  if (s.last_price == 0) {
    return false;
  }
  const bool stop_loss = type == OrderType::kStopLoss || type == OrderType::kStopLossLimit;
  const bool up = (side == Side::kBuy) == stop_loss;  // BUY SL, SELL TP: last >= stop
  return up ? s.last_price >= stop : s.last_price <= stop;
}

bool RefEngine::WouldTake(const RefSymbol& s, Side side, int64_t price) const {
  if (side == Side::kBuy) {
    return !s.asks.empty() && price >= s.asks.begin()->first;
  }
  return !s.bids.empty() && price <= s.bids.rbegin()->first;
}

__int128 RefEngine::QuoteWalk(const RefSymbol& s, Side taker_side, int64_t qty) const {
  const Side opp = Opposite(taker_side);
  const RefSide& book = opp == Side::kBuy ? s.bids : s.asks;
  std::vector<int64_t> prices;
  for (const auto& [p, level] : book) {
    prices.push_back(p);
  }
  if (opp == Side::kBuy) {
    std::reverse(prices.begin(), prices.end());
  }
  __int128 cost = 0;
  int64_t left = qty;
  for (int64_t p : prices) {
    if (left == 0) {
      break;
    }
    const int64_t take = std::min(left, LevelTotal(s, opp, p));
    cost += static_cast<__int128>(p) * take / BaseUnit(s);
    left -= take;
  }
  return cost;
}

__int128 RefEngine::BaseWalk(const RefSymbol& s, int64_t quote) const {
  __int128 base = 0;
  __int128 quote_left = quote;
  for (auto it = s.bids.rbegin(); it != s.bids.rend() && quote_left > 0; ++it) {
    const int64_t p = it->first;
    const __int128 max = FloorStep(quote_left * BaseUnit(s) / p, s.cfg.filters.step_size.v);
    if (max == 0) {
      break;
    }
    const __int128 take = std::min<__int128>(LevelTotal(s, Side::kBuy, p), max);
    base += take;
    quote_left -= static_cast<__int128>(p) * take / BaseUnit(s);
  }
  return base;
}

// ---------------------------------------------------------------------------------------------
// Event and touch helpers

void RefEngine::Reject(AccountId a, RejectCode code, CommandPart part, uint8_t index,
                       const ClientOrderId& cid) {
  auto& e = events_.Append<CommandRejected>(seq_);
  e.account = a;
  e.code = code;
  e.part = part;
  e.command_index = index;
  // A rejection echoes the client id only when it is a valid one (never bytes past it).
  if (ValidCid(cid)) {
    e.client_order_id.len = cid.len;
    std::memcpy(e.client_order_id.bytes, cid.bytes, cid.len);
  }
}

// The spec ("Events of one command"): BalanceChanged in first-touch order, only when free or
// locked differs from before the command; BookLevel likewise when the visible quantity differs.
// AMBIGUITY (engine's reading): any settlement step touches the balances it names even with a
// zero amount (which only matters for the order).
void RefEngine::Mutate(AccountId a, AssetId asset, int64_t dfree, int64_t dlocked) {
  const BalKey key{a, asset};
  RefBalance& b = balances_[key];
  bool seen = false;
  for (const auto& [k, before] : touched_balances_) {
    if (k == key) {
      seen = true;
      break;
    }
  }
  if (!seen) {
    touched_balances_.push_back({key, b});
  }
  b.free += dfree;
  b.locked += dlocked;
}

void RefEngine::TouchLevel(SymbolId s, Side side, int64_t price) {
  for (const TouchedLevel& t : touched_levels_) {
    if (t.key == LevelKey{s, side, price} && !t.dead) {
      return;
    }
  }
  touched_levels_.push_back(
      {LevelKey{s, side, price}, LevelVisible(symbols_[s], side, price), false});
}

// The spec: a level emptied and re-created at the same price within one command appears twice
// (0, then the new quantity).
void RefEngine::LevelErased(SymbolId s, Side side, int64_t price) {
  for (TouchedLevel& t : touched_levels_) {
    if (t.key == LevelKey{s, side, price}) {
      t.dead = true;
    }
  }
}

void RefEngine::EmitUpdate(const RefOrder& o, ExecType exec, ExpiryReason reason,
                           int64_t prevented_id) {
  auto& e = events_.Append<OrderUpdate>(seq_);
  e.order_id = o.id;
  e.account = o.account;
  e.symbol = o.symbol;
  e.exec = exec;
  e.status = o.status;
  e.reason = reason;
  e.is_maker = false;
  e.executed_qty = Qty(o.executed);
  e.cum_quote_qty = Amount(o.cum_quote);
  e.prevented_match_id = prevented_id;
}

void RefEngine::EmitAccepted(const RefOrder& o) {
  auto& e = events_.Append<OrderAccepted>(seq_);
  e.order_id = o.id;
  e.order_list_id = o.list_id;
  e.account = o.account;
  e.symbol = o.symbol;
  e.side = o.side;
  e.type = o.type;
  e.tif = o.tif;
  e.stp = o.stp;
  e.status = o.status;
  e.working = o.working;
  e.price = Price(o.price);
  e.qty = Qty(o.qty);
  e.quote_qty = Amount(o.quote_qty);
  e.stop_price = Price(o.stop_price);
  e.iceberg_qty = Qty(o.iceberg_qty);
  e.time_ms = o.time_ms;
  e.client_order_id = o.cid;
}

// AMBIGUITY: OrderList.time_ms is the time of the command that emits the event.
void RefEngine::EmitList(const RefList& l, ListStatus status) {
  auto& e = events_.Append<OrderList>(seq_);
  e.order_list_id = l.id;
  e.account = l.account;
  e.symbol = l.symbol;
  e.status = status;
  e.order_ids[0] = l.ids[0];
  e.order_ids[1] = l.ids[1];
  e.time_ms = now_;
  e.list_client_order_id = l.cid;
}

void RefEngine::FinishCommand() {
  for (const auto& [key, before] : touched_balances_) {
    const RefBalance& after = balances_.at(key);
    if (after.free == before.free && after.locked == before.locked) {
      continue;
    }
    auto& e = events_.Append<BalanceChanged>(seq_);
    e.account = key.first;
    e.asset = key.second;
    e.free = Amount(after.free);
    e.locked = Amount(after.locked);
    e.delta_free = Amount(after.free - before.free);
    e.delta_locked = Amount(after.locked - before.locked);
  }
  for (const auto& [k, before, dead] : touched_levels_) {
    RefSymbol& s = symbols_[k.symbol];
    const int64_t after = dead ? 0 : LevelVisible(s, k.side, k.price);
    if (after == before) {
      continue;
    }
    auto& e = events_.Append<BookLevel>(seq_);
    e.symbol = k.symbol;
    e.side = k.side;
    e.update_id = ++s.update_id;
    e.price = Price(k.price);
    e.qty = Qty(after);
  }
}

// ---------------------------------------------------------------------------------------------
// Apply

RefEngine::Result RefEngine::Apply(const Command& cmd) {
  events_.Clear();
  touched_balances_.clear();
  touched_levels_.clear();
  traded_ = false;
  seq_ = cmd.seq;
  const auto index = static_cast<uint8_t>(cmd.body.index());
  if (cmd.seq <= last_seq_) {
    // AMBIGUITY (engine's reading): a stale seq is rejected with account 0 and no client id.
    Reject(0, RejectCode::kInvalidParameter, CommandPart::kWhole, index, ClientOrderId{});
    return {RejectCode::kInvalidParameter};
  }
  now_ = std::max(now_, cmd.time_ms);  // the engine clock never goes backwards

  Result r = std::visit(
      [&](const auto& c) -> Result {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, PlaceOrder>) {
          return DoPlace(c);
        } else if constexpr (std::is_same_v<T, CancelOrder>) {
          return DoCancelCmd(c);
        } else if constexpr (std::is_same_v<T, CancelReplace>) {
          return DoCancelReplace(c);
        } else if constexpr (std::is_same_v<T, CancelAll>) {
          return DoCancelAll(c);
        } else if constexpr (std::is_same_v<T, AmendOrder>) {
          return DoAmend(c);
        } else if constexpr (std::is_same_v<T, PlaceOco>) {
          return DoOco(c);
        } else if constexpr (std::is_same_v<T, CancelOrderList>) {
          return DoCancelList(c);
        } else if constexpr (std::is_same_v<T, AddAsset>) {
          return DoAddAsset(c);
        } else if constexpr (std::is_same_v<T, AddSymbol>) {
          return DoAddSymbol(c);
        } else if constexpr (std::is_same_v<T, SetSymbolStatus>) {
          return DoSetStatus(c);
        } else if constexpr (std::is_same_v<T, OpenAccount>) {
          return DoOpenAccount(c);
        } else if constexpr (std::is_same_v<T, Deposit>) {
          return DoDeposit(c);
        } else if constexpr (std::is_same_v<T, Withdraw>) {
          return DoWithdraw(c);
        } else if constexpr (std::is_same_v<T, SetFees>) {
          return DoSetFees(c);
        } else if constexpr (std::is_same_v<T, SetAccountStp>) {
          return DoSetStp(c);
        } else {
          return DoFreeze(c);
        }
      },
      cmd.body);
  // AMBIGUITY: every command with a fresh seq advances last_seq, rejected or not (the engine's
  // reading of "last applied seq"); only a stale seq leaves it.
  last_seq_ = cmd.seq;
  bool applied = false;
  for (EventReader rd(events_.bytes()); !rd.Done(); rd.Next()) {
    if (rd.header().type != EventType::kCommandRejected) {
      applied = true;
    }
  }
  if (applied) {
    FinishCommand();
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Order validation

RejectCode RefEngine::CheckTrader(AccountId a) const {
  auto it = accounts_.find(a);
  if (it == accounts_.end() || a == kFeeAccount) {
    return RejectCode::kUnknownAccount;
  }
  if (it->second.frozen) {
    return RejectCode::kAccountFrozen;
  }
  return RejectCode::kNone;
}

// Steps 2-4 of "PlaceOrder validation order", in the spec's order.
RejectCode RefEngine::ValidateShape(const NewOrder& o, const RefSymbol& s) const {
  using RC = RejectCode;
  if (!ValidSide(o.side)) {
    return RC::kInvalidSide;
  }
  if (!ValidType(o.type)) {
    return RC::kInvalidOrderType;
  }
  if (!ValidTif(o.tif)) {
    return RC::kInvalidTimeInForce;
  }
  if (!ValidStp(o.stp)) {
    return RC::kInvalidStpMode;
  }
  if (!o.client_order_id.empty() && !ValidCid(o.client_order_id)) {
    return RC::kInvalidClientOrderId;
  }
  // AMBIGUITY: negative values are checked first in step 3, prices (price, stop) before
  // quantities (qty, quote_qty, iceberg_qty).
  if (o.price.v < 0 || o.stop_price.v < 0) {
    return RC::kInvalidPrice;
  }
  if (o.qty.v < 0 || o.quote_qty.v < 0 || o.iceberg_qty.v < 0) {
    return RC::kInvalidQuantity;
  }
  const bool tif_limit =
      o.tif == TimeInForce::kGtc || o.tif == TimeInForce::kIoc || o.tif == TimeInForce::kFok;
  switch (o.type) {
    case OrderType::kLimit:
      if (!tif_limit) {
        return RC::kMissingTimeInForce;
      }
      if (o.price.v == 0) {
        return RC::kMissingPrice;
      }
      if (o.qty.v == 0) {
        return RC::kMissingQuantity;
      }
      if (o.quote_qty.v != 0 || o.stop_price.v != 0) {
        return RC::kParamNotRequired;
      }
      break;
    case OrderType::kLimitMaker:
      if (o.tif != TimeInForce::kNone) {
        return RC::kTimeInForceNotRequired;
      }
      if (o.price.v == 0) {
        return RC::kMissingPrice;
      }
      if (o.qty.v == 0) {
        return RC::kMissingQuantity;
      }
      if (o.quote_qty.v != 0 || o.stop_price.v != 0) {
        return RC::kParamNotRequired;
      }
      break;
    case OrderType::kMarket:
      if (o.tif != TimeInForce::kNone) {
        return RC::kTimeInForceNotRequired;
      }
      if (o.price.v != 0 || o.stop_price.v != 0 || o.iceberg_qty.v != 0) {
        return RC::kParamNotRequired;
      }
      if (o.qty.v == 0 && o.quote_qty.v == 0) {
        return RC::kMissingQtyOrQuoteQty;
      }
      if (o.qty.v != 0 && o.quote_qty.v != 0) {
        return RC::kUnsupportedCombination;
      }
      if (o.quote_qty.v != 0 && !s.cfg.quote_order_qty_market_allowed) {
        return RC::kQuoteQtyNotAllowed;
      }
      break;
    case OrderType::kStopLoss:
    case OrderType::kTakeProfit:
      if (o.tif != TimeInForce::kNone) {
        return RC::kTimeInForceNotRequired;
      }
      if (o.stop_price.v == 0) {
        return RC::kMissingStopPrice;
      }
      if (o.qty.v == 0) {
        return RC::kMissingQuantity;
      }
      if (o.price.v != 0 || o.quote_qty.v != 0 || o.iceberg_qty.v != 0) {
        return RC::kParamNotRequired;
      }
      break;
    case OrderType::kStopLossLimit:
    case OrderType::kTakeProfitLimit:
      if (!tif_limit) {
        return RC::kMissingTimeInForce;
      }
      if (o.stop_price.v == 0) {
        return RC::kMissingStopPrice;
      }
      if (o.price.v == 0) {
        return RC::kMissingPrice;
      }
      if (o.qty.v == 0) {
        return RC::kMissingQuantity;
      }
      if (o.quote_qty.v != 0) {
        return RC::kParamNotRequired;
      }
      break;
  }
  if (o.iceberg_qty.v > 0) {
    if (!s.cfg.iceberg_allowed) {
      return RC::kIcebergNotAllowed;
    }
    if (!IsPriced(o.type)) {
      return RC::kUnsupportedCombination;
    }
    const TimeInForce need =
        o.type == OrderType::kLimitMaker ? TimeInForce::kNone : TimeInForce::kGtc;
    if (o.tif != need) {
      return RC::kUnsupportedCombination;
    }
    if (o.iceberg_qty.v >= o.qty.v) {
      return RC::kIcebergExceedsQty;
    }
  }
  return RC::kNone;
}

// Step 5 without MAX_NUM_ORDERS / MAX_NUM_ALGO_ORDERS.
RejectCode RefEngine::ValidateFilters(const NewOrder& o, const RefSymbol& s) const {
  using RC = RejectCode;
  const SymbolFilters& f = s.cfg.filters;
  auto bad_price = [&](int64_t p) {
    return (f.min_price.v > 0 && p < f.min_price.v) || (f.max_price.v > 0 && p > f.max_price.v) ||
           p % f.tick_size.v != 0;
  };
  auto bad_lot = [](int64_t q, int64_t min, int64_t max, int64_t step) {
    return (min > 0 && q < min) || (max > 0 && q > max) || (step > 0 && q % step != 0);
  };
  if (o.price.v > 0 && bad_price(o.price.v)) {
    return RC::kFilterPrice;
  }
  if (o.stop_price.v > 0 && bad_price(o.stop_price.v)) {
    return RC::kFilterPrice;
  }
  const bool market_like = IsMarketLike(o.type);
  if (!market_like) {
    if (bad_lot(o.qty.v, f.min_qty.v, f.max_qty.v, f.step_size.v)) {
      return RC::kFilterLotSize;
    }
    if (o.iceberg_qty.v > 0 && bad_lot(o.iceberg_qty.v, f.min_qty.v, f.max_qty.v, f.step_size.v)) {
      return RC::kFilterLotSize;
    }
  } else if (o.qty.v > 0) {
    // Only a zero MARKET_LOT_SIZE step falls back to LOT_SIZE's; a zero min or max disables
    // that rule (command.h).
    if (bad_lot(o.qty.v, f.market_min_qty.v, f.market_max_qty.v, MarketStep(s))) {
      return RC::kFilterMarketLotSize;
    }
  }
  if (o.iceberg_qty.v > 0) {
    const int64_t parts = o.qty.v / o.iceberg_qty.v + (o.qty.v % o.iceberg_qty.v != 0 ? 1 : 0);
    if (parts > f.iceberg_parts) {
      return RC::kFilterIcebergParts;
    }
  }
  const int64_t bu = BaseUnit(s);
  const std::optional<int64_t> avg = AvgPrice(s);
  const RC notional_code = f.legacy_min_notional ? RC::kFilterMinNotional : RC::kFilterNotional;
  auto check_notional = [&](__int128 n, bool apply_min, bool apply_max) -> RC {
    if (n > kI64Max) {
      return RC::kOverflow;
    }
    if (n == 0) {
      return RC::kZeroNotional;
    }
    if (apply_min && f.min_notional.v > 0 && n < f.min_notional.v) {
      return notional_code;
    }
    if (apply_max && f.max_notional.v > 0 && n > f.max_notional.v) {
      return notional_code;
    }
    return RC::kNone;
  };
  RC nc = RC::kNone;
  if (IsPriced(o.type)) {
    nc = check_notional(static_cast<__int128>(o.price.v) * o.qty.v / bu, true, true);
  } else if (o.quote_qty.v > 0) {
    // AMBIGUITY: market-by-quote notional obeys apply_min_to_market / apply_max_to_market too.
    nc = check_notional(o.quote_qty.v, f.apply_min_to_market, f.apply_max_to_market);
  } else if (avg && (f.apply_min_to_market || f.apply_max_to_market)) {
    nc = check_notional(static_cast<__int128>(*avg) * o.qty.v / bu, f.apply_min_to_market,
                        f.apply_max_to_market);
  }
  if (nc != RC::kNone) {
    return nc;
  }
  if (IsPriced(o.type) && avg) {
    // AMBIGUITY: a zero multiplier disables only its own bound.
    const bool buy = o.side == Side::kBuy;
    const int64_t up = buy ? f.bid_multiplier_up_e8 : f.ask_multiplier_up_e8;
    const int64_t down = buy ? f.bid_multiplier_down_e8 : f.ask_multiplier_down_e8;
    const __int128 p8 = static_cast<__int128>(o.price.v) * kE8;
    if (down > 0 && static_cast<__int128>(*avg) * down > p8) {
      return RC::kFilterPercentPriceBySide;
    }
    if (up > 0 && p8 > static_cast<__int128>(*avg) * up) {
      return RC::kFilterPercentPriceBySide;
    }
  }
  return RC::kNone;
}

std::optional<__int128> RefEngine::ReserveFor(const NewOrder& o, const RefSymbol& s) const {
  const int64_t bu = BaseUnit(s);
  if (o.side == Side::kBuy) {
    if (o.type == OrderType::kStopLoss || o.type == OrderType::kTakeProfit) {
      return 0;
    }
    if (IsPriced(o.type)) {
      return static_cast<__int128>(o.price.v) * o.qty.v / bu;
    }
    if (o.quote_qty.v > 0) {
      return o.quote_qty.v;
    }
    return QuoteWalk(s, Side::kBuy, o.qty.v);
  }
  if (o.qty.v > 0) {
    return o.qty.v;
  }
  return BaseWalk(s, o.quote_qty.v);
}

// All ten steps (the funds step only when `check_funds`); `extra_orders` is how many orders are
// being added together (OCO: 2). On success *reserve holds the amount to lock.
RejectCode RefEngine::ValidateNew(const NewOrder& o, int extra_orders, bool check_funds,
                                  int64_t* reserve) const {
  using RC = RejectCode;
  if (RC c = CheckTrader(o.account); c != RC::kNone) {
    return c;
  }
  if (o.symbol >= symbols_.size()) {
    return RC::kUnknownSymbol;
  }
  const RefSymbol& s = symbols_[o.symbol];
  if (s.cfg.status != SymbolStatus::kTrading) {
    return RC::kMarketClosed;
  }
  if (RC c = ValidateShape(o, s); c != RC::kNone) {
    return c;
  }
  if (RC c = ValidateFilters(o, s); c != RC::kNone) {
    return c;
  }
  // The open quantity of one side of a book (resting + untriggered + the new orders) must fit
  // int64, so that level totals and walks over a side cannot overflow.
  {
    __int128 open_qty = static_cast<__int128>(o.qty.v) * extra_orders;
    for (const auto& [id, r] : orders_) {
      if (r.symbol == o.symbol && r.side == o.side) open_qty += r.qty - r.executed;
    }
    if (open_qty > kI64Max) return RC::kOverflow;
  }
  const SymbolFilters& f = s.cfg.filters;
  if (f.max_num_orders > 0 &&
      CountOpen(o.account, o.symbol, false) + extra_orders > f.max_num_orders) {
    return RC::kFilterMaxNumOrders;
  }
  if (IsStopType(o.type) && f.max_num_algo_orders > 0 &&
      CountOpen(o.account, o.symbol, true) + 1 > f.max_num_algo_orders) {
    return RC::kFilterMaxNumAlgoOrders;
  }
  if (!o.client_order_id.empty() && ClientIdInUse(o.account, o.client_order_id)) {
    return RC::kDuplicateOrder;
  }
  if (IsStopType(o.type) && WouldTrigger(s, o.side, o.type, o.stop_price.v)) {
    return RC::kWouldTrigger;
  }
  if (o.type == OrderType::kLimitMaker && WouldTake(s, o.side, o.price.v)) {
    return RC::kWouldTakeLiquidity;
  }
  if (o.type == OrderType::kMarket && (o.side == Side::kBuy ? s.asks : s.bids).empty()) {
    return RC::kNoLiquidity;
  }
  const __int128 need = *ReserveFor(o, s);
  const AssetId asset = o.side == Side::kBuy ? s.cfg.quote_asset : s.cfg.base_asset;
  if (check_funds && need > Balance(o.account, asset).free) {
    return RC::kInsufficientBalance;
  }
  *reserve = static_cast<int64_t>(std::min<__int128>(need, kI64Max));
  return RC::kNone;
}

// ---------------------------------------------------------------------------------------------
// Placing and matching

RefOrder RefEngine::MakeOrder(const NewOrder& n, OrderListId list_id) const {
  RefOrder o;
  o.list_id = list_id;
  o.account = n.account;
  o.symbol = n.symbol;
  o.side = n.side;
  o.type = n.type;
  o.tif = n.tif;
  o.stp = EffectiveStp(n.account, n.stp, symbols_[n.symbol]);
  o.status = OrderStatus::kNew;
  o.working = !IsStopType(n.type);
  o.price = n.price.v;
  o.qty = n.qty.v;
  o.quote_qty = n.quote_qty.v;
  o.stop_price = n.stop_price.v;
  o.iceberg_qty = n.iceberg_qty.v;
  o.time_ms = now_;
  o.update_ms = now_;
  o.cid = n.client_order_id;
  return o;
}

OrderId RefEngine::PlaceValidated(const NewOrder& n, int64_t reserve) {
  RefOrder o = MakeOrder(n, -1);
  o.id = next_order_id_++;
  const OrderId id = o.id;
  orders_[id] = o;
  EmitAccepted(o);
  RefOrder& placed = orders_.at(id);
  if (!placed.working) {
    Lock(placed.account, ReserveAsset(placed), reserve);
    placed.reserved = reserve;
    return id;
  }
  if (placed.type == OrderType::kLimitMaker) {
    Lock(placed.account, ReserveAsset(placed), reserve);
    placed.reserved = reserve;
    RestOnBook(placed);
    return id;
  }
  // A FOK that cannot fill is decided before its reserve is locked (the same events as locking
  // and releasing it: an unchanged balance emits nothing): OrderAccepted, OrderUpdate EXPIRED.
  if (placed.tif == TimeInForce::kFok && !FokWouldFill(id)) {
    FinishOrder(id, OrderStatus::kExpired, ExecType::kExpired, ExpiryReason::kUnfilledFok, 0);
    return id;
  }
  Lock(placed.account, ReserveAsset(placed), reserve);
  placed.reserved = reserve;
  EndTaker(id, Match(id));
  return id;
}

bool RefEngine::FokWouldFill(OrderId id) const {
  RefEngine sim(*this);
  sim.Match(id);
  const RefOrder& o = sim.orders_.at(id);
  return o.executed == o.qty;
}

void RefEngine::RestOnBook(RefOrder& o) {
  const int64_t remaining = o.qty - o.executed;
  o.visible = o.iceberg_qty > 0 ? std::min(o.iceberg_qty, remaining) : remaining;
  TouchLevel(o.symbol, o.side, o.price);
  RefSide& book = o.side == Side::kBuy ? symbols_[o.symbol].bids : symbols_[o.symbol].asks;
  book[o.price].push_back(o.id);
}

void RefEngine::RemoveFromBook(const RefOrder& o) {
  RefSide& book = o.side == Side::kBuy ? symbols_[o.symbol].bids : symbols_[o.symbol].asks;
  auto it = book.find(o.price);
  if (it == book.end()) {
    return;
  }
  auto pos = std::find(it->second.begin(), it->second.end(), o.id);
  if (pos == it->second.end()) {
    return;
  }
  TouchLevel(o.symbol, o.side, o.price);
  it->second.erase(pos);
  if (it->second.empty()) {
    book.erase(it);
    LevelErased(o.symbol, o.side, o.price);
  }
}

void RefEngine::FinishOrder(OrderId id, OrderStatus status, ExecType exec, ExpiryReason reason,
                            int64_t prevented_id, bool emit) {
  RefOrder& o = orders_.at(id);
  RemoveFromBook(o);
  o.status = status;
  o.update_ms = now_;
  if (emit) {
    EmitUpdate(o, exec, reason, prevented_id);
  }
  Unlock(o.account, ReserveAsset(o), o.reserved);
  orders_.erase(id);
}

RefEngine::MatchEnd RefEngine::Match(OrderId id) {
  RefOrder& t = orders_.at(id);
  RefSymbol& s = symbols_[t.symbol];
  const Side opp = Opposite(t.side);
  RefSide& book = opp == Side::kBuy ? s.bids : s.asks;
  const bool market = IsMarketLike(t.type);
  const bool by_quote = market && t.quote_qty > 0;
  const int64_t bu = BaseUnit(s);
  const int64_t mstep = s.cfg.filters.step_size.v;  // fills are multiples of the LOT_SIZE step
  for (;;) {
    if (t.status == OrderStatus::kFilled) {
      return {MatchEnd::kFilled, 0};
    }
    if (book.empty()) {
      return {MatchEnd::kRanOut, 0};
    }
    auto lvl = opp == Side::kBuy ? std::prev(book.end()) : book.begin();
    const int64_t p = lvl->first;
    if (!market && (t.side == Side::kBuy ? p > t.price : p < t.price)) {
      return {MatchEnd::kNoCross, 0};
    }
    RefOrder& m = orders_.at(lvl->second.front());
    // AMBIGUITY (engine's reading): a by-quote order's "taker left" is unbounded, so its
    // PreventedMatch.qty is the maker's visible quantity.
    const int64_t left = by_quote ? kI64Max : t.qty - t.executed;
    if (m.account == t.account && t.stp != StpMode::kNone) {
      const int64_t pmid = next_prevented_id_++;
      auto& e = events_.Append<PreventedMatch>(seq_);
      e.prevented_match_id = pmid;
      e.symbol = t.symbol;
      e.mode = t.stp;
      e.taker_order_id = t.id;
      e.maker_order_id = m.id;
      e.account = t.account;
      e.price = Price(p);
      e.qty = Qty(std::min(left, m.visible));
      e.time_ms = now_;
      if (t.stp == StpMode::kExpireMaker || t.stp == StpMode::kExpireBoth) {
        ExpireInMatch(m.id, pmid);
      }
      if (t.stp == StpMode::kExpireTaker || t.stp == StpMode::kExpireBoth) {
        return {MatchEnd::kStpTaker, pmid};
      }
      continue;
    }
    // Market caps (see "Matching" in the spec).
    __int128 q = std::min(left, m.visible);
    if (market && t.side == Side::kBuy) {
      q = std::min(q, FloorStep(static_cast<__int128>(t.reserved) * bu / p, mstep));
    } else if (by_quote) {
      q = std::min<__int128>(
          {q, t.reserved,
           FloorStep(static_cast<__int128>(t.quote_qty - t.cum_quote) * bu / p, mstep)});
    }
    if (q <= 0) {
      return {MatchEnd::kFundsCap, 0};
    }
    Fill(t, m, static_cast<int64_t>(q), p);
  }
}

// The taker's status after a fill. AMBIGUITY (engine's reading): a by-quote MARKET order is
// FILLED once what is left of its target cannot buy (BUY: its reserve) or sell (SELL: its quote
// target, or its base reserve is used up) one more step at this fill's price; a later q = 0 (a
// worse price) expires it with kInsufficientFunds.
OrderStatus RefEngine::TakerStatusAfterFill(const RefOrder& t, int64_t p) const {
  const RefSymbol& s = symbols_[t.symbol];
  if (!(IsMarketLike(t.type) && t.quote_qty > 0)) {
    return t.executed == t.qty ? OrderStatus::kFilled : OrderStatus::kPartiallyFilled;
  }
  bool done;
  if (t.side == Side::kBuy) {
    done = FloorStep(static_cast<__int128>(t.reserved) * BaseUnit(s) / p,
                     s.cfg.filters.step_size.v) == 0;
  } else {
    done = FloorStep(static_cast<__int128>(t.quote_qty - t.cum_quote) * BaseUnit(s) / p,
                     s.cfg.filters.step_size.v) == 0;
  }
  return done ? OrderStatus::kFilled : OrderStatus::kPartiallyFilled;
}

void RefEngine::Fill(RefOrder& t, RefOrder& m, int64_t q, int64_t p) {
  RefSymbol& s = symbols_[t.symbol];
  const int64_t bu = BaseUnit(s);
  const int64_t n = static_cast<int64_t>(static_cast<__int128>(p) * q / bu);
  RefOrder& buyer = t.side == Side::kBuy ? t : m;
  RefOrder& seller = t.side == Side::kBuy ? m : t;
  const bool buyer_is_maker = &buyer == &m;
  int64_t maker_rate = 0, taker_rate = 0;
  EffectiveRates(buyer.account, &maker_rate, &taker_rate);
  const int64_t rate_b = buyer_is_maker ? maker_rate : taker_rate;
  EffectiveRates(seller.account, &maker_rate, &taker_rate);
  const int64_t rate_s = buyer_is_maker ? taker_rate : maker_rate;
  const int64_t fee_b = core::FeeCeil(q, rate_b);
  const int64_t fee_s = core::FeeCeil(n, rate_s);
  const TradeId trade_id = next_trade_id_++;
  const AssetId base = s.cfg.base_asset, quote = s.cfg.quote_asset;
  // A priced BUY's reserve shrinks by its own price x q; the difference to the trade's notional
  // (price improvement) goes back to free. Other BUYs spend exactly the notional.
  const int64_t spend =
      IsPriced(buyer.type) ? static_cast<int64_t>(static_cast<__int128>(buyer.price) * q / bu) : n;
  // AMBIGUITY (resolved as the engine does it): touch order within one fill: buyer quote, buyer
  // base, seller base, seller quote, fee account base (if fee_b > 0), fee account quote (if
  // fee_s > 0).
  Mutate(buyer.account, quote, spend - n, -spend);
  Mutate(buyer.account, base, q - fee_b, 0);
  Mutate(seller.account, base, 0, -q);
  Mutate(seller.account, quote, n - fee_s, 0);
  if (fee_b > 0) {
    Mutate(kFeeAccount, base, fee_b, 0);
  }
  if (fee_s > 0) {
    Mutate(kFeeAccount, quote, fee_s, 0);
  }
  buyer.reserved -= spend;
  seller.reserved -= q;
  for (RefOrder* o : {&t, &m}) {
    o->executed += q;
    o->cum_quote += n;
    o->update_ms = now_;
  }
  TouchLevel(m.symbol, m.side, p);
  m.visible -= q;
  m.status = m.executed == m.qty ? OrderStatus::kFilled : OrderStatus::kPartiallyFilled;
  t.status = TakerStatusAfterFill(t, p);
  s.last_price = p;
  auto& bucket = s.minute_quote_qty[now_ / 60000];
  const __int128 kBucketMax = static_cast<__int128>(1) << 115;  // saturates (never reached)
  bucket.first = std::min(bucket.first + n, kBucketMax);
  bucket.second = std::min(bucket.second + q, kBucketMax);
  // Minutes older than any window (avg_price_mins <= 1440) can never count again: the log's
  // time only moves forward in the tests.
  s.minute_quote_qty.erase(s.minute_quote_qty.begin(),
                           s.minute_quote_qty.lower_bound(now_ / 60000 - 1441));
  traded_ = true;

  auto& tr = events_.Append<Trade>(seq_);
  tr.trade_id = trade_id;
  tr.symbol = t.symbol;
  tr.buyer_is_maker = buyer_is_maker;
  tr.price = Price(p);
  tr.qty = Qty(q);
  tr.quote_qty = Amount(n);
  tr.buyer_order_id = buyer.id;
  tr.seller_order_id = seller.id;
  tr.buyer = buyer.account;
  tr.seller = seller.account;
  tr.buyer_commission = Qty(fee_b);
  tr.seller_commission = Amount(fee_s);
  tr.time_ms = now_;
  for (RefOrder* o : {&m, &t}) {
    auto& e = events_.Append<OrderUpdate>(seq_);
    e.order_id = o->id;
    e.account = o->account;
    e.symbol = o->symbol;
    e.exec = ExecType::kTrade;
    e.status = o->status;
    e.reason = ExpiryReason::kNone;
    e.is_maker = o == &m;
    e.executed_qty = Qty(o->executed);
    e.cum_quote_qty = Amount(o->cum_quote);
    e.last_qty = Qty(q);
    e.last_price = Price(p);
    e.trade_id = trade_id;
    const bool is_buyer = o == &buyer;
    e.commission = Amount(is_buyer ? fee_b : fee_s);
    e.commission_asset = is_buyer ? base : quote;
  }
  // AMBIGUITY (engine's reading): a list leg that trades, triggers or is expired by STP ends its
  // list: the other leg EXPIRED (kOcoTrigger), then ALL_DONE — here right after the fill's
  // maker and taker updates.
  EndListOf(m.id, false);
  RefSide& book = m.side == Side::kBuy ? s.bids : s.asks;
  std::list<OrderId>& level = book.at(p);
  if (m.executed == m.qty) {
    level.remove(m.id);
    if (level.empty()) {
      book.erase(p);
      LevelErased(m.symbol, m.side, p);
    }
    Unlock(m.account, ReserveAsset(m), m.reserved);
    orders_.erase(m.id);
  } else if (m.visible == 0) {
    m.visible = std::min(m.iceberg_qty, m.qty - m.executed);
    level.remove(m.id);
    level.push_back(m.id);
  }
}

void RefEngine::EndTaker(OrderId id, MatchEnd end) {
  RefOrder& t = orders_.at(id);
  if (end.kind == MatchEnd::kStpTaker) {
    ExpireInMatch(id, end.prevented_id);
    return;
  }
  if (end.kind == MatchEnd::kFilled) {
    Unlock(t.account, ReserveAsset(t), t.reserved);
    orders_.erase(id);
    return;
  }
  const bool priced = !IsMarketLike(t.type);
  if (t.type == OrderType::kLimitMaker || (priced && t.tif == TimeInForce::kGtc)) {
    RestOnBook(t);
    return;
  }
  ExpiryReason reason = ExpiryReason::kInsufficientLiquidity;
  if (t.tif == TimeInForce::kFok) {
    reason = ExpiryReason::kUnfilledFok;
  } else if (priced) {
    reason = ExpiryReason::kUnfilledIoc;
  } else if (end.kind == MatchEnd::kFundsCap) {
    reason = ExpiryReason::kInsufficientFunds;
  }
  FinishOrder(id, OrderStatus::kExpired, ExecType::kExpired, reason, 0);
}

// STP expiry of a maker or the taker: the kTradePrevention update, then its list ends.
void RefEngine::ExpireInMatch(OrderId id, int64_t prevented_id) {
  RefOrder& o = orders_.at(id);
  o.status = OrderStatus::kExpiredInMatch;
  o.update_ms = now_;
  EmitUpdate(o, ExecType::kTradePrevention, ExpiryReason::kStp, prevented_id);
  EndListOf(id, false);
  FinishOrder(id, OrderStatus::kExpiredInMatch, ExecType::kTradePrevention, ExpiryReason::kStp,
              prevented_id, /*emit=*/false);
}

// If `id` is a leg of an open list: the other leg expires (kOcoTrigger; when `move_reserve`, its
// reserve first moves to `id`) and the list is ALL_DONE.
void RefEngine::EndListOf(OrderId id, bool move_reserve) {
  RefOrder& o = orders_.at(id);
  auto lit = lists_.find(o.list_id);
  if (o.list_id == -1 || lit == lists_.end()) {
    return;
  }
  const RefList l = lit->second;
  lists_.erase(lit);
  const OrderId other = l.ids[0] == id ? l.ids[1] : l.ids[0];
  auto it = orders_.find(other);
  if (it != orders_.end()) {
    if (move_reserve) {
      o.reserved += it->second.reserved;
      it->second.reserved = 0;
    }
    FinishOrder(other, OrderStatus::kExpired, ExecType::kExpired, ExpiryReason::kOcoTrigger, 0);
  }
  EmitList(l, ListStatus::kAllDone);
}

void RefEngine::RunStops(SymbolId sid) {
  for (;;) {
    const RefSymbol& s = symbols_[sid];
    OrderId found = 0;
    for (const auto& [id, o] : orders_) {
      if (o.symbol == sid && !o.working && WouldTrigger(s, o.side, o.type, o.stop_price)) {
        found = id;
        break;
      }
    }
    if (found == 0) {
      return;
    }
    Activate(found);
  }
}

// AMBIGUITY (engine's reading) for an OCO stop leg: kTriggered first, then the limit leg's
// EXPIRED (kOcoTrigger; its reserve moves to the stop leg), then the list's ALL_DONE, then
// matching. A triggered MARKET BUY releases whatever it holds, then locks the walk cost of its
// quantity from free; with an empty book it expires kInsufficientLiquidity, with free short of
// the cost kInsufficientFunds (no partial funding).
void RefEngine::Activate(OrderId id) {
  RefOrder& o = orders_.at(id);
  o.working = true;
  o.update_ms = now_;
  EmitUpdate(o, ExecType::kTriggered, ExpiryReason::kNone, 0);
  EndListOf(id, true);
  const RefSymbol& s = symbols_[o.symbol];
  if (IsMarketLike(o.type) && o.side == Side::kBuy) {
    Unlock(o.account, s.cfg.quote_asset, o.reserved);
    o.reserved = 0;
    if (s.asks.empty()) {
      FinishOrder(id, OrderStatus::kExpired, ExecType::kExpired,
                  ExpiryReason::kInsufficientLiquidity, 0);
      return;
    }
    const __int128 cost = QuoteWalk(s, Side::kBuy, o.qty - o.executed);
    if (cost > Balance(o.account, s.cfg.quote_asset).free) {
      FinishOrder(id, OrderStatus::kExpired, ExecType::kExpired, ExpiryReason::kInsufficientFunds,
                  0);
      return;
    }
    Lock(o.account, s.cfg.quote_asset, static_cast<int64_t>(cost));
    o.reserved = static_cast<int64_t>(cost);
  } else if (IsPriced(o.type) && o.side == Side::kBuy) {
    // An OCO stop leg may hold more than its own limit price needs (the list reserved the
    // larger of the two legs' needs): the excess goes back to free.
    const int64_t need =
        static_cast<int64_t>(static_cast<__int128>(o.price) * (o.qty - o.executed) / BaseUnit(s));
    if (o.reserved > need) {
      Unlock(o.account, s.cfg.quote_asset, o.reserved - need);
      o.reserved = need;
    }
  }
  if (o.tif == TimeInForce::kFok && !FokWouldFill(id)) {
    FinishOrder(id, OrderStatus::kExpired, ExecType::kExpired, ExpiryReason::kUnfilledFok, 0);
    return;
  }
  EndTaker(id, Match(id));
}

// ---------------------------------------------------------------------------------------------
// Trading commands

RefEngine::Result RefEngine::DoPlace(const PlaceOrder& c) {
  int64_t reserve = 0;
  const RejectCode code = ValidateNew(c.order, 1, true, &reserve);
  if (code != RejectCode::kNone) {
    Reject(c.order.account, code, CommandPart::kWhole, 0, c.order.client_order_id);
    return {code};
  }
  Result r;
  r.order_id = PlaceValidated(c.order, reserve);
  if (traded_) {
    RunStops(c.order.symbol);
  }
  return r;
}

void RefEngine::CancelOne(OrderId id, const ClientOrderId& cancel_cid) {
  if (!cancel_cid.empty()) {
    auto& e = events_.Append<OrderCanceledBy>(seq_);
    e.order_id = id;
    e.cancel_client_order_id = cancel_cid;
  }
  FinishOrder(id, OrderStatus::kCanceled, ExecType::kCanceled, ExpiryReason::kNone, 0);
}

// AMBIGUITY (engine's reading): cancelling a leg of an open list cancels the named leg first
// (with OrderCanceledBy when the cancel has a client id), then the other leg (without), then
// emits ALL_DONE. Cancel-all and cancel-list name the lower-id leg.
void RefEngine::CancelWithList(OrderId id, const ClientOrderId& cancel_cid) {
  const OrderListId list_id = orders_.at(id).list_id;
  const bool in_list = list_id != -1 && lists_.count(list_id) != 0;
  CancelOne(id, cancel_cid);
  if (!in_list) {
    return;
  }
  const RefList l = lists_.at(list_id);
  lists_.erase(list_id);
  for (OrderId leg : l.ids) {
    if (leg != id && orders_.count(leg) != 0) {
      FinishOrder(leg, OrderStatus::kCanceled, ExecType::kCanceled, ExpiryReason::kNone, 0);
    }
  }
  EmitList(l, ListStatus::kAllDone);
}

// AMBIGUITY (engine's reading): an order reference is checked in this order: account (exists,
// not the fee account; frozen is fine), symbol, a reference present (kMissingOrderRef), a
// malformed orig client id is simply not found (kUnknownOrder), then the lookup.
RejectCode RefEngine::FindRef(const OrderRef& ref, OrderId* out) const {
  using RC = RejectCode;
  if (accounts_.count(ref.account) == 0 || ref.account == kFeeAccount) {
    return RC::kUnknownAccount;
  }
  if (ref.symbol >= symbols_.size()) {
    return RC::kUnknownSymbol;
  }
  if (ref.order_id == 0 && ref.orig_client_order_id.empty()) {
    return RC::kMissingOrderRef;
  }
  if (!ref.orig_client_order_id.empty() && !ValidCid(ref.orig_client_order_id)) {
    return RC::kUnknownOrder;
  }
  const RefOrder* o = FindOpen(ref.account, ref.symbol, ref.order_id, ref.orig_client_order_id);
  if (o == nullptr) {
    return RC::kUnknownOrder;
  }
  *out = o->id;
  return RC::kNone;
}

// Validates and performs a cancel; returns the reject code (kNone on success).
// AMBIGUITY (engine's reading): after the lookup, the cancel's own client id (kInvalid-
// ClientOrderId), then the restriction value (kInvalidCancelRestrictions), then the restriction.
RejectCode RefEngine::TryCancel(const CancelOrder& c, OrderId* cancelled) {
  using RC = RejectCode;
  OrderId id = 0;
  RC code = FindRef(c.ref, &id);
  if (code == RC::kNone && !c.new_client_order_id.empty() && !ValidCid(c.new_client_order_id)) {
    code = RC::kInvalidClientOrderId;
  }
  if (code == RC::kNone) {
    const OrderStatus st = orders_.at(id).status;
    if (static_cast<uint8_t>(c.restriction) > 2) {
      code = RC::kInvalidCancelRestrictions;
    } else if ((c.restriction == CancelRestriction::kOnlyNew && st != OrderStatus::kNew) ||
               (c.restriction == CancelRestriction::kOnlyPartiallyFilled &&
                st != OrderStatus::kPartiallyFilled)) {
      code = RC::kCancelRestricted;
    }
  }
  if (code != RC::kNone) {
    return code;
  }
  *cancelled = id;
  CancelWithList(id, c.new_client_order_id);
  return RC::kNone;
}

// AMBIGUITY (engine's reading): ApplyResult.order_id is also set by a cancel (the cancelled
// order) and an amend (the amended order), not only for a new order.
RefEngine::Result RefEngine::DoCancelCmd(const CancelOrder& c) {
  Result r;
  r.code = TryCancel(c, &r.order_id);
  if (r.code != RejectCode::kNone) {
    Reject(c.ref.account, r.code, CommandPart::kWhole, 1, c.ref.orig_client_order_id);
  }
  return r;
}

// AMBIGUITY (engine's reading): whole-command checks of a cancel-replace: the two account/symbol
// pairs equal and the mode valid (kInvalidParameter), then cancel_replace_allowed when the symbol
// exists (kCancelReplaceNotAllowed); rejected with the new order's account and client id, and
// cancel_code/new_order_code kNone. Unknown account/symbol fail each part on its own. When a
// part fails, code is the cancel's code if it failed, else the new order's.
RefEngine::Result RefEngine::DoCancelReplace(const CancelReplace& c) {
  using RC = RejectCode;
  const AccountId a = c.order.account;
  RC whole = RC::kNone;
  if (c.order.account != c.cancel.ref.account || c.order.symbol != c.cancel.ref.symbol ||
      static_cast<uint8_t>(c.mode) > 1) {
    whole = RC::kInvalidParameter;
  } else if (c.cancel.ref.symbol < symbols_.size() &&
             !symbols_[c.cancel.ref.symbol].cfg.cancel_replace_allowed) {
    whole = RC::kCancelReplaceNotAllowed;
  }
  if (whole != RC::kNone) {
    Reject(a, whole, CommandPart::kWhole, 2, c.order.client_order_id);
    return {whole};
  }
  Result r;
  OrderId cancelled = 0;
  r.cancel_code = TryCancel(c.cancel, &cancelled);
  if (r.cancel_code != RC::kNone) {
    Reject(c.cancel.ref.account, r.cancel_code, CommandPart::kCancel, 2,
           c.cancel.ref.orig_client_order_id);
    if (c.mode == CancelReplaceMode::kStopOnFailure) {
      r.code = r.cancel_code;
      return r;
    }
  }
  int64_t reserve = 0;
  r.new_order_code = ValidateNew(c.order, 1, true, &reserve);
  if (r.new_order_code != RC::kNone) {
    Reject(a, r.new_order_code, CommandPart::kNewOrder, 2, c.order.client_order_id);
  } else {
    r.order_id = PlaceValidated(c.order, reserve);
    if (traded_) {
      RunStops(c.order.symbol);
    }
  }
  r.code = r.cancel_code != RC::kNone ? r.cancel_code : r.new_order_code;
  return r;
}

RefEngine::Result RefEngine::DoCancelAll(const CancelAll& c) {
  using RC = RejectCode;
  RC code = RC::kNone;
  std::vector<OrderId> ids;
  if (accounts_.count(c.account) == 0 || c.account == kFeeAccount) {
    code = RC::kUnknownAccount;
  } else if (c.symbol >= symbols_.size()) {
    code = RC::kUnknownSymbol;
  } else {
    for (const auto& [id, o] : orders_) {
      if (o.account == c.account && o.symbol == c.symbol) {
        ids.push_back(id);
      }
    }
    if (ids.empty()) {
      code = RC::kUnknownOrder;
    }
  }
  if (code != RC::kNone) {
    Reject(c.account, code, CommandPart::kWhole, 3, ClientOrderId{});
    return {code};
  }
  for (OrderId id : ids) {
    auto it = orders_.find(id);
    if (it == orders_.end()) {
      continue;  // the other leg of a list cancelled above
    }
    CancelWithList(id, ClientOrderId{});
  }
  return {};
}

// AMBIGUITY (engine's reading): amend checks, in order: the order reference (see FindRef),
// amend_allowed, the new client id well-formed, new_qty > 0 (kInvalidQuantity), no change,
// increase, LOT_SIZE step/min (kFilterLotSize), new client id unused by another open order
// (kDuplicateOrder). Any open order may be amended (untriggered stops too) except a leg of a list
// that is still executing (kAmendOrderListLeg); the
// reserve released is min(reserve, the removed quantity's share). OrderAmended.new_client_order_id
// is the order's id after the amend (the old one when kept).
RefEngine::Result RefEngine::DoAmend(const AmendOrder& c) {
  using RC = RejectCode;
  OrderId id = 0;
  RC code = FindRef(c.ref, &id);
  const RefOrder* found = code == RC::kNone ? &orders_.at(id) : nullptr;
  if (code == RC::kNone) {
    const SymbolFilters& f = symbols_[c.ref.symbol].cfg.filters;
    if (!symbols_[c.ref.symbol].cfg.amend_allowed) {
      code = RC::kAmendNotAllowed;
    } else if (found->list_id != -1 && lists_.count(found->list_id) != 0) {
      code = RC::kAmendOrderListLeg;  // a leg of a list that is still executing
    } else if (!c.new_client_order_id.empty() && !ValidCid(c.new_client_order_id)) {
      code = RC::kInvalidClientOrderId;
    } else if (c.new_qty.v <= 0) {
      code = RC::kInvalidQuantity;
    } else if (c.new_qty.v == found->qty) {
      code = RC::kAmendNoChange;
    } else if (c.new_qty.v > found->qty) {
      code = RC::kAmendQtyIncrease;
    } else if (c.new_qty.v % f.step_size.v != 0 || (f.min_qty.v > 0 && c.new_qty.v < f.min_qty.v)) {
      code = RC::kFilterLotSize;
    } else if (!c.new_client_order_id.empty() && !(c.new_client_order_id == found->cid) &&
               ClientIdInUse(c.ref.account, c.new_client_order_id)) {
      code = RC::kDuplicateOrder;
    }
  }
  if (code != RC::kNone) {
    Reject(c.ref.account, code, CommandPart::kWhole, 4, c.ref.orig_client_order_id);
    return {code};
  }
  RefOrder& o = orders_.at(found->id);
  const RefSymbol& s = symbols_[o.symbol];
  const int64_t old_qty = o.qty;
  const ClientOrderId orig_cid = o.cid;
  if (!c.new_client_order_id.empty()) {
    o.cid = c.new_client_order_id;
  }
  o.qty = c.new_qty.v;
  o.update_ms = now_;
  bool filled = false;
  if (o.qty <= o.executed) {
    filled = true;
    o.status = OrderStatus::kFilled;
    RemoveFromBook(o);
    Unlock(o.account, ReserveAsset(o), o.reserved);
    o.reserved = 0;
  } else {
    const int64_t removed = old_qty - o.qty;
    __int128 release = 0;
    if (o.side == Side::kSell) {
      release = removed;
    } else if (IsPriced(o.type)) {
      release = static_cast<__int128>(o.price) * removed / BaseUnit(s);
    }
    release = std::min<__int128>(release, o.reserved);
    Unlock(o.account, ReserveAsset(o), static_cast<int64_t>(release));
    o.reserved -= static_cast<int64_t>(release);
    if (o.working) {
      TouchLevel(o.symbol, o.side, o.price);
      o.visible = std::min(o.visible, o.qty - o.executed);
    }
  }
  auto& e = events_.Append<OrderAmended>(seq_);
  e.order_id = o.id;
  e.account = o.account;
  e.symbol = o.symbol;
  e.status = o.status;
  e.orig_qty = Qty(old_qty);
  e.new_qty = Qty(o.qty);
  e.executed_qty = Qty(o.executed);
  e.orig_client_order_id = orig_cid;
  e.new_client_order_id = o.cid;
  Result r;
  r.order_id = o.id;
  if (filled) {
    orders_.erase(o.id);
  }
  return r;
}

// AMBIGUITY (engine's reading): OCO checks, in order: account (exists, not fee), frozen, symbol,
// TRADING, oco_allowed, side, legs arranged as the spec says (else kUnsupportedCombination, also
// for out-of-range leg types), list client id well-formed, the two leg client ids distinct
// (kDuplicateOrder), the price relationship, then each leg (above, below) through all PlaceOrder
// checks but funds, counting both new orders for MAX_NUM_ORDERS, then the funds.
// Accepting: list id, then order ids above, below; events OrderList(EXEC_STARTED),
// OrderAccepted(above), OrderAccepted(below). Both legs are NEW (not PENDING_NEW).
// ApplyResult.order_id is the above leg's id.
RefEngine::Result RefEngine::DoOco(const PlaceOco& c) {
  using RC = RejectCode;
  int64_t limit_res = 0, stop_res = 0;
  const RC code = ValidateOco(c, &limit_res, &stop_res);
  if (code != RC::kNone) {
    Reject(c.account, code, CommandPart::kWhole, 5, c.list_client_order_id);
    return {code};
  }
  const bool sell = c.side == Side::kSell;
  const NewOrder above = LegOrder(c, c.above), below = LegOrder(c, c.below);
  RefList l;
  l.id = next_list_id_++;
  l.account = c.account;
  l.symbol = c.symbol;
  l.cid = c.list_client_order_id;
  RefOrder oa = MakeOrder(above, l.id);
  oa.id = next_order_id_++;
  RefOrder ob = MakeOrder(below, l.id);
  ob.id = next_order_id_++;
  l.ids[0] = oa.id;
  l.ids[1] = ob.id;
  RefOrder& lo = sell ? oa : ob;
  RefOrder& so = sell ? ob : oa;
  l.limit_leg = lo.id;
  l.stop_leg = so.id;
  lo.reserved = limit_res;
  so.reserved = stop_res;
  orders_[oa.id] = oa;
  orders_[ob.id] = ob;
  lists_[l.id] = l;
  Lock(c.account, ReserveAsset(oa), oa.reserved);
  Lock(c.account, ReserveAsset(ob), ob.reserved);
  EmitList(l, ListStatus::kExecuting);
  EmitAccepted(oa);
  EmitAccepted(ob);
  RestOnBook(orders_.at(l.limit_leg));
  Result r;
  r.order_list_id = l.id;
  r.order_id = oa.id;
  return r;
}

NewOrder RefEngine::LegOrder(const PlaceOco& c, const OcoLeg& leg) const {
  NewOrder n;
  n.account = c.account;
  n.symbol = c.symbol;
  n.side = c.side;
  n.type = leg.type;
  n.tif = leg.tif;
  n.stp = c.stp;
  n.price = leg.price;
  n.qty = c.qty;
  n.stop_price = leg.stop_price;
  n.iceberg_qty = leg.iceberg_qty;
  n.client_order_id = leg.client_order_id;
  return n;
}

RejectCode RefEngine::ValidateOco(const PlaceOco& c, int64_t* limit_res, int64_t* stop_res) const {
  using RC = RejectCode;
  if (RC r = CheckTrader(c.account); r != RC::kNone) {
    return r;
  }
  if (c.symbol >= symbols_.size()) {
    return RC::kUnknownSymbol;
  }
  const RefSymbol& s = symbols_[c.symbol];
  if (s.cfg.status != SymbolStatus::kTrading) {
    return RC::kMarketClosed;
  }
  if (!s.cfg.oco_allowed) {
    return RC::kOcoNotAllowed;
  }
  if (!ValidSide(c.side)) {
    return RC::kInvalidSide;
  }
  const bool sell = c.side == Side::kSell;
  const OcoLeg& limit = sell ? c.above : c.below;
  const OcoLeg& stop = sell ? c.below : c.above;
  if (limit.type != OrderType::kLimitMaker ||
      (stop.type != OrderType::kStopLoss && stop.type != OrderType::kStopLossLimit)) {
    return RC::kUnsupportedCombination;
  }
  for (const ClientOrderId* id :
       {&c.list_client_order_id, &c.above.client_order_id, &c.below.client_order_id}) {
    if (!id->empty() && !ValidCid(*id)) {
      return RC::kInvalidClientOrderId;
    }
  }
  if (!c.above.client_order_id.empty() && c.above.client_order_id == c.below.client_order_id) {
    return RC::kDuplicateOrder;
  }
  if (!c.list_client_order_id.empty()) {
    for (const auto& [id, l] : lists_) {
      if (l.account == c.account && l.cid == c.list_client_order_id) {
        return RC::kDuplicateOrder;  // unique among the account's open lists
      }
    }
  }
  const int64_t above_p = sell ? c.above.price.v : c.above.stop_price.v;
  const int64_t below_p = sell ? c.below.stop_price.v : c.below.price.v;
  if (!(above_p > below_p) ||
      (s.last_price > 0 && !(above_p > s.last_price && s.last_price > below_p))) {
    return RC::kOcoPriceRelationship;
  }
  const NewOrder above = LegOrder(c, c.above), below = LegOrder(c, c.below);
  int64_t res_above = 0, res_below = 0;
  if (RC r = ValidateNew(above, 2, false, &res_above); r != RC::kNone) {
    return r;
  }
  if (RC r = ValidateNew(below, 2, false, &res_below); r != RC::kNone) {
    return r;
  }
  *limit_res = sell ? res_above : res_below;
  const int64_t stop_need = sell ? res_below : res_above;
  *stop_res = std::max<int64_t>(0, stop_need - *limit_res);
  const AssetId asset = sell ? s.cfg.base_asset : s.cfg.quote_asset;
  if (static_cast<__int128>(*limit_res) + *stop_res > Balance(c.account, asset).free) {
    return RC::kInsufficientBalance;
  }
  return RC::kNone;
}

// AMBIGUITY (engine's reading): CancelOrderList checks account, symbol, a reference present, then
// looks the list up (by id, else by client id among the account's lists); any mismatch or a
// malformed client id is kUnknownOrderList. ApplyResult.order_list_id is the list's id.
RefEngine::Result RefEngine::DoCancelList(const CancelOrderList& c) {
  using RC = RejectCode;
  RC code = RC::kNone;
  OrderListId found = 0;
  if (accounts_.count(c.account) == 0 || c.account == kFeeAccount) {
    code = RC::kUnknownAccount;
  } else if (c.symbol >= symbols_.size()) {
    code = RC::kUnknownSymbol;
  } else if (c.order_list_id == 0 && c.list_client_order_id.empty()) {
    code = RC::kMissingOrderRef;
  } else {
    for (const auto& [id, l] : lists_) {
      if (l.account == c.account && l.symbol == c.symbol &&
          (c.order_list_id == 0 || c.order_list_id == id) &&
          (c.list_client_order_id.empty() || c.list_client_order_id == l.cid)) {
        found = id;
        break;
      }
    }
    if (found == 0) {
      code = RC::kUnknownOrderList;
    }
  }
  if (code != RC::kNone) {
    Reject(c.account, code, CommandPart::kWhole, 6, c.list_client_order_id);
    return {code};
  }
  CancelWithList(lists_.at(found).ids[0], ClientOrderId{});
  Result r;
  r.order_list_id = found;
  return r;
}

// ---------------------------------------------------------------------------------------------
// Administrative commands

// AMBIGUITY: AddAsset checks name ([A-Z0-9]{1,20}) then scale (0..18), both kBadAssetConfig,
// then duplicate name (kDuplicateAsset).
RefEngine::Result RefEngine::DoAddAsset(const AddAsset& c) {
  using RC = RejectCode;
  RC code = RC::kNone;
  if (!ValidName(c.name) || c.scale < 0 || c.scale > core::kMaxScale) {
    code = RC::kBadAssetConfig;
  } else {
    for (const RefAsset& a : assets_) {
      if (a.name == c.name) {
        code = RC::kDuplicateAsset;
      }
    }
  }
  if (code != RC::kNone) {
    Reject(0, code, CommandPart::kWhole, 7, ClientOrderId{});
    return {code};
  }
  const auto id = static_cast<AssetId>(assets_.size());
  assets_.push_back({c.name, c.scale});
  net_deposits_.push_back(0);
  auto& e = events_.Append<AssetAdded>(seq_);
  e.asset = id;
  e.scale = c.scale;
  e.name = c.name;
  return {};
}

// AMBIGUITY (engine's reading): AddSymbol checks, in order: name well-formed, base and quote
// assets exist (kUnknownAsset), base != quote and status valid, default_stp valid and not
// kDefault, tick > 0 and step > 0, tick*step a multiple of base_unit, no negative filter value,
// no min above a non-zero max, tick*market_step a multiple of base_unit, avg_price_mins in
// 1..1440, iceberg_parts in 0..100, order limits >= 0 (all kBadSymbolConfig), then the name unused
// (kDuplicateSymbol). SymbolAdded carries the config exactly as sent.
RefEngine::Result RefEngine::DoAddSymbol(const AddSymbol& c) {
  using RC = RejectCode;
  const SymbolConfig& cfg = c.config;
  const SymbolFilters& f = cfg.filters;
  RC code = RC::kNone;
  auto bad = [&]() -> RC {
    if (!ValidName(cfg.name)) {
      return RC::kBadSymbolConfig;
    }
    if (cfg.base_asset >= assets_.size() || cfg.quote_asset >= assets_.size()) {
      return RC::kUnknownAsset;
    }
    if (cfg.base_asset == cfg.quote_asset || static_cast<uint8_t>(cfg.status) > 2) {
      return RC::kBadSymbolConfig;
    }
    if (!ValidStp(cfg.default_stp) || cfg.default_stp == StpMode::kDefault) {
      return RC::kBadSymbolConfig;
    }
    const int64_t bu = core::Pow10(assets_[cfg.base_asset].scale);
    if (f.tick_size.v <= 0 || f.step_size.v <= 0) {
      return RC::kBadSymbolConfig;
    }
    if ((static_cast<__int128>(f.tick_size.v) * f.step_size.v) % bu != 0) {
      return RC::kBadSymbolConfig;
    }
    for (int64_t v : {f.min_price.v, f.max_price.v, f.min_qty.v, f.max_qty.v, f.market_min_qty.v,
                      f.market_max_qty.v, f.market_step_size.v, f.min_notional.v, f.max_notional.v,
                      f.bid_multiplier_up_e8, f.bid_multiplier_down_e8, f.ask_multiplier_up_e8,
                      f.ask_multiplier_down_e8}) {
      if (v < 0) {
        return RC::kBadSymbolConfig;
      }
    }
    if ((f.max_price.v > 0 && f.max_price < f.min_price) ||
        (f.max_qty.v > 0 && f.max_qty < f.min_qty) ||
        (f.market_max_qty.v > 0 && f.market_max_qty < f.market_min_qty) ||
        (f.max_notional.v > 0 && f.max_notional < f.min_notional)) {
      return RC::kBadSymbolConfig;
    }
    if (f.market_step_size.v > 0 &&
        ((static_cast<__int128>(f.tick_size.v) * f.market_step_size.v) % bu != 0 ||
         f.market_step_size.v % f.step_size.v != 0)) {
      return RC::kBadSymbolConfig;
    }
    if (f.avg_price_mins < 1 || f.avg_price_mins > 1440 || f.iceberg_parts < 0 ||
        f.iceberg_parts > 100 || f.max_num_orders < 0 || f.max_num_algo_orders < 0) {
      return RC::kBadSymbolConfig;
    }
    for (const RefSymbol& s : symbols_) {
      if (s.cfg.name == cfg.name) {
        return RC::kDuplicateSymbol;
      }
    }
    return RC::kNone;
  };
  code = bad();
  if (code != RC::kNone) {
    Reject(0, code, CommandPart::kWhole, 8, ClientOrderId{});
    return {code};
  }
  const auto id = static_cast<SymbolId>(symbols_.size());
  RefSymbol s;
  s.cfg = cfg;
  symbols_.push_back(s);
  auto& e = events_.Append<SymbolAdded>(seq_);
  e.symbol = id;
  e.config = cfg;
  return {};
}

RefEngine::Result RefEngine::DoSetStatus(const SetSymbolStatus& c) {
  using RC = RejectCode;
  RC code = RC::kNone;
  if (c.symbol >= symbols_.size()) {
    code = RC::kUnknownSymbol;
  } else if (static_cast<uint8_t>(c.status) > 2) {
    code = RC::kInvalidParameter;
  }
  if (code != RC::kNone) {
    Reject(0, code, CommandPart::kWhole, 9, ClientOrderId{});
    return {code};
  }
  symbols_[c.symbol].cfg.status = c.status;
  auto& e = events_.Append<SymbolStatusChanged>(seq_);
  e.symbol = c.symbol;
  e.status = c.status;
  return {};
}

void RefEngine::EmitAccount(AccountId a) {
  auto& e = events_.Append<AccountUpdated>(seq_);
  e.account = a;
  if (a == kDefaultsAccount) {
    e.maker_rate_e8 = default_maker_e8_;
    e.taker_rate_e8 = default_taker_e8_;
    e.stp = StpMode::kDefault;
    e.frozen = false;
    return;
  }
  // AMBIGUITY: AccountUpdated reports the effective rates (the defaults when it has none).
  EffectiveRates(a, &e.maker_rate_e8, &e.taker_rate_e8);
  e.stp = accounts_.at(a).stp;
  e.frozen = accounts_.at(a).frozen;
}

// AMBIGUITY: the fee account (0) exists from the start: OpenAccount(0) is kDuplicateAccount.
RefEngine::Result RefEngine::DoOpenAccount(const OpenAccount& c) {
  if (accounts_.count(c.account) != 0) {
    Reject(c.account, RejectCode::kDuplicateAccount, CommandPart::kWhole, 10, ClientOrderId{});
    return {RejectCode::kDuplicateAccount};
  }
  accounts_[c.account] = RefAccount{};
  EmitAccount(c.account);
  return {};
}

// AMBIGUITY (engine's reading): deposits and withdrawals accept the fee account; checks: account,
// asset (kUnknownAsset), amount > 0 (kInvalidQuantity), then (withdraw) frozen, then free + locked
// + amount overflow (kOverflow) / amount > free (kInsufficientBalance).
RefEngine::Result RefEngine::DoDeposit(const Deposit& c) {
  using RC = RejectCode;
  RC code = RC::kNone;
  if (accounts_.count(c.account) == 0) {
    code = RC::kUnknownAccount;
  } else if (c.asset >= assets_.size()) {
    code = RC::kUnknownAsset;
  } else if (c.amount.v <= 0) {
    code = RC::kInvalidQuantity;
  } else if (net_deposits_[c.asset] + c.amount.v > kI64Max) {
    code = RC::kAmountOverflow;  // no balance of the asset can then ever exceed int64
  }
  if (code != RC::kNone) {
    Reject(c.account, code, CommandPart::kWhole, 11, ClientOrderId{});
    return {code};
  }
  auto& e = events_.Append<Transfer>(seq_);
  e.account = c.account;
  e.asset = c.asset;
  e.amount = c.amount;
  e.time_ms = now_;
  Mutate(c.account, c.asset, c.amount.v, 0);
  net_deposits_[c.asset] += c.amount.v;
  return {};
}

RefEngine::Result RefEngine::DoWithdraw(const Withdraw& c) {
  using RC = RejectCode;
  RC code = RC::kNone;
  auto it = accounts_.find(c.account);
  if (it == accounts_.end()) {
    code = RC::kUnknownAccount;
  } else if (c.asset >= assets_.size()) {
    code = RC::kUnknownAsset;
  } else if (c.amount.v <= 0) {
    code = RC::kInvalidQuantity;
  } else if (it->second.frozen) {
    code = RC::kAccountFrozen;
  } else if (c.amount.v > Balance(c.account, c.asset).free) {
    code = RC::kInsufficientBalance;
  }
  if (code != RC::kNone) {
    Reject(c.account, code, CommandPart::kWhole, 12, ClientOrderId{});
    return {code};
  }
  auto& e = events_.Append<Transfer>(seq_);
  e.account = c.account;
  e.asset = c.asset;
  e.amount = Amount(-c.amount.v);
  e.time_ms = now_;
  Mutate(c.account, c.asset, -c.amount.v, 0);
  net_deposits_[c.asset] -= c.amount.v;
  return {};
}

RefEngine::Result RefEngine::DoSetFees(const SetFees& c) {
  using RC = RejectCode;
  RC code = RC::kNone;
  // AMBIGUITY (engine's reading): the rates are checked before the account.
  if (c.maker_rate_e8 < 0 || c.maker_rate_e8 >= core::kRateOne || c.taker_rate_e8 < 0 ||
      c.taker_rate_e8 >= core::kRateOne) {
    code = RC::kBadFees;
  } else if (c.account != kDefaultsAccount && accounts_.count(c.account) == 0) {
    code = RC::kUnknownAccount;
  }
  if (code != RC::kNone) {
    Reject(c.account, code, CommandPart::kWhole, 13, ClientOrderId{});
    return {code};
  }
  if (c.account == kDefaultsAccount) {
    default_maker_e8_ = c.maker_rate_e8;
    default_taker_e8_ = c.taker_rate_e8;
  } else {
    RefAccount& a = accounts_.at(c.account);
    a.own_rates = true;
    a.maker_e8 = c.maker_rate_e8;
    a.taker_e8 = c.taker_rate_e8;
  }
  EmitAccount(c.account);
  return {};
}

RefEngine::Result RefEngine::DoSetStp(const SetAccountStp& c) {
  using RC = RejectCode;
  RC code = RC::kNone;
  if (accounts_.count(c.account) == 0 || c.account == kFeeAccount) {
    code = RC::kUnknownAccount;
  } else if (!ValidStp(c.mode)) {
    code = RC::kInvalidStpMode;
  }
  if (code != RC::kNone) {
    Reject(c.account, code, CommandPart::kWhole, 14, ClientOrderId{});
    return {code};
  }
  accounts_.at(c.account).stp = c.mode;
  EmitAccount(c.account);
  return {};
}

RefEngine::Result RefEngine::DoFreeze(const FreezeAccount& c) {
  if (accounts_.count(c.account) == 0 || c.account == kFeeAccount) {
    Reject(c.account, RejectCode::kUnknownAccount, CommandPart::kWhole, 15, ClientOrderId{});
    return {RejectCode::kUnknownAccount};
  }
  accounts_.at(c.account).frozen = c.frozen;
  EmitAccount(c.account);
  return {};
}

}  // namespace spotex::engine::ref
