#include "store/projection.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>

namespace spotex::store {
namespace {

using engine::EventType;

// The ledger's name for an engine account: the engine's fee account 0 is the ledger's -1.
int64_t LedgerAccount(engine::AccountId a) {
  return a == engine::kFeeAccount ? kLedgerFeeAccount : static_cast<int64_t>(a);
}

uint64_t BalanceKey(uint64_t account, uint32_t asset) {
  // Account ids are far below 2^44 (OrderId-like ids stay below 2^53; accounts are user ids).
  return (account << 20) ^ asset;
}

// Reads one record's payload by value (the envelope's storage is aligned, but a copy keeps
// the projection independent of that).
template <class E>
E Read(const engine::EventReader& r) {
  E e;
  std::memcpy(&e, &r.As<E>(), sizeof(E));
  return e;
}

class Projector {
 public:
  Projector(const ProjectionState& state, ProjectedBatch& out) : state_(state), out_(out) {}

  std::expected<void, std::string> Envelope(const proto::Envelope& env) {
    seq_ = env.header().seq;
    time_ms_ = env.header().time_ms;
    sums_.clear();
    for (engine::EventReader r = env.reader(); !r.Done(); r.Next()) {
      ++out_.events;
      idx_ = r.header().index;
      auto ok = Event(r);
      if (!ok) return ok;
    }
    // Every balance a command moved without a BalanceChanged must have moved by zero.
    for (const auto& [key, sum] : sums_) {
      if (sum != 0) {
        return Fail("entries of account " + std::to_string(key >> 20) + " asset " +
                    std::to_string(key & 0xFFFFF) + " sum to " + std::to_string(sum) +
                    " but its balance did not change");
      }
    }
    return {};
  }

 private:
  std::unexpected<std::string> Fail(const std::string& what) const {
    return std::unexpected("seq " + std::to_string(seq_) + " event " + std::to_string(idx_) + ": " +
                           what);
  }

  std::expected<void, std::string> Event(const engine::EventReader& r) {
    switch (r.header().type) {
      case EventType::kOrderAccepted:
        return Accepted(Read<engine::OrderAccepted>(r));
      case EventType::kOrderUpdate:
        return Update(Read<engine::OrderUpdate>(r));
      case EventType::kOrderAmended:
        return Amended(Read<engine::OrderAmended>(r));
      case EventType::kTrade:
        return TradeEvent(Read<engine::Trade>(r));
      case EventType::kPreventedMatch: {
        const auto m = Read<engine::PreventedMatch>(r);
        out_.prevented_matches.push_back(PreventedMatchRow{m, seq_, idx_});
        out_.months.insert(MonthOf(m.time_ms));
        return {};
      }
      case EventType::kBalanceChanged:
        return Balance(Read<engine::BalanceChanged>(r));
      case EventType::kTransfer:
        return TransferEvent(Read<engine::Transfer>(r));
      case EventType::kOrderList:
        return List(Read<engine::OrderList>(r));
      case EventType::kAssetAdded: {
        const auto a = Read<engine::AssetAdded>(r);
        out_.assets.push_back(AssetRow{a.asset, a.name.Canonical(), a.scale});
        return {};
      }
      case EventType::kSymbolAdded: {
        const auto s = Read<engine::SymbolAdded>(r);
        out_.symbols.push_back(SymbolRow{s.symbol, s.config.name.Canonical(), s.config.base_asset,
                                         s.config.quote_asset,
                                         static_cast<uint8_t>(s.config.status)});
        return {};
      }
      case EventType::kSymbolStatusChanged: {
        const auto s = Read<engine::SymbolStatusChanged>(r);
        out_.symbol_statuses.push_back(SymbolStatusRow{s.symbol, static_cast<uint8_t>(s.status)});
        return {};
      }
      default:  // CommandRejected, OrderCanceledBy, BookLevel, AccountUpdated: no history row
        return {};
    }
  }

