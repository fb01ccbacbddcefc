// Scenario tests: the order types that trade at once or rest (LIMIT GTC/IOC/FOK, MARKET by
// quantity and by quoteOrderQty, LIMIT_MAKER, iceberg), price-time priority and settlement.
// Every account starts with 10 BTC, 1 000 000 USDT and 1000 TKN; fees are zero unless a test
// sets them (scenario_stp_fees_test.cc covers fees).
#include "engine_fixture.h"

namespace spotex::engine::test {
namespace {

using OrderTypesTest = EngineTest;

// ---------------------------------------------------------------------------------------------
// LIMIT

TEST_F(OrderTypesTest, LimitGtcOnEmptyBookRestsAndLocksItsQuote) {
  // Alice bids 0.5 BTC at 65000: reserve = 65000 × 0.5 = 32500 USDT moves free -> locked.
  Out out = Place(Limit(kAlice, kBuy, Px("65000"), Btc("0.5")));
  Ok(out);
  EXPECT_EQ(out.order_id(), 1);
  EXPECT_EQ(out.Types(), "OrderAccepted BalanceChanged BookLevel");

  const auto acc = out.At<OrderAccepted>(0);
  EXPECT_EQ(acc.order_id, 1);
  EXPECT_EQ(acc.order_list_id, -1);
  EXPECT_EQ(acc.account, kAlice);
  EXPECT_EQ(acc.symbol, kBtcUsdt);
  EXPECT_EQ(acc.side, kBuy);
  EXPECT_EQ(acc.type, OrderType::kLimit);
  EXPECT_EQ(acc.tif, kGtc);
  EXPECT_EQ(acc.stp, StpMode::kExpireMaker);  // the symbol's default
  EXPECT_EQ(acc.status, OrderStatus::kNew);
  EXPECT_TRUE(acc.working);
  EXPECT_EQ(acc.price, Px("65000"));
  EXPECT_EQ(acc.qty, Btc("0.5"));
  EXPECT_EQ(acc.time_ms, kT0);

  const auto bal = out.At<BalanceChanged>(1);
  EXPECT_EQ(bal.account, kAlice);
  EXPECT_EQ(bal.asset, kUsdt);
  EXPECT_EQ(bal.free, Usdt("967500"));  // 1 000 000 − 32 500
  EXPECT_EQ(bal.locked, Usdt("32500"));
  EXPECT_EQ(bal.delta_free, Usdt("-32500"));
  EXPECT_EQ(bal.delta_locked, Usdt("32500"));

  const auto lvl = out.At<BookLevel>(2);
  EXPECT_EQ(lvl.symbol, kBtcUsdt);
  EXPECT_EQ(lvl.side, kBuy);
  EXPECT_EQ(lvl.update_id, 1);
  EXPECT_EQ(lvl.price, Px("65000"));
  EXPECT_EQ(lvl.qty, Btc("0.5"));

  EXPECT_EQ(Bids(), "65000x0.5");
  EXPECT_EQ(Asks(), "");
  EXPECT_EQ(BookOf().last_update_id, 1);
  const auto view = Order(kAlice, 1);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->status, OrderStatus::kNew);
  EXPECT_EQ(view->reserved, Usdt("32500"));
}

TEST_F(OrderTypesTest, LimitGtcTradesAtMakerPriceRefundsImprovementAndRestsTheRest) {
  Ok(Place(Limit(kBob, kSell, Px("65000"), Btc("0.3"))));  // order 1
  // Alice bids 0.5 at 65100 (reserve 65100 × 0.5 = 32550). She trades 0.3 at the maker's
  // 65000 = 19500 USDT; the fill releases 65100 × 0.3 = 19530 from her lock, so the 30 USDT
  // price improvement returns to free. 0.2 rests at 65100 with 65100 × 0.2 = 13020 locked.
  Out out = Place(Limit(kAlice, kBuy, Px("65100"), Btc("0.5")));  // order 2
  Ok(out);
  EXPECT_EQ(out.Types(), "OrderAccepted Trade OrderUpdate*2 BalanceChanged*4 BookLevel*2");

  const auto trade = out.At<Trade>(1);
  EXPECT_EQ(trade.trade_id, 1);
  EXPECT_EQ(trade.symbol, kBtcUsdt);
  EXPECT_FALSE(trade.buyer_is_maker);
  EXPECT_EQ(trade.price, Px("65000"));
  EXPECT_EQ(trade.qty, Btc("0.3"));
  EXPECT_EQ(trade.quote_qty, Usdt("19500"));
  EXPECT_EQ(trade.buyer_order_id, 2);
  EXPECT_EQ(trade.seller_order_id, 1);
  EXPECT_EQ(trade.buyer, kAlice);
  EXPECT_EQ(trade.seller, kBob);
  EXPECT_EQ(trade.buyer_commission, Qty(0));
  EXPECT_EQ(trade.seller_commission, Amount(0));
  EXPECT_EQ(trade.time_ms, kT0);

  const auto maker = out.At<OrderUpdate>(2);
  EXPECT_EQ(maker.order_id, 1);
  EXPECT_EQ(maker.account, kBob);
  EXPECT_EQ(maker.exec, ExecType::kTrade);
  EXPECT_EQ(maker.status, OrderStatus::kFilled);
  EXPECT_TRUE(maker.is_maker);
  EXPECT_EQ(maker.executed_qty, Btc("0.3"));
  EXPECT_EQ(maker.cum_quote_qty, Usdt("19500"));
  EXPECT_EQ(maker.last_qty, Btc("0.3"));
  EXPECT_EQ(maker.last_price, Px("65000"));
  EXPECT_EQ(maker.trade_id, 1);
  EXPECT_EQ(maker.commission_asset, kUsdt);  // a seller receives quote

  const auto taker = out.At<OrderUpdate>(3);
  EXPECT_EQ(taker.order_id, 2);
  EXPECT_EQ(taker.exec, ExecType::kTrade);
  EXPECT_EQ(taker.status, OrderStatus::kPartiallyFilled);
  EXPECT_FALSE(taker.is_maker);
  EXPECT_EQ(taker.executed_qty, Btc("0.3"));
  EXPECT_EQ(taker.cum_quote_qty, Usdt("19500"));
  EXPECT_EQ(taker.commission_asset, kBtc);  // a buyer receives base

  // Balances in order of first touch: Alice USDT (reserve), Alice BTC, Bob BTC, Bob USDT.
  const auto alice_usdt = out.At<BalanceChanged>(4);
  EXPECT_EQ(alice_usdt.account, kAlice);
  EXPECT_EQ(alice_usdt.asset, kUsdt);
  EXPECT_EQ(alice_usdt.free, Usdt("967480"));  // 1 000 000 − 32 550 + 30
  EXPECT_EQ(alice_usdt.locked, Usdt("13020"));
  EXPECT_EQ(alice_usdt.delta_free, Usdt("-32520"));
  EXPECT_EQ(alice_usdt.delta_locked, Usdt("13020"));
  const auto alice_btc = out.At<BalanceChanged>(5);
  EXPECT_EQ(alice_btc.account, kAlice);
  EXPECT_EQ(alice_btc.asset, kBtc);
  EXPECT_EQ(alice_btc.free, BtcAmt("10.3"));
  const auto bob_btc = out.At<BalanceChanged>(6);
  EXPECT_EQ(bob_btc.account, kBob);
  EXPECT_EQ(bob_btc.asset, kBtc);
  EXPECT_EQ(bob_btc.free, BtcAmt("9.7"));
  EXPECT_EQ(bob_btc.locked, Amount(0));
  EXPECT_EQ(bob_btc.delta_free, Amount(0));
  EXPECT_EQ(bob_btc.delta_locked, BtcAmt("-0.3"));
  const auto bob_usdt = out.At<BalanceChanged>(7);
  EXPECT_EQ(bob_usdt.account, kBob);
  EXPECT_EQ(bob_usdt.free, Usdt("1019500"));

  // The ask level empties (update id 2), then the bid remainder appears (update id 3).
  const auto ask = out.At<BookLevel>(8);
  EXPECT_EQ(ask.side, kSell);
  EXPECT_EQ(ask.price, Px("65000"));
  EXPECT_EQ(ask.qty, Qty(0));
  EXPECT_EQ(ask.update_id, 2);
  const auto bid = out.At<BookLevel>(9);
  EXPECT_EQ(bid.side, kBuy);
  EXPECT_EQ(bid.price, Px("65100"));
  EXPECT_EQ(bid.qty, Btc("0.2"));
  EXPECT_EQ(bid.update_id, 3);

  EXPECT_EQ(Bids(), "65100x0.2");
  EXPECT_EQ(Asks(), "");
  const auto view = Order(kAlice, 2);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->status, OrderStatus::kPartiallyFilled);
  EXPECT_EQ(view->executed_qty, Btc("0.3"));
  EXPECT_EQ(view->reserved, Usdt("13020"));
  EXPECT_EQ(LastPrice(), Px("65000"));
}

