// Scenario tests: bad input. Each rejection checks the RejectCode, its Binance code and
// message (ToBinance), exactly one CommandRejected event and an unchanged StateHash()
// (EngineTest::ExpectReject). A few tests at the end feed input that must not crash the
// engine; they run in a child process (EXPECT_EXIT) so that a crash fails only that test.
#include <cstdlib>
#include <functional>
#include <limits>

#include "engine_fixture.h"

namespace spotex::engine::test {
namespace {

using RejectsTest = EngineTest;

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

TEST_F(RejectsTest, ZeroOrMissingValues) {
  ExpectReject(PlaceOrder{Limit(kAlice, kBuy, Price(0), Btc("0.1"))}, RejectCode::kMissingPrice,
               -1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed.");
  ExpectReject(PlaceOrder{Limit(kAlice, kBuy, Px("65000"), Qty(0))}, RejectCode::kMissingQuantity,
               -1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.");
  ExpectReject(PlaceOrder{Market(kAlice, kBuy, Qty(0))}, RejectCode::kMissingQtyOrQuoteQty, -1102,
               "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!");
  ExpectReject(PlaceOrder{StopMarket(OrderType::kStopLoss, kAlice, kSell, Price(0), Btc("0.1"))},
               RejectCode::kMissingStopPrice, -1102,
               "Mandatory parameter 'stopPrice' was not sent, was empty/null, or malformed.");
  ExpectReject(PlaceOrder{Limit(kAlice, kBuy, Px("65000"), Btc("0.1"), TimeInForce::kNone)},
               RejectCode::kMissingTimeInForce, -1102,
               "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.");
  ExpectReject(PlaceOrder{StopLimit(OrderType::kStopLossLimit, kAlice, kSell, Px("64000"),
                                    Px("63900"), Btc("0.1"), TimeInForce::kNone)},
               RejectCode::kMissingTimeInForce, -1102,
               "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.");
}

TEST_F(RejectsTest, NegativeValues) {
  ExpectReject(PlaceOrder{Limit(kAlice, kBuy, Px("-65000"), Btc("0.1"))}, RejectCode::kInvalidPrice,
               -1013, "Invalid price.");
  ExpectReject(PlaceOrder{Limit(kAlice, kBuy, Px("65000"), Btc("-0.1"))},
               RejectCode::kInvalidQuantity, -1013, "Invalid quantity.");
  ExpectReject(PlaceOrder{MarketQuote(kAlice, kBuy, Usdt("-100"))}, RejectCode::kInvalidQuantity,
               -1013, "Invalid quantity.");
  ExpectReject(PlaceOrder{StopMarket(OrderType::kStopLoss, kAlice, kSell, Px("-1"), Btc("0.1"))},
               RejectCode::kInvalidPrice, -1013, "Invalid price.");
  NewOrder ice = Limit(kAlice, kSell, Px("65000"), Btc("1"));
  ice.iceberg_qty = Btc("-0.1");
  ExpectReject(PlaceOrder{ice}, RejectCode::kInvalidQuantity, -1013, "Invalid quantity.");
  Ok(Place(Limit(kAlice, kBuy, Px("64000"), Btc("0.1"))));  // 1
  ExpectReject(AmendCmd(kAlice, 1, Btc("-0.05")), RejectCode::kInvalidQuantity, -1013,
               "Invalid quantity.");
  ExpectReject(Deposit{kAlice, kBtc, BtcAmt("-1")}, RejectCode::kInvalidQuantity, -1013,
               "Invalid quantity.");
  ExpectReject(Withdraw{kAlice, kBtc, Amount(0)}, RejectCode::kInvalidQuantity, -1013,
               "Invalid quantity.");
}

TEST_F(RejectsTest, ParameterShape) {
  NewOrder m = Market(kAlice, kBuy, Btc("0.1"));
  m.tif = kGtc;
  ExpectReject(PlaceOrder{m}, RejectCode::kTimeInForceNotRequired, -1114,
               "TimeInForce parameter sent when not required.");
  m = Market(kAlice, kBuy, Btc("0.1"));
  m.price = Px("65000");
  ExpectReject(PlaceOrder{m}, RejectCode::kParamNotRequired, -1106,
               "Parameter sent when not required.");
  m = Market(kAlice, kBuy, Btc("0.1"));
  m.stop_price = Px("65000");
  ExpectReject(PlaceOrder{m}, RejectCode::kParamNotRequired, -1106,
               "Parameter sent when not required.");
  m = Market(kAlice, kBuy, Btc("0.1"));
  m.quote_qty = Usdt("100");
  ExpectReject(PlaceOrder{m}, RejectCode::kUnsupportedCombination, -2010,
               "Unsupported order combination");
  NewOrder l = Limit(kAlice, kBuy, Px("65000"), Btc("0.1"));
  l.quote_qty = Usdt("100");
  ExpectReject(PlaceOrder{l}, RejectCode::kParamNotRequired, -1106,
               "Parameter sent when not required.");
  l = Limit(kAlice, kBuy, Px("65000"), Btc("0.1"));
  l.stop_price = Px("66000");
  ExpectReject(PlaceOrder{l}, RejectCode::kParamNotRequired, -1106,
               "Parameter sent when not required.");
  NewOrder sl = StopMarket(OrderType::kStopLoss, kAlice, kSell, Px("64000"), Btc("0.1"));
  sl.price = Px("64000");
  ExpectReject(PlaceOrder{sl}, RejectCode::kParamNotRequired, -1106,
               "Parameter sent when not required.");

  SymbolConfig cfg = BtcUsdtConfig();
  cfg.name = MakeName("BTCNOQUOTE");
  cfg.quote_order_qty_market_allowed = false;
  NewOrder q = MarketQuote(kAlice, kBuy, Usdt("100"));
  q.symbol = ListSymbol(cfg);
  ExpectReject(PlaceOrder{q}, RejectCode::kQuoteQtyNotAllowed, -2010,
               "Quote order qty market orders are not support for this symbol.");
}

// engine-semantics.md step 3: "MARKET: tif kNone; price 0, stop 0, iceberg 0
// (kParamNotRequired)" — step 3 runs before the iceberg checks of step 4 (the engine used to
// answer kUnsupportedCombination; fixed in e568982).
TEST_F(RejectsTest, IcebergOnMarketOrderIsAParameterNotRequired) {
  NewOrder m = Market(kAlice, kSell, Btc("1"));
  m.iceberg_qty = Btc("0.1");
  ExpectReject(PlaceOrder{m}, RejectCode::kParamNotRequired, -1106,
               "Parameter sent when not required.");
  NewOrder sl = StopMarket(OrderType::kStopLoss, kAlice, kSell, Px("64000"), Btc("1"));
  sl.iceberg_qty = Btc("0.1");
  ExpectReject(PlaceOrder{sl}, RejectCode::kParamNotRequired, -1106,
               "Parameter sent when not required.");
}

TEST_F(RejectsTest, OverflowingValues) {
  // Realistic filters stop INT64_MAX at PRICE_FILTER.
  ExpectReject(PlaceOrder{Limit(kAlice, kBuy, Price(kInt64Max), Btc("2"))},
               RejectCode::kFilterPrice, -1013, "Filter failure: PRICE_FILTER");
  ExpectReject(PlaceOrder{Limit(kAlice, kBuy, Px("65000"), Qty(kInt64Max))},
               RejectCode::kFilterLotSize, -1013, "Filter failure: LOT_SIZE");

  // With every optional bound off, price × qty itself overflows int64.
  SymbolConfig cfg = BtcUsdtConfig();
  cfg.name = MakeName("BTCRAW");
  cfg.filters = SymbolFilters{};
  cfg.filters.tick_size = Px("0.01");
  cfg.filters.step_size = Btc("0.00001");
  cfg.filters.min_notional = Usdt("5");  // so that MARKET orders are notional-checked too
  const SymbolId raw = ListSymbol(cfg);
  const Price huge_px(kInt64Max - kInt64Max % Px("0.01").v);  // on the tick grid
  const Qty huge_qty(kInt64Max - kInt64Max % Btc("0.00001").v);
  NewOrder o = Limit(kAlice, kBuy, huge_px, Btc("2"));  // 2 × 9.2e18 / 1e8 units > INT64_MAX
  o.symbol = raw;
  ExpectReject(PlaceOrder{o}, RejectCode::kOverflow, -1013, "Filter failure: NOTIONAL");
  o.side = kSell;
  ExpectReject(PlaceOrder{o}, RejectCode::kOverflow, -1013, "Filter failure: NOTIONAL");
  o = Limit(kAlice, kSell, Px("100"), huge_qty);
  o.symbol = raw;
  ExpectReject(PlaceOrder{o}, RejectCode::kOverflow, -1013, "Filter failure: NOTIONAL");
  // A MARKET by quantity whose average-price notional overflows.
  TradeAt(Px("1000"), raw);  // avg 1000: 1000 × 92 233 720 368 BTC does not fit
  NewOrder ask = Limit(kBob, kSell, Px("1000"), Btc("1"));
  ask.symbol = raw;
  Ok(Place(ask));
  NewOrder mkt = Market(kAlice, kBuy, huge_qty);
  mkt.symbol = raw;
  ExpectReject(PlaceOrder{mkt}, RejectCode::kOverflow, -1013, "Filter failure: NOTIONAL");
  // A deposit that would take the asset's total past INT64_MAX.
  ExpectReject(Deposit{kAlice, kBtc, Amount(kInt64Max)}, RejectCode::kAmountOverflow, -1130,
               "Data sent for parameter 'amount' is not valid.");
}

TEST_F(RejectsTest, OffGridPriceAndQuantity) {
  ExpectReject(PlaceOrder{Limit(kAlice, kBuy, Px("65000.001"), Btc("0.1"))},
               RejectCode::kFilterPrice, -1013, "Filter failure: PRICE_FILTER");
  ExpectReject(PlaceOrder{Limit(kAlice, kBuy, Px("65000"), Btc("0.100001"))},
               RejectCode::kFilterLotSize, -1013, "Filter failure: LOT_SIZE");
  NewOrder tkn = Limit(kAlice, kBuy, Px("0.00015"), Tkn("100"));
  tkn.symbol = kTknUsdt;
  ExpectReject(PlaceOrder{tkn}, RejectCode::kFilterPrice, -1013, "Filter failure: PRICE_FILTER");
}

TEST_F(RejectsTest, UnknownSymbolAccountOrderAsset) {
  NewOrder o = Limit(kAlice, kBuy, Px("65000"), Btc("0.1"));
  o.symbol = 99;
  ExpectReject(PlaceOrder{o}, RejectCode::kUnknownSymbol, -1121, "Invalid symbol.");
  ExpectReject(PlaceOrder{Limit(kNobody, kBuy, Px("65000"), Btc("0.1"))},
               RejectCode::kUnknownAccount, -2015,
               "Invalid API-key, IP, or permissions for action.");
  // The fee account exists but cannot trade.
  ExpectReject(PlaceOrder{Limit(kFeeAccount, kBuy, Px("65000"), Btc("0.1"))},
               RejectCode::kUnknownAccount, -2015,
               "Invalid API-key, IP, or permissions for action.");
  ExpectReject(CancelCmd(kAlice, 12345), RejectCode::kUnknownOrder, -2011, "Unknown order sent.");
  ExpectReject(CancelCmd(kNobody, 1), RejectCode::kUnknownAccount, -2015,
               "Invalid API-key, IP, or permissions for action.");
  CancelOrder c = CancelCmd(kAlice, 1);
  c.ref.symbol = 99;
  ExpectReject(c, RejectCode::kUnknownSymbol, -1121, "Invalid symbol.");
  ExpectReject(CancelOrderList{kAlice, kBtcUsdt, 7, {}}, RejectCode::kUnknownOrderList, -2011,
               "Order list does not exist.");
  ExpectReject(Deposit{kAlice, 99, Amount(1)}, RejectCode::kUnknownAsset, -1130,
               "Data sent for parameter 'asset' is not valid.");
  ExpectReject(Deposit{kNobody, kBtc, Amount(1)}, RejectCode::kUnknownAccount, -2015,
               "Invalid API-key, IP, or permissions for action.");
  ExpectReject(OpenAccount{kAlice}, RejectCode::kDuplicateAccount, -1130,
               "Data sent for parameter 'account' is not valid.");
}

TEST_F(RejectsTest, HaltedSymbolIsClosedForNewOrders) {
  Ok(Place(Limit(kAlice, kBuy, Px("64000"), Btc("0.1"))));  // 1
  for (SymbolStatus st : {SymbolStatus::kHalt, SymbolStatus::kBreak}) {
    Out set = Apply(SetSymbolStatus{kBtcUsdt, st});
    Ok(set);
    EXPECT_EQ(set.One<SymbolStatusChanged>().status, st);
    ExpectReject(PlaceOrder{Limit(kAlice, kBuy, Px("64000"), Btc("0.1"))},
                 RejectCode::kMarketClosed, -2010, "Market is closed.");
    ExpectReject(SellOco(kAlice, Btc("0.1"), Px("66000"), Px("64000"), Px("63900")),
                 RejectCode::kMarketClosed, -2010, "Market is closed.");
  }
  ExpectReject(SetSymbolStatus{kBtcUsdt, static_cast<SymbolStatus>(9)},
               RejectCode::kInvalidParameter, -1130, "Data sent for parameter is not valid.");
  Ok(Cancel(kAlice, 1));  // cancelling still works
  Ok(Apply(SetSymbolStatus{kBtcUsdt, SymbolStatus::kTrading}));
  Ok(Place(Limit(kAlice, kBuy, Px("64000"), Btc("0.1"))));
}

TEST_F(RejectsTest, InsufficientFunds) {
  // 15.39 × 65000 = 1 000 350 > 1 000 000 USDT.
  ExpectReject(PlaceOrder{Limit(kAlice, kBuy, Px("65000"), Btc("15.39"))},
               RejectCode::kInsufficientBalance, -2010,
               "Account has insufficient balance for requested action.");
  ExpectReject(PlaceOrder{Limit(kAlice, kSell, Px("65000"), Btc("10.00001"))},
               RejectCode::kInsufficientBalance, -2010,
               "Account has insufficient balance for requested action.");
  Ok(Place(Limit(kAlice, kSell, Px("65000"), Btc("6"))));  // 4 BTC left free
  ExpectReject(PlaceOrder{Limit(kAlice, kSell, Px("65000"), Btc("4.00001"))},
               RejectCode::kInsufficientBalance, -2010,
               "Account has insufficient balance for requested action.");
  // MARKET by quote reserves the quote amount itself.
  ExpectReject(PlaceOrder{MarketQuote(kBob, kBuy, Usdt("1000000.01"))},
               RejectCode::kInsufficientBalance, -2010,
               "Account has insufficient balance for requested action.");
  // MARKET by quantity reserves the walk: 6 × 65000 = 390 000 is affordable, and a SELL
  // stop reserves its base quantity.
  Ok(Place(Market(kBob, kBuy, Btc("6"))));
  ExpectReject(
      PlaceOrder{StopMarket(OrderType::kStopLoss, kAlice, kSell, Px("60000"), Btc("4.00001"))},
      RejectCode::kInsufficientBalance, -2010,
      "Account has insufficient balance for requested action.");
}

TEST_F(RejectsTest, MarketOrderIntoAnEmptyBook) {
  ExpectReject(PlaceOrder{Market(kAlice, kBuy, Btc("0.1"))}, RejectCode::kNoLiquidity, -2010,
               "Order book liquidity is less than symbol minimum quantity.");
  ExpectReject(PlaceOrder{MarketQuote(kAlice, kBuy, Usdt("100"))}, RejectCode::kNoLiquidity, -2010,
               "Order book liquidity is less than symbol minimum quantity.");
  Ok(Place(Limit(kBob, kSell, Px("65000"), Btc("1"))));  // asks only: a SELL still finds none
  ExpectReject(PlaceOrder{Market(kAlice, kSell, Btc("0.1"))}, RejectCode::kNoLiquidity, -2010,
               "Order book liquidity is less than symbol minimum quantity.");
}

TEST_F(RejectsTest, DuplicateClientOrderId) {
  Ok(Place(WithCid(Limit(kAlice, kBuy, Px("64000"), Btc("0.1")), "dup")));  // 1
  ExpectReject(PlaceOrder{WithCid(Limit(kAlice, kBuy, Px("63000"), Btc("0.1")), "dup")},
               RejectCode::kDuplicateOrder, -2010, "Duplicate order sent.");
  // Unique among the account's open orders on every symbol.
  NewOrder tkn = WithCid(Limit(kAlice, kBuy, Px("0.25"), Tkn("10")), "dup");
  tkn.symbol = kTknUsdt;
  ExpectReject(PlaceOrder{tkn}, RejectCode::kDuplicateOrder, -2010, "Duplicate order sent.");
  // Another account may use it.
  Ok(Place(WithCid(Limit(kBob, kBuy, Px("63000"), Btc("0.1")), "dup")));
  // Once the order is closed (filled here) the id is free again.
  Ok(Place(Limit(kCarol, kSell, Px("64000"), Btc("0.1"))));
  Ok(Place(tkn));
}

TEST_F(RejectsTest, FrozenAccount) {
  Ok(Place(Limit(kAlice, kBuy, Px("64000"), Btc("0.1"))));  // 1
  Out frozen = Apply(FreezeAccount{kAlice, true});
  Ok(frozen);
  EXPECT_TRUE(frozen.One<AccountUpdated>().frozen);
  ExpectReject(PlaceOrder{Limit(kAlice, kBuy, Px("64000"), Btc("0.1"))}, RejectCode::kAccountFrozen,
               -2010, "This action is disabled on this account.");
  ExpectReject(SellOco(kAlice, Btc("0.1"), Px("66000"), Px("64000"), Px("63900")),
               RejectCode::kAccountFrozen, -2010, "This action is disabled on this account.");
  ExpectReject(Withdraw{kAlice, kBtc, BtcAmt("1")}, RejectCode::kAccountFrozen, -2010,
               "This action is disabled on this account.");
  Ok(Cancel(kAlice, 1));  // a frozen account can still cancel
  Ok(Apply(FreezeAccount{kAlice, false}));
  Ok(Place(Limit(kAlice, kBuy, Px("64000"), Btc("0.1"))));
}

TEST_F(RejectsTest, OutOfRangeEnumValues) {
  NewOrder o = Limit(kAlice, kBuy, Px("65000"), Btc("0.1"));
  o.side = static_cast<Side>(7);
  ExpectReject(PlaceOrder{o}, RejectCode::kInvalidSide, -1117, "Invalid side.");
  o = Limit(kAlice, kBuy, Px("65000"), Btc("0.1"));
  o.type = static_cast<OrderType>(9);
  ExpectReject(PlaceOrder{o}, RejectCode::kInvalidOrderType, -1116, "Invalid orderType.");
  o = Limit(kAlice, kBuy, Px("65000"), Btc("0.1"));
  o.tif = static_cast<TimeInForce>(4);
  ExpectReject(PlaceOrder{o}, RejectCode::kInvalidTimeInForce, -1115, "Invalid timeInForce.");
  o = Limit(kAlice, kBuy, Px("65000"), Btc("0.1"));
  o.stp = static_cast<StpMode>(5);
  ExpectReject(PlaceOrder{o}, RejectCode::kInvalidStpMode, -1130,
               "Data sent for parameter 'selfTradePreventionMode' is not valid.");
  ExpectReject(SetAccountStp{kAlice, static_cast<StpMode>(200)}, RejectCode::kInvalidStpMode, -1130,
               "Data sent for parameter 'selfTradePreventionMode' is not valid.");
  PlaceOco oco = SellOco(kAlice, Btc("0.1"), Px("66000"), Px("64000"), Px("63900"));
  oco.side = static_cast<Side>(3);
  ExpectReject(oco, RejectCode::kInvalidSide, -1117, "Invalid side.");
  oco = SellOco(kAlice, Btc("0.1"), Px("66000"), Px("64000"), Px("63900"));
  oco.below.type = static_cast<OrderType>(250);
  ExpectReject(oco, RejectCode::kUnsupportedCombination, -2010, "Unsupported order combination");
}

TEST_F(RejectsTest, InvalidClientOrderIdCharacters) {
  const auto reject = [&](const ClientOrderId& id) {
    NewOrder o = Limit(kAlice, kBuy, Px("65000"), Btc("0.1"));
    o.client_order_id = id;
    ExpectReject(PlaceOrder{o}, RejectCode::kInvalidClientOrderId, -1100,
                 "Illegal characters found in parameter 'newClientOrderId'.");
  };
  reject(RawCid("bad id"));
  reject(RawCid("x!"));
  reject(RawCid("ünïcode"));
  reject(RawCid(std::string_view("a\0b", 3)));
  reject(RawCid("abc", 37));  // longer than 36
  reject(RawCid("abc", 255));
  // The cancel's own id and an amend's new id are validated too.
  Ok(Place(Limit(kAlice, kBuy, Px("64000"), Btc("0.1"))));  // 1
  CancelOrder c = CancelCmd(kAlice, 1);
  c.new_client_order_id = RawCid("no spaces");
  ExpectReject(c, RejectCode::kInvalidClientOrderId, -1100,
               "Illegal characters found in parameter 'newClientOrderId'.");
  AmendOrder a = AmendCmd(kAlice, 1, Btc("0.05"));
  a.new_client_order_id = RawCid("semi;colon");
  ExpectReject(a, RejectCode::kInvalidClientOrderId, -1100,
               "Illegal characters found in parameter 'newClientOrderId'.");
  // Every allowed character class: ^[\.A-Z\:/a-z0-9_-]{1,36}$.
  Ok(Place(
      WithCid(Limit(kAlice, kBuy, Px("64000"), Btc("0.1")), "A.z:0/9_-x-TKT5PX2F0123456789abcd")));
}

TEST_F(RejectsTest, SequenceMustIncrease) {
  Ok(Place(Limit(kAlice, kBuy, Px("64000"), Btc("0.1"))));
  const Seq last = engine_.last_seq();
  EXPECT_EQ(last, seq_);
  const uint64_t hash = engine_.StateHash();
  for (Seq s : {last, last - 1, Seq{0}}) {
    Out out = ApplyAt(s, PlaceOrder{Limit(kAlice, kBuy, Px("64000"), Btc("0.1"))});
    EXPECT_EQ(out.code(), RejectCode::kInvalidParameter);
    EXPECT_EQ(out.Types(), "CommandRejected");
    EXPECT_EQ(ToBinance(out.code()).code, -1130);
    EXPECT_EQ(ToBinance(out.code()).msg, "Data sent for parameter is not valid.");
    EXPECT_EQ(engine_.StateHash(), hash);
    EXPECT_EQ(engine_.last_seq(), last);
  }
  Out next = ApplyAt(last + 1, PlaceOrder{Limit(kAlice, kBuy, Px("64000"), Btc("0.1"))});
  Ok(next);
  EXPECT_EQ(next.order_id(), 2);  // the rejected commands consumed no id
}

// ---------------------------------------------------------------------------------------------
// Input that must not crash the engine (run in a child process).

// Engine bug (see report): a negative time_ms makes RecordTrade index the average-price ring
// with a negative minute (heap-buffer-overflow under ASan). A command log is "not trusted"
// (command.h): reject the command or handle the time, but never write out of bounds.
TEST_F(RejectsTest, NegativeTimeDoesNotCorruptMemory) {
  ExpectInChild([this] {
    now_ms_ = -3 * kMinute;
    Place(Limit(kBob, kSell, Px("65000"), Btc("0.1")));
    Out out = Place(Limit(kAlice, kBuy, Px("65000"), Btc("0.1")));
    now_ms_ = kT0;
    Place(Limit(kAlice, kBuy, Px("64000"), Btc("0.1")));  // reads the averages again
    return engine_.CheckInvariants().empty();
  });
}

// With an 18-decimal asset INT64_MAX is only 9.22 whole units. A trade could push the buyer's
// balance past it unless the asset's total is capped: deposits that would take the total of
// an asset past INT64_MAX are refused, so no balance can overflow in settlement.
TEST_F(RejectsTest, DepositsCapAnAssetSoNoTradeCanOverflowABalance) {
  Ok(Apply(AddAsset{MakeName("ETH"), 18}));  // asset 3
  SymbolConfig cfg;
  cfg.name = MakeName("ETHUSDT");
  cfg.base_asset = 3;
  cfg.quote_asset = kUsdt;
  cfg.filters.tick_size = Px("0.01");              // 10^6
  cfg.filters.step_size = Qty(1'000'000'000'000);  // 0.000001 ETH; tick × step = 10^18
  const SymbolId eth = ListSymbol(cfg);
  Ok(Apply(Deposit{kAlice, 3, Amount(9'000'000'000'000'000'000)}));  // 9 ETH
  // 9 + 1 ETH = 10^19 units > INT64_MAX: refused, nothing changes.
  ExpectReject(Deposit{kBob, 3, Amount(1'000'000'000'000'000'000)}, RejectCode::kAmountOverflow,
               -1130, "Data sent for parameter 'amount' is not valid.");
  Ok(Apply(Deposit{kBob, 3, Amount(200'000'000'000'000'000)}));  // 0.2 ETH fits
  NewOrder sell = Limit(kBob, kSell, Px("2000"), Qty(200'000'000'000'000'000));
  sell.symbol = eth;
  Ok(Place(sell));
  NewOrder buy = Limit(kAlice, kBuy, Px("2000"), Qty(200'000'000'000'000'000));
  buy.symbol = eth;
  Ok(Place(buy));
  const auto b = engine_.Balance(kAlice, 3);
  ASSERT_TRUE(b);
  // Alice holds 9.2 ETH less the commission, still within int64.
  EXPECT_GT(b->free.v, 9'000'000'000'000'000'000);
  EXPECT_TRUE(engine_.CheckInvariants().empty());
}

}  // namespace
}  // namespace spotex::engine::test
