// Engine: command dispatch, bookkeeping, new-order validation, cancel, cancel-replace, amend.
#include "engine/engine.h"

#include <algorithm>

#include "engine/order_shape.h"
#include "engine/state.h"
#include "engine/validate.h"

namespace spotex::engine {
EngineState::EngineState() {
  accounts.push_back(Account{.id = kFeeAccount});
  account_index.Put(kFeeAccount, 0);
}

// ---------------------------------------------------------------------------------------------
// Bookkeeping helpers

uint32_t EngineState::BalanceSlot(uint32_t account, AssetId asset) {
  const uint64_t key = Key2(account, asset);
  if (const uint32_t* s = balance_index.Find(key)) {
    return *s;
  }
  const auto slot = static_cast<uint32_t>(balances.size());
  balances.push_back(Balance{.account = account, .asset = asset});
  balance_index.Put(key, slot);
  return slot;
}

void EngineState::TouchBalance(uint32_t slot) {
  Balance& b = balances[slot];
  if (b.touch_epoch != epoch) {
    b.touch_epoch = epoch;
    b.free_before = b.free;
    b.locked_before = b.locked;
    touched_balances.push_back(slot);
  }
}

void EngineState::TouchLevel(uint32_t idx) {
  Level& l = levels[idx];
  if (l.touch_epoch != epoch) {
    l.touch_epoch = epoch;
    l.visible_before = l.visible;
    touched_levels.push_back(idx);
  }
}

uint32_t EngineState::AcctSymSlot(uint32_t account, SymbolId symbol) {
  const uint64_t key = Key2(account, symbol);
  if (const uint32_t* s = FindAcctSym(key)) {
    return *s;
  }
  const SymbolConfig& cfg = symbols[symbol].cfg;
  const uint32_t base = BalanceSlot(account, cfg.base_asset);
  const uint32_t quote = BalanceSlot(account, cfg.quote_asset);
  const auto slot = static_cast<uint32_t>(acct_syms.size());
  acct_syms.push_back(
      AccountSymbol{.account = account, .symbol = symbol, .base_bal = base, .quote_bal = quote});
  acct_sym_index.Put(key, slot);
  return slot;
}

Amount EngineState::FreeFor(const NewOrder& o) const {
  const uint32_t acct = *FindAccount(o.account);
  if (const uint32_t* as = FindAcctSym(Key2(acct, o.symbol))) {
    const AccountSymbol& a = acct_syms[*as];
    return balances[o.side == Side::kBuy ? a.quote_bal : a.base_bal].free;
  }
  const SymbolConfig& cfg = symbols[o.symbol].cfg;
  const uint32_t* bal =
      balance_index.Find(Key2(acct, o.side == Side::kBuy ? cfg.quote_asset : cfg.base_asset));
  return bal ? balances[*bal].free : Amount(0);
}

void EngineState::Reject(RejectCode code, CommandPart part, AccountId account, uint8_t cmd_index,
                         const ClientOrderId* client_id) {
  auto& e = events.Append<CommandRejected>(cur_seq);
  e.account = account;
  e.code = code;
  e.part = part;
  e.command_index = cmd_index;
  if (client_id != nullptr && ValidClientId(*client_id)) {
    e.client_order_id = client_id->Canonical();  // never echo bytes past the id
  }
}

void EngineState::FinishCommand() {
  for (uint32_t slot : touched_balances) {
    const Balance& b = balances[slot];
    if (b.free == b.free_before && b.locked == b.locked_before) {
      continue;
    }
    auto& e = events.Append<BalanceChanged>(cur_seq);
    e.account = accounts[b.account].id;
    e.asset = b.asset;
    e.free = b.free;
    e.locked = b.locked;
    e.delta_free = b.free - b.free_before;
    e.delta_locked = b.locked - b.locked_before;
  }
  for (uint32_t idx : touched_levels) {
    Level& l = levels[idx];
    if (l.visible != l.visible_before) {
      SymbolState& s = symbols[l.symbol];
      auto& e = events.Append<BookLevel>(cur_seq);
      e.symbol = l.symbol;
      e.side = l.side;
      e.update_id = ++s.update_id;
      e.price = l.price;
      e.qty = l.visible;
    }
  }
  // Levels emptied during the command go back to the pool only now, so that a slot is never
  // reused while it is still in the touched list.
  for (uint32_t idx : touched_levels) {
    Level& l = levels[idx];
    if (!l.live && l.touch_epoch == epoch) {
      l.touch_epoch = 0;
      free_levels.push_back(idx);
    }
  }
  touched_balances.clear();
  touched_levels.clear();
}

void EngineState::EmitAccountUpdated(uint32_t slot) {
  const Account& a = accounts[slot];
  auto& e = events.Append<AccountUpdated>(cur_seq);
  e.account = a.id;
  e.maker_rate_e8 = MakerRate(a);
  e.taker_rate_e8 = TakerRate(a);
  e.stp = a.stp;
  e.frozen = a.frozen;
}

// ---------------------------------------------------------------------------------------------
// Apply

ApplyResult EngineState::Apply(const Command& cmd) {
  events.Clear();
  ++epoch;
  if (epoch == 0) {  // wrapped: reset every mark so a stale one cannot match
    for (auto& b : balances) b.touch_epoch = 0;
    for (auto& l : levels) l.touch_epoch = 0;
    epoch = 1;
  }
  cur_seq = cmd.seq;
  price_moved = false;
  command_index = static_cast<uint8_t>(cmd.body.index());
  ApplyResult r;
  if (cmd.seq <= last_seq) {
    Reject(RejectCode::kInvalidParameter, CommandPart::kWhole, 0, command_index, nullptr);
    r.code = RejectCode::kInvalidParameter;
    r.events = events.bytes();
    return r;
  }
  last_seq = cmd.seq;
  now_ms = std::max(now_ms, cmd.time_ms);  // the engine clock never goes backwards (nor below 0)
  r = std::visit(
      [this](const auto& c) -> ApplyResult {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, PlaceOrder>)
          return DoPlace(c);
        else if constexpr (std::is_same_v<T, CancelOrder>)
          return DoCancel(c, CommandPart::kWhole);
        else if constexpr (std::is_same_v<T, CancelReplace>)
          return DoCancelReplace(c);
        else if constexpr (std::is_same_v<T, CancelAll>)
          return DoCancelAll(c);
        else if constexpr (std::is_same_v<T, AmendOrder>)
          return DoAmend(c);
        else if constexpr (std::is_same_v<T, PlaceOco>)
          return DoPlaceOco(c);
        else if constexpr (std::is_same_v<T, CancelOrderList>)
          return DoCancelList(c);
        else if constexpr (std::is_same_v<T, AddAsset>)
          return DoAddAsset(c);
        else if constexpr (std::is_same_v<T, AddSymbol>)
          return DoAddSymbol(c);
        else if constexpr (std::is_same_v<T, SetSymbolStatus>)
          return DoSetSymbolStatus(c);
        else if constexpr (std::is_same_v<T, OpenAccount>)
          return DoOpenAccount(c);
        else if constexpr (std::is_same_v<T, Deposit>)
          return DoDeposit(c);
        else if constexpr (std::is_same_v<T, Withdraw>)
          return DoWithdraw(c);
        else if constexpr (std::is_same_v<T, SetFees>)
          return DoSetFees(c);
        else if constexpr (std::is_same_v<T, SetAccountStp>)
          return DoSetAccountStp(c);
        else
          return DoFreeze(c);
      },
      cmd.body);
  FinishCommand();
  r.events = events.bytes();
  return r;
}

