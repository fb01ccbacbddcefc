// POST /api/v3/order translation: parameters -> engine order (syntax errors with Binance's
// codes), and a real engine's envelope -> ACK / RESULT / FULL JSON.
#include "btcusdt_market.h"
#include "gateway/orders/new_order.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "engine/engine.h"

namespace spotex::gateway {
namespace {

SymbolInfo Btc() { return SymbolInfo{0, "BTCUSDT", "BTC", "USDT", 8, 8}; }

struct Params {
  std::map<std::string, std::string, std::less<>> values;
  ParamLookup lookup() const {
    return [this](std::string_view name) -> std::optional<std::string_view> {
      auto it = values.find(name);
      if (it == values.end()) return std::nullopt;
      return std::string_view(it->second);
    };
  }
};

std::expected<NewOrderRequest, ApiError> Parse(std::map<std::string, std::string, std::less<>> v) {
  Params p{std::move(v)};
  return ParseNewOrder(p.lookup(), Btc(), 7, "gen-1");
}

TEST(ParseNewOrder, ALimitOrderMapsEveryField) {
  auto r = Parse({{"side", "SELL"},
                  {"type", "LIMIT"},
                  {"timeInForce", "GTC"},
                  {"quantity", "0.15"},
                  {"price", "65000.01"},
                  {"newClientOrderId", "x-TKT5PX2F9d1c2b3a4e5f60718293a4"},
                  {"selfTradePreventionMode", "EXPIRE_BOTH"}});
  ASSERT_TRUE(r) << r.error().msg;
  const auto& o = r->order;
  EXPECT_EQ(o.account, 7u);
  EXPECT_EQ(o.side, engine::Side::kSell);
  EXPECT_EQ(o.type, engine::OrderType::kLimit);
  EXPECT_EQ(o.tif, engine::TimeInForce::kGtc);
  EXPECT_EQ(o.qty.v, 15'000'000);
  EXPECT_EQ(o.price.v, 6'500'001'000'000);
  EXPECT_EQ(o.stp, engine::StpMode::kExpireBoth);
  EXPECT_EQ(o.client_order_id.view(), "x-TKT5PX2F9d1c2b3a4e5f60718293a4");
  EXPECT_EQ(r->resp, RespType::kFull);  // LIMIT and MARKET default to FULL
}

TEST(ParseNewOrder, DefaultsAndGeneratedClientId) {
  auto r =
      Parse({{"side", "BUY"}, {"type", "STOP_LOSS"}, {"quantity", "1"}, {"stopPrice", "60000"}});
  ASSERT_TRUE(r) << r.error().msg;
  EXPECT_EQ(r->resp, RespType::kAck);  // other types default to ACK
  EXPECT_EQ(r->order.client_order_id.view(), "gen-1");
  EXPECT_EQ(r->order.stp, engine::StpMode::kDefault);
}

TEST(ParseNewOrder, SyntaxErrorsGetBinanceCodes) {
  struct Case {
    std::map<std::string, std::string, std::less<>> params;
    int code;
    std::string msg;
  } cases[] = {
      {{{"type", "LIMIT"}},
       -1102,
       "Mandatory parameter 'side' was not sent, was empty/null, or malformed."},
      {{{"side", "BUY"}},
       -1102,
       "Mandatory parameter 'type' was not sent, was empty/null, or malformed."},
      {{{"side", "buy"}, {"type", "LIMIT"}}, -1117, "Invalid side."},
      {{{"side", "BUY"}, {"type", "LIMITED"}}, -1116, "Invalid orderType."},
      {{{"side", "BUY"}, {"type", "LIMIT"}, {"timeInForce", "GTD"}}, -1115, "Invalid timeInForce."},
      {{{"side", "BUY"}, {"type", "MARKET"}, {"quantity", "1e3"}},
       -1100,
       "Illegal characters found in parameter 'quantity'; legal range is "
       "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'."},
      {{{"side", "BUY"}, {"type", "MARKET"}, {"quantity", "-1"}}, -1100, ""},
      {{{"side", "BUY"}, {"type", "MARKET"}, {"quantity", "0.123456789"}},
       -1111,
       "Parameter 'quantity' has too much precision."},
      {{{"side", "BUY"}, {"type", "MARKET"}, {"quantity", "0"}}, -1013, "Invalid quantity."},
      {{{"side", "BUY"}, {"type", "LIMIT"}, {"price", ""}},
       -1102,
       "Mandatory parameter 'price' was not sent, was empty/null, or malformed."},
      {{{"side", "BUY"}, {"type", "LIMIT"}, {"newClientOrderId", "bad id!"}}, -1100, ""},
      {{{"side", "BUY"}, {"type", "LIMIT"}, {"newClientOrderId", std::string(37, 'a')}}, -1100, ""},
      {{{"side", "BUY"}, {"type", "LIMIT"}, {"selfTradePreventionMode", "DECREMENT"}}, -1130, ""},
      {{{"side", "BUY"}, {"type", "LIMIT"}, {"newOrderRespType", "BRIEF"}}, -1130, ""},
      {{{"side", "BUY"}, {"type", "STOP_LOSS"}, {"trailingDelta", "100"}},
       -1106,
       "Parameter 'trailingDelta' sent when not required."},
  };
  for (const auto& c : cases) {
    auto r = Parse(c.params);
    ASSERT_FALSE(r) << "code " << c.code;
    EXPECT_EQ(r.error().code, c.code) << r.error().msg;
    if (!c.msg.empty()) {
      EXPECT_EQ(r.error().msg, c.msg);
    }
    EXPECT_EQ(r.error().http_status, 400);
  }
}

class RenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const engine::CommandBody& c : spotex::testing::BtcUsdtMarket()) {
      Apply(c);
    }
    Apply(engine::SetFees{engine::kDefaultsAccount, 100'000, 100'000});  // 0.1 %
    for (engine::AccountId a : {1, 2}) {
      Apply(engine::OpenAccount{a});
      Apply(engine::Deposit{a, 0, engine::Amount{10'00000000}});
      Apply(engine::Deposit{a, 1, engine::Amount{1'000'000'00000000}});
    }
  }
  proto::Envelope Apply(engine::CommandBody body) {
    engine::Command c{++seq_, 1'767'225'600'000 + static_cast<int64_t>(seq_), body};
    std::vector<std::byte> bytes;
    proto::AppendEnvelope(0, c, engine_.Apply(c), bytes);
    return *proto::Envelope::Parse(bytes);
  }
  proto::Envelope Place(std::map<std::string, std::string, std::less<>> p,
                        engine::AccountId account, NewOrderRequest* req) {
    Params params{std::move(p)};
    auto r = ParseNewOrder(params.lookup(), Btc(), account, "gen");
    EXPECT_TRUE(r);
    *req = *r;
    return Apply(engine::PlaceOrder{r->order});
  }
  engine::Engine engine_;
  uint64_t seq_ = 0;
};

TEST_F(RenderTest, AckResultAndFullAsBinanceShapesThem) {
  NewOrderRequest sell_req, buy_req;
  auto sell = Place({{"side", "SELL"},
                     {"type", "LIMIT"},
                     {"timeInForce", "GTC"},
                     {"quantity", "0.15"},
                     {"price", "65000"},
                     {"newClientOrderId", "s1"}},
                    1, &sell_req);
  ASSERT_FALSE(RejectionOf(sell));
  std::string ack = RenderNewOrder(sell, sell_req, Btc(), RespType::kAck);
  EXPECT_EQ(ack,
            "{\"symbol\":\"BTCUSDT\",\"orderId\":1,\"orderListId\":-1,\"clientOrderId\":"
            "\"s1\",\"transactTime\":" +
                std::to_string(sell.header().time_ms) + "}");
  std::string result = RenderNewOrder(sell, sell_req, Btc(), RespType::kResult);
  EXPECT_NE(result.find("\"price\":\"65000.00000000\",\"origQty\":\"0.15000000\","
                        "\"executedQty\":\"0.00000000\""),
            std::string::npos)
      << result;
  EXPECT_NE(result.find("\"status\":\"NEW\",\"timeInForce\":\"GTC\",\"type\":\"LIMIT\","
                        "\"side\":\"SELL\""),
            std::string::npos)
      << result;
  EXPECT_EQ(result.find("fills"), std::string::npos);
  // A market buy of half of it: one fill, commission in the base asset (0.1 %).
  auto buy = Place({{"side", "BUY"}, {"type", "MARKET"}, {"quantity", "0.075"}}, 2, &buy_req);
  ASSERT_FALSE(RejectionOf(buy));
  std::string full = RenderNewOrder(buy, buy_req, Btc(), buy_req.resp);
  EXPECT_NE(full.find("\"status\":\"FILLED\""), std::string::npos) << full;
  EXPECT_NE(full.find("\"executedQty\":\"0.07500000\",\"origQuoteOrderQty\":\"0.00000000\","
                      "\"cummulativeQuoteQty\":\"4875.00000000\""),
            std::string::npos)
      << full;
  EXPECT_NE(full.find("\"fills\":[{\"price\":\"65000.00000000\",\"qty\":\"0.07500000\","
                      "\"commission\":\"0.00007500\",\"commissionAsset\":\"BTC\",\"tradeId\":1}]"),
            std::string::npos)
      << full;
}

TEST_F(RenderTest, RejectionsMapToBinanceErrors) {
  NewOrderRequest req;
  auto r = Place({{"side", "BUY"},
                  {"type", "LIMIT"},
                  {"timeInForce", "GTC"},
                  {"quantity", "100"},
                  {"price", "65000"}},
                 1, &req);
  auto err = RejectionOf(r);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, -2010);
  EXPECT_EQ(err->msg, "Account has insufficient balance for requested action.");
  auto missing = Place({{"side", "BUY"}, {"type", "LIMIT"}, {"quantity", "1"}}, 1, &req);
  ASSERT_TRUE(RejectionOf(missing));
  EXPECT_EQ(RejectionOf(missing)->code, -1102);
}

}  // namespace
}  // namespace spotex::gateway
