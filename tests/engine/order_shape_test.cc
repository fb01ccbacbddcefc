// engine::CheckOrderShape: the per-type parameter rules, shared by the engine and the gateway.
// (The engine's scenario tests check the same rules through Apply; this pins the parameter
// names the gateway puts in its -1106 messages.)
#include "engine/order_shape.h"

#include <gtest/gtest.h>

namespace spotex::engine {
namespace {

NewOrder Order(OrderType type) {
  NewOrder o;
  o.type = type;
  o.side = Side::kBuy;
  o.qty = Qty{100};
  return o;
}

std::optional<RejectCode> Code(const NewOrder& o, const SymbolConfig& c = {}) {
  auto e = CheckOrderShape(o, c);
  return e ? std::optional(e->code) : std::nullopt;
}

TEST(OrderShape, LimitNeedsTimeInForcePriceAndQuantity) {
  NewOrder o = Order(OrderType::kLimit);
  EXPECT_EQ(Code(o), RejectCode::kMissingTimeInForce);
  o.tif = TimeInForce::kGtc;
  EXPECT_EQ(Code(o), RejectCode::kMissingPrice);
  o.price = Price{5};
  EXPECT_EQ(Code(o), std::nullopt);
  o.stop_price = Price{4};
  auto e = CheckOrderShape(o, {});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, RejectCode::kParamNotRequired);
  EXPECT_EQ(e->param, "stopPrice");
}

TEST(OrderShape, MarketNamesTheParameterThatMustNotBeSent) {
  NewOrder o = Order(OrderType::kMarket);
  EXPECT_EQ(Code(o), std::nullopt);
  o.tif = TimeInForce::kGtc;
  EXPECT_EQ(Code(o), RejectCode::kTimeInForceNotRequired);
  o.tif = TimeInForce::kNone;
  o.price = Price{5};
  auto e = CheckOrderShape(o, {});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->param, "price");
  o.price = Price{};
  o.iceberg_qty = Qty{10};
  EXPECT_EQ(CheckOrderShape(o, {})->param, "icebergQty");
  o.iceberg_qty = Qty{};
  o.quote_qty = Amount{7};
  EXPECT_EQ(Code(o), RejectCode::kUnsupportedCombination);  // quantity and quoteOrderQty
  o.qty = Qty{};
  EXPECT_EQ(Code(o), std::nullopt);
  SymbolConfig no_quote;
  no_quote.quote_order_qty_market_allowed = false;
  EXPECT_EQ(Code(o, no_quote), RejectCode::kQuoteQtyNotAllowed);
  o.quote_qty = Amount{};
  EXPECT_EQ(Code(o), RejectCode::kMissingQtyOrQuoteQty);
}

TEST(OrderShape, StopsAndIcebergs) {
  NewOrder o = Order(OrderType::kStopLoss);
  EXPECT_EQ(Code(o), RejectCode::kMissingStopPrice);
  o.stop_price = Price{5};
  EXPECT_EQ(Code(o), std::nullopt);
  o.price = Price{5};
  EXPECT_EQ(CheckOrderShape(o, {})->param, "price");

  NewOrder i = Order(OrderType::kLimit);
  i.tif = TimeInForce::kGtc;
  i.price = Price{5};
  i.iceberg_qty = Qty{10};
  EXPECT_EQ(Code(i), std::nullopt);
  SymbolConfig no_iceberg;
  no_iceberg.iceberg_allowed = false;
  EXPECT_EQ(Code(i, no_iceberg), RejectCode::kIcebergNotAllowed);
  i.tif = TimeInForce::kIoc;
  EXPECT_EQ(Code(i), RejectCode::kUnsupportedCombination);
  i.tif = TimeInForce::kGtc;
  i.iceberg_qty = Qty{100};
  EXPECT_EQ(Code(i), RejectCode::kIcebergExceedsQty);
}

}  // namespace
}  // namespace spotex::engine