// ---------------------------------------------------------------------------------------------
// New orders

Qty EngineState::MarketStep(const SymbolState& s) const {
  const Qty m = s.cfg.filters.market_step_size;
  return m.v > 0 ? m : s.cfg.filters.step_size;
}

// Validates a new order against everything but funds (which need the reserve) and fills
// `*reserve`. `extra_orders` is how many orders are being added together (OCO: 2).
RejectCode EngineState::ValidateNewOrder(const NewOrder& o, int extra_orders,
                                         Amount* reserve) const {
  const uint32_t* acct = FindAccount(o.account);
  if (acct == nullptr || *acct == 0) return RejectCode::kUnknownAccount;
  const Account& account = accounts[*acct];
  if (account.frozen) return RejectCode::kAccountFrozen;
  if (o.symbol >= symbols.size()) return RejectCode::kUnknownSymbol;
  const SymbolState& s = symbols[o.symbol];
  const SymbolFilters& f = s.cfg.filters;
  if (s.cfg.status != SymbolStatus::kTrading) return RejectCode::kMarketClosed;
  if (!ValidSide(o.side)) return RejectCode::kInvalidSide;
  if (!ValidType(o.type)) return RejectCode::kInvalidOrderType;
  if (!ValidTif(o.tif)) return RejectCode::kInvalidTimeInForce;
  if (!ValidStp(o.stp)) return RejectCode::kInvalidStpMode;
  if (!ValidClientId(o.client_order_id)) return RejectCode::kInvalidClientOrderId;
  if (o.price.v < 0 || o.stop_price.v < 0) return RejectCode::kInvalidPrice;
  if (o.qty.v < 0 || o.quote_qty.v < 0 || o.iceberg_qty.v < 0) return RejectCode::kInvalidQuantity;

  const bool priced = o.type == OrderType::kLimit || o.type == OrderType::kLimitMaker ||
                      o.type == OrderType::kStopLossLimit || o.type == OrderType::kTakeProfitLimit;
  const bool market_like = IsMarketLike(o.type);
  const bool by_quote = o.type == OrderType::kMarket && o.quote_qty.v > 0;
  // Shape by type and iceberg rules (docs/engine-semantics.md step 3): engine/order_shape.h.
  if (auto shape = CheckOrderShape(o, s.cfg)) return shape->code;
  // PRICE_FILTER.
  for (Price p : {o.price, o.stop_price}) {
    if (p.v == 0) continue;
    if ((f.min_price.v > 0 && p < f.min_price) || (f.max_price.v > 0 && p > f.max_price) ||
        !OnGrid(p.v, f.tick_size.v)) {
      return RejectCode::kFilterPrice;
    }
  }
  // LOT_SIZE / MARKET_LOT_SIZE.
  if (market_like) {
    if (o.qty.v > 0) {
      // A zero MARKET_LOT_SIZE min or max disables that bound; only the step falls back.
      const Qty min = f.market_min_qty;
      const Qty max = f.market_max_qty;
      if (o.qty < min || (max.v > 0 && o.qty > max) || !OnGrid(o.qty.v, MarketStep(s).v)) {
        return RejectCode::kFilterMarketLotSize;
      }
    }
  } else {
    for (Qty q : {o.qty, o.iceberg_qty}) {
      if (q.v == 0) continue;
      if (q < f.min_qty || (f.max_qty.v > 0 && q > f.max_qty) || !OnGrid(q.v, f.step_size.v)) {
        return RejectCode::kFilterLotSize;
      }
    }
  }
  // ICEBERG_PARTS.
  if (o.iceberg_qty.v > 0) {
    const int64_t parts =
        o.qty.v / o.iceberg_qty.v + (o.qty.v % o.iceberg_qty.v != 0 ? 1 : 0);  // no overflow
    if (parts > f.iceberg_parts) return RejectCode::kFilterIcebergParts;
  }
  // Notional. The average price costs a pass over the minute buckets: only when a filter uses it.
  const bool market_notional =
      !priced && !by_quote && (f.apply_min_to_market || f.apply_max_to_market);
  const bool percent = priced && (f.bid_multiplier_up_e8 > 0 || f.bid_multiplier_down_e8 > 0 ||
                                  f.ask_multiplier_up_e8 > 0 || f.ask_multiplier_down_e8 > 0);
  // 0: unknown (no trade yet) or not needed.
  const Price avg = market_notional || percent ? AvgPrice(s).value_or(Price(0)) : Price(0);
  {
    bool check_min = true, check_max = true;
    __int128 notional = -1;
    if (priced) {
      notional = static_cast<__int128>(o.price.v) * o.qty.v / s.base_unit;
    } else if (by_quote) {
      notional = o.quote_qty.v;
      check_min = f.apply_min_to_market;
      check_max = f.apply_max_to_market;
    } else if (avg.v > 0) {
      notional = static_cast<__int128>(avg.v) * o.qty.v / s.base_unit;
      check_min = f.apply_min_to_market;
      check_max = f.apply_max_to_market;
    }
    if (notional == 0 && priced) return RejectCode::kZeroNotional;
    if (notional > INT64_MAX) return RejectCode::kOverflow;
    if (notional >= 0) {
      const RejectCode fail =
          f.legacy_min_notional ? RejectCode::kFilterMinNotional : RejectCode::kFilterNotional;
      if (check_min && f.min_notional.v > 0 && notional < f.min_notional.v) return fail;
      if (check_max && f.max_notional.v > 0 && notional > f.max_notional.v) return fail;
    }
  }
  // PERCENT_PRICE_BY_SIDE.
  if (priced && avg.v > 0) {
    const bool buy = o.side == Side::kBuy;
    const int64_t up = buy ? f.bid_multiplier_up_e8 : f.ask_multiplier_up_e8;
    const int64_t down = buy ? f.bid_multiplier_down_e8 : f.ask_multiplier_down_e8;
    if (up > 0 && !MulLe(o.price.v, core::kRateOne, avg.v, up)) {
      return RejectCode::kFilterPercentPriceBySide;
    }
    if (down > 0 && !MulLe(avg.v, down, o.price.v, core::kRateOne)) {
      return RejectCode::kFilterPercentPriceBySide;
    }
  }
  // The open quantity of one side of a book (resting, untriggered and these new orders) must
  // fit int64, so that level totals and walks over a side can never overflow. SELL quantities
  // are bounded by deposits already; BUY quantities at tiny prices are not.
  if (s.open_qty[static_cast<int>(o.side)] + static_cast<__int128>(o.qty.v) * extra_orders >
      INT64_MAX) {
    return RejectCode::kOverflow;
  }
  // MAX_NUM_ORDERS / MAX_NUM_ALGO_ORDERS.
  {
    const uint32_t* as = FindAcctSym(Key2(*acct, o.symbol));
    const int32_t open = as ? acct_syms[*as].open_orders : 0;
    const int32_t algo = as ? acct_syms[*as].algo_orders : 0;
    if (f.max_num_orders > 0 && open + extra_orders > f.max_num_orders) {
      return RejectCode::kFilterMaxNumOrders;
    }
    if (IsStopType(o.type) && f.max_num_algo_orders > 0 && algo + 1 > f.max_num_algo_orders) {
      return RejectCode::kFilterMaxNumAlgoOrders;
    }
  }
  // Unique client id among the account's open orders.
  if (!o.client_order_id.empty() &&
      client_index.Find(ClientKey{*acct, o.client_order_id.Canonical()}) != nullptr) {
    return RejectCode::kDuplicateOrder;
  }
  // Stop would trigger immediately.
  if (IsStopType(o.type) && s.last_price.v > 0) {
    if (StopTriggered(o.side, o.type, o.stop_price, s.last_price)) {
      return RejectCode::kWouldTrigger;
    }
  }
  const BookSide& opp = o.side == Side::kBuy ? s.asks : s.bids;
  // LIMIT_MAKER must not take.
  if (o.type == OrderType::kLimitMaker && !opp.prices.empty()) {
    const int64_t best = opp.prices.back();
    if (o.side == Side::kBuy ? best <= o.price.v : best >= o.price.v) {
      return RejectCode::kWouldTakeLiquidity;
    }
  }
  if (o.type == OrderType::kMarket && opp.prices.empty()) return RejectCode::kNoLiquidity;
  // Reserve.
  Amount r;
  if (o.side == Side::kSell) {
    r = by_quote ? Amount(WalkSellBase(s, o.quote_qty, f.step_size).v) : Amount(o.qty.v);
  } else if (priced) {
    const auto n = core::Narrow(static_cast<__int128>(o.price.v) * o.qty.v / s.base_unit);
    if (!n) return RejectCode::kOverflow;
    r = Amount(*n);
  } else if (by_quote) {
    r = o.quote_qty;
  } else if (o.type == OrderType::kMarket) {
    r = WalkBuyCost(s, o.qty);
  }  // untriggered stop-market BUY: nothing until it triggers
  *reserve = r;
  return RejectCode::kNone;
}

