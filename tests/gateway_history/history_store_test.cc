// HistoryStore against a real PostgreSQL with rows inserted by SQL: Binance's selection rules
// (fromId, startTime/endTime, newest vs oldest `limit`), ascending order, another account's
// rows never returned, closed orders by id and client id, aggTrades ids and aggregation, and
// klines from one-minute bars (derived intervals, flat quiet bars).
#include <gtest/gtest.h>

#include <future>

#include "history_fixture.h"

namespace spotex::testing {
namespace {

using gateway::HistoryPage;

std::vector<int64_t> OrderIds(const std::vector<gateway::OrderRecord>& v) {
  std::vector<int64_t> out;
  for (const auto& o : v) out.push_back(o.order_id);
  return out;
}
std::vector<int64_t> TradeIds(const std::vector<gateway::TradeRecord>& v) {
  std::vector<int64_t> out;
  for (const auto& t : v) out.push_back(t.id);
  return out;
}

using HistoryStoreTest = HistoryDbTest;

TEST_F(HistoryStoreTest, OrdersSelectionFollowsBinance) {
  for (int64_t id = 1; id <= 10; ++id) {
    InsertOrder({.id = id, .time_ms = kT0 + id * kMin});
  }
  InsertOrder({.id = 11, .time_ms = kT0 + 11 * kMin, .account = 8});  // someone else's
  InsertOrder({.id = 12, .time_ms = kT0 + 12 * kMin, .symbol = 2});   // another symbol
  // No start point: the newest `limit`, ascending.
  auto newest = store_->Orders(7, kBtcUsdt, HistoryPage{.limit = 3});
  ASSERT_TRUE(newest.has_value()) << newest.error();
  EXPECT_EQ(OrderIds(*newest), (std::vector<int64_t>{8, 9, 10}));
  // orderId: the oldest `limit` from that id.
  auto from = store_->Orders(7, kBtcUsdt, HistoryPage{.from_id = 4, .limit = 3});
  ASSERT_TRUE(from.has_value());
  EXPECT_EQ(OrderIds(*from), (std::vector<int64_t>{4, 5, 6}));
  // startTime: the oldest from then; endTime alone: the newest up to then.
  auto start = store_->Orders(7, kBtcUsdt, HistoryPage{.start_ms = kT0 + 5 * kMin, .limit = 2});
  ASSERT_TRUE(start.has_value());
  EXPECT_EQ(OrderIds(*start), (std::vector<int64_t>{5, 6}));
  auto end = store_->Orders(7, kBtcUsdt, HistoryPage{.end_ms = kT0 + 5 * kMin, .limit = 2});
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(OrderIds(*end), (std::vector<int64_t>{4, 5}));
  auto both = store_->Orders(
      7, kBtcUsdt, HistoryPage{.start_ms = kT0 + 2 * kMin, .end_ms = kT0 + 4 * kMin, .limit = 500});
  ASSERT_TRUE(both.has_value());
  EXPECT_EQ(OrderIds(*both), (std::vector<int64_t>{2, 3, 4}));
  // Another account sees none of account 7's orders, and only its own.
  auto other = store_->Orders(8, kBtcUsdt, HistoryPage{});
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(OrderIds(*other), (std::vector<int64_t>{11}));
  // The limit is bounded whatever it is given.
  auto huge = store_->Orders(7, kBtcUsdt, HistoryPage{.limit = 1'000'000});
  ASSERT_TRUE(huge.has_value());
  EXPECT_EQ(huge->size(), 10u);
}

TEST_F(HistoryStoreTest, FindOrderByIdAndClientIdOnlyForItsAccount) {
  InsertOrder({.id = 5, .time_ms = kT0, .client_id = "abc", .status = 3, .executed = 0});
  InsertOrder({.id = 6, .time_ms = kT0 + kMin, .account = 8, .client_id = "xyz"});
  auto by_id = store_->FindOrder(7, kBtcUsdt, 5, "");
  ASSERT_TRUE(by_id.has_value());
  ASSERT_TRUE(by_id->has_value());
  EXPECT_EQ((*by_id)->client_order_id, "abc");
  EXPECT_EQ((*by_id)->status, engine::OrderStatus::kCanceled);
  EXPECT_EQ((*by_id)->time_ms, kT0);
  auto by_cid = store_->FindOrder(7, kBtcUsdt, 0, "abc");
  ASSERT_TRUE(by_cid.has_value());
  ASSERT_TRUE(by_cid->has_value());
  EXPECT_EQ((*by_cid)->order_id, 5);
  // Both given but naming different orders; another account's order; wrong symbol.
  EXPECT_FALSE(store_->FindOrder(7, kBtcUsdt, 5, "xyz")->has_value());
  EXPECT_FALSE(store_->FindOrder(7, kBtcUsdt, 6, "")->has_value());
  EXPECT_FALSE(store_->FindOrder(7, kBtcUsdt, 0, "xyz")->has_value());
  EXPECT_FALSE(store_->FindOrder(7, 2, 5, "")->has_value());
}

TEST_F(HistoryStoreTest, TradesByFromIdWindowAndOrder) {
  // Trades 1..6 between accounts 7 (buyer, orders 100+id) and 8; trade 7 is 8 vs 9.
  for (int64_t id = 1; id <= 6; ++id) {
    InsertTrade(
        {.id = id, .time_ms = kT0 + id * kHour, .buyer_order = 100 + id % 2, .seller_order = 200});
  }
  InsertTrade({.id = 7,
               .time_ms = kT0 + 7 * kHour,
               .buyer_order = 300,
               .seller_order = 301,
               .buyer = 9,
               .seller = 8});
  auto newest = store_->Trades(7, kBtcUsdt, std::nullopt, HistoryPage{.limit = 2});
  ASSERT_TRUE(newest.has_value()) << newest.error();
  EXPECT_EQ(TradeIds(*newest), (std::vector<int64_t>{5, 6}));
  auto from = store_->Trades(7, kBtcUsdt, std::nullopt, HistoryPage{.from_id = 3, .limit = 2});
  ASSERT_TRUE(from.has_value());
  EXPECT_EQ(TradeIds(*from), (std::vector<int64_t>{3, 4}));
  auto window = store_->Trades(
      7, kBtcUsdt, std::nullopt,
      HistoryPage{.start_ms = kT0 + 2 * kHour, .end_ms = kT0 + 4 * kHour, .limit = 500});
  ASSERT_TRUE(window.has_value());
  EXPECT_EQ(TradeIds(*window), (std::vector<int64_t>{2, 3, 4}));
  auto by_order = store_->Trades(7, kBtcUsdt, 101, HistoryPage{});
  ASSERT_TRUE(by_order.has_value());
  EXPECT_EQ(TradeIds(*by_order), (std::vector<int64_t>{1, 3, 5}));
  // Account 7's view: buyer, maker (buyer_is_maker), commission in the base asset.
  const auto& t = (*by_order)[0];
  EXPECT_TRUE(t.is_buyer);
  EXPECT_TRUE(t.is_maker);
  EXPECT_TRUE(t.commission_in_base);
  EXPECT_EQ(t.commission, 10);
  // Account 8 sells in 1..6 and 7; account 9 only sees trade 7.
  auto seller = store_->Trades(8, kBtcUsdt, std::nullopt, HistoryPage{});
  ASSERT_TRUE(seller.has_value());
  EXPECT_EQ(seller->size(), 7u);
  EXPECT_FALSE(seller->front().is_buyer);
  EXPECT_FALSE(seller->front().commission_in_base);
  auto nine = store_->Trades(9, kBtcUsdt, std::nullopt, HistoryPage{});
  ASSERT_TRUE(nine.has_value());
  EXPECT_EQ(TradeIds(*nine), (std::vector<int64_t>{7}));
}

TEST_F(HistoryStoreTest, OrderListsAndPreventedMatches) {
  Sql("INSERT INTO order_lists VALUES (1, 7, 1, 'L1', 1, 10, 11, " + std::to_string(kT0) + ", " +
      std::to_string(kT0 + 5) + "), (2, 8, 1, 'L2', 0, 12, 13, " + std::to_string(kT0 + 1) + ", " +
      std::to_string(kT0 + 1) + "), (3, 7, 1, 'L3', 0, 14, 15, " + std::to_string(kT0 + 2) + ", " +
      std::to_string(kT0 + 2) + ")");
  auto lists = store_->Lists(7, HistoryPage{});
  ASSERT_TRUE(lists.has_value()) << lists.error();
  ASSERT_EQ(lists->size(), 2u);
  EXPECT_EQ((*lists)[0].order_list_id, 1);
  EXPECT_EQ((*lists)[0].status, engine::ListStatus::kAllDone);
  EXPECT_EQ((*lists)[1].order_ids[1], 15);
  EXPECT_TRUE(store_->FindList(7, 0, "L3")->has_value());
  EXPECT_FALSE(store_->FindList(7, 2, "")->has_value());  // account 8's
  EXPECT_FALSE(store_->FindList(7, 0, "L2")->has_value());

  for (int64_t id = 1; id <= 4; ++id) {
    Sql("INSERT INTO prevented_matches VALUES (" + std::to_string(id) + "," +
        std::to_string(kT0 + id) + "," + (id == 4 ? "8" : "7") + ",1,3," +
        std::to_string(id == 3 ? 21 : 20) + ",19,6500000000000,1000,1,0)");
  }
  auto by_id = store_->PreventedMatches(7, kBtcUsdt, 2, std::nullopt, std::nullopt, 500);
  ASSERT_TRUE(by_id.has_value()) << by_id.error();
  ASSERT_EQ(by_id->size(), 1u);
  EXPECT_EQ((*by_id)[0].stp, engine::StpMode::kExpireMaker);
  EXPECT_TRUE(store_->PreventedMatches(7, kBtcUsdt, 4, std::nullopt, std::nullopt, 500)->empty());
  // By order: taker 20 in 1 and 2; maker 19 in 1..3 (4 is account 8's).
  EXPECT_EQ(store_->PreventedMatches(7, kBtcUsdt, std::nullopt, 20, std::nullopt, 500)->size(), 2u);
  auto maker = store_->PreventedMatches(7, kBtcUsdt, std::nullopt, 19, 2, 500);
  ASSERT_TRUE(maker.has_value());
  ASSERT_EQ(maker->size(), 2u);
  EXPECT_EQ((*maker)[0].prevented_match_id, 2);
  EXPECT_EQ(gateway::PreventedMatchesJson(*by_id, "BTCUSDT", 8, 8),
            "[{\"symbol\":\"BTCUSDT\",\"preventedMatchId\":2,\"takerOrderId\":20,\"makerSymbol\":"
            "\"BTCUSDT\",\"makerOrderId\":19,\"tradeGroupId\":-1,\"selfTradePreventionMode\":"
            "\"EXPIRE_MAKER\",\"price\":\"65000.00000000\",\"makerPreventedQuantity\":"
            "\"0.00001000\",\"transactTime\":" +
                std::to_string(kT0 + 2) + "}]");
}

// Trades 1-3: taker order 50 at one price (one aggregate); 4: taker 50 at another price; 5-6:
// taker 51; 8: taker 51 again but not consecutive with 6 (trade 7 is on symbol 2).
TEST_F(HistoryStoreTest, AggTradesAggregateConsecutiveTradesOfOneTaker) {
  auto trade = [&](int64_t id, int64_t price, int64_t taker, uint32_t symbol = kBtcUsdt) {
    InsertTrade({.id = id,
                 .time_ms = kT0 + id * 1000,
                 .price = price,
                 .qty = 1000,
                 .buyer_order = taker,
                 .seller_order = 900 + id,
                 .buyer_is_maker = false,
                 .symbol = symbol});
  };
  trade(1, 6500000000000, 50);
  trade(2, 6500000000000, 50);
  trade(3, 6500000000000, 50);
  trade(4, 6500100000000, 50);
  trade(5, 6500100000000, 51);
  trade(6, 6500100000000, 51);
  trade(7, 6500100000000, 51, 2);
  trade(8, 6500100000000, 51);
  auto all = store_->AggTrades(kBtcUsdt, HistoryPage{});
  ASSERT_TRUE(all.has_value()) << all.error();
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].id, 1);
  EXPECT_EQ((*all)[0].last_id, 3);
  EXPECT_EQ((*all)[0].qty, 3000);
  EXPECT_EQ((*all)[1].id, 4);
  EXPECT_EQ((*all)[2].id, 5);
  EXPECT_EQ((*all)[2].last_id, 6);
  EXPECT_EQ((*all)[3].id, 8);
  // fromId in the middle of an aggregate: that aggregate (id 1) is not returned or split.
  auto mid = store_->AggTrades(kBtcUsdt, HistoryPage{.from_id = 2, .limit = 2});
  ASSERT_TRUE(mid.has_value());
  ASSERT_EQ(mid->size(), 2u);
  EXPECT_EQ((*mid)[0].id, 4);
  EXPECT_EQ((*mid)[1].id, 5);
  EXPECT_EQ((*mid)[1].last_id, 6);
  // Newest `limit`, and a time window (trade 5 at kT0+5s .. trade 6).
  auto newest = store_->AggTrades(kBtcUsdt, HistoryPage{.limit = 1});
  ASSERT_TRUE(newest.has_value());
  ASSERT_EQ(newest->size(), 1u);
  EXPECT_EQ((*newest)[0].id, 8);
  auto window = store_->AggTrades(
      kBtcUsdt, HistoryPage{.start_ms = kT0 + 4000, .end_ms = kT0 + 6000, .limit = 500});
  ASSERT_TRUE(window.has_value());
  ASSERT_EQ(window->size(), 2u);
  EXPECT_EQ((*window)[0].id, 4);
  EXPECT_EQ((*window)[1].id, 5);
  // Ids are stable: the same aggregates whatever page they are read through.
  auto page2 = store_->AggTrades(kBtcUsdt, HistoryPage{.from_id = 5, .limit = 500});
  ASSERT_TRUE(page2.has_value());
  EXPECT_EQ((*page2)[0].first_id, 5);
  EXPECT_EQ((*page2)[0].last_id, 6);
  EXPECT_EQ(gateway::AggTradesJson(std::span(*page2).first(1), 8, 8),
            "[{\"a\":5,\"p\":\"65001.00000000\",\"q\":\"0.00002000\",\"f\":5,\"l\":6,\"T\":" +
                std::to_string(kT0 + 5000) + ",\"m\":false,\"M\":true}]");
}

