// The engine's query answers, read by the gateway: the default markets round-trip into
// exchangeInfo with Binance's filter shapes; a book answer seeds market data exactly.
#include "gateway/market/engine_json.h"

#include <gtest/gtest.h>

#include "config/markets.h"
#include "engine/engine.h"
#include "service/query.h"

namespace spotex::gateway {
namespace {

class EngineJsonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cmds = config::LoadMarkets(std::string(SPOTEX_SOURCE_DIR) + "/etc/markets.toml");
    ASSERT_TRUE(cmds) << cmds.error().message;
    for (const auto& body : *cmds) Apply(body);
  }
  void Apply(engine::CommandBody body) {
    engine::Command c{++seq_, 1'767'225'600'000, body};
    ASSERT_EQ(engine_.Apply(c).code, engine::RejectCode::kNone);
  }
  std::string Query(std::string_view q) { return service::AnswerQuery(engine_, {}, q); }
  engine::Engine engine_;
  uint64_t seq_ = 0;
};

TEST_F(EngineJsonTest, SymbolsBecomeExchangeInfo) {
  auto symbols = ParseSymbols(Query("symbols"));
  ASSERT_TRUE(symbols) << symbols.error();
  ASSERT_EQ(symbols->size(), 4u);
  const auto& btc = (*symbols)[0];
  EXPECT_EQ(btc.info.name, "BTCUSDT");
  EXPECT_EQ(btc.info.base_asset, "BTC");
  EXPECT_EQ(btc.info.quote_asset, "USDT");
  EXPECT_EQ(btc.info.base_scale, 8);
  EXPECT_EQ(btc.tick_size, "0.01000000");
  EXPECT_EQ(btc.default_stp, "EXPIRE_MAKER");
  std::string info = RenderExchangeInfo(*symbols, 1'767'225'600'000);
  EXPECT_NE(info.find("{\"filterType\":\"PRICE_FILTER\",\"minPrice\":\"0.01000000\",\"maxPrice\":"
                      "\"1000000.00000000\",\"tickSize\":\"0.01000000\"}"),
            std::string::npos)
      << info;
  EXPECT_NE(info.find("{\"filterType\":\"LOT_SIZE\",\"minQty\":\"0.00001000\",\"maxQty\":"
                      "\"9000.00000000\",\"stepSize\":\"0.00001000\"}"),
            std::string::npos);
  EXPECT_NE(info.find("{\"filterType\":\"NOTIONAL\",\"minNotional\":\"5.00000000\","
                      "\"applyMinToMarket\":true,\"maxNotional\":\"9000000.00000000\","
                      "\"applyMaxToMarket\":false,\"avgPriceMins\":5}"),
            std::string::npos);
  EXPECT_NE(info.find("\"symbol\":\"ETHBTC\",\"status\":\"TRADING\",\"baseAsset\":\"ETH\""),
            std::string::npos);
  // rateLimits announces the limits the gateway enforces.
  EXPECT_NE(info.find("\"rateLimits\":[{\"rateLimitType\":\"REQUEST_WEIGHT\",\"interval\":"
                      "\"MINUTE\",\"intervalNum\":1,\"limit\":6000},"),
            std::string::npos)
      << info;
  std::string raised = RenderExchangeInfo(*symbols, 1, AnnouncedLimits{9000, 50, 1000});
  EXPECT_NE(raised.find("\"limit\":9000},{\"rateLimitType\":\"ORDERS\",\"interval\":\"SECOND\","
                        "\"intervalNum\":10,\"limit\":50},{\"rateLimitType\":\"ORDERS\","
                        "\"interval\":\"DAY\",\"intervalNum\":1,\"limit\":1000}]"),
            std::string::npos)
      << raised;
  EXPECT_FALSE(ParseSymbols("{\"symbols\":[{\"id\":1}]}"));
  EXPECT_FALSE(ParseSymbols("not json"));
}

TEST_F(EngineJsonTest, BookAnswerSeedsExactly) {
  Apply(engine::OpenAccount{1});
  Apply(engine::Deposit{1, 0, engine::Amount{10'00000000}});
  engine::NewOrder o;
  o.account = 1;
  o.side = engine::Side::kSell;
  o.type = engine::OrderType::kLimit;
  o.tif = engine::TimeInForce::kGtc;
  o.price = engine::Price{6'500'001'000'000};
  o.qty = engine::Qty{12'345'000};
  Apply(engine::PlaceOrder{o});
  auto symbols = ParseSymbols(Query("symbols"));
  ASSERT_TRUE(symbols);
  auto book = ParseBook(Query("book BTCUSDT 10"), (*symbols)[0].info);
  ASSERT_TRUE(book) << book.error();
  EXPECT_EQ(book->last_update_id, engine_.Book(0, 10)->last_update_id);
  ASSERT_EQ(book->asks.size(), 1u);
  EXPECT_EQ(book->asks[0].price, 6'500'001'000'000);
  EXPECT_EQ(book->asks[0].qty, 12'345'000);
  EXPECT_TRUE(book->bids.empty());
  EXPECT_FALSE(
      ParseBook("{\"lastUpdateId\":1,\"bids\":[[\"1e3\",\"1\"]],\"asks\":[]}", (*symbols)[0].info));
}

}  // namespace
}  // namespace spotex::gateway
