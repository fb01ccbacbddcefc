#include "gateway/trading/trading_json.h"

#include <simdjson.h>

#include "core/decimal.h"
#include "gateway/http/error.h"

namespace spotex::gateway {

namespace {

using simdjson::ondemand::object;

void Dec(std::string& out, std::string_view key, int64_t units, int scale) {
  out += ",\"";
  out += key;
  out += "\":\"";
  out += core::FormatDecimal(units, scale);
  out += '"';
}

void Int(std::string& out, std::string_view key, int64_t v) {
  out += ",\"";
  out += key;
  out += "\":";
  out += std::to_string(v);
}

void Text(std::string& out, std::string_view key, std::string_view v) {
  out += ",\"";
  out += key;
  out += "\":";
  http::AppendJsonString(out, v);
}

std::string_view TifText(engine::TimeInForce tif) {
  // Binance shows GTC for the types that take no timeInForce.
  return tif == engine::TimeInForce::kNone ? "GTC" : engine::ToString(tif);
}

// Opens the object with symbol, orderId, orderListId.
void Head(std::string& out, const OrderRecord& o, const SymbolInfo& s) {
  out += "{\"symbol\":";
  http::AppendJsonString(out, s.name);
  Int(out, "orderId", o.order_id);
  Int(out, "orderListId", o.order_list_id);
}

// price .. selfTradePreventionMode, the fields RESULT, cancels and reports share.
void State(std::string& out, const OrderRecord& o, const SymbolInfo& s) {
  Dec(out, "price", o.price, s.quote_scale);
  Dec(out, "origQty", o.qty, s.base_scale);
  Dec(out, "executedQty", o.executed_qty, s.base_scale);
  Dec(out, "origQuoteOrderQty", o.quote_qty, s.quote_scale);
  Dec(out, "cummulativeQuoteQty", o.cum_quote_qty, s.quote_scale);
  Text(out, "status", engine::ToString(o.status));
  Text(out, "timeInForce", TifText(o.tif));
  Text(out, "type", engine::ToString(o.type));
  Text(out, "side", engine::ToString(o.side));
  if (o.stop_price != 0) {
    Dec(out, "stopPrice", o.stop_price, s.quote_scale);
  }
  if (o.iceberg_qty != 0) {
    Dec(out, "icebergQty", o.iceberg_qty, s.base_scale);
  }
}

template <class E>
bool EnumFrom(std::string_view text, int count, E& out) {
  for (int i = 0; i < count; ++i) {
    auto v = static_cast<E>(i);
    if (engine::ToString(v) == text) {
      out = v;
      return true;
    }
  }
  return false;
}

bool GetText(object& o, std::string_view key, std::string_view& out) {
  return !o.find_field_unordered(key).get_string().get(out);
}
bool GetInt(object& o, std::string_view key, int64_t& out) {
  return !o.find_field_unordered(key).get_int64().get(out);
}
bool GetDec(object& o, std::string_view key, int scale, int64_t& out) {
  std::string_view text;
  if (!GetText(o, key, text)) {
    return false;
  }
  auto d = core::ParseDecimal(text, scale);
  if (!d) {
    return false;
  }
  out = *d;
  return true;
}

}  // namespace

void AppendOrder(std::string& out, const OrderRecord& o, const SymbolInfo& s) {
  Head(out, o, s);
  Text(out, "clientOrderId", o.client_order_id);
  Dec(out, "price", o.price, s.quote_scale);
  Dec(out, "origQty", o.qty, s.base_scale);
  Dec(out, "executedQty", o.executed_qty, s.base_scale);
  Dec(out, "cummulativeQuoteQty", o.cum_quote_qty, s.quote_scale);
  Text(out, "status", engine::ToString(o.status));
  Text(out, "timeInForce", TifText(o.tif));
  Text(out, "type", engine::ToString(o.type));
  Text(out, "side", engine::ToString(o.side));
  Dec(out, "stopPrice", o.stop_price, s.quote_scale);
  Dec(out, "icebergQty", o.iceberg_qty, s.base_scale);
  Int(out, "time", o.time_ms);
  Int(out, "updateTime", o.update_ms);
  out += o.working ? ",\"isWorking\":true" : ",\"isWorking\":false";
  Int(out, "workingTime", o.working ? (o.working_ms > 0 ? o.working_ms : o.time_ms) : -1);
  Dec(out, "origQuoteOrderQty", o.quote_qty, s.quote_scale);
  Text(out, "selfTradePreventionMode", engine::ToString(o.stp));
  out += '}';
}

void AppendCanceledOrder(std::string& out, const OrderRecord& o, const SymbolInfo& s,
                         std::string_view cancel_client_order_id, int64_t transact_time_ms) {
  out += "{\"symbol\":";
  http::AppendJsonString(out, s.name);
  Text(out, "origClientOrderId", o.client_order_id);
  Int(out, "orderId", o.order_id);
  Int(out, "orderListId", o.order_list_id);
  Text(out, "clientOrderId", cancel_client_order_id);
  Int(out, "transactTime", transact_time_ms);
  State(out, o, s);
  Text(out, "selfTradePreventionMode", engine::ToString(o.stp));
  out += '}';
}

void AppendOrderReport(std::string& out, const OrderRecord& o, const SymbolInfo& s,
                       int64_t transact_time_ms) {
  Head(out, o, s);
  Text(out, "clientOrderId", o.client_order_id);
  Int(out, "transactTime", transact_time_ms);
  State(out, o, s);
  Int(out, "workingTime", o.working ? (o.working_ms > 0 ? o.working_ms : o.time_ms) : -1);
  Text(out, "selfTradePreventionMode", engine::ToString(o.stp));
  out += '}';
}

void AppendTrade(std::string& out, const TradeRecord& t, const SymbolInfo& s) {
  out += "{\"symbol\":";
  http::AppendJsonString(out, s.name);
  Int(out, "id", t.id);
  Int(out, "orderId", t.order_id);
  Int(out, "orderListId", t.order_list_id);
  Dec(out, "price", t.price, s.quote_scale);
  Dec(out, "qty", t.qty, s.base_scale);
  Dec(out, "quoteQty", t.quote_qty, s.quote_scale);
  Dec(out, "commission", t.commission, t.commission_in_base ? s.base_scale : s.quote_scale);
  Text(out, "commissionAsset", t.commission_in_base ? s.base_asset : s.quote_asset);
  Int(out, "time", t.time_ms);
  out += t.is_buyer ? ",\"isBuyer\":true" : ",\"isBuyer\":false";
  out += t.is_maker ? ",\"isMaker\":true" : ",\"isMaker\":false";
  out += ",\"isBestMatch\":true}";
}

void AppendOrderList(std::string& out, const OrderListRecord& l, const SymbolInfo& s,
                     const std::vector<OrderRecord>& legs) {
  out += "{\"orderListId\":";
  out += std::to_string(l.order_list_id);
  out += ",\"contingencyType\":\"OCO\"";
  switch (l.status) {
    case engine::ListStatus::kExecuting:
      out += ",\"listStatusType\":\"EXEC_STARTED\",\"listOrderStatus\":\"EXECUTING\"";
      break;
    case engine::ListStatus::kAllDone:
      out += ",\"listStatusType\":\"ALL_DONE\",\"listOrderStatus\":\"ALL_DONE\"";
      break;
    case engine::ListStatus::kReject:
      out += ",\"listStatusType\":\"ALL_DONE\",\"listOrderStatus\":\"REJECT\"";
      break;
  }
  Text(out, "listClientOrderId", l.list_client_order_id);
  Int(out, "transactionTime", l.update_ms != 0 ? l.update_ms : l.time_ms);
  Text(out, "symbol", s.name);
  out += ",\"orders\":[";
  for (int i = 0; i < 2; ++i) {
    if (i > 0) {
      out += ',';
    }
    out += "{\"symbol\":";
    http::AppendJsonString(out, s.name);
    Int(out, "orderId", l.order_ids[i]);
    std::string_view cid;
    for (const auto& leg : legs) {
      if (leg.order_id == l.order_ids[i]) {
        cid = leg.client_order_id;
      }
    }
    Text(out, "clientOrderId", cid);
    out += '}';
  }
  out += "]}";
}

std::expected<std::vector<OrderRecord>, std::string> ParseEngineOrders(
    std::string_view json, const SymbolByName& symbol_of) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc)) {
    return std::unexpected("orders: not JSON");
  }
  std::vector<OrderRecord> out;
  auto one = [&](object& o) -> bool {
    std::string_view sym, cid, side, type, tif, stp, status;
    int64_t account = 0;
    OrderRecord r;
    if (!GetText(o, "symbol", sym)) {
      return false;
    }
    auto info = symbol_of(sym);
    if (!info) {
      return true;  // a symbol this gateway does not know yet: skip the order
    }
    bool working = true;
    bool ok = GetInt(o, "orderId", r.order_id) && GetInt(o, "orderListId", r.order_list_id) &&
              GetInt(o, "account", account) && GetText(o, "clientOrderId", cid) &&
              GetText(o, "side", side) && GetText(o, "type", type) &&
              GetText(o, "timeInForce", tif) && GetText(o, "selfTradePreventionMode", stp) &&
              GetText(o, "status", status) &&
              !o.find_field_unordered("isWorking").get_bool().get(working) &&
              GetDec(o, "price", info->quote_scale, r.price) &&
              GetDec(o, "origQty", info->base_scale, r.qty) &&
              GetDec(o, "origQuoteOrderQty", info->quote_scale, r.quote_qty) &&
              GetDec(o, "stopPrice", info->quote_scale, r.stop_price) &&
              GetDec(o, "icebergQty", info->base_scale, r.iceberg_qty) &&
              GetDec(o, "executedQty", info->base_scale, r.executed_qty) &&
              GetDec(o, "cummulativeQuoteQty", info->quote_scale, r.cum_quote_qty) &&
              GetInt(o, "time", r.time_ms) && GetInt(o, "updateTime", r.update_ms) &&
              EnumFrom(side, 2, r.side) && EnumFrom(type, 7, r.type) &&
              EnumFrom(tif, 4, r.tif) && EnumFrom(stp, 5, r.stp) && EnumFrom(status, 8, r.status);
    if (!ok) {
      return false;
    }
    r.working = working;
    r.working_ms = working ? r.time_ms : -1;
    r.account = static_cast<uint64_t>(account);
    r.symbol = info->id;
    r.client_order_id = std::string(cid);
    out.push_back(std::move(r));
    return true;
  };
  simdjson::ondemand::object root;
  if (doc.get_object().get(root)) {
    return std::unexpected("orders: not an object");
  }
  simdjson::ondemand::array arr;
  if (!root.find_field_unordered("orders").get_array().get(arr)) {
    for (auto item : arr) {
      object o;
      if (item.get_object().get(o) || !one(o)) {
        return std::unexpected("orders: bad entry");
      }
    }
    return out;
  }
  // A single order object (the `order` queries).
  simdjson::ondemand::document doc2;
  if (parser.iterate(padded).get(doc2)) {
    return std::unexpected("order: not JSON");
  }
  object o;
  if (doc2.get_object().get(o) || !one(o)) {
    return std::unexpected("order: bad object");
  }
  return out;
}

