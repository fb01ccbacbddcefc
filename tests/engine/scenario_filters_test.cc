// Scenario tests: each symbol filter (BINANCE_API.md §6, engine-semantics.md "PlaceOrder
// validation order" step 5) — PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE, NOTIONAL (with the
// average price for market orders), legacy MIN_NOTIONAL, MAX_NUM_ORDERS and
// PERCENT_PRICE_BY_SIDE with an average price from trades at controlled times.
#include "engine_fixture.h"

namespace spotex::engine::test {
namespace {

class FiltersTest : public EngineTest {
 protected:
  // Lists a BTCUSDT variant named `name` whose filters `tweak` changes.
  template <class F>
  SymbolId ListVariant(std::string_view name, F tweak) {
    SymbolConfig cfg = BtcUsdtConfig();
    cfg.name = MakeName(name);
    tweak(cfg.filters);
    return ListSymbol(cfg);
  }
  static NewOrder On(SymbolId symbol, NewOrder o) {
    o.symbol = symbol;
    return o;
  }
  // Bob sells `qty` at `price` and Carol takes it: one trade on `symbol` at now_ms_.
  void TradeOn(SymbolId symbol, Price price, Qty qty) {
    Ok(Place(On(symbol, Limit(kBob, kSell, price, qty))));
    Out out = Place(On(symbol, Limit(kCarol, kBuy, price, qty)));
    Ok(out);
    ASSERT_EQ(out.All<Trade>().size(), 1u);
  }
  void Reject(const NewOrder& o, RejectCode code, std::string_view msg,
              std::source_location loc = std::source_location::current()) {
    ExpectReject(PlaceOrder{o}, code, -1013, msg, loc);
  }
  // An IOC that is accepted (and then expires on the empty book) passed every filter.
  void Accept(const NewOrder& o, std::source_location loc = std::source_location::current()) {
    ::testing::ScopedTrace trace(loc.file_name(), static_cast<int>(loc.line()), "Accept");
    Ok(Place(o));
  }
};

constexpr std::string_view kPriceFilter = "Filter failure: PRICE_FILTER";
constexpr std::string_view kLotSize = "Filter failure: LOT_SIZE";
constexpr std::string_view kMarketLotSize = "Filter failure: MARKET_LOT_SIZE";
constexpr std::string_view kNotional = "Filter failure: NOTIONAL";

TEST_F(FiltersTest, PriceFilterMinMaxAndTick) {
  const SymbolId s = ListVariant("BTCPF", [](SymbolFilters& f) {
    f.min_price = Px("1");
    f.max_price = Px("100000");
  });
  Reject(On(s, Limit(kAlice, kBuy, Px("0.99"), Btc("10"))), RejectCode::kFilterPrice, kPriceFilter);
  Reject(On(s, Limit(kAlice, kBuy, Px("100000.01"), Btc("0.001"))), RejectCode::kFilterPrice,
         kPriceFilter);
  Reject(On(s, Limit(kAlice, kBuy, Px("65000.005"), Btc("0.001"))), RejectCode::kFilterPrice,
         kPriceFilter);
  // The stop price is checked too.
  Reject(On(s, StopLimit(OrderType::kStopLossLimit, kAlice, kSell, Px("64000.005"), Px("64000"),
                         Btc("0.001"))),
         RejectCode::kFilterPrice, kPriceFilter);
  Reject(On(s, StopMarket(OrderType::kStopLoss, kAlice, kSell, Px("100000.01"), Btc("0.001"))),
         RejectCode::kFilterPrice, kPriceFilter);
  // The bounds themselves are allowed: 5 BTC at 1.00 = 5 USDT, 0.001 at 100000 = 100 USDT.
  Accept(On(s, Limit(kAlice, kBuy, Px("1"), Btc("5"), kIoc)));
  Accept(On(s, Limit(kAlice, kSell, Px("100000"), Btc("0.001"), kIoc)));
}

TEST_F(FiltersTest, LotSizeMinMaxAndStepOnQuantityAndIcebergQuantity) {
  const SymbolId s = ListVariant("BTCLOT", [](SymbolFilters& f) {
    f.min_qty = Btc("0.001");
    f.max_qty = Btc("10");
  });
  Reject(On(s, Limit(kAlice, kBuy, Px("65000"), Btc("0.00099"))), RejectCode::kFilterLotSize,
         kLotSize);
  Reject(On(s, Limit(kAlice, kBuy, Px("65000"), Btc("10.00001"))), RejectCode::kFilterLotSize,
         kLotSize);
  Reject(On(s, Limit(kAlice, kBuy, Px("65000"), Btc("0.0010015"))), RejectCode::kFilterLotSize,
         kLotSize);
  NewOrder ice = On(s, Limit(kAlice, kSell, Px("65000"), Btc("1")));
  ice.iceberg_qty = Btc("0.0005");  // below min_qty
  Reject(ice, RejectCode::kFilterLotSize, kLotSize);
  ice.iceberg_qty = Btc("0.1000015");  // off the step
  Reject(ice, RejectCode::kFilterLotSize, kLotSize);
  Accept(On(s, Limit(kAlice, kBuy, Px("65000"), Btc("0.001"), kIoc)));
  Accept(On(s, Limit(kAlice, kBuy, Px("65000"), Btc("10"), kIoc)));
}

TEST_F(FiltersTest, MarketLotSize) {
  // BTCUSDT: MARKET_LOT_SIZE maxQty 100.
  Reject(Market(kAlice, kBuy, Btc("100.00001")), RejectCode::kFilterMarketLotSize, kMarketLotSize);
  ExpectReject(PlaceOrder{Market(kAlice, kBuy, Btc("100"))}, RejectCode::kNoLiquidity, -2010,
               "Order book liquidity is less than symbol minimum quantity.");

  const SymbolId s = ListVariant("BTCMLOT", [](SymbolFilters& f) {
    f.market_min_qty = Btc("0.001");
    f.market_max_qty = Btc("5");
    f.market_step_size = Btc("0.001");
  });
  Ok(Place(On(s, Limit(kBob, kSell, Px("65000"), Btc("1")))));
  Reject(On(s, Market(kAlice, kBuy, Btc("0.0015"))), RejectCode::kFilterMarketLotSize,
         kMarketLotSize);
  Reject(On(s, Market(kAlice, kBuy, Btc("0.0005"))), RejectCode::kFilterMarketLotSize,
         kMarketLotSize);
  Reject(On(s, Market(kAlice, kBuy, Btc("5.001"))), RejectCode::kFilterMarketLotSize,
         kMarketLotSize);
  // STOP_LOSS / TAKE_PROFIT become MARKET orders: MARKET_LOT_SIZE applies to them.
  Reject(On(s, StopMarket(OrderType::kStopLoss, kAlice, kSell, Px("60000"), Btc("0.0015"))),
         RejectCode::kFilterMarketLotSize, kMarketLotSize);
  // LIMIT orders follow LOT_SIZE only.
  Accept(On(s, Limit(kAlice, kBuy, Px("60000"), Btc("0.0015"), kIoc)));
  Out ok = Place(On(s, Market(kAlice, kBuy, Btc("0.002"))));
  Ok(ok);
  EXPECT_EQ(ok.One<Trade>().qty, Btc("0.002"));
}

TEST_F(FiltersTest, NotionalMinAndMaxForPricedOrders) {
  // 0.00007 × 65000 = 4.55 < 5; 0.00008 × 65000 = 5.2.
  Reject(Limit(kAlice, kBuy, Px("65000"), Btc("0.00007")), RejectCode::kFilterNotional, kNotional);
  Accept(Limit(kAlice, kBuy, Px("65000"), Btc("0.00008"), kIoc));
  // 138.47 × 65000 = 9 000 550 > 9 000 000. 138.46 × 65000 = 8 999 900 passes the filter and
  // fails later, on funds (Alice has 1 000 000 USDT).
  Reject(Limit(kAlice, kBuy, Px("65000"), Btc("138.47")), RejectCode::kFilterNotional, kNotional);
  ExpectReject(PlaceOrder{Limit(kAlice, kBuy, Px("65000"), Btc("138.46"))},
               RejectCode::kInsufficientBalance, -2010,
               "Account has insufficient balance for requested action.");
}

TEST_F(FiltersTest, NotionalForMarketOrdersUsesTheAveragePrice) {
  Ok(Place(Limit(kBob, kSell, Px("65000"), Btc("1"))));
  // No trade yet, so no average price: a MARKET by quantity is not notional-checked.
  Out tiny = Place(Market(kAlice, kBuy, Btc("0.00001")));  // 0.65 USDT
  Ok(tiny);
  EXPECT_EQ(tiny.One<Trade>().quote_qty, Usdt("0.65"));
  // Now avg = 65000: 0.00007 × 65000 = 4.55 < 5 (applyMinToMarket).
  Reject(Market(kAlice, kBuy, Btc("0.00007")), RejectCode::kFilterNotional, kNotional);
  Ok(Place(Market(kAlice, kBuy, Btc("0.00008"))));
  // By quote: the quote amount is the notional.
  Reject(MarketQuote(kAlice, kBuy, Usdt("4.99")), RejectCode::kFilterNotional, kNotional);
  Ok(Place(MarketQuote(kAlice, kBuy, Usdt("5"))));
  // applyMaxToMarket is false on BTCUSDT: a huge MARKET by quote fails on funds instead.
  ExpectReject(PlaceOrder{MarketQuote(kAlice, kBuy, Usdt("9000001"))},
               RejectCode::kInsufficientBalance, -2010,
               "Account has insufficient balance for requested action.");
}

TEST_F(FiltersTest, MarketNotionalUsesTheAverageNotTheLastPrice) {
  const SymbolId s = ListVariant("BTCAVG", [](SymbolFilters&) {});
  TradeOn(s, Px("40000"), Btc("0.1"));   // 4000 USDT
  TradeOn(s, Px("60000"), Btc("0.01"));  // 600 USDT; last price 60000
  // avg = floor(4600 USDT × 10^8 / 0.11 BTC) = 41818.18181818. A MARKET BUY 0.0001 is
  // 4.18 USDT at the average (rejected) although it would be 6 USDT at the last price.
  Ok(Place(On(s, Limit(kBob, kSell, Px("60000"), Btc("1")))));
  Reject(On(s, Market(kAlice, kBuy, Btc("0.0001"))), RejectCode::kFilterNotional, kNotional);
  // 41818.18181818 × 0.00012 = 5.0181818 >= 5.
  Ok(Place(On(s, Market(kAlice, kBuy, Btc("0.00012")))));
}

TEST_F(FiltersTest, NotionalApplyToMarketFlags) {
  const SymbolId lax =
      ListVariant("BTCLAX", [](SymbolFilters& f) { f.apply_min_to_market = false; });
  TradeOn(lax, Px("65000"), Btc("0.01"));
  Ok(Place(On(lax, Limit(kBob, kSell, Px("65000"), Btc("1")))));
  Ok(Place(On(lax, Market(kAlice, kBuy, Btc("0.00007")))));  // 4.55, min not applied
  Ok(Place(On(lax, MarketQuote(kAlice, kBuy, Usdt("1")))));  // likewise by quote
  Reject(On(lax, Limit(kAlice, kBuy, Px("65000"), Btc("0.00007"))), RejectCode::kFilterNotional,
         kNotional);  // priced orders always obey it

  const SymbolId strict = ListVariant("BTCSTRICT", [](SymbolFilters& f) {
    f.max_notional = Usdt("10000");
    f.apply_max_to_market = true;
  });
  TradeOn(strict, Px("65000"), Btc("0.01"));
  Ok(Place(On(strict, Limit(kBob, kSell, Px("65000"), Btc("0.15")))));  // 9750 each: under max
  Ok(Place(On(strict, Limit(kBob, kSell, Px("65000"), Btc("0.15")))));
  Reject(On(strict, MarketQuote(kAlice, kBuy, Usdt("10000.01"))), RejectCode::kFilterNotional,
         kNotional);
  Reject(On(strict, Market(kAlice, kBuy, Btc("0.16"))), RejectCode::kFilterNotional,
         kNotional);  // 0.16 × 65000 = 10400
  Ok(Place(On(strict, MarketQuote(kAlice, kBuy, Usdt("10000")))));
}

TEST_F(FiltersTest, LegacyMinNotionalMessage) {
  const SymbolId s =
      ListVariant("BTCLEGACY", [](SymbolFilters& f) { f.legacy_min_notional = true; });
  Reject(On(s, Limit(kAlice, kBuy, Px("65000"), Btc("0.00007"))), RejectCode::kFilterMinNotional,
         "Filter failure: MIN_NOTIONAL");
}

TEST_F(FiltersTest, MaxNumOrdersCountsOpenOrdersIncludingStopsPerAccountAndSymbol) {
  const SymbolId s = ListVariant("BTCMAXO", [](SymbolFilters& f) { f.max_num_orders = 3; });
  Ok(Place(On(s, Limit(kAlice, kBuy, Px("60000"), Btc("0.001")))));  // 1
  Ok(Place(On(s, Limit(kAlice, kBuy, Px("60001"), Btc("0.001")))));  // 2
  Ok(Place(On(s, StopMarket(OrderType::kStopLoss, kAlice, kSell, Px("50000"), Btc("0.001")))));
  const NewOrder fourth = On(s, Limit(kAlice, kBuy, Px("60002"), Btc("0.001")));
  Reject(fourth, RejectCode::kFilterMaxNumOrders, "Filter failure: MAX_NUM_ORDERS");
  Ok(Place(On(s, Limit(kBob, kBuy, Px("60002"), Btc("0.001")))));  // other account
  Ok(Place(Limit(kAlice, kBuy, Px("60002"), Btc("0.001"))));       // other symbol
  CancelOrder c = CancelCmd(kAlice, 1);
  c.ref.symbol = s;
  Ok(Apply(c));
  Ok(Place(fourth));
  // An OCO adds two orders: with 2 open it would make 4.
  c.ref.order_id = 2;
  Ok(Apply(c));
  PlaceOco oco = SellOco(kAlice, Btc("0.001"), Px("70000"), Px("50000"), Price(0));
  oco.symbol = s;
  ExpectReject(oco, RejectCode::kFilterMaxNumOrders, -1013, "Filter failure: MAX_NUM_ORDERS");
}

TEST_F(FiltersTest, PercentPriceBySideAroundTheAveragePrice) {
  const SymbolId s = ListVariant("BTCPCT", [](SymbolFilters& f) {
    f.bid_multiplier_up_e8 = 110'000'000;   // 1.1
    f.bid_multiplier_down_e8 = 90'000'000;  // 0.9
    f.ask_multiplier_up_e8 = 105'000'000;   // 1.05
    f.ask_multiplier_down_e8 = 95'000'000;  // 0.95
  });
  const auto buy = [&](std::string_view px) {
    return On(s, Limit(kAlice, kBuy, Px(px), Btc("0.01"), kIoc));
  };
  const auto sell = [&](std::string_view px) {
    return On(s, Limit(kAlice, kSell, Px(px), Btc("0.01"), kIoc));
  };
  constexpr std::string_view kMsg = "Filter failure: PERCENT_PRICE_BY_SIDE";
  constexpr RejectCode kCode = RejectCode::kFilterPercentPriceBySide;
  // No trade yet: no average price, the filter is skipped.
  Accept(buy("1000"));

  // Minute m0: 0.1 at 65000 and 0.3 at 66000 -> avg = (6500 + 19800) / 0.4 = 65750.
  TradeOn(s, Px("65000"), Btc("0.1"));
  TradeOn(s, Px("66000"), Btc("0.3"));
  // BUY within [65750 × 0.9, 65750 × 1.1] = [59175, 72325].
  Accept(buy("72325"));
  Accept(buy("59175"));
  Reject(buy("72325.01"), kCode, kMsg);
  Reject(buy("59174.99"), kCode, kMsg);
  // SELL within [65750 × 0.95, 65750 × 1.05] = [62462.5, 69037.5].
  Accept(sell("69037.5"));
  Accept(sell("62462.5"));
  Reject(sell("69037.51"), kCode, kMsg);
  Reject(sell("62462.49"), kCode, kMsg);
  // Stop-limit orders are priced orders too.
  Reject(On(s, StopLimit(OrderType::kStopLossLimit, kAlice, kSell, Px("65000"), Px("62462.49"),
                         Btc("0.01"))),
         kCode, kMsg);

  // avgPriceMins = 5: at m0 + 4 min 59.999 s minute m0 is still in (m0 − 1, m0 + 4].
  now_ms_ = kT0 + 5 * kMinute - 1;
  Reject(buy("72600"), kCode, kMsg);
  // At m0 + 5 min the window (m0, m0 + 5] is empty: the last price 66000 is used, so BUY is
  // within [59400, 72600] and SELL within [62700, 69300].
  now_ms_ = kT0 + 5 * kMinute;
  Accept(buy("72600"));
  Reject(buy("72600.01"), kCode, kMsg);
  Reject(sell("62699.99"), kCode, kMsg);
  Accept(sell("62700"));
  // A trade in the current minute: avg = 69000, BUY within [62100, 75900].
  TradeOn(s, Px("69000"), Btc("0.01"));
  Accept(buy("75900"));
  Reject(buy("75900.01"), kCode, kMsg);
  Reject(buy("62099.99"), kCode, kMsg);
}

TEST_F(FiltersTest, FiltersRunInTheSpecOrder) {
  // PRICE_FILTER before LOT_SIZE.
  Reject(Limit(kAlice, kBuy, Px("65000.001"), Btc("0.000015")), RejectCode::kFilterPrice,
         kPriceFilter);
  // LOT_SIZE before NOTIONAL (0.000015 is off the step and 0.975 USDT).
  Reject(Limit(kAlice, kBuy, Px("65000"), Btc("0.000015")), RejectCode::kFilterLotSize, kLotSize);
  // ICEBERG_PARTS before NOTIONAL: 0.00007 in 0.00001 slices = 7 parts is fine, so NOTIONAL.
  NewOrder ice = Limit(kAlice, kBuy, Px("65000"), Btc("0.00011"));
  ice.iceberg_qty = Btc("0.00001");  // 11 parts > 10, and 7.15 USDT would pass NOTIONAL
  Reject(ice, RejectCode::kFilterIcebergParts, "Filter failure: ICEBERG_PARTS");
  // NOTIONAL before funds.
  Reject(Limit(kAlice, kBuy, Px("65000"), Btc("200")), RejectCode::kFilterNotional, kNotional);
}

}  // namespace
}  // namespace spotex::engine::test
