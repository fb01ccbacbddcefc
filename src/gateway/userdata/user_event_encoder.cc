#include "gateway/userdata/user_event_encoder.h"

#include <unordered_map>
#include <utility>

#include "core/assert.h"
#include "core/decimal.h"
#include "engine/event.h"
#include "gateway/http/error.h"

namespace spotex::gateway::userdata {

namespace {

// Execution ids: seq * 2^20 + the event's index stays below 2^53 for seq < 2^33.
constexpr int64_t kExecIdShift = int64_t{1} << 20;

void Key(std::string& out, std::string_view key) {
  out += ",\"";
  out += key;
  out += "\":";
}
void Dec(std::string& out, std::string_view key, int64_t units, int scale) {
  Key(out, key);
  out += '"';
  out += core::FormatDecimal(units, scale);
  out += '"';
}
void Int(std::string& out, std::string_view key, int64_t v) {
  Key(out, key);
  out += std::to_string(v);
}
void Text(std::string& out, std::string_view key, std::string_view v) {
  Key(out, key);
  http::AppendJsonString(out, v);
}
void Bool(std::string& out, std::string_view key, bool v) {
  Key(out, key);
  out += v ? "true" : "false";
}
// Opens an event object: {"e":"<type>","E":<ms>
std::string Open(std::string_view type, int64_t event_ms) {
  std::string out = "{\"e\":\"";
  out += type;
  out += "\",\"E\":";
  out += std::to_string(event_ms);
  return out;
}

std::string_view TifText(engine::TimeInForce tif) {
  // Binance shows GTC for the types that take no timeInForce (as REST does).
  return tif == engine::TimeInForce::kNone ? "GTC" : engine::ToString(tif);
}

// What one executionReport says beyond the order's static data.
struct Exec {
  engine::ExecType exec = engine::ExecType::kNew;
  engine::OrderStatus status = engine::OrderStatus::kNew;
  engine::ExpiryReason reason = engine::ExpiryReason::kNone;
  std::string client_id;       // c
  std::string orig_client_id;  // C
  int64_t qty = 0;             // q
  int64_t last_qty = 0, cum_qty = 0, last_price = 0, cum_quote = 0, last_quote = 0;
  int64_t commission = 0;
  std::optional<AssetInfo> commission_asset;  // set for fills only
  int64_t trade_id = -1;
  int64_t exec_id = 0;
  bool on_book = false;
  bool maker = false;
  const engine::PreventedMatch* prevented = nullptr;
  int64_t prevented_match_id = 0;
};

std::string ExecutionReport(int64_t event_ms, const SymbolInfo& s, const OrderRecord& o,
                            const Exec& x) {
  std::string out = Open("executionReport", event_ms);
  Text(out, "s", s.name);
  Text(out, "c", x.client_id);
  Text(out, "S", engine::ToString(o.side));
  Text(out, "o", engine::ToString(o.type));
  Text(out, "f", TifText(o.tif));
  Dec(out, "q", x.qty, s.base_scale);
  Dec(out, "p", o.price, s.quote_scale);
  Dec(out, "P", o.stop_price, s.quote_scale);
  Dec(out, "F", o.iceberg_qty, s.base_scale);
  Int(out, "g", o.order_list_id);
  Text(out, "C", x.orig_client_id);
  // A stop order that became active is reported as NEW (on the book from now on).
  Text(out, "x", x.exec == engine::ExecType::kTriggered ? "NEW" : engine::ToString(x.exec));
  Text(out, "X", engine::ToString(x.status));
  Text(out, "r", "NONE");
  Int(out, "i", o.order_id);
  Dec(out, "l", x.last_qty, s.base_scale);
  Dec(out, "z", x.cum_qty, s.base_scale);
  Dec(out, "L", x.last_price, s.quote_scale);
  if (x.commission_asset) {
    Dec(out, "n", x.commission, x.commission_asset->scale);
    Text(out, "N", x.commission_asset->name);
  } else {
    out += ",\"n\":\"0\",\"N\":null";
  }
  Int(out, "T", event_ms);
  Int(out, "t", x.trade_id);
  Int(out, "I", x.exec_id);
  Bool(out, "w", x.on_book);
  Bool(out, "m", x.maker);
  Bool(out, "M", false);
  Int(out, "O", o.time_ms);
  Dec(out, "Z", x.cum_quote, s.quote_scale);
  Dec(out, "Y", x.last_quote, s.quote_scale);
  Dec(out, "Q", o.quote_qty, s.quote_scale);
  Int(out, "W", o.working ? (o.working_ms > 0 ? o.working_ms : o.time_ms) : -1);
  Text(out, "V", engine::ToString(o.stp));
  if (x.exec == engine::ExecType::kTradePrevention) {
    Int(out, "v", x.prevented_match_id);
    if (x.prevented != nullptr) {
      const auto& p = *x.prevented;
      Int(out, "U", p.taker_order_id == o.order_id ? p.maker_order_id : p.taker_order_id);
      Dec(out, "A", p.qty.v, s.base_scale);
      Dec(out, "B", p.qty.v, s.base_scale);
      Dec(out, "pl", 0, s.base_scale);
      Dec(out, "pL", p.price.v, s.quote_scale);
      Dec(out, "pY", 0, s.quote_scale);
    }
  }
  if (x.reason != engine::ExpiryReason::kNone) {
    Text(out, "eR", engine::ToString(x.reason));
  }
  out += '}';
  return out;
}

std::string ListStatus(int64_t event_ms, const SymbolInfo& s, const engine::OrderList& l,
                       const std::string (&leg_client_ids)[2]) {
  std::string out = Open("listStatus", event_ms);
  Text(out, "s", s.name);
  Int(out, "g", l.order_list_id);
  out += ",\"c\":\"OCO\"";
  switch (l.status) {
    case engine::ListStatus::kExecuting:
      out += ",\"l\":\"EXEC_STARTED\",\"L\":\"EXECUTING\"";
      break;
    case engine::ListStatus::kAllDone:
      out += ",\"l\":\"ALL_DONE\",\"L\":\"ALL_DONE\"";
      break;
    case engine::ListStatus::kReject:
      out += ",\"l\":\"ALL_DONE\",\"L\":\"REJECT\"";
      break;
  }
  out += ",\"r\":\"NONE\"";
  Text(out, "C", l.list_client_order_id.view());
  Int(out, "T", l.time_ms != 0 ? l.time_ms : event_ms);
  out += ",\"O\":[";
  for (int i = 0; i < 2; ++i) {
    out += i == 0 ? "{\"s\":" : ",{\"s\":";
    http::AppendJsonString(out, s.name);
    Int(out, "i", l.order_ids[i]);
    Text(out, "c", leg_client_ids[i]);
    out += '}';
  }
  out += "]}";
  return out;
}

// Collects the events per account, accounts in order of first appearance.
class Collector {
 public:
  AccountEvents& For(int64_t account) {
    SPOTEX_ASSERT(account != static_cast<int64_t>(engine::kFeeAccount));
    for (auto& a : out_) {
      if (a.account == account) {
        return a;
      }
    }
    out_.push_back(AccountEvents{account, {}});
    return out_.back();
  }
  std::vector<AccountEvents> Take() { return std::move(out_); }