  // The order's row in this batch, created from the state for an order placed earlier; null
  // when the order is unknown.
  OrderRow* Order(int64_t order_id) {
    if (auto it = out_.order_index.find(order_id); it != out_.order_index.end()) {
      return &out_.orders[it->second];
    }
    auto st = state_.open_orders.find(order_id);
    if (st == state_.open_orders.end()) return nullptr;
    OrderRow row;
    row.order_id = order_id;
    row.time_ms = st->second.time_ms;
    row.order_list_id = st->second.order_list_id;
    row.cum_quote_qty = st->second.cum_quote_qty;
    row.working = st->second.working;
    out_.order_index.emplace(order_id, out_.orders.size());
    out_.orders.push_back(row);
    return &out_.orders.back();
  }

  // The order list of an order of this batch or of an open one (nullopt: unknown order).
  std::optional<int64_t> ListOf(int64_t order_id) const {
    if (auto it = out_.order_index.find(order_id); it != out_.order_index.end()) {
      return out_.orders[it->second].order_list_id;
    }
    if (auto st = state_.open_orders.find(order_id); st != state_.open_orders.end()) {
      return st->second.order_list_id;
    }
    return std::nullopt;
  }

  std::expected<void, std::string> Accepted(const engine::OrderAccepted& e) {
    if (out_.order_index.contains(e.order_id) || state_.open_orders.contains(e.order_id)) {
      return Fail("order " + std::to_string(e.order_id) + " accepted twice");
    }
    OrderRow row;
    row.placed = true;
    row.order_id = e.order_id;
    row.time_ms = e.time_ms;
    row.account_id = static_cast<int64_t>(e.account);
    row.symbol_id = e.symbol;
    row.order_list_id = e.order_list_id;
    row.client_order_id = e.client_order_id.Canonical();
    row.side = static_cast<uint8_t>(e.side);
    row.type = static_cast<uint8_t>(e.type);
    row.time_in_force = static_cast<uint8_t>(e.tif);
    row.stp_mode = static_cast<uint8_t>(e.stp);
    row.price = e.price.v;
    row.qty = e.qty.v;
    row.quote_qty = e.quote_qty.v;
    row.stop_price = e.stop_price.v;
    row.iceberg_qty = e.iceberg_qty.v;
    row.status = static_cast<uint8_t>(e.status);
    row.working = e.working;
    row.working_time_set = e.working;
    row.working_time_ms = e.working ? e.time_ms : 0;
    row.update_time_ms = time_ms_;
    row.seq = row.last_seq = seq_;
    out_.order_index.emplace(e.order_id, out_.orders.size());
    out_.orders.push_back(row);
    out_.months.insert(MonthOf(e.time_ms));
    OrderEventRow ev;
    ev.seq = seq_;
    ev.idx = idx_;
    ev.time_ms = time_ms_;
    ev.order_id = e.order_id;
    ev.account_id = row.account_id;
    ev.symbol_id = e.symbol;
    ev.exec_type = static_cast<uint8_t>(engine::ExecType::kNew);
    ev.status = row.status;
    out_.order_events.push_back(ev);
    out_.months.insert(MonthOf(time_ms_));
    return {};
  }

  std::expected<void, std::string> Update(const engine::OrderUpdate& e) {
    OrderRow* row = Order(e.order_id);
    if (row == nullptr) return Fail("update of unknown order " + std::to_string(e.order_id));
    row->status = static_cast<uint8_t>(e.status);
    row->expiry_reason = static_cast<uint8_t>(e.reason);
    row->executed_qty = e.executed_qty.v;
    row->cum_quote_qty = e.cum_quote_qty.v;
    if (e.exec == engine::ExecType::kTriggered) {
      row->working = true;
      row->working_time_set = true;
      row->working_time_ms = time_ms_;
    }
    row->update_time_ms = time_ms_;
    row->last_seq = seq_;
    OrderEventRow ev;
    ev.seq = seq_;
    ev.idx = idx_;
    ev.time_ms = time_ms_;
    ev.order_id = e.order_id;
    ev.account_id = static_cast<int64_t>(e.account);
    ev.symbol_id = e.symbol;
    ev.exec_type = static_cast<uint8_t>(e.exec);
    ev.status = row->status;
    ev.expiry_reason = row->expiry_reason;
    ev.executed_qty = e.executed_qty.v;
    ev.cum_quote_qty = e.cum_quote_qty.v;
    ev.last_qty = e.last_qty.v;
    ev.last_price = e.last_price.v;
    ev.trade_id = e.trade_id;
    ev.commission = e.commission.v;
    if (e.trade_id != 0) ev.commission_asset = e.commission_asset;
    out_.order_events.push_back(ev);
    out_.months.insert(MonthOf(time_ms_));
    return {};
  }

