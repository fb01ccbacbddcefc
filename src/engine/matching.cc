// Engine: the matching path — book operations, fills and settlement, stops, order lists.
#include <algorithm>

#include "engine/state.h"

namespace spotex::engine {
namespace {

// Index of the first element not worse than `p` in a worst-to-best sorted price vector, i.e.
// where `p` is or would be inserted. Most activity is near the best price (the back), so look
// at a few elements from the back first, then search the rest without data-dependent branches
// (a mispredicted branch per halving costs more than the comparisons).
size_t LowerIndex(const std::vector<int64_t>& prices, Side side, int64_t p) {
  const bool bid = side == Side::kBuy;  // bids ascending, asks descending
  // Normalise asks to ascending order by negating: "worse" is always "smaller".
  const int64_t key = bid ? p : -p;
  const int64_t* a = prices.data();
  size_t n = prices.size();
  for (int k = 0; k < 4 && n > 0; ++k) {
    const int64_t q = bid ? a[n - 1] : -a[n - 1];
    if (q < key) {
      return n;
    }
    --n;
  }
  size_t lo = 0;
  while (n > 1) {
    const size_t half = n / 2;
    const int64_t q = bid ? a[lo + half - 1] : -a[lo + half - 1];
    lo = q < key ? lo + half : lo;
    n -= half;
  }
  if (n == 1) {
    const int64_t q = bid ? a[lo] : -a[lo];
    lo += q < key ? 1 : 0;
  }
  return lo;
}

int64_t FloorStep(__int128 x, int64_t step) {
  if (x > INT64_MAX) x = INT64_MAX;
  const auto v = static_cast<int64_t>(x);
  return v - v % step;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Book operations

void EngineState::Rest(uint32_t slot) {
  Order& o = orders[slot];
  SymbolState& s = symbols[o.symbol];
  BookSide& side = s.SideOf(o.side);
  const size_t at = LowerIndex(side.prices, o.side, o.price.v);
  uint32_t li;
  if (at < side.prices.size() && side.prices[at] == o.price.v) {
    li = side.levels[at];
  } else {
    if (!free_levels.empty()) {
      li = free_levels.back();
      free_levels.pop_back();
    } else {
      li = static_cast<uint32_t>(levels.size());
      levels.emplace_back();
    }
    Level& nl = levels[li];
    nl = Level{};
    nl.price = o.price;
    nl.symbol = o.symbol;
    nl.side = o.side;
    nl.live = true;
    side.prices.insert(side.prices.begin() + static_cast<ptrdiff_t>(at), o.price.v);
    side.levels.insert(side.levels.begin() + static_cast<ptrdiff_t>(at), li);
  }
  TouchLevel(li);
  Level& l = levels[li];
  const Qty remaining = o.Remaining();
  o.display = o.iceberg_qty.v > 0 ? std::min(o.iceberg_qty, remaining) : remaining;
  o.prev = l.tail;
  o.next = kNil;
  if (l.tail != kNil) {
    orders[l.tail].next = slot;
  } else {
    l.head = slot;
  }
  l.tail = slot;
  l.visible += o.display;
  l.total += remaining;
  ++l.count;
  o.in_book = true;
  o.level = li;
  ++acct_syms[o.acct_sym].book_orders[static_cast<int>(o.side)];
}

void EngineState::RemoveFromBook(uint32_t slot) {
  Order& o = orders[slot];
  SPOTEX_ASSERT(o.in_book);
  const uint32_t li = o.level;
  TouchLevel(li);
  Level& l = levels[li];
  if (o.prev != kNil) {
    orders[o.prev].next = o.next;
  } else {
    l.head = o.next;
  }
  if (o.next != kNil) {
    orders[o.next].prev = o.prev;
  } else {
    l.tail = o.prev;
  }
  l.visible -= o.display;
  l.total -= o.Remaining();
  --l.count;
  o.in_book = false;
  o.level = kNil;
  o.next = o.prev = kNil;
  --acct_syms[o.acct_sym].book_orders[static_cast<int>(o.side)];
  if (l.count == 0) {
    SPOTEX_ASSERT(l.visible.v == 0 && l.total.v == 0);
    BookSide& side = symbols[l.symbol].SideOf(l.side);
    size_t at = side.prices.size() - 1;
    if (side.prices[at] != l.price.v) {
      at = LowerIndex(side.prices, l.side, l.price.v);
    }
    SPOTEX_ASSERT(at < side.prices.size() && side.levels[at] == li);
    side.prices.erase(side.prices.begin() + static_cast<ptrdiff_t>(at));
    side.levels.erase(side.levels.begin() + static_cast<ptrdiff_t>(at));
    l.live = false;  // freed at the end of the command (FinishCommand)
  }
}

// ---------------------------------------------------------------------------------------------
// Order lifecycle

void EngineState::Unlock(Order& o, Amount amount) {
  if (amount.v == 0) {
    return;
  }
  const uint32_t bal = o.side == Side::kBuy ? o.quote_bal : o.base_bal;
  TouchBalance(bal);
  balances[bal].locked -= amount;
  balances[bal].free += amount;
  o.reserved -= amount;
}

OrderUpdate& EngineState::EmitUpdate(const Order& o, ExecType exec, ExpiryReason reason) {
  auto& e = events.Append<OrderUpdate>(cur_seq);
  e.order_id = o.id;
  e.account = accounts[o.account].id;
  e.symbol = o.symbol;
  e.exec = exec;
  e.status = o.status;
  e.reason = reason;
  e.executed_qty = o.executed;
  e.cum_quote_qty = o.cum_quote;
  return e;
}

void EngineState::FinishOrder(uint32_t slot) {
  Order& o = orders[slot];
  if (o.in_book) {
    RemoveFromBook(slot);
  } else if (!o.working) {
    RemoveStop(o);
  }
  Unlock(o, o.reserved);
  symbols[o.symbol].open_qty[static_cast<int>(o.side)] -= o.Remaining().v;
  order_index.Erase(static_cast<uint64_t>(o.id));
  if (o.has_client_id) {
    client_index.Erase(ClientKey{o.account, cold[slot].client_id});
  }
  AccountSymbol& as = acct_syms[o.acct_sym];
  const uint32_t last = as.open.back();
  as.open[o.acct_pos] = last;
  orders[last].acct_pos = o.acct_pos;
  as.open.pop_back();
  --as.open_orders;
  if (!o.working) {
    --as.algo_orders;
  }
  o.id = 0;
  free_orders.push_back(slot);
}

void EngineState::EndOrder(uint32_t slot, ExecType exec, OrderStatus status, ExpiryReason reason) {
  Order& o = orders[slot];
  o.status = status;
  o.update_ms = now_ms;
  EmitUpdate(o, exec, reason);
  FinishOrder(slot);
}

void EngineState::ExpireStp(uint32_t slot, int64_t prevented_id) {
  Order& o = orders[slot];
  o.status = OrderStatus::kExpiredInMatch;
  o.update_ms = now_ms;
  EmitUpdate(o, ExecType::kTradePrevention, ExpiryReason::kStp).prevented_match_id = prevented_id;
  OnListLegEvent(slot, /*triggered=*/false);
  FinishOrder(slot);
}

// ---------------------------------------------------------------------------------------------
// Averages and walks

void EngineState::RecordTrade(SymbolState& s, Price price, Qty qty, Amount quote) {
  const int64_t minute = now_ms / 60000;
  AvgBucket& b = s.buckets[static_cast<size_t>(minute % static_cast<int64_t>(s.buckets.size()))];
  if (b.minute != minute) {
    b = AvgBucket{.minute = minute};
  }
  b.quote = std::min(b.quote + quote.v, AvgBucket::kMax);
  b.qty = std::min(b.qty + qty.v, AvgBucket::kMax);
  s.last_price = price;
  price_moved = true;
}

std::optional<Price> EngineState::AvgPrice(const SymbolState& s) const {
  const int64_t minute = now_ms / 60000;
  const auto n = static_cast<int64_t>(s.buckets.size());
  __int128 quote = 0;
  __int128 qty = 0;
  for (const AvgBucket& b : s.buckets) {
    if (b.minute > minute - n && b.minute <= minute) {
      quote += b.quote;
      qty += b.qty;
    }
  }
  if (qty > 0) {
    // Halve both sums together until the quantity fits 64 bits: then quote % qty × base_unit
    // fits 128 bits. Only extreme volumes lose low bits.
    while (qty > (static_cast<__int128>(1) << 64)) {
      quote >>= 1;
      qty >>= 1;
    }
    const __int128 avg = quote / qty * s.base_unit + quote % qty * s.base_unit / qty;
    return Price(avg > INT64_MAX ? INT64_MAX : static_cast<int64_t>(avg));
  }
  if (s.last_price.v > 0) {
    return s.last_price;
  }
  return std::nullopt;
}

Amount EngineState::WalkBuyCost(const SymbolState& s, Qty qty) const {
  __int128 cost = 0;
  int64_t left = qty.v;
  for (size_t i = s.asks.levels.size(); i > 0 && left > 0; --i) {
    const Level& l = levels[s.asks.levels[i - 1]];
    const int64_t take = std::min(left, l.total.v);
    cost += static_cast<__int128>(l.price.v) * take / s.base_unit;
    left -= take;
  }
  return Amount(cost > INT64_MAX ? INT64_MAX : static_cast<int64_t>(cost));
}

Qty EngineState::WalkSellBase(const SymbolState& s, Amount quote, Qty step) const {
  int64_t base = 0;
  int64_t quote_left = quote.v;
  for (size_t i = s.bids.levels.size(); i > 0 && quote_left > 0; --i) {
    const Level& l = levels[s.bids.levels[i - 1]];
    const int64_t max =
        FloorStep(static_cast<__int128>(quote_left) * s.base_unit / l.price.v, step.v);
    if (max == 0) {
      break;
    }
    const int64_t take = std::min(l.total.v, max);
    base += take;
    quote_left -= static_cast<int64_t>(static_cast<__int128>(l.price.v) * take / s.base_unit);
  }
  return Qty(base);
}

// ---------------------------------------------------------------------------------------------
// Matching

// Exact dry run of Match for a FOK limit order: can it fill completely?
bool EngineState::FokCanFill(const Order& o) const {
  const SymbolState& s = symbols[o.symbol];
  const BookSide& opp = o.side == Side::kBuy ? s.asks : s.bids;
  const int64_t need = o.Remaining().v;
  const bool own_matter = o.stp != StpMode::kNone &&
                          acct_syms[o.acct_sym].book_orders[static_cast<int>(Opposite(o.side))] > 0;
  int64_t avail = 0;
  for (size_t i = opp.levels.size(); i > 0; --i) {
    const Level& l = levels[opp.levels[i - 1]];
    if (o.side == Side::kBuy ? l.price > o.price : l.price < o.price) {
      break;
    }
    if (!own_matter) {
      avail += l.total.v;
    } else {
      int64_t hidden = 0;
      for (uint32_t m = l.head; m != kNil; m = orders[m].next) {
        const Order& mk = orders[m];
        if (mk.account == o.account) {
          if (o.stp == StpMode::kExpireMaker) {
            continue;  // would be expired; matching goes on behind it
          }
          return avail >= need;  // the taker would expire here
        }
        avail += mk.display.v;
        hidden += mk.Remaining().v - mk.display.v;
        if (avail >= need) {
          return true;
        }
      }
      avail += hidden;  // refreshed iceberg slices come back behind the queue
    }
    if (avail >= need) {
      return true;
    }
  }
  return avail >= need;
}

void EngineState::Fill(uint32_t ts, uint32_t ms, uint32_t li, Qty q) {
  Order& t = orders[ts];
  Order& m = orders[ms];
  Level& l = levels[li];
  SymbolState& s = symbols[t.symbol];
  const Price px = l.price;
  const int64_t notional = static_cast<int64_t>(static_cast<__int128>(px.v) * q.v / s.base_unit);
  const bool buyer_is_maker = m.side == Side::kBuy;
  Order& buyer = buyer_is_maker ? m : t;
  Order& seller = buyer_is_maker ? t : m;
  const Account& ba = accounts[buyer.account];
  const Account& sa = accounts[seller.account];
  const int64_t fee_b = core::FeeCeil(q.v, buyer_is_maker ? MakerRate(ba) : TakerRate(ba));
  const int64_t fee_s = core::FeeCeil(notional, buyer_is_maker ? TakerRate(sa) : MakerRate(sa));

  // Settlement. Buyer: quote out of its reserve (a priced order releases its own limit price
  // and gets the price improvement back), base in. Seller: base out, quote in.
  {
    Balance& bq = (TouchBalance(buyer.quote_bal), balances[buyer.quote_bal]);
    if (buyer.IsPriced()) {
      const auto release =
          static_cast<int64_t>(static_cast<__int128>(buyer.price.v) * q.v / s.base_unit);
      buyer.reserved.v -= release;
      bq.locked.v -= release;
      bq.free.v += release - notional;
    } else {
      buyer.reserved.v -= notional;
      bq.locked.v -= notional;
    }
    TouchBalance(buyer.base_bal);
    balances[buyer.base_bal].free.v += q.v - fee_b;
    TouchBalance(seller.base_bal);
    balances[seller.base_bal].locked.v -= q.v;
    seller.reserved.v -= q.v;
    TouchBalance(seller.quote_bal);
    balances[seller.quote_bal].free.v += notional - fee_s;
    if (fee_b > 0) {
      const uint32_t fb = fee_balance[s.cfg.base_asset];
      TouchBalance(fb);
      balances[fb].free.v += fee_b;
    }
    if (fee_s > 0) {
      const uint32_t fq = fee_balance[s.cfg.quote_asset];
      TouchBalance(fq);
      balances[fq].free.v += fee_s;
    }
  }
  const TradeId trade_id = next_trade_id++;
  TouchLevel(li);
  m.executed += q;
  s.open_qty[static_cast<int>(m.side)] -= q.v;
  s.open_qty[static_cast<int>(t.side)] -= q.v;
  m.cum_quote.v += notional;
  m.display -= q;
  m.status = m.Remaining().v == 0 ? OrderStatus::kFilled : OrderStatus::kPartiallyFilled;
  m.update_ms = now_ms;
  l.visible -= q;
  l.total -= q;
  t.executed += q;
  t.cum_quote.v += notional;
  t.update_ms = now_ms;
  const bool by_quote = t.type == OrderType::kMarket && t.quote_qty.v > 0;
  bool taker_done;
  if (!by_quote) {
    taker_done = t.Remaining().v == 0;
  } else if (t.side == Side::kBuy) {
    taker_done = FloorStep(static_cast<__int128>(t.reserved.v) * s.base_unit / px.v,
                           s.cfg.filters.step_size.v) == 0;
  } else {
    const int64_t quote_left = t.quote_qty.v - t.cum_quote.v;
    taker_done = FloorStep(static_cast<__int128>(quote_left) * s.base_unit / px.v,
                           s.cfg.filters.step_size.v) == 0;
  }
  t.status = taker_done ? OrderStatus::kFilled : OrderStatus::kPartiallyFilled;
  RecordTrade(s, px, q, Amount(notional));

  auto& tr = events.Append<Trade>(cur_seq);
  tr.trade_id = trade_id;
  tr.symbol = t.symbol;
  tr.buyer_is_maker = buyer_is_maker;
  tr.price = px;
  tr.qty = q;
  tr.quote_qty = Amount(notional);
  tr.buyer_order_id = buyer.id;
  tr.seller_order_id = seller.id;
  tr.buyer = ba.id;
  tr.seller = sa.id;
  tr.buyer_commission = Qty(fee_b);
  tr.seller_commission = Amount(fee_s);
  tr.time_ms = now_ms;
  for (const Order* o : {&m, &t}) {
    auto& e = events.Append<OrderUpdate>(cur_seq);
    const bool is_buyer = o->side == Side::kBuy;
    e.order_id = o->id;
    e.account = accounts[o->account].id;
    e.symbol = o->symbol;
    e.exec = ExecType::kTrade;
    e.status = o->status;
    e.is_maker = o == &m;
    e.executed_qty = o->executed;
    e.cum_quote_qty = o->cum_quote;
    e.last_qty = q;
    e.last_price = px;
    e.trade_id = trade_id;
    e.commission = Amount(is_buyer ? fee_b : fee_s);
    e.commission_asset = is_buyer ? s.cfg.base_asset : s.cfg.quote_asset;
  }
  // A resting OCO leg that trades ends its list.
  if (m.list != kNil) {
    OnListLegEvent(ms, /*triggered=*/false);
  }
  if (m.Remaining().v == 0) {
    FinishOrder(ms);
  } else if (m.display.v == 0) {
    // Iceberg: the next slice goes to the back of the level.
    Level& lv = levels[li];
    if (lv.tail != ms) {
      if (m.prev != kNil) {
        orders[m.prev].next = m.next;
      } else {
        lv.head = m.next;
      }
      orders[m.next].prev = m.prev;
      m.prev = lv.tail;
      m.next = kNil;
      orders[lv.tail].next = ms;
      lv.tail = ms;
    }
    m.display = std::min(m.iceberg_qty, m.Remaining());
    lv.visible += m.display;
  }
}

MatchStop EngineState::Match(uint32_t ts) {
  Order& t = orders[ts];
  SymbolState& s = symbols[t.symbol];
  BookSide& opp = s.SideOf(Opposite(t.side));
  const bool market = IsMarketLike(t.type);
  const bool by_quote = t.type == OrderType::kMarket && t.quote_qty.v > 0;
  const int64_t step = s.cfg.filters.step_size.v;  // fills are multiples of the LOT_SIZE step
  while (true) {
    if (t.status == OrderStatus::kFilled) {
      return MatchStop::kFilled;
    }
    if (opp.levels.empty()) {
      return MatchStop::kBookEmpty;
    }
    const uint32_t li = opp.levels.back();
    const Level& l = levels[li];
    if (!market && (t.side == Side::kBuy ? l.price > t.price : l.price < t.price)) {
      return MatchStop::kNoCross;
    }
    const uint32_t ms = l.head;
    const Order& m = orders[ms];
    const int64_t left = by_quote ? INT64_MAX : t.Remaining().v;
    if (m.account == t.account && t.stp != StpMode::kNone) {
      const int64_t pm_id = next_prevented_id++;
      auto& e = events.Append<PreventedMatch>(cur_seq);
      e.prevented_match_id = pm_id;
      e.symbol = t.symbol;
      e.mode = t.stp;
      e.taker_order_id = t.id;
      e.maker_order_id = m.id;
      e.account = accounts[t.account].id;
      e.price = l.price;
      e.qty = Qty(std::min(left, m.display.v));
      e.time_ms = now_ms;
      if (t.stp == StpMode::kExpireMaker) {
        ExpireStp(ms, pm_id);
        continue;
      }
      if (t.stp == StpMode::kExpireBoth) {
        ExpireStp(ms, pm_id);
      }
      ExpireStp(ts, pm_id);
      return MatchStop::kStp;
    }
    int64_t q = std::min(left, m.display.v);
    if (market) {
      if (t.side == Side::kBuy) {
        q = std::min(
            q, FloorStep(static_cast<__int128>(t.reserved.v) * s.base_unit / l.price.v, step));
      } else if (by_quote) {
        const int64_t quote_left = t.quote_qty.v - t.cum_quote.v;
        q = std::min(
            {q, t.reserved.v,
             FloorStep(static_cast<__int128>(quote_left) * s.base_unit / l.price.v, step)});
      }
      if (q <= 0) {
        return MatchStop::kCapped;
      }
    }
    Fill(ts, ms, li, Qty(q));
  }
}

void EngineState::RunTaker(uint32_t slot) {
  Order& o = orders[slot];
  if (o.tif == TimeInForce::kFok && !FokCanFill(o)) {
    EndOrder(slot, ExecType::kExpired, OrderStatus::kExpired, ExpiryReason::kUnfilledFok);
    return;
  }
  const MatchStop stop = Match(slot);
  if (stop == MatchStop::kStp) {
    return;
  }
  if (stop == MatchStop::kFilled) {
    FinishOrder(slot);
    return;
  }
  const bool rests =
      o.type == OrderType::kLimitMaker || (o.IsPriced() && o.tif == TimeInForce::kGtc);
  if (rests) {
    Rest(slot);
    return;
  }
  ExpiryReason reason;
  if (o.tif == TimeInForce::kFok) {
    reason = ExpiryReason::kUnfilledFok;
  } else if (o.IsPriced()) {
    reason = ExpiryReason::kUnfilledIoc;
  } else if (stop == MatchStop::kCapped) {
    reason = ExpiryReason::kInsufficientFunds;
  } else {
    reason = ExpiryReason::kInsufficientLiquidity;
  }
  EndOrder(slot, ExecType::kExpired, OrderStatus::kExpired, reason);
}

void EngineState::StartOrder(uint32_t slot) {
  if (!orders[slot].working) {
    AddStop(slot);
    return;
  }
  RunTaker(slot);
}

// ---------------------------------------------------------------------------------------------
// Stops

// BUY STOP_LOSS* and SELL TAKE_PROFIT* trigger when the last price rises to the stop price;
// SELL STOP_LOSS* and BUY TAKE_PROFIT* when it falls to it.
static bool TriggersUp(Side side, OrderType type) {
  const bool stop_loss = type == OrderType::kStopLoss || type == OrderType::kStopLossLimit;
  return (side == Side::kBuy) == stop_loss;
}

bool EngineState::StopTriggered(Side side, OrderType type, Price stop, Price last) const {
  return TriggersUp(side, type) ? last >= stop : last <= stop;
}

void EngineState::AddStop(uint32_t slot) {
  const Order& o = orders[slot];
  SymbolState& s = symbols[o.symbol];
  const StopEntry e{cold[slot].stop_price, o.id, slot};
  if (TriggersUp(o.side, o.type)) {
    auto it = std::upper_bound(s.stops_up.begin(), s.stops_up.end(), e,
                               [](const StopEntry& a, const StopEntry& b) {
                                 return a.stop != b.stop ? a.stop < b.stop : a.id < b.id;
                               });
    s.stops_up.insert(it, e);
  } else {
    auto it = std::upper_bound(s.stops_down.begin(), s.stops_down.end(), e,
                               [](const StopEntry& a, const StopEntry& b) {
                                 return a.stop != b.stop ? a.stop > b.stop : a.id < b.id;
                               });
    s.stops_down.insert(it, e);
  }
}

void EngineState::RemoveStop(const Order& o) {
  SymbolState& s = symbols[o.symbol];
  for (auto* v : {&s.stops_up, &s.stops_down}) {
    for (auto it = v->begin(); it != v->end(); ++it) {
      if (it->id == o.id) {
        v->erase(it);
        return;
      }
    }
  }
  SPOTEX_ASSERT(false && "stop order not in its trigger list");
}

void EngineState::ProcessTriggers(SymbolId symbol) {
  if (!price_moved) {
    return;
  }
  SymbolState& s = symbols[symbol];
  while (true) {
    const Price last = s.last_price;
    uint32_t best = kNil;
    OrderId best_id = INT64_MAX;
    for (const StopEntry& e : s.stops_up) {
      if (e.stop > last) break;
      if (e.id < best_id) {
        best_id = e.id;
        best = e.slot;
      }
    }
    for (const StopEntry& e : s.stops_down) {
      if (e.stop < last) break;
      if (e.id < best_id) {
        best_id = e.id;
        best = e.slot;
      }
    }
    if (best == kNil) {
      return;
    }
    Activate(best);
  }
}

void EngineState::Activate(uint32_t slot) {
  Order& o = orders[slot];
  RemoveStop(o);
  o.working = true;
  --acct_syms[o.acct_sym].algo_orders;
  o.update_ms = now_ms;
  EmitUpdate(o, ExecType::kTriggered, ExpiryReason::kNone);
  OnListLegEvent(slot, /*triggered=*/true);
  if (IsMarketLike(o.type) && o.side == Side::kBuy) {
    // A stop-market BUY locks its funds only now, by walking the book like a MARKET order.
    Unlock(o, o.reserved);
    const SymbolState& s = symbols[o.symbol];
    if (s.asks.levels.empty()) {
      EndOrder(slot, ExecType::kExpired, OrderStatus::kExpired,
               ExpiryReason::kInsufficientLiquidity);
      return;
    }
    const Amount cost = WalkBuyCost(s, o.Remaining());
    Balance& b = balances[o.quote_bal];
    if (cost > b.free) {
      EndOrder(slot, ExecType::kExpired, OrderStatus::kExpired, ExpiryReason::kInsufficientFunds);
      return;
    }
    TouchBalance(o.quote_bal);
    b.free -= cost;
    b.locked += cost;
    o.reserved = cost;
  } else if (o.IsPriced() && o.side == Side::kBuy) {
    // An OCO stop leg may hold more than its own limit price needs (the list reserved the
    // larger of the two legs' needs): the excess goes back to free.
    const Amount need(static_cast<int64_t>(static_cast<__int128>(o.price.v) * o.Remaining().v /
                                           symbols[o.symbol].base_unit));
    if (o.reserved > need) {
      Unlock(o, o.reserved - need);
    }
  }
  RunTaker(slot);
}

// ---------------------------------------------------------------------------------------------
// Order lists (OCO)

void EngineState::EmitListStatus(const ListState& l, ListStatus status) {
  auto& e = events.Append<OrderList>(cur_seq);
  e.order_list_id = l.id;
  e.account = accounts[l.account].id;
  e.symbol = l.symbol;
  e.status = status;
  e.order_ids[0] = l.leg_ids[0];
  e.order_ids[1] = l.leg_ids[1];
  e.time_ms = now_ms;
  e.list_client_order_id = l.client_id;
}

// A leg traded, triggered or expired: the other leg ends and the list is done. When the stop
// leg triggers, the limit leg's reserve moves to it.
void EngineState::OnListLegEvent(uint32_t slot, bool triggered) {
  Order& o = orders[slot];
  const uint32_t li = o.list;
  if (li == kNil) {
    return;
  }
  ListState& l = lists[li];
  const uint32_t other = l.legs[0] == slot ? l.legs[1] : l.legs[0];
  o.list = kNil;
  if (other != kNil && orders[other].list == li) {
    Order& x = orders[other];
    x.list = kNil;
    if (triggered && x.reserved.v > 0) {
      // Same account, side and asset: the lock stays, only its owner changes.
      o.reserved += x.reserved;
      x.reserved = Amount(0);
    }
    EndOrder(other, ExecType::kExpired, OrderStatus::kExpired, ExpiryReason::kOcoTrigger);
  }
  EmitListStatus(l, ListStatus::kAllDone);
  ForgetList(li);
}

}  // namespace spotex::engine