TEST_F(HistoryStoreTest, AggTradesSpanManyBatches) {
  // 2,500 trades of one taker at one price: one aggregate, read over several batches.
  Sql("INSERT INTO trades SELECT i, " + std::to_string(kT0) +
      ", 1, 100, 1, 100, false, 5, 100 + i, 1, 2, i, 0 FROM generate_series(1, 2500) i");
  Sql("INSERT INTO trades VALUES (2501, " + std::to_string(kT0 + 1) +
      ", 1, 101, 1, 101, false, 6, 9999, 1, 2, 2501, 0)");
  auto all = store_->AggTrades(kBtcUsdt, HistoryPage{.from_id = 1, .limit = 10});
  ASSERT_TRUE(all.has_value()) << all.error();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].last_id, 2500);
  EXPECT_EQ((*all)[0].qty, 2500);
  EXPECT_EQ((*all)[1].id, 2501);
  auto newest = store_->AggTrades(kBtcUsdt, HistoryPage{.limit = 2});
  ASSERT_TRUE(newest.has_value());
  ASSERT_EQ(newest->size(), 2u);
  EXPECT_EQ((*newest)[0].id, 1);
  EXPECT_EQ((*newest)[0].qty, 2500);
}

TEST_F(HistoryStoreTest, PublicTradesFromIdAndNewest) {
  for (int64_t id = 1; id <= 5; ++id) {
    InsertTrade({.id = id, .time_ms = kT0 + id});
  }
  auto from = store_->PublicTrades(kBtcUsdt, 2, 2);
  ASSERT_TRUE(from.has_value()) << from.error();
  ASSERT_EQ(from->size(), 2u);
  EXPECT_EQ((*from)[0].id, 2);
  auto newest = store_->PublicTrades(kBtcUsdt, std::nullopt, 2);
  ASSERT_TRUE(newest.has_value());
  EXPECT_EQ((*newest)[0].id, 4);
  EXPECT_EQ((*newest)[1].id, 5);
  EXPECT_EQ(gateway::PublicTradesJson(std::span(*newest).first(1), 8, 8),
            "[{\"id\":4,\"price\":\"65000.00000000\",\"qty\":\"0.01000000\",\"quoteQty\":"
            "\"650.00000000\",\"time\":" +
                std::to_string(kT0 + 4) + ",\"isBuyerMaker\":true,\"isBestMatch\":true}]");
}

