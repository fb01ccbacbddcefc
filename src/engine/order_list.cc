// Engine: OCO order lists (placement and cancellation). Trading of the legs is in matching.cc.
#include <algorithm>

#include "engine/state.h"

namespace spotex::engine {
namespace {

bool IsStopLoss(OrderType t) { return t == OrderType::kStopLoss || t == OrderType::kStopLossLimit; }

NewOrder LegOrder(const PlaceOco& c, const OcoLeg& leg) {
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

// The price that places a leg relative to the last price: the limit price of the LIMIT_MAKER
// leg, the stop price of the stop leg.
Price LegPrice(const OcoLeg& leg) {
  return leg.type == OrderType::kLimitMaker ? leg.price : leg.stop_price;
}

}  // namespace

// List client ids are unique among an account's open lists (DoPlaceOco enforces it).
uint32_t EngineState::FindListByClientId(uint32_t account, const ClientOrderId& id) const {
  const uint32_t* s = list_client_index.Find(ClientKey{account, id});
  return s != nullptr ? *s : kNil;
}

void EngineState::ForgetList(uint32_t slot) {
  const ListState& l = lists[slot];
  list_index.Erase(static_cast<uint64_t>(l.id));
  if (!l.client_id.empty()) {
    list_client_index.Erase(ClientKey{l.account, l.client_id});
  }
  free_lists.push_back(slot);
}

ApplyResult EngineState::DoPlaceOco(const PlaceOco& c) {
  ApplyResult r;
  RejectCode code = RejectCode::kNone;
  const uint32_t* acct = FindAccount(c.account);
  if (acct == nullptr || *acct == 0) {
    code = RejectCode::kUnknownAccount;
  } else if (accounts[*acct].frozen) {
    code = RejectCode::kAccountFrozen;
  } else if (c.symbol >= symbols.size()) {
    code = RejectCode::kUnknownSymbol;
  } else if (symbols[c.symbol].cfg.status != SymbolStatus::kTrading) {
    code = RejectCode::kMarketClosed;
  } else if (!symbols[c.symbol].cfg.oco_allowed) {
    code = RejectCode::kOcoNotAllowed;
  } else if (c.side != Side::kBuy && c.side != Side::kSell) {
    code = RejectCode::kInvalidSide;
  } else if (c.side == Side::kSell
                 ? !(c.above.type == OrderType::kLimitMaker && IsStopLoss(c.below.type))
                 : !(IsStopLoss(c.above.type) && c.below.type == OrderType::kLimitMaker)) {
    code = RejectCode::kUnsupportedCombination;
  } else {
    ClientOrderId probe;
    const auto bad = [&probe](const ClientOrderId& id) {
      return !id.empty() && (id.len > ClientOrderId::kMaxLen || !probe.Assign(id.view()));
    };
    if (bad(c.list_client_order_id) || bad(c.above.client_order_id) ||
        bad(c.below.client_order_id)) {
      code = RejectCode::kInvalidClientOrderId;
    } else if (!c.above.client_order_id.empty() &&
               c.above.client_order_id == c.below.client_order_id) {
      code = RejectCode::kDuplicateOrder;
    } else if (!c.list_client_order_id.empty() &&
               FindListByClientId(*acct, c.list_client_order_id.Canonical()) != kNil) {
      code = RejectCode::kDuplicateOrder;  // unique among the account's open lists
    }
  }
  if (code == RejectCode::kNone) {
    const Price above = LegPrice(c.above);
    const Price below = LegPrice(c.below);
    const Price last = symbols[c.symbol].last_price;
    if (!(above > below) || (last.v > 0 && !(above > last && last > below))) {
      code = RejectCode::kOcoPriceRelationship;
    }
  }
  const NewOrder above = LegOrder(c, c.above);
  const NewOrder below = LegOrder(c, c.below);
  Amount r_above, r_below;
  if (code == RejectCode::kNone) code = ValidateNewOrder(above, 2, &r_above);
  if (code == RejectCode::kNone) code = ValidateNewOrder(below, 2, &r_below);
  // The limit leg holds its own reserve; the stop leg only what it needs beyond that.
  const bool limit_above = c.above.type == OrderType::kLimitMaker;
  const Amount r_limit = limit_above ? r_above : r_below;
  const Amount r_stop = limit_above ? r_below : r_above;
  const Amount extra = r_stop > r_limit ? r_stop - r_limit : Amount(0);
  if (code == RejectCode::kNone) {
    const SymbolState& s = symbols[c.symbol];
    const AssetId asset = c.side == Side::kBuy ? s.cfg.quote_asset : s.cfg.base_asset;
    const uint32_t* bal = balance_index.Find((uint64_t{*acct} << 32) | asset);
    const Amount free = bal ? balances[*bal].free : Amount(0);
    if (static_cast<__int128>(r_limit.v) + extra.v > free.v) {
      code = RejectCode::kInsufficientBalance;
    }
  }
  if (code != RejectCode::kNone) {
    return Rejected(code, c.account, &c.list_client_order_id);
  }
  const OrderListId list_id = next_list_id++;
  uint32_t ls;
  if (!free_lists.empty()) {
    ls = free_lists.back();
    free_lists.pop_back();
  } else {
    ls = static_cast<uint32_t>(lists.size());
    lists.emplace_back();
  }
  const uint32_t a = CreateOrder(above, limit_above ? r_limit : extra, list_id);
  const uint32_t b = CreateOrder(below, limit_above ? extra : r_limit, list_id);
  ListState& l = lists[ls];
  l = ListState{};
  l.id = list_id;
  l.account = *acct;
  l.symbol = c.symbol;
  l.legs[0] = a;
  l.legs[1] = b;
  l.leg_ids[0] = orders[a].id;
  l.leg_ids[1] = orders[b].id;
  l.time_ms = now_ms;
  l.client_id = c.list_client_order_id.Canonical();
  orders[a].list = ls;
  orders[b].list = ls;
  list_index.Put(static_cast<uint64_t>(list_id), ls);
  if (!l.client_id.empty()) {
    list_client_index.Put(ClientKey{l.account, l.client_id}, ls);
  }
  r.order_list_id = list_id;
  r.order_id = orders[a].id;
  EmitListStatus(l, ListStatus::kExecuting);
  EmitAccepted(a);
  EmitAccepted(b);
  StartOrder(a);
  StartOrder(b);
  return r;
}

ApplyResult EngineState::DoCancelList(const CancelOrderList& c) {
  ApplyResult r;
  RejectCode code = RejectCode::kNone;
  const uint32_t* acct = FindAccount(c.account);
  uint32_t found = kNil;
  if (acct == nullptr || *acct == 0) {
    code = RejectCode::kUnknownAccount;
  } else if (c.symbol >= symbols.size()) {
    code = RejectCode::kUnknownSymbol;
  } else if (c.order_list_id == 0 && c.list_client_order_id.empty()) {
    code = RejectCode::kMissingOrderRef;
  } else {
    if (c.order_list_id != 0) {
      if (const uint32_t* s = list_index.Find(static_cast<uint64_t>(c.order_list_id))) {
        found = *s;
      }
    } else {
      found = FindListByClientId(*acct, c.list_client_order_id.Canonical());
    }
    if (found == kNil || lists[found].account != *acct || lists[found].symbol != c.symbol ||
        (!c.list_client_order_id.empty() && !(lists[found].client_id == c.list_client_order_id))) {
      code = RejectCode::kUnknownOrderList;
    }
  }
  if (code != RejectCode::kNone) {
    return Rejected(code, c.account, &c.list_client_order_id);
  }
  r.order_list_id = lists[found].id;
  CancelOrderSlot(lists[found].legs[0], nullptr);
  return r;
}

}  // namespace spotex::engine
