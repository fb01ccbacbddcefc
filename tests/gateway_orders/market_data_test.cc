// Market data from the event stream: depth with update ids (seeded from a book snapshot without
// gap or double count), trades, aggregate trades, klines of several intervals with quiet
// intervals filled, tickers and the average price.
#include "btcusdt_market.h"
#include "gateway/market/market_data.h"

#include <gtest/gtest.h>

#include "engine/engine.h"

namespace spotex::gateway {
namespace {

constexpr int64_t kT0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
constexpr int64_t kMin = 60'000;

SymbolInfo Btc() { return SymbolInfo{0, "BTCUSDT", "BTC", "USDT", 8, 8}; }

class MarketDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const engine::CommandBody& c : spotex::testing::BtcUsdtMarket()) {
      Apply(c, kT0);
    }
    for (engine::AccountId a : {1, 2}) {
      Apply(engine::OpenAccount{a}, kT0);
      Apply(engine::Deposit{a, 0, engine::Amount{100'00000000}}, kT0);
      Apply(engine::Deposit{a, 1, engine::Amount{10'000'000'00000000}}, kT0);
    }
    md_.AddSymbol(Btc(), 0, {}, {});
  }

  proto::Envelope Apply(engine::CommandBody body, int64_t t) {
    engine::Command c{++seq_, t, body};
    std::vector<std::byte> bytes;
    proto::AppendEnvelope(0, c, engine_.Apply(c), bytes);
    return *proto::Envelope::Parse(bytes);
  }

  // Places a limit order (price in whole USDT, qty in 0.001 BTC) and feeds its events.
  void Limit(engine::AccountId a, engine::Side side, int64_t usdt, int64_t milli_btc, int64_t t,
             bool feed = true) {
    engine::NewOrder o;
    o.account = a;
    o.symbol = 0;
    o.side = side;
    o.type = engine::OrderType::kLimit;
    o.tif = engine::TimeInForce::kGtc;
    o.price = engine::Price{usdt * 100'000'000};
    o.qty = engine::Qty{milli_btc * 100'000};
    auto env = Apply(engine::PlaceOrder{o}, t);
    if (feed) md_.Apply(env);
  }

  engine::Engine engine_;
  MarketData md_;
  uint64_t seq_ = 0;
};

TEST_F(MarketDataTest, DepthFollowsTheBookWithUpdateIds) {
  Limit(1, engine::Side::kSell, 65001, 500, kT0);
  Limit(1, engine::Side::kSell, 65000, 150, kT0);
  Limit(2, engine::Side::kBuy, 64999, 512, kT0);
  Limit(2, engine::Side::kBuy, 65000, 50, kT0);  // takes 0.05 of the 65000 ask
  auto depth = md_.Depth("BTCUSDT", 5);
  ASSERT_TRUE(depth);
  auto book = engine_.Book(0, 5);
  EXPECT_EQ(*depth, "{\"lastUpdateId\":" + std::to_string(book->last_update_id) +
                        ",\"bids\":[[\"64999.00000000\",\"0.51200000\"]],\"asks\":[["
                        "\"65000.00000000\",\"0.10000000\"],[\"65001.00000000\","
                        "\"0.50000000\"]]}");
  EXPECT_EQ(*md_.Depth("BTCUSDT", 1),
            "{\"lastUpdateId\":" + std::to_string(book->last_update_id) +
                ",\"bids\":[[\"64999.00000000\",\"0.51200000\"]],\"asks\":[[\"65000.00000000\","
                "\"0.10000000\"]]}");
  EXPECT_FALSE(md_.Depth("NOPE", 5));
  EXPECT_EQ(*md_.BookTicker("BTCUSDT"),
            "{\"symbol\":\"BTCUSDT\",\"bidPrice\":\"64999.00000000\",\"bidQty\":\"0.51200000\","
            "\"askPrice\":\"65000.00000000\",\"askQty\":\"0.10000000\"}");
}

TEST_F(MarketDataTest, ASeedFromTheEngineJoinsTheStreamWithoutDoubleCounting) {
  // Commands 1-2 happen before the gateway starts; it seeds from the engine's book, then
  // receives the stream from an earlier point (1-3): 1-2 must be skipped by update id.
  engine::NewOrder o;
  std::vector<proto::Envelope> stream;
  auto place = [&](engine::Side side, int64_t usdt, int64_t milli) {
    engine::NewOrder n;
    n.account = side == engine::Side::kSell ? 1 : 2;
    n.side = side;
    n.type = engine::OrderType::kLimit;
    n.tif = engine::TimeInForce::kGtc;
    n.price = engine::Price{usdt * 100'000'000};
    n.qty = engine::Qty{milli * 100'000};
    stream.push_back(Apply(engine::PlaceOrder{n}, kT0));
  };
  place(engine::Side::kSell, 65000, 100);
  place(engine::Side::kSell, 65000, 100);
  auto snap = engine_.Book(0, 100);
  MarketData fresh;
  std::vector<MarketData::Level> asks;
  for (const auto& l : snap->asks) asks.push_back({l.price.v, l.qty.v});
  fresh.AddSymbol(Btc(), snap->last_update_id, {}, asks);
  place(engine::Side::kSell, 65000, 100);
  for (const auto& e : stream) fresh.Apply(e);
  EXPECT_NE(fresh.Depth("BTCUSDT", 5)->find("[\"65000.00000000\",\"0.30000000\"]"),
            std::string::npos)
      << *fresh.Depth("BTCUSDT", 5);
}

TEST_F(MarketDataTest, TradesAggTradesAndTickers) {
  Limit(1, engine::Side::kSell, 65000, 100, kT0);
  Limit(1, engine::Side::kSell, 65000, 100, kT0);
  Limit(1, engine::Side::kSell, 65010, 100, kT0);
  Limit(2, engine::Side::kBuy, 65010, 300, kT0 + 1000);  // 3 fills, 2 prices: 2 agg trades
  auto trades = md_.Trades("BTCUSDT", 500);
  ASSERT_TRUE(trades);
  EXPECT_NE(
      trades->find("{\"id\":1,\"price\":\"65000.00000000\",\"qty\":\"0.10000000\","
                   "\"quoteQty\":\"6500.00000000\",\"time\":" +
                   std::to_string(kT0 + 1000) + ",\"isBuyerMaker\":false,\"isBestMatch\":true}"),
      std::string::npos)
      << *trades;
  EXPECT_EQ(*md_.Trades("BTCUSDT", 1),
            "[{\"id\":3,\"price\":\"65010.00000000\",\"qty\":\"0.10000000\",\"quoteQty\":"
            "\"6501.00000000\",\"time\":" +
                std::to_string(kT0 + 1000) + ",\"isBuyerMaker\":false,\"isBestMatch\":true}]");
  auto agg = md_.AggTrades("BTCUSDT", 500);
  EXPECT_EQ(*agg, "[{\"a\":1,\"p\":\"65000.00000000\",\"q\":\"0.20000000\",\"f\":1,\"l\":2,\"T\":" +
                      std::to_string(kT0 + 1000) +
                      ",\"m\":false,\"M\":true},{\"a\":3,\"p\":\"65010.00000000\",\"q\":"
                      "\"0.10000000\",\"f\":3,\"l\":3,\"T\":" +
                      std::to_string(kT0 + 1000) + ",\"m\":false,\"M\":true}]");
  EXPECT_EQ(*md_.TickerPrice("BTCUSDT"), "{\"symbol\":\"BTCUSDT\",\"price\":\"65010.00000000\"}");
  auto t = md_.Ticker24h("BTCUSDT", kT0 + 2000, false);
  ASSERT_TRUE(t);
  EXPECT_NE(t->find("\"priceChange\":\"10.00000000\",\"priceChangePercent\":\"0.015\""),
            std::string::npos)
      << *t;
  EXPECT_NE(t->find("\"openPrice\":\"65000.00000000\",\"highPrice\":\"65010.00000000\","
                    "\"lowPrice\":\"65000.00000000\",\"volume\":\"0.30000000\","
                    "\"quoteVolume\":\"19501.00000000\""),
            std::string::npos)
      << *t;
  EXPECT_NE(t->find("\"firstId\":1,\"lastId\":3,\"count\":3}"), std::string::npos) << *t;
  // A day later nothing traded in the window.
  auto later = md_.Ticker24h("BTCUSDT", kT0 + 2 * 86'400'000, true);
  EXPECT_NE(later->find("\"firstId\":-1,\"lastId\":-1,\"count\":0}"), std::string::npos) << *later;
  EXPECT_EQ(
      *md_.AvgPrice("BTCUSDT", kT0 + 2000, 5),
      "{\"mins\":5,\"price\":\"65003.33333333\",\"closeTime\":" + std::to_string(kT0 + 1000) + "}");
}

TEST_F(MarketDataTest, HistoricalTradesFromAnIdServeOnlyWhatIsHeld) {
  bool not_held = true;
  EXPECT_EQ(*md_.TradesFrom("BTCUSDT", 1, 500, not_held), "[]");  // no trade yet
  EXPECT_FALSE(not_held);
  for (int i = 0; i < 3; ++i) Limit(1, engine::Side::kSell, 65000 + i, 100, kT0);
  Limit(2, engine::Side::kBuy, 65010, 300, kT0 + 1000);  // trades 1, 2, 3
  auto from2 = md_.TradesFrom("BTCUSDT", 2, 500, not_held);
  ASSERT_TRUE(from2);
  EXPECT_FALSE(not_held);
  EXPECT_EQ(from2->find("\"id\":1,"), std::string::npos) << *from2;
  EXPECT_NE(from2->find("{\"id\":2,"), std::string::npos) << *from2;
  EXPECT_NE(from2->find("{\"id\":3,"), std::string::npos) << *from2;
  auto one = md_.TradesFrom("BTCUSDT", 2, 1, not_held);
  EXPECT_EQ(one->find("\"id\":3,"), std::string::npos) << *one;  // limit 1: only trade 2
  EXPECT_EQ(*md_.TradesFrom("BTCUSDT", 99, 500, not_held), "[]");
  EXPECT_FALSE(md_.TradesFrom("NOPE", 1, 500, not_held).has_value());
  // More trades than are kept: the oldest ones are gone, and asking for them says so.
  for (size_t i = 0; i < MarketData::kTradesKept; ++i) {
    Limit(1, engine::Side::kSell, 65000, 1, kT0 + 2000);
    Limit(2, engine::Side::kBuy, 65000, 1, kT0 + 2000);
  }
  auto gone = md_.TradesFrom("BTCUSDT", 1, 500, not_held);
  ASSERT_TRUE(gone);
  EXPECT_TRUE(not_held);
}

TEST_F(MarketDataTest, KlinesOfSeveralIntervalsFillQuietIntervals) {
  // Trades at minute 0 (65000), minute 1 (65100) and minute 7 (64900).
  for (auto [minute, price] : {std::pair{0, 65000}, {1, 65100}, {7, 64900}}) {
    Limit(1, engine::Side::kSell, price, 10, kT0 + minute * kMin + 5);
    Limit(2, engine::Side::kBuy, price, 10, kT0 + minute * kMin + 6);
  }
  auto m1 = md_.Klines("BTCUSDT", kMin, 0, 0, 500);
  ASSERT_TRUE(m1);
  // 8 bars: minutes 0..7, minutes 2..6 flat at 65100.
  EXPECT_EQ(std::count(m1->begin(), m1->end(), '[') - 1, 8) << *m1;
  EXPECT_NE(m1->find("[" + std::to_string(kT0 + 2 * kMin) +
                     ",\"65100.00000000\",\"65100.00000000\",\"65100.00000000\","
                     "\"65100.00000000\",\"0.00000000\""),
            std::string::npos)
      << *m1;
  auto m5 = md_.Klines("BTCUSDT", 5 * kMin, 0, 0, 500);
  EXPECT_EQ(*m5, "[[" + std::to_string(kT0) +
                     ",\"65000.00000000\",\"65100.00000000\",\"65000.00000000\","
                     "\"65100.00000000\",\"0.02000000\"," +
                     std::to_string(kT0 + 5 * kMin - 1) +
                     ",\"1301.00000000\",2,\"0.02000000\",\"1301.00000000\",\"0\"],[" +
                     std::to_string(kT0 + 5 * kMin) +
                     ",\"64900.00000000\",\"64900.00000000\",\"64900.00000000\","
                     "\"64900.00000000\",\"0.01000000\"," +
                     std::to_string(kT0 + 10 * kMin - 1) +
                     ",\"649.00000000\",1,\"0.01000000\",\"649.00000000\",\"0\"]]");
  // startTime / limit pick the first bars from the start; no start picks the latest.
  auto first2 = md_.Klines("BTCUSDT", kMin, kT0, 0, 2);
  EXPECT_EQ(first2->substr(0, 15), "[[" + std::to_string(kT0).substr(0, 13));
  auto last1 = md_.Klines("BTCUSDT", kMin, 0, 0, 1);
  EXPECT_NE(last1->find(std::to_string(kT0 + 7 * kMin)), std::string::npos);
  // Weeks start on Monday, months on the 1st (2026-01-01 is a Thursday).
  auto w = md_.Klines("BTCUSDT", 7 * 86'400'000LL, 0, 0, 10);
  EXPECT_EQ(w->substr(2, 13), std::to_string(kT0 - 3 * 86'400'000LL));
  auto mo = md_.Klines("BTCUSDT", 0, 0, 0, 10);
  EXPECT_EQ(mo->substr(2, 13), std::to_string(kT0));
  EXPECT_NE(mo->find(std::to_string(kT0 + 31 * 86'400'000LL - 1)), std::string::npos) << *mo;
  EXPECT_FALSE(MarketData::ParseInterval("2m"));
  EXPECT_EQ(*MarketData::ParseInterval("4h"), 4 * 60 * kMin);
}

// Klines are complete in memory only from the minute after the first event the gateway saw:
// trades earlier in the minute it started in went by before its seed. The public klines route
// answers from memory alone from that minute on, and asks the history store before it.
TEST_F(MarketDataTest, KlinesAreCompleteFromTheMinuteAfterTheFirstEvent) {
  EXPECT_EQ(md_.KlinesCompleteFrom("BTCUSDT"), 0);  // seeded, no event yet
  EXPECT_EQ(md_.KlinesCompleteFrom("XYZ"), 0);
  Limit(1, engine::Side::kSell, 65000, 10, kT0 + 3 * kMin + 17);
  EXPECT_EQ(md_.KlinesCompleteFrom("BTCUSDT"), kT0 + 4 * kMin);
  Limit(2, engine::Side::kBuy, 65000, 10, kT0 + 9 * kMin);
  EXPECT_EQ(md_.KlinesCompleteFrom("BTCUSDT"), kT0 + 4 * kMin);  // set once
  // A symbol seeded again keeps what it had.
  md_.AddSymbol(Btc(), 0, {}, {});
  EXPECT_EQ(md_.KlinesCompleteFrom("BTCUSDT"), kT0 + 4 * kMin);
}

}  // namespace
}  // namespace spotex::gateway
