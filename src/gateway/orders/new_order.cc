#include "gateway/orders/new_order.h"

#include <vector>

#include "core/decimal.h"
#include "engine/event.h"
#include "engine/reject.h"

namespace spotex::gateway {

namespace {

using engine::OrderType;
using engine::Side;
using engine::StpMode;
using engine::TimeInForce;

ApiError Err(int code, std::string msg) { return ApiError{code, 400, std::move(msg)}; }

ApiError Missing(std::string_view name) {
  return Err(-1102, "Mandatory parameter '" + std::string(name) +
                        "' was not sent, was empty/null, or malformed.");
}

// A decimal parameter at `scale`; 0 when absent. Zero sent explicitly is invalid.
std::expected<int64_t, ApiError> Decimal(const ParamLookup& param, std::string_view name, int scale,
                                         std::string_view zero_msg) {
  auto v = param(name);
  if (!v) return 0;
  if (v->empty()) return std::unexpected(Missing(name));
  auto d = core::ParseDecimal(*v, scale);
  if (!d) {
    if (d.error() == core::DecimalError::kTooPrecise) {
      return std::unexpected(
          Err(-1111, "Parameter '" + std::string(name) + "' has too much precision."));
    }
    return std::unexpected(Err(-1100, "Illegal characters found in parameter '" +
                                          std::string(name) +
                                          "'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'."));
  }
  if (*d == 0) return std::unexpected(Err(-1013, std::string(zero_msg)));
  return *d;
}

std::string Dec(int64_t units, int scale) { return core::FormatDecimal(units, scale); }

void Str(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

}  // namespace

std::expected<NewOrderRequest, ApiError> ParseNewOrder(const ParamLookup& param,
                                                       const SymbolInfo& symbol,
                                                       engine::AccountId account,
                                                       std::string_view generated_client_id) {
  NewOrderRequest req;
  engine::NewOrder& o = req.order;
  o.account = account;
  o.symbol = symbol.id;

  auto side = param("side");
  if (!side || side->empty()) return std::unexpected(Missing("side"));
  if (*side == "BUY") {
    o.side = Side::kBuy;
  } else if (*side == "SELL") {
    o.side = Side::kSell;
  } else {
    return std::unexpected(Err(-1117, "Invalid side."));
  }

  auto type = param("type");
  if (!type || type->empty()) return std::unexpected(Missing("type"));
  static constexpr std::pair<std::string_view, OrderType> kTypes[] = {
      {"LIMIT", OrderType::kLimit},
      {"MARKET", OrderType::kMarket},
      {"STOP_LOSS", OrderType::kStopLoss},
      {"STOP_LOSS_LIMIT", OrderType::kStopLossLimit},
      {"TAKE_PROFIT", OrderType::kTakeProfit},
      {"TAKE_PROFIT_LIMIT", OrderType::kTakeProfitLimit},
      {"LIMIT_MAKER", OrderType::kLimitMaker}};
  bool found = false;
  for (const auto& [name, t] : kTypes) {
    if (*type == name) {
      o.type = t;
      found = true;
    }
  }
  if (!found) return std::unexpected(Err(-1116, "Invalid orderType."));

  if (auto tif = param("timeInForce")) {
    if (*tif == "GTC") {
      o.tif = TimeInForce::kGtc;
    } else if (*tif == "IOC") {
      o.tif = TimeInForce::kIoc;
    } else if (*tif == "FOK") {
      o.tif = TimeInForce::kFok;
    } else {
      return std::unexpected(Err(-1115, "Invalid timeInForce."));
    }
  }

  auto qty = Decimal(param, "quantity", symbol.base_scale, "Invalid quantity.");
  if (!qty) return std::unexpected(qty.error());
  o.qty = engine::Qty{*qty};
  auto quote_qty = Decimal(param, "quoteOrderQty", symbol.quote_scale, "Invalid quantity.");
  if (!quote_qty) return std::unexpected(quote_qty.error());
  o.quote_qty = engine::Amount{*quote_qty};
  auto price = Decimal(param, "price", symbol.quote_scale, "Invalid price.");
  if (!price) return std::unexpected(price.error());
  o.price = engine::Price{*price};
  auto stop = Decimal(param, "stopPrice", symbol.quote_scale, "Invalid stopPrice.");
  if (!stop) return std::unexpected(stop.error());
  o.stop_price = engine::Price{*stop};
  auto iceberg = Decimal(param, "icebergQty", symbol.base_scale, "Invalid icebergQty.");
  if (!iceberg) return std::unexpected(iceberg.error());
  o.iceberg_qty = engine::Qty{*iceberg};

  if (auto stp = param("selfTradePreventionMode")) {
    static constexpr std::pair<std::string_view, StpMode> kModes[] = {
        {"NONE", StpMode::kNone},
        {"EXPIRE_TAKER", StpMode::kExpireTaker},
        {"EXPIRE_MAKER", StpMode::kExpireMaker},
        {"EXPIRE_BOTH", StpMode::kExpireBoth}};
    bool ok = false;
    for (const auto& [name, m] : kModes) {
      if (*stp == name) {
        o.stp = m;
        ok = true;
      }
    }
    if (!ok) {
      return std::unexpected(
          Err(-1130, "Data sent for parameter 'selfTradePreventionMode' is not valid."));
    }
  }

  // Features Spotex does not offer are refused by name, never silently ignored.
  for (std::string_view name : {"trailingDelta", "strategyId", "strategyType", "pegPriceType",
                                "pegOffsetValue", "pegOffsetType"}) {
    if (param(name)) {
      return std::unexpected(
          Err(-1106, "Parameter '" + std::string(name) + "' sent when not required."));
    }
  }

  std::string_view cid = generated_client_id;
  if (auto sent = param("newClientOrderId"); sent && !sent->empty()) cid = *sent;
  if (!o.client_order_id.Assign(cid)) {
    return std::unexpected(
        Err(-1100,
            "Illegal characters found in parameter 'newClientOrderId'; legal range is "
            "'^[\\.A-Z\\:/a-z0-9_-]{1,36}$'."));
  }

  req.resp = (o.type == OrderType::kLimit || o.type == OrderType::kMarket) ? RespType::kFull
                                                                           : RespType::kAck;
  if (auto rt = param("newOrderRespType")) {
    if (*rt == "ACK") {
      req.resp = RespType::kAck;
    } else if (*rt == "RESULT") {
      req.resp = RespType::kResult;
    } else if (*rt == "FULL") {
      req.resp = RespType::kFull;
    } else {
      return std::unexpected(
          Err(-1130, "Data sent for parameter 'newOrderRespType' is not valid."));
    }
  }
  return req;
}

std::optional<ApiError> RejectionOf(const proto::Envelope& envelope) {
  const auto& h = envelope.header();
  if (h.code == engine::RejectCode::kNone) return std::nullopt;
  if (h.malformed)
    return ApiError{-1000, 500, "An unknown error occurred while processing the request."};
  auto b = engine::ToBinance(h.code);
  return ApiError{b.code, b.http, std::string(b.msg)};
}

std::string RenderNewOrder(const proto::Envelope& envelope, const NewOrderRequest& request,
                           const SymbolInfo& symbol, RespType resp) {
  const auto& h = envelope.header();
  const engine::OrderId id = h.order_id;
  const engine::OrderAccepted* accepted = nullptr;
  const engine::OrderUpdate* last = nullptr;
  struct Fill {
    int64_t price, qty, commission, trade_id;
    bool base_commission;
  };
  std::vector<Fill> fills;
  for (auto r = envelope.reader(); !r.Done(); r.Next()) {
    if (const auto* a = r.If<engine::OrderAccepted>(); a && a->order_id == id) accepted = a;
    if (const auto* u = r.If<engine::OrderUpdate>(); u && u->order_id == id) last = u;
    if (const auto* t = r.If<engine::Trade>()) {
      if (t->buyer_order_id == id) {
        fills.push_back({t->price.v, t->qty.v, t->buyer_commission.v, t->trade_id, true});
      } else if (t->seller_order_id == id) {
        fills.push_back({t->price.v, t->qty.v, t->seller_commission.v, t->trade_id, false});
      }
    }
  }
  std::string out = "{\"symbol\":";
  Str(out, symbol.name);
  out += ",\"orderId\":" + std::to_string(id);
  out += ",\"orderListId\":-1,\"clientOrderId\":";
  Str(out, accepted != nullptr ? accepted->client_order_id.view()
                               : request.order.client_order_id.view());
  out += ",\"transactTime\":" + std::to_string(h.time_ms);
  if (resp == RespType::kAck || accepted == nullptr) {
    out += '}';
    return out;
  }
  const auto& a = *accepted;
  const int qs = symbol.quote_scale, bs = symbol.base_scale;
  engine::OrderStatus status = last != nullptr ? last->status : a.status;
  int64_t executed = last != nullptr ? last->executed_qty.v : 0;
  int64_t cum_quote = last != nullptr ? last->cum_quote_qty.v : 0;
  out += ",\"price\":\"" + Dec(a.price.v, qs) + "\"";
  out += ",\"origQty\":\"" + Dec(a.qty.v, bs) + "\"";
  out += ",\"executedQty\":\"" + Dec(executed, bs) + "\"";
  out += ",\"origQuoteOrderQty\":\"" + Dec(a.quote_qty.v, qs) + "\"";
  out += ",\"cummulativeQuoteQty\":\"" + Dec(cum_quote, qs) + "\"";
  out += ",\"status\":";
  Str(out, engine::ToString(status));
  out += ",\"timeInForce\":";
  Str(out, a.tif == engine::TimeInForce::kNone ? "GTC" : engine::ToString(a.tif));
  out += ",\"type\":";
  Str(out, engine::ToString(a.type));
  out += ",\"side\":";
  Str(out, engine::ToString(a.side));
  if (a.stop_price.v != 0) out += ",\"stopPrice\":\"" + Dec(a.stop_price.v, qs) + "\"";
  if (a.iceberg_qty.v != 0) out += ",\"icebergQty\":\"" + Dec(a.iceberg_qty.v, bs) + "\"";
  out += ",\"workingTime\":" + (a.working ? std::to_string(a.time_ms) : std::string("-1"));
  out += ",\"selfTradePreventionMode\":";
  Str(out, engine::ToString(a.stp));
  if (resp == RespType::kFull) {
    out += ",\"fills\":[";
    for (size_t i = 0; i < fills.size(); ++i) {
      const auto& f = fills[i];
      if (i > 0) out += ',';
      out += "{\"price\":\"" + Dec(f.price, qs) + "\",\"qty\":\"" + Dec(f.qty, bs) +
             "\",\"commission\":\"" + Dec(f.commission, f.base_commission ? bs : qs) +
             "\",\"commissionAsset\":";
      Str(out, f.base_commission ? symbol.base_asset : symbol.quote_asset);
      out += ",\"tradeId\":" + std::to_string(f.trade_id) + "}";
    }
    out += ']';
  }
  out += '}';
  return out;
}

}  // namespace spotex::gateway