TEST_F(OrderTypesTest, PriceTimePriority) {
  Ok(Place(Limit(kBob, kSell, Px("65010"), Btc("0.1"))));    // 1: worse price, first in time
  Ok(Place(Limit(kCarol, kSell, Px("65000"), Btc("0.1"))));  // 2: best price, first at it
  Ok(Place(Limit(kBob, kSell, Px("65000"), Btc("0.1"))));    // 3: best price, second at it
  EXPECT_EQ(Asks(), "65000x0.2 65010x0.1");

  // MARKET BUY 0.25: 0.1 from order 2, 0.1 from order 3 (both 65000), 0.05 from order 1.
  // Cost 6500 + 6500 + 65010 × 0.05 = 3250.5 -> 16250.5 USDT.
  Out out = Place(Market(kAlice, kBuy, Btc("0.25")));
  Ok(out);
  const auto trades = out.All<Trade>();
  ASSERT_EQ(trades.size(), 3u);
  EXPECT_EQ(trades[0].seller_order_id, 2);
  EXPECT_EQ(trades[0].price, Px("65000"));
  EXPECT_EQ(trades[0].qty, Btc("0.1"));
  EXPECT_EQ(trades[1].seller_order_id, 3);
  EXPECT_EQ(trades[1].price, Px("65000"));
  EXPECT_EQ(trades[1].qty, Btc("0.1"));
  EXPECT_EQ(trades[2].seller_order_id, 1);
  EXPECT_EQ(trades[2].price, Px("65010"));
  EXPECT_EQ(trades[2].qty, Btc("0.05"));
  EXPECT_EQ(trades[2].trade_id, 3);

  const auto last = out.UpdatesOf(4).back();
  EXPECT_EQ(last.status, OrderStatus::kFilled);
  EXPECT_EQ(last.executed_qty, Btc("0.25"));
  EXPECT_EQ(last.cum_quote_qty, Usdt("16250.5"));
  EXPECT_EQ(Free(kAlice, kUsdt), Usdt("983749.5"));
  EXPECT_EQ(Locked(kAlice, kUsdt), Amount(0));
  EXPECT_EQ(Free(kAlice, kBtc), BtcAmt("10.25"));
  EXPECT_EQ(Asks(), "65010x0.05");
}