  std::expected<void, std::string> Amended(const engine::OrderAmended& e) {
    OrderRow* row = Order(e.order_id);
    if (row == nullptr) return Fail("amendment of unknown order " + std::to_string(e.order_id));
    row->status = static_cast<uint8_t>(e.status);
    row->qty = e.new_qty.v;
    row->qty_changed = true;
    row->executed_qty = e.executed_qty.v;
    if (!e.new_client_order_id.empty()) {
      row->client_order_id = e.new_client_order_id.Canonical();
      row->client_order_id_changed = true;
    }
    row->update_time_ms = time_ms_;
    row->last_seq = seq_;
    OrderEventRow ev;
    ev.seq = seq_;
    ev.idx = idx_;
    ev.time_ms = time_ms_;
    ev.order_id = e.order_id;
    ev.account_id = static_cast<int64_t>(e.account);
    ev.symbol_id = e.symbol;
    ev.exec_type = static_cast<uint8_t>(engine::ExecType::kReplaced);
    ev.status = row->status;
    ev.expiry_reason = row->expiry_reason;
    ev.executed_qty = e.executed_qty.v;
    ev.cum_quote_qty = row->cum_quote_qty;
    out_.order_events.push_back(ev);
    out_.months.insert(MonthOf(time_ms_));
    return {};
  }

  const SymbolAssets* Symbol(uint32_t symbol) const {
    if (auto it = state_.symbols.find(symbol); it != state_.symbols.end()) return &it->second;
    for (const SymbolRow& s : out_.symbols) {
      if (s.symbol_id == symbol) {
        pending_symbol_ = SymbolAssets{s.base_asset, s.quote_asset};
        return &pending_symbol_;
      }
    }
    return nullptr;
  }

  void Entry(uint16_t leg, engine::AccountId account, uint32_t asset, uint8_t bucket,
             LedgerKind kind, int64_t amount) {
    out_.ledger.push_back(
        LedgerRow{seq_, idx_, leg, time_ms_, LedgerAccount(account), asset, bucket, kind, amount});
    if (kind != LedgerKind::kLock) sums_[BalanceKey(account, asset)] += amount;
  }

  std::expected<void, std::string> TradeEvent(const engine::Trade& t) {
    const SymbolAssets* sym = Symbol(t.symbol);
    if (sym == nullptr) return Fail("trade on unknown symbol " + std::to_string(t.symbol));
    const auto buy_list = ListOf(t.buyer_order_id);
    const auto sell_list = ListOf(t.seller_order_id);
    if (!buy_list || !sell_list) {
      return Fail("trade " + std::to_string(t.trade_id) + " of an unknown order");
    }
    if (t.qty.v <= 0 || t.price.v <= 0 || t.quote_qty.v < 0 || t.buyer_commission.v < 0 ||
        t.seller_commission.v < 0) {
      return Fail("trade " + std::to_string(t.trade_id) + " with a non-positive amount");
    }
    out_.trades.push_back(TradeRow{t, seq_, idx_});
    out_.months.insert(MonthOf(t.time_ms));
    FillRow f;
    f.symbol_id = t.symbol;
    f.trade_id = t.trade_id;
    f.time_ms = t.time_ms;
    f.price = t.price.v;
    f.qty = t.qty.v;
    f.quote_qty = t.quote_qty.v;
    f.account_id = static_cast<int64_t>(t.buyer);
    f.order_id = t.buyer_order_id;
    f.order_list_id = *buy_list;
    f.is_buyer = true;
    f.is_maker = t.buyer_is_maker;
    f.commission = t.buyer_commission.v;
    f.commission_asset = sym->base_asset;
    out_.fills.push_back(f);
    f.account_id = static_cast<int64_t>(t.seller);
    f.order_id = t.seller_order_id;
    f.order_list_id = *sell_list;
    f.is_buyer = false;
    f.is_maker = !t.buyer_is_maker;
    f.commission = t.seller_commission.v;
    f.commission_asset = sym->quote_asset;
    out_.fills.push_back(f);

    uint16_t leg = 0;
    const auto kTrade = LedgerKind::kTrade;
    Entry(leg++, t.buyer, sym->base_asset, 0, kTrade, t.qty.v);
    Entry(leg++, t.seller, sym->base_asset, 0, kTrade, -t.qty.v);
    if (t.quote_qty.v != 0) {
      Entry(leg++, t.seller, sym->quote_asset, 0, kTrade, t.quote_qty.v);
      Entry(leg++, t.buyer, sym->quote_asset, 0, kTrade, -t.quote_qty.v);
    }
    const auto kFee = LedgerKind::kCommission;
    if (t.buyer_commission.v != 0) {
      Entry(leg++, t.buyer, sym->base_asset, 0, kFee, -t.buyer_commission.v);
      Entry(leg++, engine::kFeeAccount, sym->base_asset, 0, kFee, t.buyer_commission.v);
    }
    if (t.seller_commission.v != 0) {
      Entry(leg++, t.seller, sym->quote_asset, 0, kFee, -t.seller_commission.v);
      Entry(leg++, engine::kFeeAccount, sym->quote_asset, 0, kFee, t.seller_commission.v);
    }
    out_.months.insert(MonthOf(time_ms_));
    Kline(t);
    return {};
  }

