#include "gateway/trading/account_history.h"

#include <algorithm>

#include "engine/event.h"

namespace spotex::gateway {

OrderRecord OrderRecord::FromAccepted(const engine::OrderAccepted& e) {
  OrderRecord o;
  o.order_id = e.order_id;
  o.order_list_id = e.order_list_id;
  o.account = e.account;
  o.symbol = e.symbol;
  o.client_order_id = std::string(e.client_order_id.view());
  o.side = e.side;
  o.type = e.type;
  o.tif = e.tif;
  o.stp = e.stp;
  o.status = e.status;
  o.working = e.working;
  o.price = e.price.v;
  o.qty = e.qty.v;
  o.quote_qty = e.quote_qty.v;
  o.stop_price = e.stop_price.v;
  o.iceberg_qty = e.iceberg_qty.v;
  o.time_ms = e.time_ms;
  o.update_ms = e.time_ms;
  o.working_ms = e.working ? e.time_ms : -1;
  return o;
}

AccountHistory::Account* AccountHistory::AccountFor(uint64_t account) {
  auto it = accounts_.find(account);
  if (it != accounts_.end()) {
    return &it->second;
  }
  if (accounts_.size() >= limits_.accounts_max) {
    return nullptr;
  }
  return &accounts_[account];
}

bool AccountHistory::MarkApplied(uint64_t seq) {
  if (seq <= applied_floor_ || !applied_.insert(seq).second) {
    return false;
  }
  // Forget the oldest seqs; anything at or below the floor counts as applied, which is right
  // for the in-order event stream and for replies (each arrives once, near the stream's head).
  while (applied_.size() > limits_.seqs_remembered) {
    applied_floor_ = *applied_.begin();
    applied_.erase(applied_.begin());
  }
  return true;
}

void AccountHistory::Finish(Account& a, const OrderRecord& order) {
  a.finished.push_back(order.order_id);
  while (a.finished.size() > limits_.orders_max) {
    a.orders.erase(a.finished.front());
    a.finished.pop_front();
  }
}

void AccountHistory::AddTrade(Account& a, TradeRecord trade) {
  a.trades.push_back(trade);
  while (a.trades.size() > limits_.trades_max) {
    a.trades.pop_front();
  }
}

void AccountHistory::Apply(const proto::Envelope& envelope) {
  const auto& h = envelope.header();
  if (h.malformed) {
    return;
  }
  std::lock_guard lock(mu_);
  if (!MarkApplied(h.seq)) {
    return;
  }
  for (auto r = envelope.reader(); !r.Done(); r.Next()) {
    if (const auto* e = r.If<engine::OrderAccepted>()) {
      Account* a = AccountFor(e->account);
      if (a == nullptr || a->orders.contains(e->order_id)) {
        continue;
      }
      OrderRecord o = OrderRecord::FromAccepted(*e);
      a->orders.emplace(o.order_id, o);
    } else if (const auto* u = r.If<engine::OrderUpdate>()) {
      auto it = accounts_.find(u->account);
      if (it == accounts_.end()) {
        continue;
      }
      auto o = it->second.orders.find(u->order_id);
      if (o == it->second.orders.end() || o->second.final()) {
        continue;
      }
      OrderRecord& rec = o->second;
      rec.status = u->status;
      rec.reason = u->reason;
      rec.executed_qty = u->executed_qty.v;
      rec.cum_quote_qty = u->cum_quote_qty.v;
      rec.update_ms = h.time_ms;
      if (u->exec == engine::ExecType::kTriggered) {
        rec.working = true;
        rec.working_ms = h.time_ms;
      }
      if (rec.final()) {
        Finish(it->second, rec);
      }
    } else if (const auto* t = r.If<engine::Trade>()) {
      auto side = [&](uint64_t account, int64_t order_id, bool buyer) {
        Account* a = AccountFor(account);
        if (a == nullptr) {
          return;
        }
        TradeRecord tr;
        tr.id = t->trade_id;
        tr.symbol = t->symbol;
        tr.order_id = order_id;
        if (auto o = a->orders.find(order_id); o != a->orders.end()) {
          tr.order_list_id = o->second.order_list_id;
        }
        tr.price = t->price.v;
        tr.qty = t->qty.v;
        tr.quote_qty = t->quote_qty.v;
        tr.commission = buyer ? t->buyer_commission.v : t->seller_commission.v;
        tr.commission_in_base = buyer;
        tr.time_ms = t->time_ms;
        tr.is_buyer = buyer;
        tr.is_maker = buyer == t->buyer_is_maker;
        AddTrade(*a, tr);
      };
      side(t->buyer, t->buyer_order_id, true);
      side(t->seller, t->seller_order_id, false);
    } else if (const auto* l = r.If<engine::OrderList>()) {
      Account* a = AccountFor(l->account);
      if (a == nullptr) {
        continue;
      }
      auto [it, created] = a->lists.try_emplace(l->order_list_id);
      OrderListRecord& rec = it->second;
      if (created) {
        rec.order_list_id = l->order_list_id;
        rec.account = l->account;
        rec.symbol = l->symbol;
        rec.list_client_order_id = std::string(l->list_client_order_id.view());
        rec.order_ids[0] = l->order_ids[0];
        rec.order_ids[1] = l->order_ids[1];
        rec.time_ms = l->time_ms;
      } else if (rec.status != engine::ListStatus::kExecuting) {
        continue;
      }
      rec.status = l->status;
      rec.update_ms = l->time_ms;
      if (rec.status != engine::ListStatus::kExecuting) {
        a->finished_lists.push_back(rec.order_list_id);
        while (a->finished_lists.size() > limits_.lists_max) {
          a->lists.erase(a->finished_lists.front());
          a->finished_lists.pop_front();
        }
      }
    } else if (const auto* f = r.If<engine::AccountUpdated>()) {
      FeeRates rates{f->maker_rate_e8, f->taker_rate_e8};
      if (f->account == engine::kDefaultsAccount) {
        default_fees_ = rates;
      } else if (Account* a = AccountFor(f->account)) {
        a->fees = rates;
      }
    }
  }
}

void AccountHistory::Seed(const OrderRecord& order) {
  std::lock_guard lock(mu_);
  Account* a = AccountFor(order.account);
  if (a == nullptr || a->orders.contains(order.order_id)) {
    return;
  }
  a->orders.emplace(order.order_id, order);
  if (order.final()) {
    Finish(*a, order);
  }
}

std::optional<OrderRecord> AccountHistory::FindOrder(uint64_t account, uint32_t symbol,
                                                     int64_t order_id,
                                                     std::string_view client_order_id) const {
  std::lock_guard lock(mu_);
  auto it = accounts_.find(account);
  if (it == accounts_.end()) {
    return std::nullopt;
  }
  const Account& a = it->second;
  const OrderRecord* found = nullptr;
  if (order_id != 0) {
    auto o = a.orders.find(order_id);
    if (o != a.orders.end()) {
      found = &o->second;
    }
  } else {
    for (const auto& [id, o] : a.orders) {
      if (o.client_order_id == client_order_id && (found == nullptr || id > found->order_id)) {
        found = &o;
      }
    }
  }
  if (found == nullptr || found->symbol != symbol) {
    return std::nullopt;
  }
  if (!client_order_id.empty() && found->client_order_id != client_order_id) {
    return std::nullopt;
  }
  return *found;
}

std::vector<OrderRecord> AccountHistory::Orders(uint64_t account, uint32_t symbol) const {
  std::vector<OrderRecord> out;
  std::lock_guard lock(mu_);
  auto it = accounts_.find(account);
  if (it == accounts_.end()) {
    return out;
  }
  for (const auto& [id, o] : it->second.orders) {
    if (o.symbol == symbol) {
      out.push_back(o);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const OrderRecord& x, const OrderRecord& y) { return x.order_id < y.order_id; });
  return out;
}

std::vector<TradeRecord> AccountHistory::Trades(uint64_t account, uint32_t symbol) const {
  std::vector<TradeRecord> out;
  std::lock_guard lock(mu_);
  auto it = accounts_.find(account);
  if (it == accounts_.end()) {
    return out;
  }
  for (const TradeRecord& t : it->second.trades) {
    if (t.symbol == symbol) {
      out.push_back(t);
    }
  }
  std::sort(out.begin(), out.end(), [](const TradeRecord& x, const TradeRecord& y) {
    return x.id != y.id ? x.id < y.id : x.is_buyer < y.is_buyer;
  });
  return out;
}

std::optional<OrderListRecord> AccountHistory::FindList(
    uint64_t account, int64_t order_list_id, std::string_view list_client_order_id) const {
  std::lock_guard lock(mu_);
  auto it = accounts_.find(account);
  if (it == accounts_.end()) {
    return std::nullopt;
  }
  const OrderListRecord* found = nullptr;
  for (const auto& [id, l] : it->second.lists) {
    if (order_list_id != 0 && id != order_list_id) {
      continue;
    }
    if (!list_client_order_id.empty() && l.list_client_order_id != list_client_order_id) {
      continue;
    }
    found = &l;  // map order: the newest match wins
  }
  if (found == nullptr) {
    return std::nullopt;
  }
  return *found;
}

std::vector<OrderListRecord> AccountHistory::Lists(uint64_t account) const {
  std::vector<OrderListRecord> out;
  std::lock_guard lock(mu_);
  auto it = accounts_.find(account);
  if (it != accounts_.end()) {
    for (const auto& [id, l] : it->second.lists) {
      out.push_back(l);
    }
  }
  return out;
}

std::optional<FeeRates> AccountHistory::Fees(uint64_t account) const {
  std::lock_guard lock(mu_);
  auto it = accounts_.find(account);
  if (it != accounts_.end() && it->second.fees) {
    return it->second.fees;
  }
  return default_fees_;
}

}  // namespace spotex::gateway