TEST_F(OrderTypesTest, LimitIocFillsWhatItCanAndExpiresTheRest) {
  Ok(Place(Limit(kBob, kSell, Px("65000"), Btc("0.2"))));
  Out out = Place(Limit(kAlice, kBuy, Px("65000"), Btc("0.5"), kIoc));
  Ok(out);
  EXPECT_EQ(out.Types(), "OrderAccepted Trade OrderUpdate*3 BalanceChanged*4 BookLevel");
  const auto expired = out.At<OrderUpdate>(4);
  EXPECT_EQ(expired.order_id, 2);
  EXPECT_EQ(expired.exec, ExecType::kExpired);
  EXPECT_EQ(expired.status, OrderStatus::kExpired);
  EXPECT_EQ(expired.reason, ExpiryReason::kUnfilledIoc);
  EXPECT_EQ(expired.executed_qty, Btc("0.2"));
  EXPECT_EQ(expired.cum_quote_qty, Usdt("13000"));
  // 0.2 × 65000 = 13000 spent, nothing left locked, nothing rests.
  EXPECT_EQ(Free(kAlice, kUsdt), Usdt("987000"));
  EXPECT_EQ(Locked(kAlice, kUsdt), Amount(0));
  EXPECT_EQ(Bids(), "");
  EXPECT_EQ(Asks(), "");
  EXPECT_FALSE(Order(kAlice, 2).has_value());
}

TEST_F(OrderTypesTest, LimitFokFillsCompletely) {
  Ok(Place(Limit(kBob, kSell, Px("65000"), Btc("0.2"))));
  Ok(Place(Limit(kCarol, kSell, Px("65010"), Btc("0.3"))));
  // 0.2 × 65000 = 13000 plus 0.3 × 65010 = 19503: 32503 spent; the reserve was
  // 65010 × 0.5 = 32505, the 2 USDT improvement on the first fill is refunded.
  Out out = Place(Limit(kAlice, kBuy, Px("65010"), Btc("0.5"), kFok));
  Ok(out);
  EXPECT_EQ(out.All<Trade>().size(), 2u);
  EXPECT_EQ(out.UpdatesOf(3).back().status, OrderStatus::kFilled);
  EXPECT_EQ(Free(kAlice, kUsdt), Usdt("967497"));
  EXPECT_EQ(Locked(kAlice, kUsdt), Amount(0));
  EXPECT_EQ(Free(kAlice, kBtc), BtcAmt("10.5"));
  EXPECT_EQ(Asks(), "");
}