  void Kline(const engine::Trade& t) {
    const int64_t minute = t.time_ms - (t.time_ms % 60'000 + 60'000) % 60'000;
    auto [it, fresh] = out_.kline_index.try_emplace({t.symbol, minute}, out_.klines.size());
    if (fresh) {
      KlineRow k;
      k.symbol_id = t.symbol;
      k.open_time_ms = minute;
      k.open = k.high = k.low = t.price.v;
      k.first_trade_id = t.trade_id;
      out_.klines.push_back(k);
    }
    KlineRow& k = out_.klines[it->second];
    k.high = std::max(k.high, t.price.v);
    k.low = std::min(k.low, t.price.v);
    k.close = t.price.v;
    k.volume += t.qty.v;
    k.quote_volume += t.quote_qty.v;
    k.trades += 1;
    if (!t.buyer_is_maker) {  // the taker bought
      k.taker_buy_volume += t.qty.v;
      k.taker_buy_quote += t.quote_qty.v;
    }
    k.first_trade_id = std::min(k.first_trade_id, t.trade_id);
    k.last_trade_id = std::max(k.last_trade_id, t.trade_id);
  }

  std::expected<void, std::string> TransferEvent(const engine::Transfer& t) {
    if (t.amount.v == 0) return Fail("transfer of zero");
    const auto kind = t.amount.v > 0 ? LedgerKind::kDeposit : LedgerKind::kWithdrawal;
    Entry(0, t.account, t.asset, 0, kind, t.amount.v);
    out_.ledger.push_back(
        LedgerRow{seq_, idx_, 1, time_ms_, kLedgerOutsideAccount, t.asset, 0, kind, -t.amount.v});
    out_.months.insert(MonthOf(time_ms_));
    return {};
  }

  std::expected<void, std::string> Balance(const engine::BalanceChanged& b) {
    const uint64_t key = BalanceKey(b.account, b.asset);
    int64_t explained = 0;
    if (auto it = sums_.find(key); it != sums_.end()) {
      explained = it->second;
      sums_.erase(it);
    }
    if (b.delta_free.v + b.delta_locked.v != explained) {
      return Fail("balance of account " + std::to_string(b.account) + " asset " +
                  std::to_string(b.asset) + " changed by " +
                  std::to_string(b.delta_free.v + b.delta_locked.v) + " but its entries sum to " +
                  std::to_string(explained));
    }
    if (b.delta_locked.v != 0) {
      if (b.account == engine::kFeeAccount) return Fail("the fee account's locked balance moved");
      out_.ledger.push_back(LedgerRow{seq_, idx_, 0, time_ms_, LedgerAccount(b.account), b.asset, 1,
                                      LedgerKind::kLock, b.delta_locked.v});
      out_.ledger.push_back(LedgerRow{seq_, idx_, 1, time_ms_, LedgerAccount(b.account), b.asset, 0,
                                      LedgerKind::kLock, -b.delta_locked.v});
      out_.months.insert(MonthOf(time_ms_));
    }
    if (b.account == engine::kFeeAccount) return {};  // `balances` holds users only
    auto [it, fresh] = out_.balance_index.try_emplace(key, out_.balances.size());
    if (fresh) out_.balances.emplace_back();
    out_.balances[it->second] =
        BalanceRow{static_cast<int64_t>(b.account), b.asset, b.free.v, b.locked.v, seq_, time_ms_};
    return {};
  }