std::expected<std::optional<std::vector<BalanceText>>, std::string> ParseEngineBalances(
    std::string_view json) {
  if (auto err = EngineError(json)) {
    if (*err == "unknown account") {
      return std::optional<std::vector<BalanceText>>();
    }
    return std::unexpected("balances: " + *err);
  }
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  simdjson::ondemand::array arr;
  if (parser.iterate(padded).get(doc) || doc["balances"].get_array().get(arr)) {
    return std::unexpected("balances: no array");
  }
  std::vector<BalanceText> out;
  for (auto item : arr) {
    object o;
    std::string_view asset, free, locked;
    if (item.get_object().get(o) || !GetText(o, "asset", asset) || !GetText(o, "free", free) ||
        !GetText(o, "locked", locked)) {
      return std::unexpected("balances: bad entry");
    }
    out.push_back({std::string(asset), std::string(free), std::string(locked)});
  }
  return std::optional<std::vector<BalanceText>>(std::move(out));
}

std::optional<std::string> EngineError(std::string_view json) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  object o;
  std::string_view text;
  if (parser.iterate(padded).get(doc) || doc.get_object().get(o) ||
      o.find_field_unordered("error").get_string().get(text)) {
    return std::nullopt;
  }
  return std::string(text);
}

}  // namespace spotex::gateway