TEST_F(OrderTypesTest, LimitFokThatCannotFillExpiresAndChangesNoBookOrBalance) {
  Ok(Place(Limit(kBob, kSell, Px("65000"), Btc("0.2"))));
  Ok(Place(Limit(kCarol, kSell, Px("65020"), Btc("0.3"))));
  const BookView book_before = BookOf();
  const auto alice_usdt = Bal(kAlice, kUsdt);
  const auto bob_btc = Bal(kBob, kBtc);

  // Only 0.2 is offered at or below 65010: the FOK for 0.5 cannot fill.
  Out out = Place(Limit(kAlice, kBuy, Px("65010"), Btc("0.5"), kFok));
  Ok(out);  // accepted, then expired
  EXPECT_EQ(out.Types(), "OrderAccepted OrderUpdate");
  const auto u = out.At<OrderUpdate>(1);
  EXPECT_EQ(u.order_id, 3);
  EXPECT_EQ(u.exec, ExecType::kExpired);
  EXPECT_EQ(u.status, OrderStatus::kExpired);
  EXPECT_EQ(u.reason, ExpiryReason::kUnfilledFok);
  EXPECT_EQ(u.executed_qty, Qty(0));

  EXPECT_EQ(Asks(), "65000x0.2 65020x0.3");
  EXPECT_EQ(BookOf().last_update_id, book_before.last_update_id);
  EXPECT_EQ(Bal(kAlice, kUsdt).free, alice_usdt.free);
  EXPECT_EQ(Bal(kAlice, kUsdt).locked, alice_usdt.locked);
  EXPECT_EQ(Bal(kBob, kBtc).locked, bob_btc.locked);
  EXPECT_EQ(LastPrice(), Price(0));
}

// ---------------------------------------------------------------------------------------------
// MARKET by quantity

TEST_F(OrderTypesTest, MarketSellByQuantityWalksTheBids) {
  Ok(Place(Limit(kAlice, kBuy, Px("64990"), Btc("0.3"))));
  Ok(Place(Limit(kCarol, kBuy, Px("64980"), Btc("0.3"))));
  // 0.3 × 64990 = 19497 plus 0.2 × 64980 = 12996: Bob receives 32493 USDT.
  Out out = Place(Market(kBob, kSell, Btc("0.5")));
  Ok(out);
  EXPECT_EQ(out.All<Trade>().size(), 2u);
  const auto last = out.UpdatesOf(3).back();
  EXPECT_EQ(last.status, OrderStatus::kFilled);
  EXPECT_EQ(last.cum_quote_qty, Usdt("32493"));
  EXPECT_EQ(Free(kBob, kUsdt), Usdt("1032493"));
  EXPECT_EQ(Free(kBob, kBtc), BtcAmt("9.5"));
  EXPECT_EQ(Locked(kBob, kBtc), Amount(0));
  EXPECT_EQ(Bids(), "64980x0.1");
}

TEST_F(OrderTypesTest, MarketBuyByQuantityThatRunsOutOfBookExpires) {
  Ok(Place(Limit(kBob, kSell, Px("65000"), Btc("0.2"))));
  // The reserve is the walk over the whole book: 0.2 × 65000 = 13000.
  Out out = Place(Market(kAlice, kBuy, Btc("0.5")));
  Ok(out);
  EXPECT_EQ(out.Types(), "OrderAccepted Trade OrderUpdate*3 BalanceChanged*4 BookLevel");
  const auto expired = out.At<OrderUpdate>(4);
  EXPECT_EQ(expired.exec, ExecType::kExpired);
  EXPECT_EQ(expired.status, OrderStatus::kExpired);
  EXPECT_EQ(expired.reason, ExpiryReason::kInsufficientLiquidity);
  EXPECT_EQ(expired.executed_qty, Btc("0.2"));
  EXPECT_EQ(expired.cum_quote_qty, Usdt("13000"));
  EXPECT_EQ(Free(kAlice, kUsdt), Usdt("987000"));
  EXPECT_EQ(Locked(kAlice, kUsdt), Amount(0));
}

