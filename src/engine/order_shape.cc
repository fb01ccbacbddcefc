#include "engine/order_shape.h"

namespace spotex::engine {

namespace {

std::optional<ShapeError> Fail(RejectCode code, std::string_view param = {}) {
  return ShapeError{code, param};
}

// The first of the given amounts that was sent, as a kParamNotRequired error.
std::optional<ShapeError> NotRequired(const NewOrder& o, bool price, bool stop, bool quote,
                                      bool iceberg) {
  if (price && o.price.v != 0) return Fail(RejectCode::kParamNotRequired, "price");
  if (stop && o.stop_price.v != 0) return Fail(RejectCode::kParamNotRequired, "stopPrice");
  if (quote && o.quote_qty.v != 0) return Fail(RejectCode::kParamNotRequired, "quoteOrderQty");
  if (iceberg && o.iceberg_qty.v != 0) return Fail(RejectCode::kParamNotRequired, "icebergQty");
  return std::nullopt;
}

}  // namespace

std::optional<ShapeError> CheckOrderShape(const NewOrder& o, const SymbolConfig& config) {
  const bool priced = o.type == OrderType::kLimit || o.type == OrderType::kLimitMaker ||
                      o.type == OrderType::kStopLossLimit || o.type == OrderType::kTakeProfitLimit;
  const bool tif_sent = o.tif != TimeInForce::kNone;
  switch (o.type) {
    case OrderType::kLimit:
    case OrderType::kLimitMaker:
      if (o.type == OrderType::kLimit && !tif_sent) return Fail(RejectCode::kMissingTimeInForce);
      if (o.type == OrderType::kLimitMaker && tif_sent) {
        return Fail(RejectCode::kTimeInForceNotRequired);
      }
      if (o.price.v == 0) return Fail(RejectCode::kMissingPrice);
      if (o.qty.v == 0) return Fail(RejectCode::kMissingQuantity);
      if (auto e = NotRequired(o, false, true, true, false)) return e;
      break;
    case OrderType::kMarket:
      if (tif_sent) return Fail(RejectCode::kTimeInForceNotRequired);
      if (auto e = NotRequired(o, true, true, false, true)) return e;
      if (o.qty.v == 0 && o.quote_qty.v == 0) return Fail(RejectCode::kMissingQtyOrQuoteQty);
      if (o.qty.v != 0 && o.quote_qty.v != 0) return Fail(RejectCode::kUnsupportedCombination);
      if (o.quote_qty.v > 0 && !config.quote_order_qty_market_allowed) {
        return Fail(RejectCode::kQuoteQtyNotAllowed);
      }
      break;
    case OrderType::kStopLoss:
    case OrderType::kTakeProfit:
      if (tif_sent) return Fail(RejectCode::kTimeInForceNotRequired);
      if (o.stop_price.v == 0) return Fail(RejectCode::kMissingStopPrice);
      if (o.qty.v == 0) return Fail(RejectCode::kMissingQuantity);
      if (auto e = NotRequired(o, true, false, true, true)) return e;
      break;
    case OrderType::kStopLossLimit:
    case OrderType::kTakeProfitLimit:
      if (!tif_sent) return Fail(RejectCode::kMissingTimeInForce);
      if (o.stop_price.v == 0) return Fail(RejectCode::kMissingStopPrice);
      if (o.price.v == 0) return Fail(RejectCode::kMissingPrice);
      if (o.qty.v == 0) return Fail(RejectCode::kMissingQuantity);
      if (auto e = NotRequired(o, false, false, true, false)) return e;
      break;
  }
  if (o.iceberg_qty.v > 0) {
    if (!config.iceberg_allowed) return Fail(RejectCode::kIcebergNotAllowed);
    if (!priced) return Fail(RejectCode::kUnsupportedCombination);
    const TimeInForce need =
        o.type == OrderType::kLimitMaker ? TimeInForce::kNone : TimeInForce::kGtc;
    if (o.tif != need) return Fail(RejectCode::kUnsupportedCombination);
    if (o.iceberg_qty >= o.qty) return Fail(RejectCode::kIcebergExceedsQty);
  }
  return std::nullopt;
}

}  // namespace spotex::engine