uint32_t EngineState::CreateOrder(const NewOrder& n, Amount reserve, OrderListId list_id) {
  uint32_t slot;
  if (!free_orders.empty()) {
    slot = free_orders.back();
    free_orders.pop_back();
  } else {
    slot = static_cast<uint32_t>(orders.size());
    orders.emplace_back();
    cold.emplace_back();
  }
  const uint32_t acct = *FindAccount(n.account);
  const SymbolState& s = symbols[n.symbol];
  Order& o = orders[slot];
  o = Order{};
  o.account = acct;
  o.acct_sym = AcctSymSlot(acct, n.symbol);
  o.base_bal = acct_syms[o.acct_sym].base_bal;
  o.quote_bal = acct_syms[o.acct_sym].quote_bal;
  o.id = next_order_id++;
  o.price = n.price;
  o.qty = n.qty;
  o.side = n.side;
  symbols[n.symbol].open_qty[static_cast<int>(n.side)] += n.qty.v;
  o.type = n.type;
  o.tif = n.tif;
  const Account& a = accounts[acct];
  o.stp = n.stp != StpMode::kDefault   ? n.stp
          : a.stp != StpMode::kDefault ? a.stp
                                       : s.cfg.default_stp;
  o.status = OrderStatus::kNew;
  o.working = !IsStopType(n.type);
  o.symbol = n.symbol;
  o.quote_qty = n.quote_qty;
  o.iceberg_qty = n.iceberg_qty;
  o.update_ms = now_ms;
  o.has_client_id = !n.client_order_id.empty();
  OrderCold& c = cold[slot];
  c.stop_price = n.stop_price;
  c.list_id = list_id;
  c.time_ms = now_ms;
  c.client_id = n.client_order_id.Canonical();
  // Reserve: free -> locked.
  o.reserved = reserve;
  if (reserve.v > 0) {
    const uint32_t bal = o.side == Side::kBuy ? o.quote_bal : o.base_bal;
    TouchBalance(bal);
    balances[bal].free -= reserve;
    balances[bal].locked += reserve;
  }
  // Indexes.
  order_index.Put(static_cast<uint64_t>(o.id), slot);
  if (!n.client_order_id.empty()) {
    client_index.Put(ClientKey{acct, n.client_order_id.Canonical()}, slot);
  }
  AccountSymbol& as = acct_syms[o.acct_sym];
  o.acct_pos = static_cast<uint32_t>(as.open.size());
  as.open.push_back(slot);
  ++as.open_orders;
  if (!o.working) ++as.algo_orders;
  return slot;
}

