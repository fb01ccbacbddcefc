// Engine: read-only queries (balances, open orders, book, listings), answered from memory.
#include <algorithm>

#include "engine/state.h"
#include "engine/validate.h"

namespace spotex::engine {

std::optional<AssetId> Engine::FindAsset(std::string_view name) const {
  for (AssetId a = 0; a < state_->assets.size(); ++a) {
    if (state_->assets[a].name.view() == name) return a;
  }
  return std::nullopt;
}

std::optional<SymbolId> Engine::FindSymbol(std::string_view name) const {
  for (SymbolId s = 0; s < state_->symbols.size(); ++s) {
    if (state_->symbols[s].cfg.name.view() == name) return s;
  }
  return std::nullopt;
}

std::vector<AssetView> Engine::Assets() const {
  std::vector<AssetView> out;
  for (AssetId a = 0; a < state_->assets.size(); ++a) {
    out.push_back(AssetView{a, state_->assets[a].name, state_->assets[a].scale});
  }
  return out;
}

std::vector<SymbolView> Engine::Symbols() const {
  std::vector<SymbolView> out;
  for (SymbolId s = 0; s < state_->symbols.size(); ++s) {
    out.push_back(SymbolView{s, state_->symbols[s].cfg, state_->symbols[s].last_price});
  }
  return out;
}

bool Engine::HasAccount(AccountId account) const { return state_->FindAccount(account) != nullptr; }

std::vector<AccountId> Engine::AccountsPage(size_t from, size_t limit) const {
  std::vector<AccountId> out;
  const auto& accounts = state_->accounts;
  for (size_t i = from; i < accounts.size() && out.size() < limit; ++i) {
    out.push_back(accounts[i].id);
  }
  return out;
}

size_t Engine::AccountCount() const { return state_->accounts.size(); }

std::optional<BalanceView> Engine::Balance(AccountId account, AssetId asset) const {
  const uint32_t* acct = state_->FindAccount(account);
  if (acct == nullptr) return std::nullopt;
  const uint32_t* b = state_->balance_index.Find(Key2(*acct, asset));
  if (b == nullptr) return std::nullopt;
  const auto& bal = state_->balances[*b];
  return BalanceView{asset, bal.free, bal.locked};
}

std::vector<BalanceView> Engine::Balances(AccountId account) const {
  std::vector<BalanceView> out;
  for (AssetId a = 0; a < state_->assets.size(); ++a) {
    if (auto b = Balance(account, a)) out.push_back(*b);
  }
  return out;
}

namespace {

OrderView View(const EngineState& s, uint32_t slot) {
  const Order& o = s.orders[slot];
  const OrderCold& c = s.cold[slot];
  return OrderView{.order_id = o.id,
                   .order_list_id = c.list_id,
                   .account = s.accounts[o.account].id,
                   .symbol = o.symbol,
                   .side = o.side,
                   .type = o.type,
                   .tif = o.tif,
                   .stp = o.stp,
                   .status = o.status,
                   .working = o.working,
                   .price = o.price,
                   .qty = o.qty,
                   .quote_qty = o.quote_qty,
                   .stop_price = c.stop_price,
                   .iceberg_qty = o.iceberg_qty,
                   .executed_qty = o.executed,
                   .cum_quote_qty = o.cum_quote,
                   .reserved = o.reserved,
                   .time_ms = c.time_ms,
                   .update_ms = o.update_ms,
                   .client_order_id = c.client_id};
}

}  // namespace

std::optional<OrderView> Engine::FindOrder(AccountId account, SymbolId symbol, OrderId order_id,
                                           std::string_view client_order_id) const {
  OrderRef ref;
  ref.account = account;
  ref.symbol = symbol;
  ref.order_id = order_id;
  if (!client_order_id.empty() && !ref.orig_client_order_id.Assign(client_order_id)) {
    return std::nullopt;
  }
  uint32_t slot = 0;
  if (state_->FindOpenOrder(ref, &slot) != RejectCode::kNone) return std::nullopt;
  return View(*state_, slot);
}

std::vector<OrderView> Engine::OpenOrders(AccountId account, std::optional<SymbolId> symbol) const {
  std::vector<OrderView> out;
  const EngineState& s = *state_;
  const uint32_t* acct = s.FindAccount(account);
  if (acct == nullptr) return out;
  for (SymbolId id = 0; id < s.symbols.size(); ++id) {
    if (symbol && *symbol != id) continue;
    const uint32_t* as = s.acct_sym_index.Find(Key2(*acct, id));
    if (as == nullptr) continue;
    for (uint32_t o : s.acct_syms[*as].open) {
      out.push_back(View(s, o));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const OrderView& a, const OrderView& b) { return a.order_id < b.order_id; });
  return out;
}

std::optional<BookView> Engine::Book(SymbolId symbol, size_t depth) const {
  const EngineState& s = *state_;
  if (symbol >= s.symbols.size()) return std::nullopt;
  const SymbolState& sym = s.symbols[symbol];
  BookView v;
  v.last_update_id = sym.update_id;
  for (Side side : {Side::kBuy, Side::kSell}) {
    const BookSide& b = side == Side::kBuy ? sym.bids : sym.asks;
    auto& out = side == Side::kBuy ? v.bids : v.asks;
    for (size_t i = b.levels.size(); i > 0 && out.size() < depth; --i) {
      const Level& l = s.levels[b.levels[i - 1]];
      out.push_back(LevelView{l.price, l.visible});
    }
  }
  return v;
}

}  // namespace spotex::engine
