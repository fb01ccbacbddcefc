// Scenario tests: cancel (by id, by client id, both, someone else's order, cancelRestrictions),
// cancel-all, amend keep-priority, cancel-replace (both modes, released funds) and OCO
// (placement, limit-leg fill, stop-leg trigger, cancelling a leg, price relationship).
#include "engine_fixture.h"

namespace spotex::engine::test {
namespace {

using CancelTest = EngineTest;
using AmendTest = EngineTest;
using CancelReplaceTest = EngineTest;
using OcoTest = EngineTest;

// ---------------------------------------------------------------------------------------------
// Cancel

TEST_F(CancelTest, ByOrderId) {
  Ok(Place(Limit(kAlice, kBuy, Px("64000"), Btc("0.5"))));  // 1: locks 32000
  Out out = Cancel(kAlice, 1);
  Ok(out);
  EXPECT_EQ(out.order_id(), 1);
  EXPECT_EQ(out.Types(), "OrderUpdate BalanceChanged BookLevel");
  const auto u = out.At<OrderUpdate>(0);
  EXPECT_EQ(u.order_id, 1);
  EXPECT_EQ(u.exec, ExecType::kCanceled);
  EXPECT_EQ(u.status, OrderStatus::kCanceled);
  EXPECT_EQ(u.reason, ExpiryReason::kNone);
  const auto bal = out.At<BalanceChanged>(1);
  EXPECT_EQ(bal.free, Usdt("1000000"));
  EXPECT_EQ(bal.locked, Amount(0));
  EXPECT_EQ(bal.delta_locked, Usdt("-32000"));
  const auto lvl = out.At<BookLevel>(2);
  EXPECT_EQ(lvl.qty, Qty(0));
  EXPECT_EQ(lvl.update_id, 2);
  EXPECT_EQ(Bids(), "");
  // It is gone: a second cancel does not find it.
  ExpectReject(CancelCmd(kAlice, 1), RejectCode::kUnknownOrder, -2011, "Unknown order sent.");
}

TEST_F(CancelTest, ByOrigClientOrderIdWithTheCancelsOwnId) {
  Ok(Place(WithCid(Limit(kAlice, kBuy, Px("64000"), Btc("0.5")), "alice-1")));
  Out out = Cancel(kAlice, 0, "alice-1", "cxl-1");
  Ok(out);
  EXPECT_EQ(out.Types(), "OrderCanceledBy OrderUpdate BalanceChanged BookLevel");
  const auto by = out.At<OrderCanceledBy>(0);
  EXPECT_EQ(by.order_id, 1);
  EXPECT_EQ(by.cancel_client_order_id, Cid("cxl-1"));
  EXPECT_EQ(out.At<OrderUpdate>(1).status, OrderStatus::kCanceled);
  // The client id is free again once the order is closed.
  Ok(Place(WithCid(Limit(kAlice, kBuy, Px("64000"), Btc("0.5")), "alice-1")));
}

TEST_F(CancelTest, ByIdAndClientIdMustNameTheSameOrder) {
  Ok(Place(WithCid(Limit(kAlice, kBuy, Px("64000"), Btc("0.1")), "a1")));  // 1
  Ok(Place(WithCid(Limit(kAlice, kBuy, Px("63000"), Btc("0.1")), "a2")));  // 2
  Out bad = ExpectReject(CancelCmd(kAlice, 1, "a2"), RejectCode::kUnknownOrder, -2011,
                         "Unknown order sent.");
  EXPECT_EQ(bad.One<CommandRejected>().client_order_id, Cid("a2"));
  Out good = Cancel(kAlice, 1, "a1");
  Ok(good);
  EXPECT_EQ(good.order_id(), 1);
}

TEST_F(CancelTest, AnotherAccountsOrderLooksLikeANonexistentOne) {
  Ok(Place(WithCid(Limit(kAlice, kBuy, Px("64000"), Btc("0.1")), "a1")));  // 1
  Out theirs =
      ExpectReject(CancelCmd(kBob, 1), RejectCode::kUnknownOrder, -2011, "Unknown order sent.");
  Out none =
      ExpectReject(CancelCmd(kBob, 999), RejectCode::kUnknownOrder, -2011, "Unknown order sent.");
  const auto a = theirs.One<CommandRejected>();
  const auto b = none.One<CommandRejected>();
  EXPECT_EQ(a.account, b.account);
  EXPECT_EQ(a.code, b.code);
  EXPECT_EQ(a.part, b.part);
  EXPECT_EQ(a.client_order_id, b.client_order_id);
  ExpectReject(CancelCmd(kBob, 0, "a1"), RejectCode::kUnknownOrder, -2011, "Unknown order sent.");
  // On another symbol the same id is unknown too.
  CancelOrder other = CancelCmd(kAlice, 1);
  other.ref.symbol = kTknUsdt;
  ExpectReject(other, RejectCode::kUnknownOrder, -2011, "Unknown order sent.");
  EXPECT_TRUE(Order(kAlice, 1).has_value());
}

TEST_F(CancelTest, NeedsAnOrderReference) {
  ExpectReject(CancelCmd(kAlice, 0), RejectCode::kMissingOrderRef, -1102,
               "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!");
}

TEST_F(CancelTest, CancelRestrictions) {
  Ok(Place(Limit(kAlice, kBuy, Px("64000"), Btc("0.5"))));  // 1, NEW
  CancelOrder only_partial = CancelCmd(kAlice, 1);
  only_partial.restriction = CancelRestriction::kOnlyPartiallyFilled;
  ExpectReject(only_partial, RejectCode::kCancelRestricted, -2011,
               "Order was not canceled due to cancel restrictions.");
  Ok(Place(Limit(kBob, kSell, Px("64000"), Btc("0.1"))));  // Alice is now PARTIALLY_FILLED
  CancelOrder only_new = CancelCmd(kAlice, 1);
  only_new.restriction = CancelRestriction::kOnlyNew;
  ExpectReject(only_new, RejectCode::kCancelRestricted, -2011,
               "Order was not canceled due to cancel restrictions.");
  CancelOrder bogus = CancelCmd(kAlice, 1);
  bogus.restriction = static_cast<CancelRestriction>(7);
  ExpectReject(bogus, RejectCode::kInvalidCancelRestrictions, -1145, "Invalid cancelRestrictions");
  Out out = Apply(only_partial);
  Ok(out);
  EXPECT_EQ(out.At<OrderUpdate>(0).status, OrderStatus::kCanceled);
  EXPECT_EQ(out.At<OrderUpdate>(0).executed_qty, Btc("0.1"));
  EXPECT_EQ(Locked(kAlice, kUsdt), Amount(0));

  Ok(Place(Limit(kAlice, kBuy, Px("64000"), Btc("0.5"))));  // 3, NEW
  CancelOrder new_ok = CancelCmd(kAlice, 3);
  new_ok.restriction = CancelRestriction::kOnlyNew;
  Ok(Apply(new_ok));
}

TEST_F(CancelTest, CancelAllCancelsEveryOpenOrderOfTheAccountOnTheSymbol) {
  Ok(Place(Limit(kAlice, kBuy, Px("64000"), Btc("0.1"))));                              // 1
  Ok(Place(Limit(kAlice, kSell, Px("66000"), Btc("0.1"))));                             // 2
  Ok(Place(StopMarket(OrderType::kStopLoss, kAlice, kSell, Px("60000"), Btc("0.1"))));  // 3
  NewOrder tkn = Limit(kAlice, kBuy, Px("0.25"), Tkn("10"));
  tkn.symbol = kTknUsdt;
  Ok(Place(tkn));                                         // 4: another symbol
  Ok(Place(Limit(kBob, kBuy, Px("63000"), Btc("0.1"))));  // 5: another account

  Out out = Apply(CancelAll{kAlice, kBtcUsdt});
  Ok(out);
  EXPECT_EQ(out.Types(), "OrderUpdate*3 BalanceChanged*2 BookLevel*2");
  const auto updates = out.All<OrderUpdate>();
  EXPECT_EQ(updates[0].order_id, 1);
  EXPECT_EQ(updates[1].order_id, 2);
  EXPECT_EQ(updates[2].order_id, 3);
  for (const auto& u : updates) EXPECT_EQ(u.status, OrderStatus::kCanceled);
  EXPECT_EQ(Locked(kAlice, kBtc), Amount(0));
  EXPECT_EQ(Locked(kAlice, kUsdt), Usdt("2.5"));  // the TKN order's 10 × 0.25 stays
  EXPECT_EQ(Bids(), "63000x0.1");
  EXPECT_EQ(Asks(), "");
  EXPECT_EQ(engine_.OpenOrders(kAlice, std::nullopt).size(), 1u);

  ExpectReject(CancelAll{kAlice, kBtcUsdt}, RejectCode::kUnknownOrder, -2011,
               "Unknown order sent.");
  ExpectReject(CancelAll{kCarol, kBtcUsdt}, RejectCode::kUnknownOrder, -2011,
               "Unknown order sent.");
  Ok(Apply(CancelAll{kAlice, kTknUsdt}));
}

// ---------------------------------------------------------------------------------------------
// Amend keep priority

TEST_F(AmendTest, DecreaseKeepsQueuePosition) {
  Ok(Place(Limit(kAlice, kBuy, Px("64000"), Btc("0.5"))));  // 1
  Ok(Place(Limit(kBob, kBuy, Px("64000"), Btc("0.5"))));    // 2
  // 0.5 -> 0.3 releases 64000 × 0.2 = 12800 USDT.
  Out out = Apply(AmendCmd(kAlice, 1, Btc("0.3")));
  Ok(out);
  EXPECT_EQ(out.order_id(), 1);
  EXPECT_EQ(out.Types(), "OrderAmended BalanceChanged BookLevel");
  const auto a = out.At<OrderAmended>(0);
  EXPECT_EQ(a.order_id, 1);
  EXPECT_EQ(a.account, kAlice);
  EXPECT_EQ(a.symbol, kBtcUsdt);
  EXPECT_EQ(a.status, OrderStatus::kNew);
  EXPECT_EQ(a.orig_qty, Btc("0.5"));
  EXPECT_EQ(a.new_qty, Btc("0.3"));
  EXPECT_EQ(a.executed_qty, Qty(0));
  EXPECT_EQ(out.At<BalanceChanged>(1).locked, Usdt("19200"));
  EXPECT_EQ(out.At<BalanceChanged>(1).free, Usdt("980800"));
  EXPECT_EQ(out.At<BookLevel>(2).qty, Btc("0.8"));
  EXPECT_EQ(Bids(), "64000x0.8");
  // Alice is still first in the queue.
  Out sell = Place(Limit(kCarol, kSell, Px("64000"), Btc("0.3")));
  ASSERT_EQ(sell.All<Trade>().size(), 1u);
  EXPECT_EQ(sell.One<Trade>().buyer_order_id, 1);
  EXPECT_EQ(Bids(), "64000x0.5");
}

TEST_F(AmendTest, IcebergBelowItsVisibleSliceShowsTheNewRemainder) {
  NewOrder ice = Limit(kBob, kSell, Px("65000"), Btc("1"));
  ice.iceberg_qty = Btc("0.1");
  Ok(Place(ice));  // 1: shows 0.1
  Out out = Apply(AmendCmd(kBob, 1, Btc("0.05")));
  Ok(out);
  EXPECT_EQ(out.One<BookLevel>().qty, Btc("0.05"));
  EXPECT_EQ(Asks(), "65000x0.05");
  EXPECT_EQ(Locked(kBob, kBtc), BtcAmt("0.05"));  // 0.95 BTC released
}

TEST_F(AmendTest, OnlyDecreasesOnTheLotGrid) {
  Ok(Place(Limit(kBob, kBuy, Px("64000"), Btc("0.5"))));  // 1
  ExpectReject(AmendCmd(kBob, 1, Btc("0.6")), RejectCode::kAmendQtyIncrease, -2038,
               "Order amend (quantity increase) is not supported.");
  ExpectReject(AmendCmd(kBob, 1, Btc("0.5")), RejectCode::kAmendNoChange, -2038,
               "The requested action would change no state; rejecting");
  ExpectReject(AmendCmd(kBob, 1, Btc("0.000015")), RejectCode::kFilterLotSize, -1013,
               "Filter failure: LOT_SIZE");
  ExpectReject(AmendCmd(kBob, 1, Qty(0)), RejectCode::kInvalidQuantity, -1013, "Invalid quantity.");
  ExpectReject(AmendCmd(kAlice, 1, Btc("0.1")), RejectCode::kUnknownOrder, -2011,
               "Unknown order sent.");
}

TEST_F(AmendTest, NewClientOrderIdReplacesTheOldOne) {
  Ok(Place(WithCid(Limit(kBob, kBuy, Px("64000"), Btc("0.5")), "bob-1")));  // 1
  Out out = Apply(AmendCmd(kBob, 1, Btc("0.4"), "bob-2"));
  Ok(out);
  const auto a = out.One<OrderAmended>();
  EXPECT_EQ(a.orig_client_order_id, Cid("bob-1"));
  EXPECT_EQ(a.new_client_order_id, Cid("bob-2"));
  const auto by_new = engine_.FindOrder(kBob, kBtcUsdt, 0, "bob-2");
  ASSERT_TRUE(by_new.has_value());
  EXPECT_EQ(by_new->order_id, 1);
  EXPECT_EQ(by_new->qty, Btc("0.4"));
  EXPECT_FALSE(engine_.FindOrder(kBob, kBtcUsdt, 0, "bob-1").has_value());
  ExpectReject(PlaceOrder{WithCid(Limit(kBob, kBuy, Px("63000"), Btc("0.1")), "bob-2")},
               RejectCode::kDuplicateOrder, -2010, "Duplicate order sent.");
  Ok(Place(WithCid(Limit(kBob, kBuy, Px("63000"), Btc("0.1")), "bob-1")));
}

// Regression (fixed in e568982): amending a partially filled resting order down to its executed
// quantity set qty = executed before RemoveFromBook, which then subtracted Remaining() = 0 from
// the level total. Alone at its level the order tripped SPOTEX_ASSERT (always on: release
// builds abort too), so the amend runs in a child process first.
TEST_F(AmendTest, DownToTheExecutedQuantityFillsTheOrder) {
  Ok(Place(Limit(kAlice, kBuy, Px("64000"), Btc("0.5"))));   // 1
  Ok(Place(Limit(kCarol, kSell, Px("64000"), Btc("0.2"))));  // 2: Alice executed 0.2
  ExpectInChild([&] {
    Apply(AmendCmd(kAlice, 1, Btc("0.2")));
    return engine_.CheckInvariants().empty();
  });
  if (HasFailure()) return;  // the amend would abort this process too
  // 0.5 -> 0.2 = executed: FILLED, leaves the book, 64000 × 0.3 = 19200 unlocked.
  Out out = Apply(AmendCmd(kAlice, 1, Btc("0.2")));
  Ok(out);
  EXPECT_EQ(out.Types(), "OrderAmended BalanceChanged BookLevel");
  EXPECT_EQ(out.At<OrderAmended>(0).status, OrderStatus::kFilled);
  EXPECT_EQ(out.At<OrderAmended>(0).executed_qty, Btc("0.2"));
  EXPECT_EQ(out.At<BalanceChanged>(1).delta_locked, Usdt("-19200"));
  EXPECT_EQ(Locked(kAlice, kUsdt), Amount(0));
  EXPECT_EQ(Bids(), "");
  EXPECT_FALSE(Order(kAlice, 1).has_value());
}

// The same regression with another order at the level: no abort, but the level kept 0.3 of
// "total" that no order owned (CheckInvariants: "level totals wrong"), which FOK dry runs and
// market-order reserve walks then counted as liquidity.
TEST_F(AmendTest, DownToTheExecutedQuantityKeepsTheLevelConsistent) {
  Ok(Place(Limit(kAlice, kBuy, Px("64000"), Btc("0.5"))));   // 1
  Ok(Place(Limit(kBob, kBuy, Px("64000"), Btc("0.5"))));     // 2
  Ok(Place(Limit(kCarol, kSell, Px("64000"), Btc("0.2"))));  // 3: Alice executed 0.2
  Out out = Apply(AmendCmd(kAlice, 1, Btc("0.2")));
  Ok(out);
  EXPECT_EQ(out.At<OrderAmended>(0).status, OrderStatus::kFilled);
  EXPECT_EQ(Bids(), "64000x0.5");
  EXPECT_EQ(engine_.CheckInvariants(), "");
}

// ---------------------------------------------------------------------------------------------
// Cancel-replace

TEST_F(CancelReplaceTest, StopOnFailureSkipsTheNewOrder) {
  const NewOrder o = Limit(kAlice, kBuy, Px("64000"), Btc("0.1"));
  Out out = ExpectReject(ReplaceCmd(kAlice, 42, o, CancelReplaceMode::kStopOnFailure),
                         RejectCode::kUnknownOrder, -2011, "Unknown order sent.");
  EXPECT_EQ(out.One<CommandRejected>().part, CommandPart::kCancel);
  EXPECT_EQ(out.result.cancel_code, RejectCode::kUnknownOrder);
  EXPECT_EQ(out.result.new_order_code, RejectCode::kNone);  // not attempted
  EXPECT_EQ(out.order_id(), 0);
  EXPECT_EQ(Bids(), "");
}

TEST_F(CancelReplaceTest, AllowFailurePlacesTheNewOrderAnyway) {
  const NewOrder o = Limit(kAlice, kBuy, Px("64000"), Btc("0.1"));
  Out out = Apply(ReplaceCmd(kAlice, 42, o, CancelReplaceMode::kAllowFailure));
  EXPECT_EQ(out.Types(), "CommandRejected OrderAccepted BalanceChanged BookLevel");
  EXPECT_EQ(out.At<CommandRejected>(0).part, CommandPart::kCancel);
  EXPECT_EQ(out.At<CommandRejected>(0).code, RejectCode::kUnknownOrder);
  EXPECT_EQ(out.result.cancel_code, RejectCode::kUnknownOrder);
  EXPECT_EQ(out.result.new_order_code, RejectCode::kNone);
  EXPECT_EQ(out.code(), RejectCode::kUnknownOrder);
  EXPECT_EQ(out.order_id(), 1);
  EXPECT_EQ(Bids(), "64000x0.1");
}

TEST_F(CancelReplaceTest, TheNewOrderCanUseTheFundsTheCancelReleases) {
  Ok(Place(Limit(kAlice, kBuy, Px("65000"), Btc("15"))));  // 1: locks 975 000, 25 000 free
  const NewOrder bigger = Limit(kAlice, kBuy, Px("65000"), Btc("15.3"));  // needs 994 500
  ExpectReject(PlaceOrder{bigger}, RejectCode::kInsufficientBalance, -2010,
               "Account has insufficient balance for requested action.");
  Out out = Apply(ReplaceCmd(kAlice, 1, bigger, CancelReplaceMode::kStopOnFailure));
  Ok(out);
  EXPECT_EQ(out.result.cancel_code, RejectCode::kNone);
  EXPECT_EQ(out.result.new_order_code, RejectCode::kNone);
  EXPECT_EQ(out.order_id(), 2);
  // The level at 65000 is emptied by the cancel and re-created by the new order: two events.
  EXPECT_EQ(out.Types(), "OrderUpdate OrderAccepted BalanceChanged BookLevel*2");
  const auto levels = out.All<BookLevel>();
  EXPECT_EQ(levels[0].qty, Qty(0));
  EXPECT_EQ(levels[0].update_id, 2);
  EXPECT_EQ(levels[1].qty, Btc("15.3"));
  EXPECT_EQ(levels[1].update_id, 3);
  EXPECT_EQ(Locked(kAlice, kUsdt), Usdt("994500"));
  EXPECT_EQ(Free(kAlice, kUsdt), Usdt("5500"));
}

TEST_F(CancelReplaceTest, CancelSucceedsNewOrderRejected) {
  Ok(Place(Limit(kAlice, kBuy, Px("64000"), Btc("0.1"))));  // 1
  const NewOrder off_tick = Limit(kAlice, kBuy, Px("64000.001"), Btc("0.1"));
  Out out = Apply(ReplaceCmd(kAlice, 1, off_tick, CancelReplaceMode::kStopOnFailure));
  EXPECT_EQ(out.Types(), "OrderUpdate CommandRejected BalanceChanged BookLevel");
  EXPECT_EQ(out.At<CommandRejected>(1).part, CommandPart::kNewOrder);
  EXPECT_EQ(out.At<CommandRejected>(1).code, RejectCode::kFilterPrice);
  EXPECT_EQ(out.code(), RejectCode::kFilterPrice);
  EXPECT_EQ(out.result.cancel_code, RejectCode::kNone);
  EXPECT_EQ(out.result.new_order_code, RejectCode::kFilterPrice);
  EXPECT_FALSE(Order(kAlice, 1).has_value());
  EXPECT_EQ(Locked(kAlice, kUsdt), Amount(0));
}

TEST_F(CancelReplaceTest, WholeCommandChecks) {
  Ok(Place(Limit(kAlice, kBuy, Px("64000"), Btc("0.1"))));  // 1
  NewOrder bobs = Limit(kBob, kBuy, Px("64000"), Btc("0.1"));
  ExpectReject(ReplaceCmd(kAlice, 1, bobs, CancelReplaceMode::kStopOnFailure),
               RejectCode::kInvalidParameter, -1130, "Data sent for parameter is not valid.");
  ExpectReject(ReplaceCmd(kAlice, 1, Limit(kAlice, kBuy, Px("64000"), Btc("0.1")),
                          static_cast<CancelReplaceMode>(5)),
               RejectCode::kInvalidParameter, -1130, "Data sent for parameter is not valid.");
  SymbolConfig cfg = BtcUsdtConfig();
  cfg.name = MakeName("BTCNOCR");
  cfg.cancel_replace_allowed = false;
  const SymbolId sym = ListSymbol(cfg);
  NewOrder o = Limit(kAlice, kBuy, Px("64000"), Btc("0.1"));
  o.symbol = sym;
  Ok(Place(o));
  CancelReplace cr = ReplaceCmd(kAlice, 2, o, CancelReplaceMode::kStopOnFailure);
  cr.cancel.ref.symbol = sym;
  ExpectReject(cr, RejectCode::kCancelReplaceNotAllowed, -2010,
               "Order cancel-replace is not supported for this symbol.");
}

// ---------------------------------------------------------------------------------------------
// OCO

class OcoPlaced : public EngineTest {
 protected:
  // Last price 65000 (orders 1, 2); Alice's SELL OCO for 0.1 BTC: order 3 = LIMIT_MAKER at
  // 66000 (above), order 4 = STOP_LOSS_LIMIT stop 64000 limit 63900 (below); list 1.
  void SetUp() override {
    EngineTest::SetUp();
    TradeAt(Px("65000"));
    placed_ = Apply(SellOco(kAlice, Btc("0.1"), Px("66000"), Px("64000"), Px("63900")));
    Ok(placed_);
  }
  Out placed_;
};

TEST_F(OcoPlaced, PlacementEvents) {
  EXPECT_EQ(placed_.result.order_list_id, 1);
  EXPECT_EQ(placed_.Types(), "OrderList OrderAccepted*2 BalanceChanged BookLevel");
  const auto list = placed_.At<OrderList>(0);
  EXPECT_EQ(list.order_list_id, 1);
  EXPECT_EQ(list.account, kAlice);
  EXPECT_EQ(list.symbol, kBtcUsdt);
  EXPECT_EQ(list.status, ListStatus::kExecuting);
  EXPECT_EQ(list.order_ids[0], 3);
  EXPECT_EQ(list.order_ids[1], 4);
  const auto above = placed_.At<OrderAccepted>(1);
  EXPECT_EQ(above.order_id, 3);
  EXPECT_EQ(above.order_list_id, 1);
  EXPECT_EQ(above.type, OrderType::kLimitMaker);
  EXPECT_TRUE(above.working);
  EXPECT_EQ(above.price, Px("66000"));
  const auto below = placed_.At<OrderAccepted>(2);
  EXPECT_EQ(below.order_id, 4);
  EXPECT_EQ(below.order_list_id, 1);
  EXPECT_EQ(below.type, OrderType::kStopLossLimit);
  EXPECT_FALSE(below.working);
  EXPECT_EQ(below.stop_price, Px("64000"));
  EXPECT_EQ(below.price, Px("63900"));
  // Reserve: the limit leg holds 0.1 BTC, the stop leg max(0, 0.1 − 0.1) = 0.
  EXPECT_EQ(placed_.At<BalanceChanged>(3).locked, BtcAmt("0.1"));
  EXPECT_EQ(Order(kAlice, 3)->reserved, BtcAmt("0.1"));
  EXPECT_EQ(Order(kAlice, 4)->reserved, Amount(0));
  EXPECT_EQ(Asks(), "66000x0.1");
}

TEST_F(OcoPlaced, LimitLegFillExpiresTheStopLeg) {
  Out out = Place(Limit(kBob, kBuy, Px("66000"), Btc("0.04")));  // 5
  Ok(out);
  EXPECT_EQ(out.Types(), "OrderAccepted Trade OrderUpdate*3 OrderList BalanceChanged*4 BookLevel");
  EXPECT_EQ(out.At<OrderUpdate>(2).order_id, 3);  // maker
  EXPECT_EQ(out.At<OrderUpdate>(2).status, OrderStatus::kPartiallyFilled);
  EXPECT_EQ(out.At<OrderUpdate>(3).order_id, 5);  // taker
  const auto stop = out.At<OrderUpdate>(4);
  EXPECT_EQ(stop.order_id, 4);
  EXPECT_EQ(stop.exec, ExecType::kExpired);
  EXPECT_EQ(stop.status, OrderStatus::kExpired);
  EXPECT_EQ(stop.reason, ExpiryReason::kOcoTrigger);
  const auto done = out.At<OrderList>(5);
  EXPECT_EQ(done.order_list_id, 1);
  EXPECT_EQ(done.status, ListStatus::kAllDone);
  // The limit leg goes on as a plain order with 0.06 left.
  const auto rest = Order(kAlice, 3);
  ASSERT_TRUE(rest.has_value());
  EXPECT_EQ(rest->executed_qty, Btc("0.04"));
  EXPECT_EQ(Locked(kAlice, kBtc), BtcAmt("0.06"));
  EXPECT_FALSE(Order(kAlice, 4).has_value());
  ExpectReject(CancelOrderList{kAlice, kBtcUsdt, 1, {}}, RejectCode::kUnknownOrderList, -2011,
               "Order list does not exist.");
}

TEST_F(OcoPlaced, StopTriggerExpiresTheLimitLegAndMovesItsReserve) {
  Ok(Place(Limit(kCarol, kBuy, Px("64000"), Btc("0.01"))));  // 5
  // Bob sells 0.01 to Carol at 64000: the stop leg triggers, the limit leg expires, and the
  // stop runs as LIMIT SELL 0.1 at 63900, which rests (no bids left). Alice's 0.1 BTC lock
  // stays where it is — it only changes owner — so there is no BalanceChanged for her.
  Out out = Place(Limit(kBob, kSell, Px("64000"), Btc("0.01")));  // 6
  Ok(out);
  EXPECT_EQ(out.Types(),
            "OrderAccepted Trade OrderUpdate*4 OrderList BalanceChanged*4 BookLevel*3");
  const auto trig = out.At<OrderUpdate>(4);
  EXPECT_EQ(trig.order_id, 4);
  EXPECT_EQ(trig.exec, ExecType::kTriggered);
  const auto limit = out.At<OrderUpdate>(5);
  EXPECT_EQ(limit.order_id, 3);
  EXPECT_EQ(limit.exec, ExecType::kExpired);
  EXPECT_EQ(limit.reason, ExpiryReason::kOcoTrigger);
  EXPECT_EQ(out.At<OrderList>(6).status, ListStatus::kAllDone);
  EXPECT_FALSE(out.BalanceOf(kAlice, kBtc).has_value());
  const auto stop = Order(kAlice, 4);
  ASSERT_TRUE(stop.has_value());
  EXPECT_TRUE(stop->working);
  EXPECT_EQ(stop->reserved, BtcAmt("0.1"));
  EXPECT_EQ(Locked(kAlice, kBtc), BtcAmt("0.1"));
  EXPECT_EQ(Asks(), "63900x0.1");
  EXPECT_EQ(Bids(), "");
}

TEST_F(OcoPlaced, CancellingOneLegCancelsTheList) {
  Out out = Cancel(kAlice, 4);  // the stop leg
  Ok(out);
  EXPECT_EQ(out.Types(), "OrderUpdate*2 OrderList BalanceChanged BookLevel");
  EXPECT_EQ(out.At<OrderUpdate>(0).order_id, 4);
  EXPECT_EQ(out.At<OrderUpdate>(0).status, OrderStatus::kCanceled);
  EXPECT_EQ(out.At<OrderUpdate>(1).order_id, 3);
  EXPECT_EQ(out.At<OrderUpdate>(1).status, OrderStatus::kCanceled);
  EXPECT_EQ(out.At<OrderList>(2).status, ListStatus::kAllDone);
  EXPECT_EQ(Locked(kAlice, kBtc), Amount(0));
  EXPECT_EQ(Asks(), "");
}

TEST_F(OcoPlaced, CancelOrderListByListClientId) {
  PlaceOco oco = SellOco(kAlice, Btc("0.1"), Px("67000"), Px("63000"), Price(0));
  oco.list_client_order_id = Cid("my-list");
  Out placed = Apply(oco);
  Ok(placed);
  EXPECT_EQ(placed.result.order_list_id, 2);
  EXPECT_EQ(placed.At<OrderAccepted>(2).type, OrderType::kStopLoss);
  Out out = Apply(CancelOrderList{kAlice, kBtcUsdt, 0, Cid("my-list")});
  Ok(out);
  EXPECT_EQ(out.result.order_list_id, 2);
  EXPECT_EQ(out.One<OrderList>().list_client_order_id, Cid("my-list"));
  EXPECT_EQ(Locked(kAlice, kBtc), BtcAmt("0.1"));  // list 1 is still open
}

TEST_F(OcoTest, PriceRelationship) {
  const auto reject = [&](const PlaceOco& c) {
    ExpectReject(c, RejectCode::kOcoPriceRelationship, -2010,
                 "The relationship of the prices for the orders is not correct.");
  };
  // Without a last price only above > below is required.
  reject(SellOco(kAlice, Btc("0.1"), Px("64000"), Px("66000"), Px("65900")));
  reject(BuyOco(kAlice, Btc("0.1"), Px("66000"), Px("64000"), Px("64100")));
  TradeAt(Px("65000"));
  // SELL: limit (above) > last > stop (below).
  reject(SellOco(kAlice, Btc("0.1"), Px("66000"), Px("65000"), Px("64900")));
  reject(SellOco(kAlice, Btc("0.1"), Px("65000"), Px("64000"), Px("63900")));
  // BUY: stop (above) > last > limit (below).
  reject(BuyOco(kAlice, Btc("0.1"), Px("64000"), Px("65000"), Px("65100")));
  reject(BuyOco(kAlice, Btc("0.1"), Px("65000"), Px("66000"), Px("66100")));
  Ok(Apply(BuyOco(kAlice, Btc("0.1"), Px("64000"), Px("66000"), Px("66100"))));
}

TEST_F(OcoTest, BuyOcoReservesTheLargerNeedAndMovesItOnTrigger) {
  TradeAt(Px("65000"));
  // Limit leg: 64000 × 0.1 = 6400; stop leg needs 66100 × 0.1 = 6610, holds the extra 210.
  Out placed = Apply(BuyOco(kAlice, Btc("0.1"), Px("64000"), Px("66000"), Px("66100")));
  Ok(placed);
  EXPECT_EQ(Locked(kAlice, kUsdt), Usdt("6610"));
  EXPECT_EQ(Order(kAlice, 3)->reserved, Usdt("210"));   // above: the stop leg
  EXPECT_EQ(Order(kAlice, 4)->reserved, Usdt("6400"));  // below: the limit leg
  Ok(Place(Limit(kCarol, kSell, Px("66000"), Btc("0.01"))));
  Ok(Place(Limit(kBob, kBuy, Px("66000"), Btc("0.01"))));  // last 66000: triggers leg 3
  const auto stop = Order(kAlice, 3);
  ASSERT_TRUE(stop.has_value());
  EXPECT_TRUE(stop->working);
  EXPECT_EQ(stop->reserved, Usdt("6610"));
  EXPECT_EQ(Locked(kAlice, kUsdt), Usdt("6610"));
  EXPECT_EQ(Bids(), "66100x0.1");
}

// Engine bug (see report): a BUY OCO whose stop-limit price is below the limit leg's price.
// On trigger the limit leg's whole reserve (64000 × 0.1 = 6400) moves to the stop leg, which
// only needs 63000 × 0.1 = 6300. The engine's own consistency check then fails, and so does
// Restore(Serialize()) of this perfectly reachable state.
TEST_F(OcoTest, BuyOcoWithStopLimitBelowLimitLegSurvivesTriggerAndSnapshot) {
  TradeAt(Px("65000"));
  Ok(Apply(BuyOco(kAlice, Btc("0.1"), Px("64000"), Px("66000"), Px("63000"))));  // 3, 4
  EXPECT_EQ(Locked(kAlice, kUsdt), Usdt("6400"));
  Ok(Place(Limit(kCarol, kSell, Px("66000"), Btc("0.01"))));
  Ok(Place(Limit(kBob, kBuy, Px("66000"), Btc("0.01"))));  // triggers leg 3: BUY 0.1 @ 63000
  EXPECT_EQ(Bids(), "63000x0.1");
  EXPECT_EQ(engine_.CheckInvariants(), "");
  const auto restored = Engine::Restore(engine_.Serialize());
  EXPECT_TRUE(restored.has_value()) << "Restore(Serialize()) failed on a reachable state";
}

// Amending a leg of an executing list is rejected (engine-semantics.md "Amend"): both legs
// share one reserve. Before that rule, amending the LIMIT_MAKER leg of a SELL OCO released
// part of the base reserve while the stop leg kept the original quantity, and the triggered
// stop then sold BTC that was no longer locked (negative balance).
TEST_F(OcoTest, AmendingAnOcoLegIsRejectedAndTheStopLegCannotOversell) {
  TradeAt(Px("65000"));
  Ok(Apply(SellOco(kAlice, Btc("0.1"), Px("66000"), Px("64000"), Price(0))));  // 3 limit, 4 stop
  ExpectReject(AmendCmd(kAlice, 3, Btc("0.05")), RejectCode::kAmendOrderListLeg, -2038,
               "Order amend is not supported for orders in an order list.");
  ExpectReject(AmendCmd(kAlice, 4, Btc("0.05")), RejectCode::kAmendOrderListLeg, -2038,
               "Order amend is not supported for orders in an order list.");
  const Amount alice_free = Free(kAlice, kBtc);
  Ok(Apply(Withdraw{kAlice, kBtc, alice_free}));  // Alice keeps only what is locked
  const Amount alice_holds = Locked(kAlice, kBtc);
  EXPECT_EQ(alice_holds, BtcAmt("0.1"));
  Ok(Place(Limit(kCarol, kBuy, Px("64000"), Btc("0.5"))));
  Out out = Place(Limit(kBob, kSell, Px("64000"), Btc("0.01")));  // triggers the stop leg
  int64_t alice_sold = 0;
  for (const auto& t : out.All<Trade>()) {
    if (t.seller == kAlice) alice_sold += t.qty.v;
  }
  EXPECT_EQ(alice_sold, alice_holds.v);
  EXPECT_EQ(Locked(kAlice, kBtc), Amount(0));
  EXPECT_EQ(Free(kAlice, kBtc), Amount(0));
  // Once the list is done the former limit leg would be amendable again; here both are gone.
  EXPECT_TRUE(engine_.OpenOrders(kAlice, kBtcUsdt).empty());
}

TEST_F(OcoTest, AmendingTheLimitLegAfterTheListIsDoneIsAllowed) {
  TradeAt(Px("65000"));
  Ok(Apply(SellOco(kAlice, Btc("0.1"), Px("66000"), Px("64000"), Price(0))));  // 3 limit, 4 stop
  Ok(Place(Limit(kBob, kBuy, Px("66000"), Btc("0.04"))));  // fills 0.04 of leg 3: list done
  Out out = Apply(AmendCmd(kAlice, 3, Btc("0.05")));       // 0.06 left -> 0.01 left
  Ok(out);
  EXPECT_EQ(Locked(kAlice, kBtc), BtcAmt("0.01"));
  EXPECT_EQ(Asks(), "66000x0.01");
}

}  // namespace
}  // namespace spotex::engine::test