void EngineState::EmitAccepted(uint32_t slot) {
  const Order& o = orders[slot];
  const OrderCold& c = cold[slot];
  auto& e = events.Append<OrderAccepted>(cur_seq);
  e.order_id = o.id;
  e.order_list_id = c.list_id;
  e.account = accounts[o.account].id;
  e.symbol = o.symbol;
  e.side = o.side;
  e.type = o.type;
  e.tif = o.tif;
  e.stp = o.stp;
  e.status = OrderStatus::kNew;
  e.working = o.working;
  e.price = o.price;
  e.qty = o.qty;
  e.quote_qty = o.quote_qty;
  e.stop_price = c.stop_price;
  e.iceberg_qty = o.iceberg_qty;
  e.time_ms = c.time_ms;
  e.client_order_id = c.client_id;
}

ApplyResult EngineState::DoPlace(const PlaceOrder& c) {
  ApplyResult r;
  Amount reserve;
  RejectCode code = ValidateNewOrder(c.order, 1, &reserve);
  if (code == RejectCode::kNone && reserve > FreeFor(c.order)) {
    code = RejectCode::kInsufficientBalance;
  }
  if (code != RejectCode::kNone) {
    return Rejected(code, c.order.account, &c.order.client_order_id);
  }
  const uint32_t slot = CreateOrder(c.order, reserve, -1);
  r.order_id = orders[slot].id;
  EmitAccepted(slot);
  const SymbolId sym = c.order.symbol;
  StartOrder(slot);
  ProcessTriggers(sym);
  return r;
}