TEST_F(HistoryStoreTest, BarsDeriveHigherIntervalsFromMinutes) {
  // Minutes 0, 1 and 7 of the first hour and minute 0 of the third hour.
  InsertBar(kT0, 100, 120, 90, 110, 5, 2, 1);
  InsertBar(kT0 + kMin, 110, 130, 105, 125, 3, 1, 3);
  InsertBar(kT0 + 7 * kMin, 125, 126, 80, 85, 4, 4, 4);
  InsertBar(kT0 + 2 * kHour, 90, 95, 88, 94, 1, 1, 8);
  auto hours = store_->Bars(kBtcUsdt, kHour, kT0, kT0 + kDay, 500, true);
  ASSERT_TRUE(hours.has_value()) << hours.error();
  ASSERT_EQ(hours->size(), 2u);
  const auto& h = (*hours)[0];
  EXPECT_EQ(h.open_time_ms, kT0);
  EXPECT_EQ(h.open, 100);
  EXPECT_EQ(h.high, 130);
  EXPECT_EQ(h.low, 80);
  EXPECT_EQ(h.close, 85);
  EXPECT_EQ(h.volume, 12);
  EXPECT_EQ(h.trades, 7);
  EXPECT_EQ(h.first_id, 1);
  EXPECT_EQ(h.last_id, 7);
  // Binance's klines: the quiet hour between is a flat bar at the previous close.
  auto filled = gateway::FillKlines(*hours, std::nullopt, kHour, 0, 0, 500, false);
  ASSERT_EQ(filled.size(), 3u);
  EXPECT_EQ(filled[1].open_time_ms, kT0 + kHour);
  EXPECT_EQ(filled[1].open, 85);
  EXPECT_EQ(filled[1].close, 85);
  EXPECT_EQ(filled[1].trades, 0);
  EXPECT_EQ(filled[1].first_id, -1);
  // Newest `limit`; descending read.
  auto last = store_->Bars(kBtcUsdt, 5 * kMin, kT0, kT0 + kDay, 2, false);
  ASSERT_TRUE(last.has_value());
  ASSERT_EQ(last->size(), 2u);
  EXPECT_EQ((*last)[0].open_time_ms, kT0 + 5 * kMin);
  EXPECT_EQ((*last)[1].open_time_ms, kT0 + 2 * kHour);
  // Weeks start on Monday (kT0 is one); a day bar; the close before a time.
  auto weeks = store_->Bars(kBtcUsdt, 7 * kDay, 0, kT0 + kDay, 10, true);
  ASSERT_TRUE(weeks.has_value());
  ASSERT_EQ(weeks->size(), 1u);
  EXPECT_EQ((*weeks)[0].open_time_ms, kT0);
  EXPECT_EQ(gateway::KlineStart(kT0 + 3 * kDay, 7 * kDay), kT0);
  auto prev = store_->CloseBefore(kBtcUsdt, kT0 + kHour);
  ASSERT_TRUE(prev.has_value());
  EXPECT_EQ(prev->value_or(0), 85);
  EXPECT_TRUE(*store_->AnyBarFrom(kBtcUsdt, kT0 + kHour));
  EXPECT_FALSE(*store_->AnyBarFrom(kBtcUsdt, kT0 + 3 * kHour));
}

