// Scenario tests: STOP_LOSS, STOP_LOSS_LIMIT, TAKE_PROFIT, TAKE_PROFIT_LIMIT — trigger
// direction on both sides, kWouldTrigger, trigger cascades and their order, the funds an
// untriggered stop locks and MAX_NUM_ALGO_ORDERS.
//
// Most tests first make 65000 the last price with TradeAt(), which uses orders 1 and 2 (Dave
// sells 0.01 and buys it back) and trade 1, so the first order of the test proper is order 3.
#include "engine_fixture.h"

namespace spotex::engine::test {
namespace {

using StopsTest = EngineTest;

constexpr OrderType kStopLoss = OrderType::kStopLoss;
constexpr OrderType kStopLossLimit = OrderType::kStopLossLimit;
constexpr OrderType kTakeProfit = OrderType::kTakeProfit;
constexpr OrderType kTakeProfitLimit = OrderType::kTakeProfitLimit;

TEST_F(StopsTest, StopLossSellTriggersWhenThePriceFallsToItsStop) {
  TradeAt(Px("65000"));
  // Untriggered: not in the book, status NEW, 0.1 BTC locked.
  Out placed = Place(StopMarket(kStopLoss, kAlice, kSell, Px("64000"), Btc("0.1")));  // 3
  Ok(placed);
  EXPECT_EQ(placed.Types(), "OrderAccepted BalanceChanged");
  EXPECT_FALSE(placed.At<OrderAccepted>(0).working);
  EXPECT_EQ(placed.At<OrderAccepted>(0).stop_price, Px("64000"));
  EXPECT_EQ(Locked(kAlice, kBtc), BtcAmt("0.1"));
  EXPECT_EQ(Asks(), "");
  EXPECT_FALSE(Order(kAlice, 3)->working);

  Ok(Place(Limit(kCarol, kBuy, Px("64000"), Btc("0.5"))));  // 4
  // Bob's 0.01 at 64000 makes the last price 64000 <= 64000: Alice's stop triggers and sells
  // 0.1 at market into Carol's bid (6400 USDT).
  Out out = Place(Limit(kBob, kSell, Px("64000"), Btc("0.01")));  // 5
  Ok(out);
  EXPECT_EQ(out.Types(),
            "OrderAccepted Trade OrderUpdate*3 Trade OrderUpdate*2 BalanceChanged*6 BookLevel");
  const auto trig = out.At<OrderUpdate>(4);
  EXPECT_EQ(trig.order_id, 3);
  EXPECT_EQ(trig.exec, ExecType::kTriggered);
  EXPECT_EQ(trig.status, OrderStatus::kNew);
  const auto trade = out.At<Trade>(5);
  EXPECT_EQ(trade.seller_order_id, 3);
  EXPECT_EQ(trade.buyer_order_id, 4);
  EXPECT_EQ(trade.qty, Btc("0.1"));
  EXPECT_EQ(out.UpdatesOf(3).back().status, OrderStatus::kFilled);
  EXPECT_EQ(Free(kAlice, kBtc), BtcAmt("9.9"));
  EXPECT_EQ(Locked(kAlice, kBtc), Amount(0));
  EXPECT_EQ(Free(kAlice, kUsdt), Usdt("1006400"));
  EXPECT_EQ(Bids(), "64000x0.39");
}

TEST_F(StopsTest, StopLossBuyTriggersWhenThePriceRisesToItsStop) {
  TradeAt(Px("65000"));
  // A stop-market BUY locks nothing until it triggers (its cost is unknown).
  Out placed = Place(StopMarket(kStopLoss, kAlice, kBuy, Px("66000"), Btc("0.1")));  // 3
  Ok(placed);
  EXPECT_EQ(placed.Types(), "OrderAccepted");
  EXPECT_EQ(Locked(kAlice, kUsdt), Amount(0));

  Ok(Place(Limit(kCarol, kSell, Px("66000"), Btc("1"))));  // 4
  // Last 66000 >= 66000: triggered; it walks the asks (0.1 × 66000 = 6600), locks and buys.
  Out out = Place(Limit(kBob, kBuy, Px("66000"), Btc("0.01")));  // 5
  Ok(out);
  EXPECT_EQ(out.UpdatesOf(3).front().exec, ExecType::kTriggered);
  EXPECT_EQ(out.UpdatesOf(3).back().status, OrderStatus::kFilled);
  EXPECT_EQ(Free(kAlice, kUsdt), Usdt("993400"));
  EXPECT_EQ(Locked(kAlice, kUsdt), Amount(0));
  EXPECT_EQ(Free(kAlice, kBtc), BtcAmt("10.1"));
  EXPECT_EQ(Asks(), "66000x0.89");
}

TEST_F(StopsTest, TakeProfitSellTriggersWhenThePriceRisesToItsStop) {
  TradeAt(Px("65000"));
  Ok(Place(StopMarket(kTakeProfit, kAlice, kSell, Px("66000"), Btc("0.1"))));  // 3
  EXPECT_EQ(Locked(kAlice, kBtc), BtcAmt("0.1"));
  Ok(Place(Limit(kCarol, kBuy, Px("66000"), Btc("0.5"))));        // 4
  Out out = Place(Limit(kBob, kSell, Px("66000"), Btc("0.01")));  // 5: last 66000 >= 66000
  Ok(out);
  EXPECT_EQ(out.UpdatesOf(3).front().exec, ExecType::kTriggered);
  EXPECT_EQ(out.UpdatesOf(3).back().status, OrderStatus::kFilled);
  EXPECT_EQ(Free(kAlice, kUsdt), Usdt("1006600"));  // 0.1 × 66000
  EXPECT_EQ(Bids(), "66000x0.39");
}

TEST_F(StopsTest, TakeProfitBuyTriggersWhenThePriceFallsToItsStop) {
  TradeAt(Px("65000"));
  Ok(Place(StopMarket(kTakeProfit, kAlice, kBuy, Px("64000"), Btc("0.1"))));  // 3
  Ok(Place(Limit(kCarol, kSell, Px("64100"), Btc("0.5"))));                   // 4
  Ok(Place(Limit(kDave, kBuy, Px("64000"), Btc("0.2"))));                     // 5
  // Bob's sale at 64000 (last <= 64000) triggers the BUY, which lifts Carol's 64100 ask.
  Out out = Place(Limit(kBob, kSell, Px("64000"), Btc("0.01")));  // 6
  Ok(out);
  const auto trades = out.All<Trade>();
  ASSERT_EQ(trades.size(), 2u);
  EXPECT_EQ(trades[1].buyer_order_id, 3);
  EXPECT_EQ(trades[1].price, Px("64100"));
  EXPECT_EQ(Free(kAlice, kUsdt), Usdt("993590"));  // 1 000 000 − 6410
  EXPECT_EQ(Free(kAlice, kBtc), BtcAmt("10.1"));
  EXPECT_EQ(Asks(), "64100x0.4");
  EXPECT_EQ(LastPrice(), Px("64100"));
}

TEST_F(StopsTest, StopLossLimitBecomesALimitOrderThatRestsItsRemainder) {
  TradeAt(Px("65000"));
  Ok(Place(StopLimit(kStopLossLimit, kAlice, kSell, Px("64000"), Px("63900"),
                     Btc("0.1"))));                          // 3
  Ok(Place(Limit(kCarol, kBuy, Px("64000"), Btc("0.02"))));  // 4
  // Bob sells 0.01 to Carol at 64000: triggered. The LIMIT SELL 0.1 at 63900 takes Carol's
  // remaining 0.01 at 64000 and rests 0.09 at 63900.
  Out out = Place(Limit(kBob, kSell, Px("64000"), Btc("0.01")));  // 5
  Ok(out);
  const auto levels = out.All<BookLevel>();
  ASSERT_EQ(levels.size(), 2u);
  EXPECT_EQ(levels[0].side, kBuy);
  EXPECT_EQ(levels[0].qty, Qty(0));
  EXPECT_EQ(levels[1].side, kSell);
  EXPECT_EQ(levels[1].price, Px("63900"));
  EXPECT_EQ(levels[1].qty, Btc("0.09"));
  const auto view = Order(kAlice, 3);
  ASSERT_TRUE(view.has_value());
  EXPECT_TRUE(view->working);
  EXPECT_EQ(view->status, OrderStatus::kPartiallyFilled);
  EXPECT_EQ(view->reserved, BtcAmt("0.09"));
  EXPECT_EQ(Asks(), "63900x0.09");
  EXPECT_EQ(Locked(kAlice, kBtc), BtcAmt("0.09"));
  EXPECT_EQ(Free(kAlice, kUsdt), Usdt("1000640"));  // 0.01 × 64000
}

TEST_F(StopsTest, TakeProfitLimitBuyLocksAtPlacementAndRefundsImprovement) {
  TradeAt(Px("65000"));
  // Locks 64100 × 0.1 = 6410 at placement.
  Ok(Place(StopLimit(kTakeProfitLimit, kAlice, kBuy, Px("64000"), Px("64100"),
                     Btc("0.1"))));  // 3
  EXPECT_EQ(Locked(kAlice, kUsdt), Usdt("6410"));
  Ok(Place(Limit(kCarol, kSell, Px("64050"), Btc("0.05"))));  // 4
  Ok(Place(Limit(kDave, kBuy, Px("64000"), Btc("0.2"))));     // 5
  // Trigger at 64000: buys 0.05 at 64050 = 3202.5 (releases 3205, 2.5 back), rests 0.05 at
  // 64100 with 3205 locked. Free: 1 000 000 − 6410 + 2.5 = 993592.5.
  Ok(Place(Limit(kBob, kSell, Px("64000"), Btc("0.01"))));  // 6
  EXPECT_EQ(Locked(kAlice, kUsdt), Usdt("3205"));
  EXPECT_EQ(Free(kAlice, kUsdt), Usdt("993592.5"));
  EXPECT_EQ(Bids(), "64100x0.05 64000x0.19");
}

TEST_F(StopsTest, StopThatWouldTriggerImmediatelyIsRejected) {
  TradeAt(Px("65000"));
  const auto reject = [&](const NewOrder& o) {
    ExpectReject(PlaceOrder{o}, RejectCode::kWouldTrigger, -2010,
                 "Order would trigger immediately.");
  };
  // SELL STOP_LOSS and BUY TAKE_PROFIT trigger when last <= stop.
  reject(StopMarket(kStopLoss, kAlice, kSell, Px("65000"), Btc("0.1")));
  reject(StopMarket(kStopLoss, kAlice, kSell, Px("65000.01"), Btc("0.1")));
  reject(StopLimit(kStopLossLimit, kAlice, kSell, Px("65000"), Px("64900"), Btc("0.1")));
  reject(StopMarket(kTakeProfit, kAlice, kBuy, Px("65000"), Btc("0.1")));
  reject(StopMarket(kTakeProfit, kAlice, kBuy, Px("66000"), Btc("0.1")));
  // BUY STOP_LOSS and SELL TAKE_PROFIT trigger when last >= stop.
  reject(StopMarket(kStopLoss, kAlice, kBuy, Px("65000"), Btc("0.1")));
  reject(StopMarket(kStopLoss, kAlice, kBuy, Px("64000"), Btc("0.1")));
  reject(StopMarket(kTakeProfit, kAlice, kSell, Px("65000"), Btc("0.1")));
  reject(StopLimit(kTakeProfitLimit, kAlice, kSell, Px("64000"), Px("64000"), Btc("0.1")));
  // One tick on the right side is accepted.
  Ok(Place(StopMarket(kStopLoss, kAlice, kSell, Px("64999.99"), Btc("0.1"))));
  Ok(Place(StopMarket(kTakeProfit, kAlice, kBuy, Px("64999.99"), Btc("0.1"))));
  Ok(Place(StopMarket(kStopLoss, kAlice, kBuy, Px("65000.01"), Btc("0.1"))));
  Ok(Place(StopMarket(kTakeProfit, kAlice, kSell, Px("65000.01"), Btc("0.1"))));
}

TEST_F(StopsTest, StopPlacedBeforeAnyTradeTriggersOnTheFirstTrade) {
  // No last price yet: no kWouldTrigger check.
  Ok(Place(StopMarket(kStopLoss, kAlice, kSell, Px("66000"), Btc("0.1"))));  // 1
  Ok(Place(Limit(kDave, kSell, Px("65000"), Btc("0.01"))));                  // 2
  // The first trade (65000 <= 66000) triggers the stop; the bids are empty, so the MARKET
  // SELL expires unfilled and its 0.1 BTC is unlocked.
  Out out = Place(Limit(kBob, kBuy, Px("65000"), Btc("0.01"), kIoc));  // 3
  Ok(out);
  const auto updates = out.UpdatesOf(1);
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_EQ(updates[0].exec, ExecType::kTriggered);
  EXPECT_EQ(updates[1].exec, ExecType::kExpired);
  EXPECT_EQ(updates[1].reason, ExpiryReason::kInsufficientLiquidity);
  EXPECT_EQ(Locked(kAlice, kBtc), Amount(0));
  EXPECT_EQ(Free(kAlice, kBtc), BtcAmt("10"));
}

TEST_F(StopsTest, TriggerCascade) {
  TradeAt(Px("65000"));
  Ok(Place(StopMarket(kStopLoss, kAlice, kSell, Px("64500"), Btc("0.2"))));  // 3
  Ok(Place(StopMarket(kStopLoss, kBob, kSell, Px("64000"), Btc("0.1"))));    // 4
  Ok(Place(Limit(kCarol, kBuy, Px("64500"), Btc("0.11"))));                  // 5
  Ok(Place(Limit(kCarol, kBuy, Px("64000"), Btc("0.5"))));                   // 6
  // Dave sells 0.01 at 64500 -> last 64500 triggers Alice (3), whose 0.2 takes 0.1 at 64500
  // and 0.1 at 64000 -> last 64000 triggers Bob (4), who sells 0.1 at 64000.
  Out out = Place(Limit(kDave, kSell, Px("64500"), Btc("0.01")));  // 7
  Ok(out);
  EXPECT_EQ(out.Types(),
            "OrderAccepted Trade OrderUpdate*3 Trade OrderUpdate*2 Trade OrderUpdate*3 Trade "
            "OrderUpdate*2 BalanceChanged*8 BookLevel*2");
  const auto trades = out.All<Trade>();
  ASSERT_EQ(trades.size(), 4u);
  EXPECT_EQ(trades[0].seller_order_id, 7);
  EXPECT_EQ(trades[1].seller_order_id, 3);
  EXPECT_EQ(trades[1].price, Px("64500"));
  EXPECT_EQ(trades[2].seller_order_id, 3);
  EXPECT_EQ(trades[2].price, Px("64000"));
  EXPECT_EQ(trades[3].seller_order_id, 4);
  EXPECT_EQ(trades[3].price, Px("64000"));
  EXPECT_EQ(trades[3].trade_id, 5);
  EXPECT_EQ(out.At<OrderUpdate>(4).order_id, 3);
  EXPECT_EQ(out.At<OrderUpdate>(4).exec, ExecType::kTriggered);
  EXPECT_EQ(out.At<OrderUpdate>(11).order_id, 4);
  EXPECT_EQ(out.At<OrderUpdate>(11).exec, ExecType::kTriggered);
  EXPECT_EQ(Bids(), "64000x0.3");
  EXPECT_TRUE(engine_.OpenOrders(kAlice, kBtcUsdt).empty());
  EXPECT_TRUE(engine_.OpenOrders(kBob, kBtcUsdt).empty());
}

TEST_F(StopsTest, StopsTriggeredTogetherRunInOrderIdOrder) {
  TradeAt(Px("65000"));
  Ok(Place(StopMarket(kStopLoss, kAlice, kSell, Px("64000"), Btc("0.1"))));  // 3: lower id
  Ok(Place(StopMarket(kStopLoss, kBob, kSell, Px("64500"), Btc("0.1"))));    // 4: nearer stop
  Ok(Place(Limit(kCarol, kBuy, Px("64500"), Btc("0.01"))));                  // 5
  Ok(Place(Limit(kCarol, kBuy, Px("64000"), Btc("1"))));                     // 6
  // Dave's MARKET SELL 0.02 sweeps 64500 and 64000: after it both stops hold; the smaller
  // order id (Alice's 3) activates first although Bob's stop price was reached first.
  Out out = Place(Market(kDave, kSell, Btc("0.02")));  // 7
  Ok(out);
  std::vector<OrderId> triggered;
  for (const auto& u : out.All<OrderUpdate>()) {
    if (u.exec == ExecType::kTriggered) triggered.push_back(u.order_id);
  }
  EXPECT_EQ(triggered, (std::vector<OrderId>{3, 4}));
  const auto trades = out.All<Trade>();
  ASSERT_EQ(trades.size(), 4u);
  EXPECT_EQ(trades[2].seller_order_id, 3);
  EXPECT_EQ(trades[3].seller_order_id, 4);
}

TEST_F(StopsTest, UntriggeredStopsLockFundsAndCountTowardMaxNumAlgoOrders) {
  TradeAt(Px("65000"));
  Ok(Place(StopMarket(kStopLoss, kAlice, kSell, Px("64000"), Btc("0.1"))));
  EXPECT_EQ(Locked(kAlice, kBtc), BtcAmt("0.1"));
  Ok(Place(StopLimit(kStopLossLimit, kAlice, kSell, Px("64000"), Px("63900"), Btc("0.2"))));
  EXPECT_EQ(Locked(kAlice, kBtc), BtcAmt("0.3"));
  Ok(Place(StopLimit(kStopLossLimit, kAlice, kBuy, Px("66000"), Px("66100"), Btc("0.1"))));
  EXPECT_EQ(Locked(kAlice, kUsdt), Usdt("6610"));  // 66100 × 0.1
  Ok(Place(StopLimit(kTakeProfitLimit, kAlice, kBuy, Px("64000"), Px("64100"), Btc("0.1"))));
  EXPECT_EQ(Locked(kAlice, kUsdt), Usdt("13020"));                          // + 64100 × 0.1
  Ok(Place(StopMarket(kStopLoss, kAlice, kBuy, Px("66000"), Btc("0.1"))));  // locks nothing
  EXPECT_EQ(Locked(kAlice, kUsdt), Usdt("13020"));
  EXPECT_EQ(Asks(), "");
  EXPECT_EQ(Bids(), "");

  // Five untriggered stops: the sixth is over MAX_NUM_ALGO_ORDERS.
  const NewOrder sixth = StopMarket(kTakeProfit, kAlice, kSell, Px("66000"), Btc("0.1"));
  ExpectReject(PlaceOrder{sixth}, RejectCode::kFilterMaxNumAlgoOrders, -1013,
               "Filter failure: MAX_NUM_ALGO_ORDERS");
  // The limit is per account; plain orders are not algo orders.
  Ok(Place(StopMarket(kTakeProfit, kBob, kSell, Px("66000"), Btc("0.1"))));
  Ok(Place(Limit(kAlice, kBuy, Px("60000"), Btc("0.1"))));
  // Cancelling one stop makes room.
  const auto open = engine_.OpenOrders(kAlice, kBtcUsdt);
  ASSERT_EQ(open.size(), 6u);
  EXPECT_FALSE(open[0].working);
  Ok(Cancel(kAlice, open[0].order_id));
  Ok(Place(sixth));
}

TEST_F(StopsTest, TriggeredStopMarketBuyWithoutFundsExpires) {
  TradeAt(Px("65000"));
  Ok(Place(StopMarket(kStopLoss, kAlice, kBuy, Px("66000"), Btc("0.1"))));  // 3
  Ok(Apply(Withdraw{kAlice, kUsdt, Usdt("1000000")}));     // possible: the stop locks nothing
  Ok(Place(Limit(kCarol, kSell, Px("66000"), Btc("1"))));  // 4
  // Triggered at 66000: the walk costs 6600 > 0 free, so it expires.
  Out out = Place(Limit(kBob, kBuy, Px("66000"), Btc("0.01")));  // 5
  Ok(out);
  const auto updates = out.UpdatesOf(3);
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_EQ(updates[0].exec, ExecType::kTriggered);
  EXPECT_EQ(updates[1].exec, ExecType::kExpired);
  EXPECT_EQ(updates[1].status, OrderStatus::kExpired);
  EXPECT_EQ(updates[1].reason, ExpiryReason::kInsufficientFunds);
  EXPECT_EQ(Asks(), "66000x0.99");
}

TEST_F(StopsTest, TriggeredStopMarketBuyIntoEmptyAsksExpires) {
  TradeAt(Px("65000"));
  Ok(Place(StopMarket(kStopLoss, kAlice, kBuy, Px("66000"), Btc("0.1"))));  // 3
  Ok(Place(Limit(kBob, kSell, Px("66000"), Btc("0.01"))));                  // 4
  Out out = Place(Limit(kCarol, kBuy, Px("66000"), Btc("0.01")));           // 5: takes it all
  Ok(out);
  const auto updates = out.UpdatesOf(3);
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_EQ(updates[1].exec, ExecType::kExpired);
  EXPECT_EQ(updates[1].reason, ExpiryReason::kInsufficientLiquidity);
  EXPECT_EQ(Bal(kAlice, kUsdt).free, Usdt("1000000"));
}

}  // namespace
}  // namespace spotex::engine::test