// ---------------------------------------------------------------------------------------------
// Cancel

RejectCode EngineState::FindOpenOrder(const OrderRef& ref, uint32_t* out) const {
  const uint32_t* acct = FindAccount(ref.account);
  if (acct == nullptr || *acct == 0) return RejectCode::kUnknownAccount;
  if (ref.symbol >= symbols.size()) return RejectCode::kUnknownSymbol;
  if (ref.order_id == 0 && ref.orig_client_order_id.empty()) return RejectCode::kMissingOrderRef;
  if (!ValidClientId(ref.orig_client_order_id)) return RejectCode::kUnknownOrder;
  const uint32_t* slot = nullptr;
  if (ref.order_id != 0) {
    slot = order_index.Find(static_cast<uint64_t>(ref.order_id));
    if (slot && !ref.orig_client_order_id.empty() &&
        !(cold[*slot].client_id == ref.orig_client_order_id)) {
      return RejectCode::kUnknownOrder;
    }
  } else {
    slot = client_index.Find(ClientKey{*acct, ref.orig_client_order_id.Canonical()});
  }
  if (slot == nullptr) return RejectCode::kUnknownOrder;
  const Order& o = orders[*slot];
  if (o.account != *acct || o.symbol != ref.symbol) return RejectCode::kUnknownOrder;
  *out = *slot;
  return RejectCode::kNone;
}