TEST_F(OrderTypesTest, MarketSellByQuantityThatRunsOutOfBookExpires) {
  Ok(Place(Limit(kAlice, kBuy, Px("64990"), Btc("0.1"))));
  Out out = Place(Market(kBob, kSell, Btc("0.4")));
  Ok(out);
  const auto last = out.UpdatesOf(2).back();
  EXPECT_EQ(last.status, OrderStatus::kExpired);
  EXPECT_EQ(last.reason, ExpiryReason::kInsufficientLiquidity);
  EXPECT_EQ(last.executed_qty, Btc("0.1"));
  // Sold 0.1 for 6499; the other 0.3 is unlocked again.
  EXPECT_EQ(Free(kBob, kBtc), BtcAmt("9.9"));
  EXPECT_EQ(Locked(kBob, kBtc), Amount(0));
  EXPECT_EQ(Free(kBob, kUsdt), Usdt("1006499"));
}

// ---------------------------------------------------------------------------------------------
// MARKET by quoteOrderQty

TEST_F(OrderTypesTest, MarketBuyByQuoteSpendsAtMostTheQuote) {
  Ok(Place(Limit(kBob, kSell, Px("65000"), Btc("0.1"))));
  Ok(Place(Limit(kCarol, kSell, Px("65100"), Btc("1"))));
  // Spend 10000 USDT (the reserve). Fill 1: min(0.1, floor_step(10000/65000 = 0.153846..))
  // = 0.1 for 6500; 3500 left. Fill 2: floor_step(3500/65100 = 0.0537634..) = 0.05376 for
  // 65100 × 0.05376 = 3499.776; 0.224 left, which cannot buy one step (0.00001 × 65100 =
  // 0.651): FILLED with 0.15376 BTC for 9999.776 USDT; 0.224 returns to free.
  Out out = Place(MarketQuote(kAlice, kBuy, Usdt("10000")));
  Ok(out);
  const auto acc = out.At<OrderAccepted>(0);
  EXPECT_EQ(acc.quote_qty, Usdt("10000"));
  EXPECT_EQ(acc.qty, Qty(0));
  const auto trades = out.All<Trade>();
  ASSERT_EQ(trades.size(), 2u);
  EXPECT_EQ(trades[0].qty, Btc("0.1"));
  EXPECT_EQ(trades[1].qty, Btc("0.05376"));
  EXPECT_EQ(trades[1].quote_qty, Usdt("3499.776"));
  const auto last = out.UpdatesOf(3).back();
  EXPECT_EQ(last.status, OrderStatus::kFilled);
  EXPECT_EQ(last.executed_qty, Btc("0.15376"));
  EXPECT_EQ(last.cum_quote_qty, Usdt("9999.776"));
  EXPECT_EQ(Free(kAlice, kUsdt), Usdt("990000.224"));
  EXPECT_EQ(Locked(kAlice, kUsdt), Amount(0));
  EXPECT_EQ(Free(kAlice, kBtc), BtcAmt("10.15376"));
  EXPECT_EQ(Asks(), "65100x0.94624");
}

TEST_F(OrderTypesTest, MarketBuyByQuoteThatRunsOutOfBookExpires) {
  Ok(Place(Limit(kBob, kSell, Px("65000"), Btc("0.1"))));
  // 6500 spent on the only 0.1; 3500 could still buy 0.05384 at 65000, but the book is empty.
  Out out = Place(MarketQuote(kAlice, kBuy, Usdt("10000")));
  Ok(out);
  const auto updates = out.UpdatesOf(2);
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_EQ(updates[0].status, OrderStatus::kPartiallyFilled);
  EXPECT_EQ(updates[1].exec, ExecType::kExpired);
  EXPECT_EQ(updates[1].status, OrderStatus::kExpired);
  EXPECT_EQ(updates[1].reason, ExpiryReason::kInsufficientLiquidity);
  EXPECT_EQ(updates[1].cum_quote_qty, Usdt("6500"));
  EXPECT_EQ(Free(kAlice, kUsdt), Usdt("993500"));
  EXPECT_EQ(Locked(kAlice, kUsdt), Amount(0));
}