  std::expected<void, std::string> List(const engine::OrderList& l) {
    auto [it, fresh] = out_.order_list_index.try_emplace(l.order_list_id, out_.order_lists.size());
    if (fresh) {
      OrderListRow row;
      row.order_list_id = l.order_list_id;
      row.account_id = static_cast<int64_t>(l.account);
      row.symbol_id = l.symbol;
      row.list_client_order_id = l.list_client_order_id.Canonical();
      row.order_id_1 = l.order_ids[0];
      row.order_id_2 = l.order_ids[1];
      row.time_ms = l.time_ms;
      out_.order_lists.push_back(row);
    }
    OrderListRow& row = out_.order_lists[it->second];
    row.status = static_cast<uint8_t>(l.status);
    row.update_time_ms = time_ms_;
    return {};
  }

  const ProjectionState& state_;
  ProjectedBatch& out_;
  uint64_t seq_ = 0;
  uint32_t idx_ = 0;
  int64_t time_ms_ = 0;
  // Per (engine account, asset) of the current command: the sum of its non-lock entries not
  // yet matched by a BalanceChanged.
  std::unordered_map<uint64_t, int64_t> sums_;
  mutable SymbolAssets pending_symbol_;
};

}  // namespace

void ProjectedBatch::Clear() {
  orders.clear();
  order_index.clear();
  order_events.clear();
  trades.clear();
  fills.clear();
  ledger.clear();
  prevented_matches.clear();
  balances.clear();
  klines.clear();
  order_lists.clear();
  assets.clear();
  symbols.clear();
  symbol_statuses.clear();
  months.clear();
  events = 0;
  balance_index.clear();
  kline_index.clear();
  order_list_index.clear();
}

size_t ProjectedBatch::Rows() const {
  return orders.size() + order_events.size() + trades.size() + fills.size() + ledger.size() +
         prevented_matches.size() + balances.size() + klines.size() + order_lists.size() +
         assets.size() + symbols.size() + symbol_statuses.size();
}

std::string PlaceholderClientId(std::string_view prefix, int64_t id) {
  return std::string(prefix) + std::to_string(id);
}

int32_t MonthOf(int64_t time_ms) {
  using namespace std::chrono;
  const sys_days day = floor<days>(sys_time<milliseconds>(milliseconds(time_ms)));
  const year_month_day ymd(day);
  return static_cast<int32_t>(ymd.year()) * 12 + static_cast<int32_t>(unsigned(ymd.month())) - 1;
}

std::string MonthStartDate(int32_t month) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-01", month / 12, month % 12 + 1);
  return buf;
}

std::expected<void, std::string> Project(const ProjectionState& state,
                                         std::span<const proto::Envelope* const> envelopes,
                                         ProjectedBatch& out) {
  out.Clear();
  Projector p(state, out);
  for (const proto::Envelope* env : envelopes) {
    auto ok = p.Envelope(*env);
    if (!ok) return ok;
  }
  return {};
}

void Commit(const ProjectedBatch& batch, ProjectionState& state) {
  for (const OrderRow& o : batch.orders) {
    if (IsOpenStatus(static_cast<engine::OrderStatus>(o.status))) {
      state.open_orders[o.order_id] =
          OpenOrderState{o.time_ms, o.order_list_id, o.cum_quote_qty, o.working};
    } else {
      state.open_orders.erase(o.order_id);
    }
  }
  for (const SymbolRow& s : batch.symbols) {
    state.symbols[s.symbol_id] = SymbolAssets{s.base_asset, s.quote_asset};
  }
}

}  // namespace spotex::store