void EngineState::CancelOrderSlot(uint32_t slot, const ClientOrderId* cancel_id) {
  Order& o = orders[slot];
  if (cancel_id != nullptr && !cancel_id->empty()) {
    auto& e = events.Append<OrderCanceledBy>(cur_seq);
    e.order_id = o.id;
    e.cancel_client_order_id = cancel_id->Canonical();
  }
  const uint32_t list = o.list;
  EndOrder(slot, ExecType::kCanceled, OrderStatus::kCanceled, ExpiryReason::kNone);
  if (list != kNil) {
    // Cancelling one leg cancels the list.
    ListState& l = lists[list];
    for (uint32_t leg : l.legs) {
      if (leg != slot && leg != kNil) {
        orders[leg].list = kNil;
        EndOrder(leg, ExecType::kCanceled, OrderStatus::kCanceled, ExpiryReason::kNone);
      }
    }
    EmitListStatus(l, ListStatus::kAllDone);
    ForgetList(list);
  }
}

ApplyResult EngineState::DoCancel(const CancelOrder& c, CommandPart part) {
  ApplyResult r;
  uint32_t slot = 0;
  RejectCode code = FindOpenOrder(c.ref, &slot);
  if (code == RejectCode::kNone && !ValidClientId(c.new_client_order_id)) {
    code = RejectCode::kInvalidClientOrderId;
  }
  if (code == RejectCode::kNone) {
    const OrderStatus st = orders[slot].status;
    if (static_cast<uint8_t>(c.restriction) > 2) {
      code = RejectCode::kInvalidCancelRestrictions;
    } else if ((c.restriction == CancelRestriction::kOnlyNew && st != OrderStatus::kNew) ||
               (c.restriction == CancelRestriction::kOnlyPartiallyFilled &&
                st != OrderStatus::kPartiallyFilled)) {
      code = RejectCode::kCancelRestricted;
    }
  }
  if (code != RejectCode::kNone) {
    Reject(code, part, c.ref.account, command_index, &c.ref.orig_client_order_id);
    r.code = code;
    return r;
  }
  r.order_id = orders[slot].id;
  CancelOrderSlot(slot, &c.new_client_order_id);
  return r;
}

