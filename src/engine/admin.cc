// Engine: administrative commands — assets, symbols, accounts, transfers, fees, freezing.
#include "engine/state.h"
#include "engine/validate.h"

namespace spotex::engine {

ApplyResult EngineState::DoAddAsset(const AddAsset& c) {
  ApplyResult r;
  RejectCode code = RejectCode::kNone;
  if (!ValidName(c.name) || c.scale < 0 || c.scale > core::kMaxScale) {
    code = RejectCode::kBadAssetConfig;
  } else if (assets.size() >= (1u << 20)) {
    code = RejectCode::kBadAssetConfig;
  } else {
    for (const auto& a : assets) {
      if (a.name == c.name) code = RejectCode::kDuplicateAsset;
    }
  }
  if (code != RejectCode::kNone) {
    return Rejected(code, 0, nullptr);
  }
  const auto id = static_cast<AssetId>(assets.size());
  assets.push_back(AssetState{.name = c.name.Canonical(), .scale = c.scale});
  fee_balance.push_back(BalanceSlot(0, id));
  auto& e = events.Append<AssetAdded>(cur_seq);
  e.asset = id;
  e.scale = c.scale;
  e.name = c.name.Canonical();
  return r;
}

RejectCode CheckSymbolConfig(const SymbolConfig& c, const std::vector<AssetState>& assets) {
  if (!ValidName(c.name)) return RejectCode::kBadSymbolConfig;
  if (c.base_asset >= assets.size() || c.quote_asset >= assets.size()) {
    return RejectCode::kUnknownAsset;
  }
  if (c.base_asset == c.quote_asset || !ValidStatus(c.status)) {
    return RejectCode::kBadSymbolConfig;
  }
  if (!ValidStp(c.default_stp) || c.default_stp == StpMode::kDefault) {
    return RejectCode::kBadSymbolConfig;
  }
  const SymbolFilters& f = c.filters;
  const int64_t base_unit = core::Pow10(assets[c.base_asset].scale);
  if (f.tick_size.v <= 0 || f.step_size.v <= 0) return RejectCode::kBadSymbolConfig;
  // Every on-grid notional must be a whole number of quote units (no rounding in settlement).
  if ((static_cast<__int128>(f.tick_size.v) * f.step_size.v) % base_unit != 0) {
    return RejectCode::kBadSymbolConfig;
  }
  for (int64_t v : {f.min_price.v, f.max_price.v, f.min_qty.v, f.max_qty.v, f.market_min_qty.v,
                    f.market_max_qty.v, f.market_step_size.v, f.min_notional.v, f.max_notional.v,
                    f.bid_multiplier_up_e8, f.bid_multiplier_down_e8, f.ask_multiplier_up_e8,
                    f.ask_multiplier_down_e8}) {
    if (v < 0) return RejectCode::kBadSymbolConfig;
  }
  if ((f.max_price.v > 0 && f.max_price < f.min_price) ||
      (f.max_qty.v > 0 && f.max_qty < f.min_qty) ||
      (f.market_max_qty.v > 0 && f.market_max_qty < f.market_min_qty) ||
      (f.max_notional.v > 0 && f.max_notional < f.min_notional)) {
    return RejectCode::kBadSymbolConfig;
  }
  // A MARKET quantity must be fillable from makers, whose quantities are on the LOT_SIZE grid.
  if (f.market_step_size.v > 0 &&
      ((static_cast<__int128>(f.tick_size.v) * f.market_step_size.v) % base_unit != 0 ||
       f.market_step_size.v % f.step_size.v != 0)) {
    return RejectCode::kBadSymbolConfig;
  }
  if (f.avg_price_mins < 1 || f.avg_price_mins > 1440 || f.iceberg_parts < 0 ||
      f.iceberg_parts > 100 || f.max_num_orders < 0 || f.max_num_algo_orders < 0) {
    return RejectCode::kBadSymbolConfig;
  }
  return RejectCode::kNone;
}

// Copies every field into `dst`, which the event buffer zero-filled, without touching padding:
// a struct assignment may copy the source's padding bytes, which in a decoded command are
// whatever the stack held, and events are compared (and de-duplicated) byte for byte.
static void CopyLeafwise(const SymbolConfig& src, SymbolConfig& dst) {
  // A new field must be added here too: the sizes pin the field lists.
  static_assert(sizeof(SymbolFilters) == 144 && sizeof(SymbolConfig) == 192);
  dst.name = src.name.Canonical();
  dst.base_asset = src.base_asset;
  dst.quote_asset = src.quote_asset;
  dst.status = src.status;
  const SymbolFilters& f = src.filters;
  SymbolFilters& g = dst.filters;
  g.min_price = f.min_price;
  g.max_price = f.max_price;
  g.tick_size = f.tick_size;
  g.min_qty = f.min_qty;
  g.max_qty = f.max_qty;
  g.step_size = f.step_size;
  g.market_min_qty = f.market_min_qty;
  g.market_max_qty = f.market_max_qty;
  g.market_step_size = f.market_step_size;
  g.min_notional = f.min_notional;
  g.max_notional = f.max_notional;
  g.apply_min_to_market = f.apply_min_to_market;
  g.apply_max_to_market = f.apply_max_to_market;
  g.legacy_min_notional = f.legacy_min_notional;
  g.avg_price_mins = f.avg_price_mins;
  g.bid_multiplier_up_e8 = f.bid_multiplier_up_e8;
  g.bid_multiplier_down_e8 = f.bid_multiplier_down_e8;
  g.ask_multiplier_up_e8 = f.ask_multiplier_up_e8;
  g.ask_multiplier_down_e8 = f.ask_multiplier_down_e8;
  g.iceberg_parts = f.iceberg_parts;
  g.max_num_orders = f.max_num_orders;
  g.max_num_algo_orders = f.max_num_algo_orders;
  dst.iceberg_allowed = src.iceberg_allowed;
  dst.oco_allowed = src.oco_allowed;
  dst.quote_order_qty_market_allowed = src.quote_order_qty_market_allowed;
  dst.cancel_replace_allowed = src.cancel_replace_allowed;
  dst.amend_allowed = src.amend_allowed;
  dst.default_stp = src.default_stp;
}

ApplyResult EngineState::DoAddSymbol(const AddSymbol& c) {
  ApplyResult r;
  RejectCode code = CheckSymbolConfig(c.config, assets);
  if (code == RejectCode::kNone) {
    for (const auto& s : symbols) {
      if (s.cfg.name == c.config.name) code = RejectCode::kDuplicateSymbol;
    }
    if (symbols.size() >= (1u << 24)) code = RejectCode::kBadSymbolConfig;
  }
  if (code != RejectCode::kNone) {
    return Rejected(code, 0, nullptr);
  }
  const auto id = static_cast<SymbolId>(symbols.size());
  SymbolState& s = symbols.emplace_back();
  s.cfg = c.config;
  s.cfg.name = c.config.name.Canonical();
  s.base_unit = core::Pow10(assets[c.config.base_asset].scale);
  s.buckets.assign(static_cast<size_t>(c.config.filters.avg_price_mins), AvgBucket{});
  auto& e = events.Append<SymbolAdded>(cur_seq);
  e.symbol = id;
  CopyLeafwise(s.cfg, e.config);
  return r;
}

ApplyResult EngineState::DoSetSymbolStatus(const SetSymbolStatus& c) {
  ApplyResult r;
  RejectCode code = RejectCode::kNone;
  if (c.symbol >= symbols.size()) {
    code = RejectCode::kUnknownSymbol;
  } else if (!ValidStatus(c.status)) {
    code = RejectCode::kInvalidParameter;
  }
  if (code != RejectCode::kNone) {
    return Rejected(code, 0, nullptr);
  }
  symbols[c.symbol].cfg.status = c.status;
  auto& e = events.Append<SymbolStatusChanged>(cur_seq);
  e.symbol = c.symbol;
  e.status = c.status;
  return r;
}

uint32_t EngineState::OpenAccountSlot(AccountId id) {
  const auto slot = static_cast<uint32_t>(accounts.size());
  accounts.push_back(Account{.id = id});
  account_index.Put(id, slot);
  return slot;
}

ApplyResult EngineState::DoOpenAccount(const OpenAccount& c) {
  ApplyResult r;
  const RejectCode code = FindAccount(c.account) != nullptr ? RejectCode::kDuplicateAccount
                          : accounts.size() >= (1u << 31)   ? RejectCode::kInvalidParameter
                                                            : RejectCode::kNone;
  if (code != RejectCode::kNone) {
    return Rejected(code, c.account, nullptr);
  }
  EmitAccountUpdated(OpenAccountSlot(c.account));
  return r;
}

ApplyResult EngineState::DoDeposit(const Deposit& c) {
  ApplyResult r;
  const uint32_t* acct = FindAccount(c.account);
  RejectCode code = RejectCode::kNone;
  if (acct == nullptr) {
    code = RejectCode::kUnknownAccount;
  } else if (c.asset >= assets.size()) {
    code = RejectCode::kUnknownAsset;
  } else if (c.amount.v <= 0) {
    code = RejectCode::kInvalidQuantity;
  } else if (assets[c.asset].net_deposits + c.amount.v > INT64_MAX) {
    // Every balance of an asset is part of its net deposits, so capping those at int64 means
    // no settlement can ever overflow a balance.
    code = RejectCode::kAmountOverflow;
  }
  if (code != RejectCode::kNone) {
    return Rejected(code, c.account, nullptr);
  }
  const uint32_t slot = BalanceSlot(*acct, c.asset);
  TouchBalance(slot);
  balances[slot].free += c.amount;
  assets[c.asset].net_deposits += c.amount.v;
  auto& e = events.Append<Transfer>(cur_seq);
  e.account = c.account;
  e.asset = c.asset;
  e.amount = c.amount;
  e.time_ms = now_ms;
  return r;
}

ApplyResult EngineState::DoWithdraw(const Withdraw& c) {
  ApplyResult r;
  const uint32_t* acct = FindAccount(c.account);
  RejectCode code = RejectCode::kNone;
  if (acct == nullptr) {
    code = RejectCode::kUnknownAccount;
  } else if (c.asset >= assets.size()) {
    code = RejectCode::kUnknownAsset;
  } else if (c.amount.v <= 0) {
    code = RejectCode::kInvalidQuantity;
  } else if (accounts[*acct].frozen) {
    code = RejectCode::kAccountFrozen;
  } else {
    const uint32_t* bal = balance_index.Find(Key2(*acct, c.asset));
    if (bal == nullptr || balances[*bal].free < c.amount) code = RejectCode::kInsufficientBalance;
  }
  if (code != RejectCode::kNone) {
    return Rejected(code, c.account, nullptr);
  }
  const uint32_t slot = BalanceSlot(*acct, c.asset);
  TouchBalance(slot);
  balances[slot].free -= c.amount;
  assets[c.asset].net_deposits -= c.amount.v;
  auto& e = events.Append<Transfer>(cur_seq);
  e.account = c.account;
  e.asset = c.asset;
  e.amount = Amount(-c.amount.v);
  e.time_ms = now_ms;
  return r;
}

ApplyResult EngineState::DoSetFees(const SetFees& c) {
  ApplyResult r;
  const uint32_t* acct = FindAccount(c.account);
  RejectCode code = RejectCode::kNone;
  if (c.maker_rate_e8 < 0 || c.maker_rate_e8 >= core::kRateOne || c.taker_rate_e8 < 0 ||
      c.taker_rate_e8 >= core::kRateOne) {
    code = RejectCode::kBadFees;
  } else if (acct == nullptr) {
    code = RejectCode::kUnknownAccount;
  }
  if (code != RejectCode::kNone) {
    return Rejected(code, c.account, nullptr);
  }
  if (*acct == 0) {
    default_maker_e8 = c.maker_rate_e8;
    default_taker_e8 = c.taker_rate_e8;
  } else {
    Account& a = accounts[*acct];
    a.own_fees = true;
    a.maker_rate_e8 = c.maker_rate_e8;
    a.taker_rate_e8 = c.taker_rate_e8;
  }
  EmitAccountUpdated(*acct);
  return r;
}

ApplyResult EngineState::DoSetAccountStp(const SetAccountStp& c) {
  ApplyResult r;
  const uint32_t* acct = FindAccount(c.account);
  const RejectCode code = acct == nullptr || *acct == 0 ? RejectCode::kUnknownAccount
                          : !ValidStp(c.mode)           ? RejectCode::kInvalidStpMode
                                                        : RejectCode::kNone;
  if (code != RejectCode::kNone) {
    return Rejected(code, c.account, nullptr);
  }
  accounts[*acct].stp = c.mode;
  EmitAccountUpdated(*acct);
  return r;
}

ApplyResult EngineState::DoFreeze(const FreezeAccount& c) {
  ApplyResult r;
  const uint32_t* acct = FindAccount(c.account);
  if (acct == nullptr || *acct == 0) {
    Reject(RejectCode::kUnknownAccount, CommandPart::kWhole, c.account, command_index, nullptr);
    r.code = RejectCode::kUnknownAccount;
    return r;
  }
  accounts[*acct].frozen = c.frozen;
  EmitAccountUpdated(*acct);
  return r;
}

}  // namespace spotex::engine