TEST_F(OrderTypesTest, MarketSellByQuoteReceivesAtMostTheQuote) {
  Ok(Place(Limit(kAlice, kBuy, Px("65000"), Btc("0.1"))));
  Ok(Place(Limit(kCarol, kBuy, Px("64900"), Btc("1"))));
  // Reserve (base walk): at 65000 max = floor_step(10000/65000) = 0.15384, take 0.1, 3500
  // left; at 64900 max = floor_step(3500/64900 = 0.0539291..) = 0.05392, take it -> 0.15392.
  // Fills: 0.1 at 65000 (6500), then 0.05392 at 64900 = 3499.408. The base reserve is spent:
  // FILLED, 0.15392 BTC sold for 9999.408 USDT.
  Out out = Place(MarketQuote(kBob, kSell, Usdt("10000")));
  Ok(out);
  const auto trades = out.All<Trade>();
  ASSERT_EQ(trades.size(), 2u);
  EXPECT_EQ(trades[1].qty, Btc("0.05392"));
  EXPECT_EQ(trades[1].quote_qty, Usdt("3499.408"));
  const auto last = out.UpdatesOf(3).back();
  EXPECT_EQ(last.status, OrderStatus::kFilled);
  EXPECT_EQ(last.executed_qty, Btc("0.15392"));
  EXPECT_EQ(last.cum_quote_qty, Usdt("9999.408"));
  EXPECT_EQ(Free(kBob, kBtc), BtcAmt("9.84608"));
  EXPECT_EQ(Locked(kBob, kBtc), Amount(0));
  EXPECT_EQ(Free(kBob, kUsdt), Usdt("1009999.408"));
  EXPECT_EQ(Bids(), "64900x0.94608");
}

// A SELL by quote into a book too thin for its target sells what the book takes and expires
// (INSUFFICIENT_LIQUIDITY), as on Binance: only 6500 of the 10000 USDT target was reached.
TEST_F(OrderTypesTest, MarketSellByQuoteIntoThinBookExpires) {
  Ok(Place(Limit(kAlice, kBuy, Px("65000"), Btc("0.1"))));
  Out out = Place(MarketQuote(kBob, kSell, Usdt("10000")));
  Ok(out);
  const auto last = out.UpdatesOf(2).back();
  EXPECT_EQ(last.status, OrderStatus::kExpired);
  EXPECT_EQ(last.reason, ExpiryReason::kInsufficientLiquidity);
  EXPECT_EQ(last.executed_qty, Btc("0.1"));
  EXPECT_EQ(last.cum_quote_qty, Usdt("6500"));
  EXPECT_EQ(Free(kBob, kBtc), BtcAmt("9.9"));
  EXPECT_EQ(Locked(kBob, kBtc), Amount(0));
}

TEST_F(OrderTypesTest, MarketSellByQuoteRunsOutOfBookAfterSelfTradePrevention) {
  Ok(Place(Limit(kBob, kBuy, Px("65000"), Btc("0.1"))));    // 1: Bob's own bid
  Ok(Place(Limit(kCarol, kBuy, Px("64900"), Btc("0.1"))));  // 2
  // Reserve walk (own bid included): 0.1 at 65000, then floor_step(3500/64900) = 0.05392 ->
  // 0.15392. Matching: Bob's own bid expires (EXPIRE_MAKER), Carol's 0.1 fills at 64900 =
  // 6490; quote left 3510 could buy more but the book is empty: EXPIRED, INSUFFICIENT_LIQUIDITY.
  Out out = Place(MarketQuote(kBob, kSell, Usdt("10000")));  // 3
  Ok(out);
  EXPECT_EQ(out.Types(),
            "OrderAccepted PreventedMatch OrderUpdate Trade OrderUpdate*3 BalanceChanged*4 "
            "BookLevel*2");
  const auto last = out.UpdatesOf(3).back();
  EXPECT_EQ(last.exec, ExecType::kExpired);
  EXPECT_EQ(last.status, OrderStatus::kExpired);
  EXPECT_EQ(last.reason, ExpiryReason::kInsufficientLiquidity);
  EXPECT_EQ(last.executed_qty, Btc("0.1"));
  EXPECT_EQ(last.cum_quote_qty, Usdt("6490"));
  // Bob: sold 0.1 BTC; received 6490; his expired bid's 6500 is unlocked.
  EXPECT_EQ(Free(kBob, kBtc), BtcAmt("9.9"));
  EXPECT_EQ(Locked(kBob, kBtc), Amount(0));
  EXPECT_EQ(Free(kBob, kUsdt), Usdt("1006490"));
  EXPECT_EQ(Locked(kBob, kUsdt), Amount(0));
}

// ---------------------------------------------------------------------------------------------
// LIMIT_MAKER

TEST_F(OrderTypesTest, LimitMakerRestsWhenItDoesNotCross) {
  Ok(Place(Limit(kBob, kSell, Px("65000"), Btc("0.1"))));
  Out out = Place(LimitMaker(kAlice, kBuy, Px("64999.99"), Btc("0.1")));
  Ok(out);
  EXPECT_EQ(out.Types(), "OrderAccepted BalanceChanged BookLevel");
  EXPECT_EQ(out.At<OrderAccepted>(0).type, OrderType::kLimitMaker);
  EXPECT_EQ(out.At<OrderAccepted>(0).tif, TimeInForce::kNone);
  EXPECT_EQ(Bids(), "64999.99x0.1");
  EXPECT_EQ(Locked(kAlice, kUsdt), Usdt("6499.999"));
}