ApplyResult EngineState::DoCancelReplace(const CancelReplace& c) {
  ApplyResult r;
  RejectCode pre = RejectCode::kNone;
  if (c.order.account != c.cancel.ref.account || c.order.symbol != c.cancel.ref.symbol ||
      static_cast<uint8_t>(c.mode) > 1) {
    pre = RejectCode::kInvalidParameter;
  } else if (c.cancel.ref.symbol < symbols.size() &&
             !symbols[c.cancel.ref.symbol].cfg.cancel_replace_allowed) {
    pre = RejectCode::kCancelReplaceNotAllowed;
  }
  if (pre != RejectCode::kNone) {
    return Rejected(pre, c.order.account, &c.order.client_order_id);
  }
  const ApplyResult cancel = DoCancel(c.cancel, CommandPart::kCancel);
  r.cancel_code = cancel.code;
  if (cancel.code != RejectCode::kNone && c.mode == CancelReplaceMode::kStopOnFailure) {
    r.code = cancel.code;
    return r;
  }
  const ApplyResult placed = [&] {
    PlaceOrder p{c.order};
    Amount reserve;
    RejectCode code = ValidateNewOrder(p.order, 1, &reserve);
    if (code == RejectCode::kNone && reserve > FreeFor(p.order)) {
      code = RejectCode::kInsufficientBalance;
    }
    ApplyResult out;
    if (code != RejectCode::kNone) {
      Reject(code, CommandPart::kNewOrder, p.order.account, command_index,
             &p.order.client_order_id);
      out.code = code;
      return out;
    }
    const uint32_t slot = CreateOrder(p.order, reserve, -1);
    out.order_id = orders[slot].id;
    EmitAccepted(slot);
    StartOrder(slot);
    ProcessTriggers(p.order.symbol);
    return out;
  }();
  r.new_order_code = placed.code;
  r.order_id = placed.order_id;
  r.code = cancel.code != RejectCode::kNone ? cancel.code : placed.code;
  return r;
}