 private:
  std::vector<AccountEvents> out_;
};

struct Balance {
  int64_t account;
  uint32_t asset;
  int64_t free, locked;
};

}  // namespace

UserEventEncoder::UserEventEncoder(const AccountHistory& history, SymbolById symbols,
                                   AssetById assets)
    : history_(history), symbols_(std::move(symbols)), assets_(std::move(assets)) {}

std::vector<AccountEvents> UserEventEncoder::Encode(const proto::Envelope& envelope) const {
  const auto& h = envelope.header();
  if (h.malformed) {
    return {};
  }
  const int64_t event_ms = h.time_ms;
  // First pass: the fills and prevented matches that OrderUpdates refer to.
  std::unordered_map<int64_t, const engine::Trade*> trades;
  std::unordered_map<int64_t, const engine::PreventedMatch*> prevented;
  for (auto r = envelope.reader(); !r.Done(); r.Next()) {
    if (const auto* t = r.If<engine::Trade>()) {
      trades.emplace(t->trade_id, t);
    } else if (const auto* p = r.If<engine::PreventedMatch>()) {
      prevented.emplace(p->prevented_match_id, p);
    }
  }
  Collector out;
  std::vector<Balance> balances;
  std::unordered_map<int64_t, std::string> cancel_ids;  // order id -> the cancel's client id
  // The order's static data: the history's record, or what this envelope tells.
  auto record = [&](int64_t account, uint32_t symbol, int64_t order_id, const engine::Trade* fill) {
    if (auto o = history_.FindOrder(static_cast<uint64_t>(account), symbol, order_id, "")) {
      return *o;
    }
    OrderRecord o;
    o.order_id = order_id;
    o.account = static_cast<uint64_t>(account);
    o.symbol = symbol;
    if (fill != nullptr) {
      o.side = fill->buyer_order_id == order_id ? engine::Side::kBuy : engine::Side::kSell;
    }
    return o;
  };
  for (auto r = envelope.reader(); !r.Done(); r.Next()) {
    const int64_t exec_id = static_cast<int64_t>(h.seq) * kExecIdShift + r.header().index;
    if (const auto* a = r.If<engine::OrderAccepted>()) {
      auto s = symbols_(a->symbol);
      if (!s) {
        continue;
      }
      OrderRecord o = OrderRecord::FromAccepted(*a);
      Exec x;
      x.client_id = o.client_order_id;
      x.qty = o.qty;
      x.exec_id = exec_id;
      x.on_book = a->working;
      out.For(a->account).events.push_back(ExecutionReport(event_ms, *s, o, x));
    } else if (const auto* c = r.If<engine::OrderCanceledBy>()) {
      cancel_ids[c->order_id] = std::string(c->cancel_client_order_id.view());
    } else if (const auto* u = r.If<engine::OrderUpdate>()) {
      auto s = symbols_(u->symbol);
      if (!s) {
        continue;
      }
      const engine::Trade* fill = nullptr;
      if (u->exec == engine::ExecType::kTrade) {
        if (auto it = trades.find(u->trade_id); it != trades.end()) {
          fill = it->second;
        }
      }
      OrderRecord o = record(u->account, u->symbol, u->order_id, fill);
      Exec x;
      x.exec = u->exec;
      x.status = u->status;
      x.reason = u->reason;
      x.client_id = o.client_order_id;
      x.qty = o.qty;
      x.cum_qty = u->executed_qty.v;
      x.cum_quote = u->cum_quote_qty.v;
      x.exec_id = exec_id;
      const bool open = u->status == engine::OrderStatus::kNew ||
                        u->status == engine::OrderStatus::kPartiallyFilled;
      x.on_book = open && (o.working || u->exec == engine::ExecType::kTriggered);
      if (u->exec == engine::ExecType::kCanceled) {
        // c is the cancel's own id when it had one; C always the order's (Binance, ccxt).
        x.orig_client_id = o.client_order_id;
        if (auto it = cancel_ids.find(u->order_id); it != cancel_ids.end()) {
          x.client_id = it->second;
        }
      }
      if (u->exec == engine::ExecType::kTrade) {
        x.last_qty = u->last_qty.v;
        x.last_price = u->last_price.v;
        x.trade_id = u->trade_id;
        x.maker = u->is_maker;
        x.commission = u->commission.v;
        x.commission_asset = assets_(u->commission_asset);
        if (!x.commission_asset) {
          x.commission_asset =
              AssetInfo{"?", o.side == engine::Side::kBuy ? s->base_scale : s->quote_scale};
        }
        x.last_quote = fill != nullptr ? fill->quote_qty.v : 0;
      }
      if (u->exec == engine::ExecType::kTradePrevention) {
        x.prevented_match_id = u->prevented_match_id;
        if (auto it = prevented.find(u->prevented_match_id); it != prevented.end()) {
          x.prevented = it->second;
        }
      }
      out.For(u->account).events.push_back(ExecutionReport(event_ms, *s, o, x));
    } else if (const auto* m = r.If<engine::OrderAmended>()) {
      auto s = symbols_(m->symbol);
      if (!s) {
        continue;
      }
      OrderRecord o = record(m->account, m->symbol, m->order_id, nullptr);
      Exec x;
      x.exec = engine::ExecType::kReplaced;
      x.status = m->status;
      x.client_id = m->new_client_order_id.len > 0 ? std::string(m->new_client_order_id.view())
                                                   : std::string(m->orig_client_order_id.view());
      x.orig_client_id = std::string(m->orig_client_order_id.view());
      x.qty = m->new_qty.v;
      x.cum_qty = m->executed_qty.v;
      x.cum_quote = o.cum_quote_qty;
      x.exec_id = exec_id;
      x.on_book = true;
      out.For(m->account).events.push_back(ExecutionReport(event_ms, *s, o, x));
    } else if (const auto* l = r.If<engine::OrderList>()) {
      auto s = symbols_(l->symbol);
      if (!s) {
        continue;
      }
      std::string legs[2];
      for (int i = 0; i < 2; ++i) {
        if (auto o = history_.FindOrder(l->account, l->symbol, l->order_ids[i], "")) {
          legs[i] = o->client_order_id;
        }
      }
      out.For(l->account).events.push_back(ListStatus(event_ms, *s, *l, legs));
    } else if (const auto* t = r.If<engine::Transfer>()) {
      auto asset = assets_(t->asset);
      if (!asset) {
        continue;
      }
      std::string e = Open("balanceUpdate", event_ms);
      Text(e, "a", asset->name);
      Dec(e, "d", t->amount.v, asset->scale);
      Int(e, "T", t->time_ms != 0 ? t->time_ms : event_ms);
      e += '}';
      out.For(t->account).events.push_back(std::move(e));
    } else if (const auto* b = r.If<engine::BalanceChanged>()) {
      if (b->account == engine::kFeeAccount) {
        continue;  // the exchange's commission account is nobody's stream
      }
      (void)out.For(b->account);  // keeps the accounts in order of first appearance
      balances.push_back(
          Balance{static_cast<int64_t>(b->account), b->asset, b->free.v, b->locked.v});
    }
  }
  // One outboundAccountPosition per account, after its other events.
  std::vector<AccountEvents> result = out.Take();
  for (AccountEvents& a : result) {
    std::string e;
    for (const Balance& b : balances) {
      if (b.account != a.account) {
        continue;
      }
      auto asset = assets_(b.asset);
      if (!asset) {
        continue;
      }
      if (e.empty()) {
        e = Open("outboundAccountPosition", event_ms);
        Int(e, "u", event_ms);
        e += ",\"B\":[";
      } else {
        e += ',';
      }
      e += "{\"a\":";
      http::AppendJsonString(e, asset->name);
      Dec(e, "f", b.free, asset->scale);
      Dec(e, "l", b.locked, asset->scale);
      e += '}';
    }
    if (!e.empty()) {
      e += "]}";
      a.events.push_back(std::move(e));
    }
  }
  std::erase_if(result, [](const AccountEvents& a) { return a.events.empty(); });
  return result;
}

}  // namespace spotex::gateway::userdata