TEST_F(OrderTypesTest, LimitMakerThatWouldTakeIsRejected) {
  Ok(Place(Limit(kBob, kSell, Px("65000"), Btc("0.1"))));   // 1
  Ok(Place(Limit(kCarol, kBuy, Px("64000"), Btc("0.1"))));  // 2
  ExpectReject(PlaceOrder{LimitMaker(kAlice, kBuy, Px("65000"), Btc("0.1"))},
               RejectCode::kWouldTakeLiquidity, -2010, "Order would immediately match and take.");
  ExpectReject(PlaceOrder{LimitMaker(kAlice, kBuy, Px("70000"), Btc("0.1"))},
               RejectCode::kWouldTakeLiquidity, -2010, "Order would immediately match and take.");
  ExpectReject(PlaceOrder{LimitMaker(kAlice, kSell, Px("64000"), Btc("0.1"))},
               RejectCode::kWouldTakeLiquidity, -2010, "Order would immediately match and take.");
  // A rejected command consumes no order id: the next accepted order is 3.
  Out ok = Place(LimitMaker(kAlice, kSell, Px("64000.01"), Btc("0.1")));
  Ok(ok);
  EXPECT_EQ(ok.order_id(), 3);
}

TEST_F(OrderTypesTest, LimitMakerWithTimeInForceIsRejected) {
  NewOrder o = LimitMaker(kAlice, kBuy, Px("64000"), Btc("0.1"));
  o.tif = kGtc;
  ExpectReject(PlaceOrder{o}, RejectCode::kTimeInForceNotRequired, -1114,
               "TimeInForce parameter sent when not required.");
}

// ---------------------------------------------------------------------------------------------
// Iceberg

TEST_F(OrderTypesTest, IcebergShowsOnlyItsVisibleSlice) {
  NewOrder o = Limit(kBob, kSell, Px("65000"), Btc("1"));
  o.iceberg_qty = Btc("0.1");
  Out out = Place(o);
  Ok(out);
  EXPECT_EQ(out.At<OrderAccepted>(0).iceberg_qty, Btc("0.1"));
  EXPECT_EQ(out.One<BookLevel>().qty, Btc("0.1"));
  EXPECT_EQ(Asks(), "65000x0.1");
  EXPECT_EQ(Locked(kBob, kBtc), BtcAmt("1"));  // the whole quantity is reserved
}

TEST_F(OrderTypesTest, IcebergSliceRefreshGoesBehindALaterOrder) {
  NewOrder ice = Limit(kBob, kSell, Px("65000"), Btc("1"));
  ice.iceberg_qty = Btc("0.1");
  Ok(Place(ice));                                            // 1: shows 0.1
  Ok(Place(Limit(kCarol, kSell, Px("65000"), Btc("0.2"))));  // 2: behind it
  EXPECT_EQ(Asks(), "65000x0.3");

  // 0.15: the iceberg's slice (0.1) first, then 0.05 from Carol. The iceberg's next slice
  // goes to the back of the level, behind Carol's 0.15.
  Out first = Place(Limit(kAlice, kBuy, Px("65000"), Btc("0.15")));
  Ok(first);
  auto trades = first.All<Trade>();
  ASSERT_EQ(trades.size(), 2u);
  EXPECT_EQ(trades[0].seller_order_id, 1);
  EXPECT_EQ(trades[0].qty, Btc("0.1"));
  EXPECT_EQ(trades[1].seller_order_id, 2);
  EXPECT_EQ(trades[1].qty, Btc("0.05"));
  EXPECT_EQ(first.One<BookLevel>().qty, Btc("0.25"));  // 0.15 (Carol) + 0.1 (new slice)
  EXPECT_EQ(Asks(), "65000x0.25");

  // 0.2: Carol's 0.15 now comes first, then 0.05 of the iceberg's new slice.
  Out second = Place(Limit(kAlice, kBuy, Px("65000"), Btc("0.2")));
  Ok(second);
  trades = second.All<Trade>();
  ASSERT_EQ(trades.size(), 2u);
  EXPECT_EQ(trades[0].seller_order_id, 2);
  EXPECT_EQ(trades[0].qty, Btc("0.15"));
  EXPECT_EQ(trades[1].seller_order_id, 1);
  EXPECT_EQ(trades[1].qty, Btc("0.05"));
  EXPECT_EQ(Asks(), "65000x0.05");
  const auto view = Order(kBob, 1);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->executed_qty, Btc("0.15"));
  EXPECT_EQ(view->reserved, BtcAmt("0.85"));
}