ApplyResult EngineState::DoCancelAll(const CancelAll& c) {
  ApplyResult r;
  const uint32_t* acct = FindAccount(c.account);
  RejectCode code = RejectCode::kNone;
  const uint32_t* as = nullptr;
  if (acct == nullptr || *acct == 0) {
    code = RejectCode::kUnknownAccount;
  } else if (c.symbol >= symbols.size()) {
    code = RejectCode::kUnknownSymbol;
  } else {
    as = acct_sym_index.Find(Key2(*acct, c.symbol));
    if (as == nullptr || acct_syms[*as].open.empty()) code = RejectCode::kUnknownOrder;
  }
  if (code != RejectCode::kNone) {
    return Rejected(code, c.account, nullptr);
  }
  // In order-id order. Cancelling a list leg also ends its sibling, so every order is looked
  // up again by id before it is cancelled.
  std::vector<OrderId>& ids = scratch_ids;
  ids.clear();
  for (uint32_t s : acct_syms[*as].open) ids.push_back(orders[s].id);
  std::sort(ids.begin(), ids.end());
  for (OrderId id : ids) {
    if (const uint32_t* s = order_index.Find(static_cast<uint64_t>(id))) {
      CancelOrderSlot(*s, nullptr);
    }
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Amend (keep priority)

ApplyResult EngineState::DoAmend(const AmendOrder& c) {
  ApplyResult r;
  uint32_t slot = 0;
  RejectCode code = FindOpenOrder(c.ref, &slot);
  if (code == RejectCode::kNone) {
    const Order& o = orders[slot];
    const SymbolState& s = symbols[o.symbol];
    const SymbolFilters& f = s.cfg.filters;
    if (!s.cfg.amend_allowed) {
      code = RejectCode::kAmendNotAllowed;
    } else if (o.list != kNil) {
      // Both legs of a list share one reserve; amending one would leave the other wrong.
      code = RejectCode::kAmendOrderListLeg;
    } else if (!ValidClientId(c.new_client_order_id)) {
      code = RejectCode::kInvalidClientOrderId;
    } else if (c.new_qty.v <= 0) {
      code = RejectCode::kInvalidQuantity;
    } else if (c.new_qty == o.qty) {
      code = RejectCode::kAmendNoChange;
    } else if (c.new_qty > o.qty) {
      code = RejectCode::kAmendQtyIncrease;
    } else if (c.new_qty < f.min_qty || !OnGrid(c.new_qty.v, f.step_size.v)) {
      code = RejectCode::kFilterLotSize;
    } else if (!c.new_client_order_id.empty() && !(c.new_client_order_id == cold[slot].client_id)) {
      const uint32_t* other =
          client_index.Find(ClientKey{o.account, c.new_client_order_id.Canonical()});
      if (other != nullptr) code = RejectCode::kDuplicateOrder;
    }
  }
  if (code != RejectCode::kNone) {
    return Rejected(code, c.ref.account, &c.ref.orig_client_order_id);
  }
  Order& o = orders[slot];
  r.order_id = o.id;
  const SymbolState& s = symbols[o.symbol];
  auto& e = events.Append<OrderAmended>(cur_seq);
  e.order_id = o.id;
  e.account = accounts[o.account].id;
  e.symbol = o.symbol;
  e.orig_qty = o.qty;
  e.new_qty = c.new_qty;
  e.executed_qty = o.executed;
  ClientOrderId& cid = cold[slot].client_id;
  e.orig_client_order_id = cid;
  e.new_client_order_id = c.new_client_order_id.empty() ? cid : c.new_client_order_id.Canonical();
  if (!c.new_client_order_id.empty() && !(c.new_client_order_id == cid)) {
    if (o.has_client_id) {
      client_index.Erase(ClientKey{o.account, cid});
    }
    cid = c.new_client_order_id.Canonical();
    o.has_client_id = true;
    client_index.Put(ClientKey{o.account, cid}, slot);
  }
  o.update_ms = now_ms;
  if (c.new_qty <= o.executed) {
    // Nothing left to trade: the order is done. Leave qty as it is until it has left the
    // book, which subtracts its remaining quantity from the level.
    e.status = OrderStatus::kFilled;
    o.status = OrderStatus::kFilled;
    FinishOrder(slot);
    return r;
  }
  const Qty removed = o.qty - c.new_qty;
  if (o.in_book) {
    Level& l = levels[o.level];
    TouchLevel(o.level);
    const Qty new_display = std::min(o.display, c.new_qty - o.executed);
    l.visible -= o.display - new_display;
    l.total -= removed;
    o.display = new_display;
  }
  o.qty = c.new_qty;
  symbols[o.symbol].open_qty[static_cast<int>(o.side)] -= removed.v;
  // Release the reserve the removed quantity held.
  Amount release;
  if (o.side == Side::kSell) {
    release = Amount(removed.v);
  } else if (o.IsPriced()) {
    release =
        Amount(static_cast<int64_t>(static_cast<__int128>(o.price.v) * removed.v / s.base_unit));
  }
  if (release > o.reserved) release = o.reserved;
  Unlock(o, release);
  e.status = o.status;
  return r;
}

// ---------------------------------------------------------------------------------------------
// Engine facade

Engine::Engine() : state_(std::make_unique<EngineState>()) {}
Engine::~Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

ApplyResult Engine::Apply(const Command& cmd) { return state_->Apply(cmd); }
Seq Engine::last_seq() const { return state_->last_seq; }

}  // namespace spotex::engine
