#include "service/query.h"

#include <charconv>
#include <optional>
#include <vector>

#include "core/decimal.h"

namespace spotex::service {

namespace {

using engine::Engine;

std::vector<std::string_view> Words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t' && s[j] != '\n' && s[j] != '\r') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::optional<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// Appends `s` as a JSON string literal.
void Str(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

void Dec(std::string& out, int64_t units, int scale) {
  char buf[core::kDecimalMaxChars];
  size_t n = core::FormatDecimalTo(buf, units, scale);
  out += '"';
  out.append(buf, n);
  out += '"';
}

void Int(std::string& out, int64_t v) { out += std::to_string(v); }
void UInt(std::string& out, uint64_t v) { out += std::to_string(v); }

std::string Error(std::string_view msg) {
  std::string out = "{\"error\":";
  Str(out, msg);
  out += '}';
  return out;
}

int ScaleOf(const Engine& e, engine::AssetId asset) {
  for (const auto& a : e.Assets()) {
    if (a.id == asset) return a.scale;
  }
  return 0;
}

struct SymbolScales {
  engine::SymbolId id;
  int base;
  int quote;
};

std::optional<SymbolScales> FindSymbol(const Engine& e, std::string_view name) {
  auto id = e.FindSymbol(name);
  if (!id) return std::nullopt;
  for (const auto& s : e.Symbols()) {
    if (s.id == *id) {
      return SymbolScales{*id, ScaleOf(e, s.config.base_asset), ScaleOf(e, s.config.quote_asset)};
    }
  }
  return std::nullopt;
}

std::string SymbolName(const Engine& e, engine::SymbolId id) {
  for (const auto& s : e.Symbols()) {
    if (s.id == id) return std::string(s.config.name.view());
  }
  return {};
}

void OrderJson(std::string& out, const Engine& e, const engine::OrderView& o) {
  int bs = 0, qs = 0;
  for (const auto& s : e.Symbols()) {
    if (s.id == o.symbol) {
      bs = ScaleOf(e, s.config.base_asset);
      qs = ScaleOf(e, s.config.quote_asset);
    }
  }
  out += "{\"orderId\":";
  Int(out, o.order_id);
  out += ",\"orderListId\":";
  Int(out, o.order_list_id);
  out += ",\"account\":";
  UInt(out, o.account);
  out += ",\"symbol\":";
  Str(out, SymbolName(e, o.symbol));
  out += ",\"clientOrderId\":";
  Str(out, o.client_order_id.view());
  out += ",\"side\":";
  Str(out, engine::ToString(o.side));
  out += ",\"type\":";
  Str(out, engine::ToString(o.type));
  out += ",\"timeInForce\":";
  Str(out, engine::ToString(o.tif));
  out += ",\"selfTradePreventionMode\":";
  Str(out, engine::ToString(o.stp));
  out += ",\"status\":";
  Str(out, engine::ToString(o.status));
  out += ",\"isWorking\":";
  out += o.working ? "true" : "false";
  out += ",\"price\":";
  Dec(out, o.price.v, qs);
  out += ",\"origQty\":";
  Dec(out, o.qty.v, bs);
  out += ",\"origQuoteOrderQty\":";
  Dec(out, o.quote_qty.v, qs);
  out += ",\"stopPrice\":";
  Dec(out, o.stop_price.v, qs);
  out += ",\"icebergQty\":";
  Dec(out, o.iceberg_qty.v, bs);
  out += ",\"executedQty\":";
  Dec(out, o.executed_qty.v, bs);
  out += ",\"cummulativeQuoteQty\":";
  Dec(out, o.cum_quote_qty.v, qs);
  out += ",\"time\":";
  Int(out, o.time_ms);
  out += ",\"updateTime\":";
  Int(out, o.update_ms);
  out += '}';
}

std::string Status(const Engine& e, const ServiceStatus& st) {
  std::string out = "{\"shard\":";
  UInt(out, st.shard);
  out += ",\"logSeq\":";
  UInt(out, st.log_seq);
  out += ",\"engineSeq\":";
  UInt(out, e.last_seq());
  out += ",\"journalSeq\":";
  UInt(out, st.journal_seq);
  out += ",\"snapshotSeq\":";
  UInt(out, st.snapshot_seq);
  out += ",\"stateHash\":\"";
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(e.StateHash()));
  out += buf;
  out += "\",\"commands\":";
  UInt(out, st.commands);
  out += ",\"malformed\":";
  UInt(out, st.malformed);
  out += '}';
  return out;
}

std::string Assets(const Engine& e) {
  std::string out = "{\"assets\":[";
  bool first = true;
  for (const auto& a : e.Assets()) {
    if (!first) out += ',';
    first = false;
    out += "{\"id\":";
    UInt(out, a.id);
    out += ",\"name\":";
    Str(out, a.name.view());
    out += ",\"scale\":";
    Int(out, a.scale);
    out += '}';
  }
  out += "]}";
  return out;
}

std::string Symbols(const Engine& e) {
  const auto assets = e.Assets();
  std::string out = "{\"symbols\":[";
  bool first = true;
  for (const auto& s : e.Symbols()) {
    if (!first) out += ',';
    first = false;
    int bs = ScaleOf(e, s.config.base_asset), qs = ScaleOf(e, s.config.quote_asset);
    const auto& f = s.config.filters;
    out += "{\"id\":";
    UInt(out, s.id);
    out += ",\"symbol\":";
    Str(out, s.config.name.view());
    out += ",\"status\":";
    Str(out, engine::ToString(s.config.status));
    out += ",\"baseAssetId\":";
    UInt(out, s.config.base_asset);
    out += ",\"quoteAssetId\":";
    UInt(out, s.config.quote_asset);
    for (const auto& a : assets) {
      if (a.id == s.config.base_asset) {
        out += ",\"baseAsset\":";
        Str(out, a.name.view());
      }
    }
    for (const auto& a : assets) {
      if (a.id == s.config.quote_asset) {
        out += ",\"quoteAsset\":";
        Str(out, a.name.view());
      }
    }
    out += ",\"baseScale\":";
    Int(out, bs);
    out += ",\"quoteScale\":";
    Int(out, qs);
    auto dec = [&](const char* key, int64_t v, int scale) {
      out += ",\"";
      out += key;
      out += "\":";
      Dec(out, v, scale);
    };
    auto num = [&](const char* key, int64_t v) {
      out += ",\"";
      out += key;
      out += "\":";
      Int(out, v);
    };
    auto flag = [&](const char* key, bool v) {
      out += ",\"";
      out += key;
      out += v ? "\":true" : "\":false";
    };
    dec("minPrice", f.min_price.v, qs);
    dec("maxPrice", f.max_price.v, qs);
    dec("tickSize", f.tick_size.v, qs);
    dec("minQty", f.min_qty.v, bs);
    dec("maxQty", f.max_qty.v, bs);
    dec("stepSize", f.step_size.v, bs);
    dec("marketMinQty", f.market_min_qty.v, bs);
    dec("marketMaxQty", f.market_max_qty.v, bs);
    dec("marketStepSize", f.market_step_size.v, bs);
    dec("minNotional", f.min_notional.v, qs);
    dec("maxNotional", f.max_notional.v, qs);
    flag("applyMinToMarket", f.apply_min_to_market);
    flag("applyMaxToMarket", f.apply_max_to_market);
    flag("legacyMinNotional", f.legacy_min_notional);
    num("avgPriceMins", f.avg_price_mins);
    dec("bidMultiplierUp", f.bid_multiplier_up_e8, 8);
    dec("bidMultiplierDown", f.bid_multiplier_down_e8, 8);
    dec("askMultiplierUp", f.ask_multiplier_up_e8, 8);
    dec("askMultiplierDown", f.ask_multiplier_down_e8, 8);
    num("icebergParts", f.iceberg_parts);
    num("maxNumOrders", f.max_num_orders);
    num("maxNumAlgoOrders", f.max_num_algo_orders);
    flag("icebergAllowed", s.config.iceberg_allowed);
    flag("ocoAllowed", s.config.oco_allowed);
    flag("quoteOrderQtyMarketAllowed", s.config.quote_order_qty_market_allowed);
    flag("cancelReplaceAllowed", s.config.cancel_replace_allowed);
    flag("amendAllowed", s.config.amend_allowed);
    out += ",\"defaultSelfTradePreventionMode\":";
    Str(out, engine::ToString(s.config.default_stp));
    out += ",\"lastPrice\":";
    Dec(out, s.last_price.v, qs);
    out += '}';
  }
  out += "]}";
  return out;
}

// Appends {"account":N,"balances":[...]} for an existing account.
void AccountBalancesJson(std::string& out, const Engine& e,
                         const std::vector<engine::AssetView>& assets, engine::AccountId account) {
  out += "{\"account\":";
  UInt(out, account);
  out += ",\"balances\":[";
  bool first = true;
  for (const auto& b : e.Balances(account)) {
    if (!first) out += ',';
    first = false;
    std::string_view name;
    int scale = 0;
    for (const auto& a : assets) {
      if (a.id == b.asset) {
        name = a.name.view();
        scale = a.scale;
      }
    }
    out += "{\"asset\":";
    Str(out, name);
    out += ",\"free\":";
    Dec(out, b.free.v, scale);
    out += ",\"locked\":";
    Dec(out, b.locked.v, scale);
    out += '}';
  }
  out += "]}";
}

std::string Balances(const Engine& e, engine::AccountId account) {
  if (!e.HasAccount(account)) return Error("unknown account");
  std::string out;
  AccountBalancesJson(out, e, e.Assets(), account);
  return out;
}

// One page of every account's balances: accounts at positions [from, ...) in opening order
// (Engine::AccountsPage), at most `limit` of them and stopping after the account that brings
// the reply to kAllBalancesReplyBytes. "seq" is the engine's last command: the page shows the
// balances right after it. "next" is the position to ask for next, null after the last page.
std::string AllBalances(const Engine& e, uint64_t from, size_t limit) {
  auto assets = e.Assets();
  std::string out = "{\"seq\":";
  UInt(out, e.last_seq());
  out += ",\"accounts\":[";
  size_t taken = 0;
  for (auto id : e.AccountsPage(from, limit)) {
    if (taken > 0) {
      if (out.size() >= kAllBalancesReplyBytes) break;
      out += ',';
    }
    AccountBalancesJson(out, e, assets, id);
    ++taken;
  }
  out += "],\"next\":";
  uint64_t next = from + taken;
  if (next < e.AccountCount()) {
    UInt(out, next);
  } else {
    out += "null";
  }
  out += '}';
  return out;
}

}  // namespace

std::string AnswerQuery(const Engine& e, const ServiceStatus& status, std::string_view request) {
  auto w = Words(request);
  if (w.empty()) return Error("empty query");
  std::string_view q = w[0];
  auto account_arg = [&](size_t i) -> std::optional<engine::AccountId> {
    if (w.size() <= i) return std::nullopt;
    auto v = ParseInt(w[i]);
    if (!v || *v < 0) return std::nullopt;
    return static_cast<engine::AccountId>(*v);
  };
  if (q == "status" && w.size() == 1) return Status(e, status);
  if (q == "assets" && w.size() == 1) return Assets(e);
  if (q == "symbols" && w.size() == 1) return Symbols(e);
  if (q == "asset" && w.size() == 2) {
    for (const auto& a : e.Assets()) {
      if (a.name.view() == w[1]) {
        std::string out = "{\"id\":";
        UInt(out, a.id);
        out += ",\"name\":";
        Str(out, a.name.view());
        out += ",\"scale\":";
        Int(out, a.scale);
        out += '}';
        return out;
      }
    }
    return Error("unknown asset");
  }
  if (q == "symbol" && w.size() == 2) {
    auto sym = FindSymbol(e, w[1]);
    if (!sym) return Error("unknown symbol");
    std::string out = "{\"id\":";
    UInt(out, sym->id);
    out += ",\"baseScale\":";
    Int(out, sym->base);
    out += ",\"quoteScale\":";
    Int(out, sym->quote);
    out += '}';
    return out;
  }
  if (q == "has_account" && w.size() == 2) {
    auto a = account_arg(1);
    if (!a) return Error("bad account id");
    return e.HasAccount(*a) ? "{\"exists\":true}" : "{\"exists\":false}";
  }
  if (q == "balances" && w.size() == 2) {
    auto a = account_arg(1);
    if (!a) return Error("bad account id");
    return Balances(e, *a);
  }
  if (q == "all_balances" && w.size() == 3) {
    auto from = ParseInt(w[1]);
    auto limit = ParseInt(w[2]);
    if (!from || *from < 0) return Error("bad position");
    if (!limit || *limit < 1 || *limit > static_cast<int64_t>(kAllBalancesLimitMax)) {
      return Error("bad limit (1.." + std::to_string(kAllBalancesLimitMax) + ")");
    }
    return AllBalances(e, static_cast<uint64_t>(*from), static_cast<size_t>(*limit));
  }
  if (q == "open_orders" && (w.size() == 2 || w.size() == 3)) {
    auto a = account_arg(1);
    if (!a) return Error("bad account id");
    std::optional<engine::SymbolId> sym;
    if (w.size() == 3) {
      sym = e.FindSymbol(w[2]);
      if (!sym) return Error("unknown symbol");
    }
    std::string out = "{\"orders\":[";
    bool first = true;
    for (const auto& o : e.OpenOrders(*a, sym)) {
      if (!first) out += ',';
      first = false;
      OrderJson(out, e, o);
    }
    out += "]}";
    return out;
  }
  if ((q == "order" || q == "order_by_client_id") && w.size() == 4) {
    auto a = account_arg(1);
    if (!a) return Error("bad account id");
    auto sym = e.FindSymbol(w[2]);
    if (!sym) return Error("unknown symbol");
    std::optional<engine::OrderView> o;
    if (q == "order") {
      auto id = ParseInt(w[3]);
      if (!id || *id <= 0) return Error("bad order id");
      o = e.FindOrder(*a, *sym, *id);
    } else {
      o = e.FindOrder(*a, *sym, 0, w[3]);
    }
    if (!o) return Error("order not open");
    std::string out;
    OrderJson(out, e, *o);
    return out;
  }
  if (q == "book" && (w.size() == 2 || w.size() == 3)) {
    auto sym = FindSymbol(e, w[1]);
    if (!sym) return Error("unknown symbol");
    int64_t depth = 100;
    if (w.size() == 3) {
      auto d = ParseInt(w[2]);
      if (!d || *d < 1 || *d > 5000) return Error("bad depth (1..5000)");
      depth = *d;
    }
    auto book = e.Book(sym->id, static_cast<size_t>(depth));
    if (!book) return Error("unknown symbol");
    std::string out = "{\"lastUpdateId\":";
    Int(out, book->last_update_id);
    auto side = [&](const char* key, const std::vector<engine::LevelView>& levels) {
      out += ",\"";
      out += key;
      out += "\":[";
      bool first = true;
      for (const auto& l : levels) {
        if (!first) out += ',';
        first = false;
        out += '[';
        Dec(out, l.price.v, sym->quote);
        out += ',';
        Dec(out, l.qty.v, sym->base);
        out += ']';
      }
      out += ']';
    };
    side("bids", book->bids);
    side("asks", book->asks);
    out += '}';
    return out;
  }
  return Error("unknown query or wrong arguments: " + std::string(request.substr(0, 80)));
}

}  // namespace spotex::service