TEST_F(HistoryStoreTest, FillKlinesLeadingFlatsAndLimit) {
  gateway::BarRecord b;
  b.open_time_ms = kT0 + 3 * kMin;
  b.open = b.high = b.low = b.close = 7;
  b.trades = 1;
  // A start before the first bar with a previous close: flats from the start.
  auto out = gateway::FillKlines({b}, 5, kMin, kT0 + 30'000, 0, 500, false);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].open_time_ms, kT0);
  EXPECT_EQ(out[0].close, 5);
  EXPECT_EQ(out[3].close, 7);
  // With a start the first `limit`, without one the last.
  EXPECT_EQ(gateway::FillKlines({b}, 5, kMin, kT0, 0, 2, false).back().open_time_ms, kT0 + kMin);
  // fill_to_end: flats after the last bar up to the end.
  auto tail = gateway::FillKlines({b}, std::nullopt, kMin, 0, kT0 + 5 * kMin, 500, true);
  ASSERT_EQ(tail.size(), 3u);
  EXPECT_EQ(tail.back().open_time_ms, kT0 + 5 * kMin);
}

TEST_F(HistoryStoreTest, MergeKeepsNewestStateWithoutDuplicates) {
  gateway::OrderRecord old_state;
  old_state.order_id = 1;
  old_state.status = engine::OrderStatus::kNew;
  old_state.update_ms = 10;
  gateway::OrderRecord new_state = old_state;
  new_state.status = engine::OrderStatus::kFilled;
  new_state.executed_qty = 5;
  new_state.update_ms = 20;
  gateway::OrderRecord other = old_state;
  other.order_id = 2;
  auto merged = gateway::MergeOrders({new_state, other}, {old_state});
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged[0].status, engine::OrderStatus::kFilled);
  merged = gateway::MergeOrders({old_state}, {new_state});
  EXPECT_EQ(merged[0].status, engine::OrderStatus::kFilled);
  gateway::TradeRecord t;
  t.id = 3;
  auto trades = gateway::MergeTrades({t}, {t});
  EXPECT_EQ(trades.size(), 1u);
}

TEST_F(HistoryStoreTest, SubmitRunsOffTheCallerAndQueriesConcurrently) {
  InsertOrder({.id = 1, .time_ms = kT0});
  std::vector<std::future<size_t>> results;
  for (int i = 0; i < 8; ++i) {
    auto promise = std::make_shared<std::promise<size_t>>();
    results.push_back(promise->get_future());
    ASSERT_TRUE(store_->Submit([this, promise] {
      auto r = store_->Orders(7, kBtcUsdt, HistoryPage{});
      promise->set_value(r ? r->size() : 0);
    }));
  }
  for (auto& f : results) {
    EXPECT_EQ(f.get(), 1u);
  }
}

TEST_F(HistoryStoreTest, UnreachableDatabaseIsAnErrorNotAnAnswer) {
  db::PgConnParams bad = Params();
  bad.port = 1;  // nothing listens there
  bad.connect_timeout_s = 2;
  db::PgPool pool(bad, 1, std::chrono::milliseconds(100));
  gateway::HistoryStore store(pool);
  auto r = store.Orders(7, kBtcUsdt, HistoryPage{});
  EXPECT_FALSE(r.has_value());
}

}  // namespace
}  // namespace spotex::testing
