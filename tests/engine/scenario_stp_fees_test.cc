// Scenario tests: self-trade prevention (NONE, EXPIRE_TAKER, EXPIRE_MAKER, EXPIRE_BOTH; the
// taker's mode, the account default, the symbol default) and commissions (maker/taker rates,
// defaults and per-account rates, the asset received, rounding up, the fee account, and
// conservation through Engine::Totals()).
#include "engine_fixture.h"

namespace spotex::engine::test {
namespace {

using StpTest = EngineTest;
using FeesTest = EngineTest;

NewOrder WithStp(NewOrder o, StpMode mode) {
  o.stp = mode;
  return o;
}

// ---------------------------------------------------------------------------------------------
// Self-trade prevention

TEST_F(StpTest, NoneLetsTheSelfTradeHappen) {
  Ok(Place(Limit(kAlice, kSell, Px("65000"), Btc("0.1"))));  // 1
  Out out = Place(WithStp(Limit(kAlice, kBuy, Px("65000"), Btc("0.1")), StpMode::kNone));
  Ok(out);
  // Alice pays herself: her USDT ends where it started (no BalanceChanged for it); her BTC
  // moves from locked back to free.
  EXPECT_EQ(out.Types(), "OrderAccepted Trade OrderUpdate*2 BalanceChanged BookLevel");
  const auto trade = out.One<Trade>();
  EXPECT_EQ(trade.buyer, kAlice);
  EXPECT_EQ(trade.seller, kAlice);
  const auto btc = out.One<BalanceChanged>();
  EXPECT_EQ(btc.asset, kBtc);
  EXPECT_EQ(btc.free, BtcAmt("10"));
  EXPECT_EQ(btc.locked, Amount(0));
  EXPECT_EQ(btc.delta_free, BtcAmt("0.1"));
  EXPECT_EQ(btc.delta_locked, BtcAmt("-0.1"));
  EXPECT_TRUE(out.All<PreventedMatch>().empty());
}

TEST_F(StpTest, ExpireTakerExpiresTheIncomingOrder) {
  Ok(Place(Limit(kAlice, kSell, Px("65000"), Btc("0.1"))));  // 1
  Out out = Place(WithStp(Limit(kAlice, kBuy, Px("65000"), Btc("0.1")), StpMode::kExpireTaker));
  Ok(out);
  EXPECT_EQ(out.Types(), "OrderAccepted PreventedMatch OrderUpdate");
  const auto pm = out.At<PreventedMatch>(1);
  EXPECT_EQ(pm.prevented_match_id, 1);
  EXPECT_EQ(pm.symbol, kBtcUsdt);
  EXPECT_EQ(pm.mode, StpMode::kExpireTaker);
  EXPECT_EQ(pm.taker_order_id, 2);
  EXPECT_EQ(pm.maker_order_id, 1);
  EXPECT_EQ(pm.account, kAlice);
  EXPECT_EQ(pm.price, Px("65000"));
  EXPECT_EQ(pm.qty, Btc("0.1"));
  EXPECT_EQ(pm.time_ms, kT0);
  const auto u = out.At<OrderUpdate>(2);
  EXPECT_EQ(u.order_id, 2);
  EXPECT_EQ(u.exec, ExecType::kTradePrevention);
  EXPECT_EQ(u.status, OrderStatus::kExpiredInMatch);
  EXPECT_EQ(u.reason, ExpiryReason::kStp);
  EXPECT_EQ(u.prevented_match_id, 1);
  EXPECT_EQ(u.executed_qty, Qty(0));
  EXPECT_EQ(Asks(), "65000x0.1");  // the maker stays
  EXPECT_EQ(Locked(kAlice, kUsdt), Amount(0));
}

TEST_F(StpTest, ExpireMakerExpiresTheRestingOrderAndMatchingContinues) {
  Ok(Place(Limit(kAlice, kSell, Px("65000"), Btc("0.1"))));  // 1
  Ok(Place(Limit(kBob, kSell, Px("65010"), Btc("0.1"))));    // 2
  Out out = Place(WithStp(Limit(kAlice, kBuy, Px("65010"), Btc("0.1")), StpMode::kExpireMaker));
  Ok(out);
  EXPECT_EQ(out.Types(),
            "OrderAccepted PreventedMatch OrderUpdate Trade OrderUpdate*2 BalanceChanged*4 "
            "BookLevel*2");
  const auto pm = out.At<PreventedMatch>(1);
  EXPECT_EQ(pm.mode, StpMode::kExpireMaker);
  EXPECT_EQ(pm.maker_order_id, 1);
  EXPECT_EQ(pm.taker_order_id, 3);
  const auto maker = out.At<OrderUpdate>(2);
  EXPECT_EQ(maker.order_id, 1);
  EXPECT_EQ(maker.exec, ExecType::kTradePrevention);
  EXPECT_EQ(maker.status, OrderStatus::kExpiredInMatch);
  EXPECT_EQ(maker.reason, ExpiryReason::kStp);
  EXPECT_EQ(maker.prevented_match_id, 1);
  const auto trade = out.At<Trade>(3);
  EXPECT_EQ(trade.seller_order_id, 2);
  EXPECT_EQ(trade.price, Px("65010"));
  EXPECT_EQ(out.UpdatesOf(3).back().status, OrderStatus::kFilled);
  // Alice: her 0.1 BTC unlocked again, plus 0.1 bought for 6501 USDT.
  EXPECT_EQ(Free(kAlice, kBtc), BtcAmt("10.1"));
  EXPECT_EQ(Locked(kAlice, kBtc), Amount(0));
  EXPECT_EQ(Free(kAlice, kUsdt), Usdt("993499"));
  EXPECT_EQ(Asks(), "");
}

TEST_F(StpTest, ExpireBothExpiresMakerAndTaker) {
  Ok(Place(Limit(kAlice, kSell, Px("65000"), Btc("0.1"))));  // 1
  Out out = Place(WithStp(Limit(kAlice, kBuy, Px("65000"), Btc("0.1")), StpMode::kExpireBoth));
  Ok(out);
  EXPECT_EQ(out.Types(), "OrderAccepted PreventedMatch OrderUpdate*2 BalanceChanged BookLevel");
  const auto maker = out.At<OrderUpdate>(2);
  const auto taker = out.At<OrderUpdate>(3);
  EXPECT_EQ(maker.order_id, 1);
  EXPECT_EQ(taker.order_id, 2);
  for (const auto& u : {maker, taker}) {
    EXPECT_EQ(u.exec, ExecType::kTradePrevention);
    EXPECT_EQ(u.status, OrderStatus::kExpiredInMatch);
    EXPECT_EQ(u.reason, ExpiryReason::kStp);
    EXPECT_EQ(u.prevented_match_id, 1);
  }
  EXPECT_EQ(Asks(), "");
  EXPECT_EQ(Bal(kAlice, kBtc).free, BtcAmt("10"));
  EXPECT_EQ(Bal(kAlice, kUsdt).free, Usdt("1000000"));
}

TEST_F(StpTest, TheTakersModeDecides) {
  // The maker asks for EXPIRE_BOTH, the taker for NONE: the trade happens.
  Ok(Place(WithStp(Limit(kAlice, kSell, Px("65000"), Btc("0.1")), StpMode::kExpireBoth)));
  Out out = Place(WithStp(Limit(kAlice, kBuy, Px("65000"), Btc("0.1")), StpMode::kNone));
  Ok(out);
  EXPECT_EQ(out.All<Trade>().size(), 1u);
  EXPECT_TRUE(out.All<PreventedMatch>().empty());
}

TEST_F(StpTest, AccountDefaultAppliesToOrdersWithoutAMode) {
  Out set = Apply(SetAccountStp{kAlice, StpMode::kExpireBoth});
  Ok(set);
  const auto acct = set.One<AccountUpdated>();
  EXPECT_EQ(acct.account, kAlice);
  EXPECT_EQ(acct.stp, StpMode::kExpireBoth);
  EXPECT_FALSE(acct.frozen);

  Out maker = Place(Limit(kAlice, kSell, Px("65000"), Btc("0.1")));  // 1
  EXPECT_EQ(maker.One<OrderAccepted>().stp, StpMode::kExpireBoth);
  Out taker = Place(Limit(kAlice, kBuy, Px("65000"), Btc("0.1")));  // 2, kDefault
  EXPECT_EQ(taker.One<OrderAccepted>().stp, StpMode::kExpireBoth);
  EXPECT_EQ(taker.All<OrderUpdate>().size(), 2u);  // both expired
  EXPECT_EQ(taker.One<PreventedMatch>().mode, StpMode::kExpireBoth);

  // An explicit mode beats the account default; other accounts keep the symbol default.
  Ok(Place(Limit(kAlice, kSell, Px("65000"), Btc("0.1"))));  // 3
  Out explicit_none = Place(WithStp(Limit(kAlice, kBuy, Px("65000"), Btc("0.1")), StpMode::kNone));
  EXPECT_EQ(explicit_none.All<Trade>().size(), 1u);
  Out bob = Place(Limit(kBob, kBuy, Px("60000"), Btc("0.1")));
  EXPECT_EQ(bob.One<OrderAccepted>().stp, StpMode::kExpireMaker);

  // Back to kDefault: the symbol's default again.
  Ok(Apply(SetAccountStp{kAlice, StpMode::kDefault}));
  Out again = Place(Limit(kAlice, kBuy, Px("60000"), Btc("0.1")));
  EXPECT_EQ(again.One<OrderAccepted>().stp, StpMode::kExpireMaker);
}

TEST_F(StpTest, SymbolDefaultApplies) {
  SymbolConfig cfg = BtcUsdtConfig();
  cfg.name = MakeName("BTCSTPNONE");
  cfg.default_stp = StpMode::kNone;
  const SymbolId sym = ListSymbol(cfg);
  NewOrder sell = Limit(kAlice, kSell, Px("65000"), Btc("0.1"));
  sell.symbol = sym;
  NewOrder buy = Limit(kAlice, kBuy, Px("65000"), Btc("0.1"));
  buy.symbol = sym;
  Ok(Place(sell));
  Out out = Place(buy);
  Ok(out);
  EXPECT_EQ(out.One<OrderAccepted>().stp, StpMode::kNone);
  EXPECT_EQ(out.All<Trade>().size(), 1u);
}

TEST_F(StpTest, PreventedMatchIdsAndQuantities) {
  NewOrder ice = Limit(kAlice, kSell, Px("65000"), Btc("1"));
  ice.iceberg_qty = Btc("0.1");
  Ok(Place(ice));                                            // 1: Alice, shows 0.1
  Ok(Place(Limit(kAlice, kSell, Px("65000"), Btc("0.3"))));  // 2: Alice
  Ok(Place(Limit(kBob, kSell, Px("65000"), Btc("0.5"))));    // 3: Bob
  // EXPIRE_MAKER (symbol default): both of Alice's asks expire, each with its own prevented
  // match; qty = min(taker left, maker visible): min(0.25, 0.1) and min(0.25, 0.3).
  Out out = Place(Limit(kAlice, kBuy, Px("65000"), Btc("0.25")));  // 4
  Ok(out);
  const auto pms = out.All<PreventedMatch>();
  ASSERT_EQ(pms.size(), 2u);
  EXPECT_EQ(pms[0].prevented_match_id, 1);
  EXPECT_EQ(pms[0].maker_order_id, 1);
  EXPECT_EQ(pms[0].qty, Btc("0.1"));
  EXPECT_EQ(pms[1].prevented_match_id, 2);
  EXPECT_EQ(pms[1].maker_order_id, 2);
  EXPECT_EQ(pms[1].qty, Btc("0.25"));
  EXPECT_EQ(out.One<Trade>().seller_order_id, 3);
  EXPECT_EQ(out.One<Trade>().qty, Btc("0.25"));
  EXPECT_EQ(Asks(), "65000x0.25");
  EXPECT_EQ(Free(kAlice, kBtc), BtcAmt("10.25"));
  EXPECT_EQ(Locked(kAlice, kBtc), Amount(0));

  // The counter is global: Bob now hits his own ask, prevented match 3.
  Out bob = Place(WithStp(Limit(kBob, kBuy, Px("65000"), Btc("0.1")), StpMode::kExpireTaker));
  EXPECT_EQ(bob.One<PreventedMatch>().prevented_match_id, 3);
}

TEST_F(StpTest, FokDryRunAccountsForStp) {
  Ok(Place(Limit(kAlice, kSell, Px("65000"), Btc("0.1"))));  // 1: Alice's own ask, first
  Ok(Place(Limit(kBob, kSell, Px("65000"), Btc("0.5"))));    // 2
  // EXPIRE_TAKER: the FOK would meet Alice's own ask before any liquidity, so it cannot fill:
  // EXPIRED (UNFILLED_FOK) before any state change — no PreventedMatch, no fill.
  Out taker =
      Place(WithStp(Limit(kAlice, kBuy, Px("65000"), Btc("0.3"), kFok), StpMode::kExpireTaker));
  Ok(taker);
  EXPECT_EQ(taker.Types(), "OrderAccepted OrderUpdate");
  EXPECT_EQ(taker.At<OrderUpdate>(1).reason, ExpiryReason::kUnfilledFok);
  EXPECT_EQ(Asks(), "65000x0.6");
  // EXPIRE_MAKER: her own ask expires and Bob's 0.5 covers the 0.3.
  Out maker =
      Place(WithStp(Limit(kAlice, kBuy, Px("65000"), Btc("0.3"), kFok), StpMode::kExpireMaker));
  Ok(maker);
  EXPECT_EQ(maker.All<PreventedMatch>().size(), 1u);
  EXPECT_EQ(maker.One<Trade>().qty, Btc("0.3"));
  EXPECT_EQ(maker.UpdatesOf(4).back().status, OrderStatus::kFilled);
  EXPECT_EQ(Asks(), "65000x0.2");
}

// ---------------------------------------------------------------------------------------------
// Fees

TEST_F(FeesTest, DefaultMakerAndTakerRatesInTheAssetReceived) {
  Out set = Apply(SetFees{kDefaultsAccount, 100'000, 200'000});  // maker 0.1 %, taker 0.2 %
  Ok(set);
  EXPECT_EQ(set.One<AccountUpdated>().account, kDefaultsAccount);
  EXPECT_EQ(set.One<AccountUpdated>().maker_rate_e8, 100'000);
  EXPECT_EQ(set.One<AccountUpdated>().taker_rate_e8, 200'000);

  Ok(Place(Limit(kBob, kSell, Px("65000"), Btc("0.5"))));  // 1: maker
  // Notional 0.5 × 65000 = 32500. Alice (buyer, taker) pays 0.2 % of 0.5 BTC = 0.001 BTC;
  // Bob (seller, maker) pays 0.1 % of 32500 USDT = 32.5 USDT.
  Out out = Place(Limit(kAlice, kBuy, Px("65000"), Btc("0.5")));  // 2: taker
  Ok(out);
  const auto trade = out.One<Trade>();
  EXPECT_EQ(trade.buyer_commission, Btc("0.001"));
  EXPECT_EQ(trade.seller_commission, Usdt("32.5"));
  const auto maker = out.UpdatesOf(1).back();
  EXPECT_EQ(maker.commission, Usdt("32.5"));
  EXPECT_EQ(maker.commission_asset, kUsdt);
  const auto taker = out.UpdatesOf(2).back();
  EXPECT_EQ(taker.commission, BtcAmt("0.001"));
  EXPECT_EQ(taker.commission_asset, kBtc);
  EXPECT_EQ(Free(kAlice, kBtc), BtcAmt("10.499"));
  EXPECT_EQ(Free(kAlice, kUsdt), Usdt("967500"));
  EXPECT_EQ(Free(kBob, kUsdt), Usdt("1032467.5"));
  // The fee account (0) is credited, and appears in the BalanceChanged events.
  EXPECT_EQ(Free(kFeeAccount, kBtc), BtcAmt("0.001"));
  EXPECT_EQ(Free(kFeeAccount, kUsdt), Usdt("32.5"));
  ASSERT_TRUE(out.BalanceOf(kFeeAccount, kBtc).has_value());
  EXPECT_EQ(out.BalanceOf(kFeeAccount, kBtc)->delta_free, BtcAmt("0.001"));
  ASSERT_TRUE(out.BalanceOf(kFeeAccount, kUsdt).has_value());

  // Roles swapped: Bob's bid rests (maker), Alice sells into it (taker). Notional
  // 0.2 × 64000 = 12800: Bob pays 0.1 % of 0.2 BTC = 0.0002 BTC, Alice 0.2 % of 12800 = 25.6.
  Ok(Place(Limit(kBob, kBuy, Px("64000"), Btc("0.2"))));            // 3
  Out sell = Place(Limit(kAlice, kSell, Px("64000"), Btc("0.2")));  // 4
  Ok(sell);
  EXPECT_TRUE(sell.One<Trade>().buyer_is_maker);
  EXPECT_EQ(sell.One<Trade>().buyer_commission, Btc("0.0002"));
  EXPECT_EQ(sell.One<Trade>().seller_commission, Usdt("25.6"));
  EXPECT_EQ(Free(kFeeAccount, kBtc), BtcAmt("0.0012"));
  EXPECT_EQ(Free(kFeeAccount, kUsdt), Usdt("58.1"));
}

TEST_F(FeesTest, PerAccountRatesOverrideTheDefaults) {
  SetDefaultFees(100'000, 100'000);             // 0.1 % / 0.1 %
  Out set = Apply(SetFees{kAlice, 0, 50'000});  // Alice: maker 0, taker 0.05 %
  Ok(set);
  EXPECT_EQ(set.One<AccountUpdated>().account, kAlice);
  EXPECT_EQ(set.One<AccountUpdated>().maker_rate_e8, 0);
  EXPECT_EQ(set.One<AccountUpdated>().taker_rate_e8, 50'000);

  Ok(Place(Limit(kBob, kSell, Px("65000"), Btc("0.5"))));
  Out out = Place(Limit(kAlice, kBuy, Px("65000"), Btc("0.5")));
  // Alice taker 0.05 % of 0.5 BTC = 0.00025 BTC; Bob maker (default) 0.1 % of 32500 = 32.5.
  EXPECT_EQ(out.One<Trade>().buyer_commission, Btc("0.00025"));
  EXPECT_EQ(out.One<Trade>().seller_commission, Usdt("32.5"));

  Ok(Place(Limit(kAlice, kSell, Px("66000"), Btc("0.1"))));  // Alice rests: maker rate 0
  Out hit = Place(Limit(kBob, kBuy, Px("66000"), Btc("0.1")));
  EXPECT_EQ(hit.One<Trade>().seller_commission, Amount(0));
  EXPECT_EQ(hit.One<Trade>().buyer_commission, Btc("0.0001"));  // Bob taker 0.1 % of 0.1
  // A later change of the defaults does not touch Alice's own rates.
  SetDefaultFees(500'000, 500'000);
  Ok(Place(Limit(kAlice, kSell, Px("66000"), Btc("0.1"))));
  Out hit2 = Place(Limit(kBob, kBuy, Px("66000"), Btc("0.1")));
  EXPECT_EQ(hit2.One<Trade>().seller_commission, Amount(0));
  EXPECT_EQ(hit2.One<Trade>().buyer_commission, Btc("0.0005"));
}

TEST_F(FeesTest, CommissionRoundsUpToTheSmallestUnit) {
  SetDefaultFees(75'000, 150'000);  // maker 0.075 %, taker 0.15 %
  Ok(Place(Limit(kBob, kSell, Px("65000.01"), Btc("0.00123"))));
  Out out = Place(Limit(kAlice, kBuy, Px("65000.01"), Btc("0.00123")));
  Ok(out);
  // Buyer: 123 000 units × 0.15 % = 184.5 -> 185 units.
  // Notional 65000.01 × 0.00123 = 79.9500123 USDT = 7 995 001 230 units; seller:
  // × 0.075 % = 5 996 250.9225 -> 5 996 251 units.
  const auto trade = out.One<Trade>();
  EXPECT_EQ(trade.quote_qty, Usdt("79.9500123"));
  EXPECT_EQ(trade.buyer_commission, Qty(185));
  EXPECT_EQ(trade.seller_commission, Amount(5'996'251));
  EXPECT_EQ(Free(kAlice, kBtc), BtcAmt("10.00122815"));    // 123 000 − 185 units
  EXPECT_EQ(Free(kBob, kUsdt), Usdt("1000079.89004979"));  // + 7 995 001 230 − 5 996 251
}

TEST_F(FeesTest, RestingRemainderPaysTheMakerRate) {
  SetDefaultFees(100'000, 200'000);
  Ok(Place(Limit(kBob, kSell, Px("65000"), Btc("0.1"))));
  // Alice takes 0.1 (taker 0.2 % = 0.0002 BTC) and rests 0.2.
  Out first = Place(Limit(kAlice, kBuy, Px("65000"), Btc("0.3")));
  EXPECT_EQ(first.One<Trade>().buyer_commission, Btc("0.0002"));
  // Carol sells into the rest: Alice is now the maker (0.1 % of 0.2 = 0.0002 BTC); Carol
  // pays the taker 0.2 % of 13000 = 26 USDT.
  Out second = Place(Limit(kCarol, kSell, Px("65000"), Btc("0.2")));
  EXPECT_TRUE(second.One<Trade>().buyer_is_maker);
  EXPECT_EQ(second.One<Trade>().buyer_commission, Btc("0.0002"));
  EXPECT_EQ(second.One<Trade>().seller_commission, Usdt("26"));
  EXPECT_EQ(Free(kAlice, kBtc), BtcAmt("10.2996"));
}

TEST_F(FeesTest, EveryAssetIsConservedIncludingTheFeeAccount) {
  SetDefaultFees(100'000, 200'000);
  Ok(Place(Limit(kBob, kSell, Px("65000"), Btc("0.5"))));
  Ok(Place(Market(kAlice, kBuy, Btc("0.3"))));
  Ok(Place(MarketQuote(kCarol, kBuy, Usdt("5000"))));
  NewOrder tkn = Limit(kAlice, kSell, Px("0.5"), Tkn("10"));
  tkn.symbol = kTknUsdt;
  Ok(Place(tkn));
  tkn.account = kBob;
  tkn.side = kBuy;
  Ok(Place(tkn));
  Ok(Apply(Withdraw{kDave, kUsdt, Usdt("123.45")}));

  const auto totals = engine_.Totals();
  ASSERT_EQ(totals.size(), 3u);
  // 4 accounts × 10 BTC; 4 × 1 000 000 − 123.45 USDT; 4 × 1000 TKN.
  EXPECT_TRUE(totals[kBtc].net_deposits == BtcAmt("40").v);
  EXPECT_TRUE(totals[kUsdt].net_deposits == Usdt("3999876.55").v);
  EXPECT_TRUE(totals[kTkn].net_deposits == 4000);
  for (const auto& t : totals) {
    EXPECT_TRUE(t.balances == t.net_deposits) << "asset " << t.asset;
  }
  __int128 btc = 0;
  for (AccountId a : {kFeeAccount, kAlice, kBob, kCarol, kDave}) {
    btc += Bal(a, kBtc).free.v + Bal(a, kBtc).locked.v;
  }
  EXPECT_TRUE(btc == BtcAmt("40").v);
  EXPECT_GT(Free(kFeeAccount, kBtc).v, 0);  // commissions were charged in BTC and USDT
  EXPECT_GT(Free(kFeeAccount, kUsdt).v, 0);
}

}  // namespace
}  // namespace spotex::engine::test