TEST_F(OrderTypesTest, IcebergPartsFilter) {
  // ceil(1 / 0.09) = 12 parts > 10.
  NewOrder o = Limit(kBob, kSell, Px("65000"), Btc("1"));
  o.iceberg_qty = Btc("0.09");
  ExpectReject(PlaceOrder{o}, RejectCode::kFilterIcebergParts, -1013,
               "Filter failure: ICEBERG_PARTS");
  // ceil(1 / 0.1) = 10 parts: allowed.
  o.iceberg_qty = Btc("0.1");
  Ok(Place(o));
}

TEST_F(OrderTypesTest, IcebergQuantityMustBeBelowTheOrderQuantity) {
  NewOrder o = Limit(kBob, kSell, Px("65000"), Btc("1"));
  o.iceberg_qty = Btc("1");
  ExpectReject(PlaceOrder{o}, RejectCode::kIcebergExceedsQty, -2010, "IcebergQty exceeds QTY.");
  o.iceberg_qty = Btc("1.5");
  ExpectReject(PlaceOrder{o}, RejectCode::kIcebergExceedsQty, -2010, "IcebergQty exceeds QTY.");
}

TEST_F(OrderTypesTest, IcebergNeedsGtcAndAllowingSymbol) {
  NewOrder o = Limit(kBob, kSell, Px("65000"), Btc("1"), kIoc);
  o.iceberg_qty = Btc("0.1");
  ExpectReject(PlaceOrder{o}, RejectCode::kUnsupportedCombination, -2010,
               "Unsupported order combination");
  NewOrder maker = LimitMaker(kBob, kSell, Px("65000"), Btc("1"));
  maker.iceberg_qty = Btc("0.1");
  Ok(Place(maker));  // LIMIT_MAKER icebergs are allowed (tif not sent)

  SymbolConfig cfg = BtcUsdtConfig();
  cfg.name = MakeName("BTCNOICE");
  cfg.iceberg_allowed = false;
  const SymbolId sym = ListSymbol(cfg);
  NewOrder other = Limit(kBob, kSell, Px("65000"), Btc("1"));
  other.symbol = sym;
  other.iceberg_qty = Btc("0.1");
  ExpectReject(PlaceOrder{other}, RejectCode::kIcebergNotAllowed, -2010,
               "Iceberg orders are not supported for this symbol.");
}

// ---------------------------------------------------------------------------------------------
// A scale-0 base asset

TEST_F(OrderTypesTest, ScaleZeroSymbolSettlesWholeTokens) {
  // TKN has no decimals: price is USDT per 1 TKN, qty counts whole tokens.
  NewOrder sell = Limit(kAlice, kSell, Px("0.25"), Tkn("7"));
  sell.symbol = kTknUsdt;
  Ok(Place(sell));
  // Bob bids 10 at 0.2501 (reserve 2.501), trades 7 at 0.25 = 1.75; releases 7 × 0.2501 =
  // 1.7507 (0.0007 improvement back to free); 3 rest with 0.7503 locked.
  NewOrder buy = Limit(kBob, kBuy, Px("0.2501"), Tkn("10"));
  buy.symbol = kTknUsdt;
  Out out = Place(buy);
  Ok(out);
  const auto trade = out.One<Trade>();
  EXPECT_EQ(trade.qty, Tkn("7"));
  EXPECT_EQ(trade.quote_qty, Usdt("1.75"));
  EXPECT_EQ(Free(kBob, kTkn), TknAmt("1007"));
  EXPECT_EQ(Free(kBob, kUsdt), Usdt("999997.4997"));
  EXPECT_EQ(Locked(kBob, kUsdt), Usdt("0.7503"));
  EXPECT_EQ(Free(kAlice, kTkn), TknAmt("993"));
  EXPECT_EQ(Free(kAlice, kUsdt), Usdt("1000001.75"));
  EXPECT_EQ(Bids(kTknUsdt), "0.2501x3");
  EXPECT_EQ(BookOf(kTknUsdt).last_update_id, 3);  // own counter: rest, empty, rest
  EXPECT_EQ(BookOf(kBtcUsdt).last_update_id, 0);
}

}  // namespace
}  // namespace spotex::engine::test
