#include "config/markets.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/decimal.h"
#include "core/types.h"
#include "engine/command.h"
#include "engine/engine.h"
#include "engine/reject.h"
#include "engine/types.h"

namespace spotex::config {
namespace {

using engine::CommandBody;
using engine::RejectCode;
using Commands = std::vector<CommandBody>;

const std::string kDefaultFile = std::string(SPOTEX_SOURCE_DIR) + "/etc/markets.toml";

int64_t Units(std::string_view text, int scale) {
  const auto v = core::ParseDecimal(text, scale);
  EXPECT_TRUE(v.has_value()) << "bad literal " << text;
  return v.value_or(0);
}

// Applies commands to `e` with seq continuing from e.last_seq(); returns each one's code.
std::vector<RejectCode> ApplyAll(engine::Engine& e, const Commands& commands) {
  std::vector<RejectCode> codes;
  for (const CommandBody& body : commands) {
    const engine::Command cmd{.seq = e.last_seq() + 1, .time_ms = 1'767'225'600'000, .body = body};
    codes.push_back(e.Apply(cmd).code);
  }
  return codes;
}

RejectCode Apply(engine::Engine& e, const CommandBody& body) {
  return ApplyAll(e, Commands{body}).front();
}

const engine::SymbolConfig& ConfigOf(const std::vector<engine::SymbolView>& symbols,
                                     engine::SymbolId id) {
  return symbols.at(id).config;
}

// Two assets and the start of a symbol on them; tests append keys to the symbol.
constexpr std::string_view kTwoAssets = R"([[asset]]
name = "BTC"
scale = 8

[[asset]]
name = "USDT"
scale = 8
)";

std::string MinimalSymbol(std::string_view extra = "") {
  return std::string(kTwoAssets) + R"(
[[symbol]]
name = "BTCUSDT"
base = "BTC"
quote = "USDT"
tick_size = "0.01"
step_size = "0.00001"
)" + std::string(extra);
}

// The error message of a text that must fail to parse.
std::string ErrorOf(std::string_view text) {
  const auto r = ParseMarkets(text, "t.toml");
  if (r.has_value()) {
    ADD_FAILURE() << "parsed, expected an error:\n" << text;
    return "";
  }
  return r.error().message;
}

// ---------------------------------------------------------------------------------------------
// The shipped default market set

TEST(DefaultMarkets, EveryCommandIsAcceptedInOrder) {
  const auto commands = LoadMarkets(kDefaultFile);
  ASSERT_TRUE(commands.has_value()) << commands.error().message;
  ASSERT_EQ(commands->size(), 9u);  // 4 assets, 4 symbols, default fees
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(std::holds_alternative<engine::AddAsset>((*commands)[i])) << i;
  }
  for (size_t i = 4; i < 8; ++i) {
    EXPECT_TRUE(std::holds_alternative<engine::AddSymbol>((*commands)[i])) << i;
  }
  ASSERT_TRUE(std::holds_alternative<engine::SetFees>((*commands)[8]));
  const auto& fees = std::get<engine::SetFees>((*commands)[8]);
  EXPECT_EQ(fees.account, engine::kDefaultsAccount);
  EXPECT_EQ(fees.maker_rate_e8, 100'000);  // 0.1 %
  EXPECT_EQ(fees.taker_rate_e8, 100'000);

  engine::Engine e;
  for (RejectCode code : ApplyAll(e, *commands)) {
    EXPECT_EQ(code, RejectCode::kNone) << engine::ToString(code);
  }
  EXPECT_EQ(e.FindAsset("BTC"), 0u);
  EXPECT_EQ(e.FindAsset("ETH"), 1u);
  EXPECT_EQ(e.FindAsset("BNB"), 2u);
  EXPECT_EQ(e.FindAsset("USDT"), 3u);
  for (const auto& a : e.Assets()) {
    EXPECT_EQ(a.scale, 8) << a.name.view();
  }
  EXPECT_EQ(e.FindSymbol("BTCUSDT"), 0u);
  EXPECT_EQ(e.FindSymbol("ETHUSDT"), 1u);
  EXPECT_EQ(e.FindSymbol("BNBUSDT"), 2u);
  EXPECT_EQ(e.FindSymbol("ETHBTC"), 3u);
  EXPECT_EQ(e.CheckInvariants(), "");
}

TEST(DefaultMarkets, FiltersAreAtTheRightScales) {
  const auto commands = LoadMarkets(kDefaultFile);
  ASSERT_TRUE(commands.has_value()) << commands.error().message;
  engine::Engine e;
  ApplyAll(e, *commands);
  const auto symbols = e.Symbols();
  ASSERT_EQ(symbols.size(), 4u);

  // BTCUSDT: prices and notionals in USDT units (scale 8), quantities in BTC units (scale 8).
  const engine::SymbolConfig& btc = ConfigOf(symbols, 0);
  EXPECT_EQ(btc.name.view(), "BTCUSDT");
  EXPECT_EQ(btc.base_asset, 0u);
  EXPECT_EQ(btc.quote_asset, 3u);
  EXPECT_EQ(btc.status, engine::SymbolStatus::kTrading);
  const engine::SymbolFilters& f = btc.filters;
  EXPECT_EQ(f.tick_size.v, 1'000'000);
  EXPECT_EQ(f.min_price.v, 1'000'000);
  EXPECT_EQ(f.max_price.v, 100'000'000'000'000);
  EXPECT_EQ(f.step_size.v, 1'000);
  EXPECT_EQ(f.min_qty.v, 1'000);
  EXPECT_EQ(f.max_qty.v, 900'000'000'000);
  EXPECT_EQ(f.market_min_qty.v, 0);
  EXPECT_EQ(f.market_max_qty.v, 10'000'000'000);
  EXPECT_EQ(f.market_step_size.v, 0);
  EXPECT_EQ(f.min_notional.v, 500'000'000);
  EXPECT_EQ(f.max_notional.v, 900'000'000'000'000);
  EXPECT_TRUE(f.apply_min_to_market);
  EXPECT_FALSE(f.apply_max_to_market);
  EXPECT_EQ(f.avg_price_mins, 5);
  EXPECT_EQ(f.bid_multiplier_up_e8, 500'000'000);
  EXPECT_EQ(f.bid_multiplier_down_e8, 20'000'000);
  EXPECT_EQ(f.ask_multiplier_up_e8, 500'000'000);
  EXPECT_EQ(f.ask_multiplier_down_e8, 20'000'000);
  EXPECT_EQ(f.iceberg_parts, 10);
  EXPECT_EQ(f.max_num_orders, 200);
  EXPECT_EQ(f.max_num_algo_orders, 5);
  EXPECT_EQ(btc.default_stp, engine::StpMode::kExpireMaker);

  EXPECT_EQ(ConfigOf(symbols, 1).filters.step_size.v, 10'000);   // ETHUSDT 0.0001 ETH
  EXPECT_EQ(ConfigOf(symbols, 2).filters.step_size.v, 100'000);  // BNBUSDT 0.001 BNB
  // ETHBTC: prices and notionals in BTC units.
  const engine::SymbolConfig& ethbtc = ConfigOf(symbols, 3);
  EXPECT_EQ(ethbtc.base_asset, 1u);
  EXPECT_EQ(ethbtc.quote_asset, 0u);
  EXPECT_EQ(ethbtc.filters.tick_size.v, 1'000);
  EXPECT_EQ(ethbtc.filters.step_size.v, 100'000);
  EXPECT_EQ(ethbtc.filters.min_notional.v, 10'000);
}

// The listed grid is the one orders are checked against, and the default fees are charged.
TEST(DefaultMarkets, OrdersOnTheGridTradeAndPayTheDefaultFees) {
  const auto commands = LoadMarkets(kDefaultFile);
  ASSERT_TRUE(commands.has_value()) << commands.error().message;
  engine::Engine e;
  ApplyAll(e, *commands);
  const engine::AssetId btc = *e.FindAsset("BTC");
  const engine::AssetId usdt = *e.FindAsset("USDT");
  const engine::SymbolId btcusdt = *e.FindSymbol("BTCUSDT");
  constexpr engine::AccountId kSeller = 1, kBuyer = 2;
  ASSERT_EQ(Apply(e, engine::OpenAccount{kSeller}), RejectCode::kNone);
  ASSERT_EQ(Apply(e, engine::OpenAccount{kBuyer}), RejectCode::kNone);
  ASSERT_EQ(Apply(e, engine::Deposit{kSeller, btc, core::Amount(Units("1", 8))}),
            RejectCode::kNone);
  ASSERT_EQ(Apply(e, engine::Deposit{kBuyer, usdt, core::Amount(Units("100000", 8))}),
            RejectCode::kNone);

  const auto order = [&](engine::AccountId account, engine::Side side, std::string_view price,
                         std::string_view qty) {
    engine::NewOrder o;
    o.account = account;
    o.symbol = btcusdt;
    o.side = side;
    o.type = engine::OrderType::kLimit;
    o.tif = engine::TimeInForce::kGtc;
    o.price = core::Price(Units(price, 8));
    o.qty = core::Qty(Units(qty, 8));
    return Apply(e, engine::PlaceOrder{o});
  };
  EXPECT_EQ(order(kSeller, engine::Side::kSell, "50000.001", "0.01"), RejectCode::kFilterPrice);
  EXPECT_EQ(order(kSeller, engine::Side::kSell, "50000", "0.000001"), RejectCode::kFilterLotSize);
  EXPECT_EQ(order(kSeller, engine::Side::kSell, "50000", "0.00001"), RejectCode::kFilterNotional);
  EXPECT_EQ(order(kSeller, engine::Side::kSell, "50000.01", "0.01"), RejectCode::kNone);
  EXPECT_EQ(order(kBuyer, engine::Side::kBuy, "50000.01", "0.01"), RejectCode::kNone);

  // 0.1 % of what each side received: 0.00001 BTC from the buyer, 0.5000001 USDT from the seller.
  EXPECT_EQ(e.Balance(engine::kFeeAccount, btc)->free.v, Units("0.00001", 8));
  EXPECT_EQ(e.Balance(engine::kFeeAccount, usdt)->free.v, Units("0.5000001", 8));
  EXPECT_EQ(e.CheckInvariants(), "");
}

// ---------------------------------------------------------------------------------------------
// Schema

TEST(ParseMarkets, EmptyTextListsNothing) {
  const auto r = ParseMarkets("# nothing yet\n", "t.toml");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(r->empty());
}

TEST(ParseMarkets, OptionalKeysTakeTheEngineDefaults) {
  const auto r = ParseMarkets(MinimalSymbol("min_qty = \"0.001\"\nmax_qty = \"50\"\n"), "t.toml");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->size(), 3u);  // no [fees]: no SetFees
  const engine::SymbolConfig& c = std::get<engine::AddSymbol>((*r)[2]).config;
  const engine::SymbolConfig d;  // the engine's defaults
  EXPECT_EQ(c.status, engine::SymbolStatus::kTrading);
  EXPECT_EQ(c.default_stp, engine::StpMode::kExpireMaker);
  EXPECT_EQ(c.iceberg_allowed, d.iceberg_allowed);
  EXPECT_EQ(c.amend_allowed, d.amend_allowed);
  EXPECT_EQ(c.filters.min_price.v, 0);  // 0: rule disabled
  EXPECT_EQ(c.filters.max_price.v, 0);
  EXPECT_EQ(c.filters.min_notional.v, 0);
  // MARKET_LOT_SIZE bounds follow LOT_SIZE; its step is 0 = "LOT_SIZE's step".
  EXPECT_EQ(c.filters.market_min_qty.v, Units("0.001", 8));
  EXPECT_EQ(c.filters.market_max_qty.v, Units("50", 8));
  EXPECT_EQ(c.filters.market_step_size.v, 0);
  EXPECT_EQ(c.filters.avg_price_mins, d.filters.avg_price_mins);
  EXPECT_EQ(c.filters.iceberg_parts, d.filters.iceberg_parts);
  EXPECT_EQ(c.filters.max_num_orders, d.filters.max_num_orders);
  EXPECT_EQ(c.filters.max_num_algo_orders, d.filters.max_num_algo_orders);
  EXPECT_EQ(c.filters.bid_multiplier_up_e8, 0);
}

TEST(ParseMarkets, EveryKeyReachesTheCommand) {
  const auto r = ParseMarkets(MinimalSymbol(R"(status = "HALT"
min_price = "1.5"
max_price = "2.5"
min_qty = "0.0001"
max_qty = "7"
market_step_size = "0.001"
market_min_qty = "0.002"
market_max_qty = "3"
min_notional = "10"
max_notional = "20"
apply_min_to_market = false
apply_max_to_market = true
legacy_min_notional = true
avg_price_mins = 15
bid_multiplier_up = "1.1"
bid_multiplier_down = "0.9"
ask_multiplier_up = "1.2"
ask_multiplier_down = "0.8"
iceberg_parts = 0
max_num_orders = 0
max_num_algo_orders = 7
iceberg_allowed = false
oco_allowed = false
quote_order_qty_market_allowed = false
cancel_replace_allowed = false
amend_allowed = false
default_stp = "EXPIRE_BOTH"
)"),
                              "t.toml");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  const engine::SymbolConfig& c = std::get<engine::AddSymbol>((*r)[2]).config;
  const engine::SymbolFilters& f = c.filters;
  EXPECT_EQ(c.status, engine::SymbolStatus::kHalt);
  EXPECT_EQ(f.min_price.v, 150'000'000);
  EXPECT_EQ(f.max_price.v, 250'000'000);
  EXPECT_EQ(f.min_qty.v, 10'000);
  EXPECT_EQ(f.max_qty.v, 700'000'000);
  EXPECT_EQ(f.market_step_size.v, 100'000);
  EXPECT_EQ(f.market_min_qty.v, 200'000);
  EXPECT_EQ(f.market_max_qty.v, 300'000'000);
  EXPECT_EQ(f.min_notional.v, 1'000'000'000);
  EXPECT_EQ(f.max_notional.v, 2'000'000'000);
  EXPECT_FALSE(f.apply_min_to_market);
  EXPECT_TRUE(f.apply_max_to_market);
  EXPECT_TRUE(f.legacy_min_notional);
  EXPECT_EQ(f.avg_price_mins, 15);
  EXPECT_EQ(f.bid_multiplier_up_e8, 110'000'000);
  EXPECT_EQ(f.bid_multiplier_down_e8, 90'000'000);
  EXPECT_EQ(f.ask_multiplier_up_e8, 120'000'000);
  EXPECT_EQ(f.ask_multiplier_down_e8, 80'000'000);
  EXPECT_EQ(f.iceberg_parts, 0);
  EXPECT_EQ(f.max_num_orders, 0);
  EXPECT_EQ(f.max_num_algo_orders, 7);
  EXPECT_FALSE(c.iceberg_allowed);
  EXPECT_FALSE(c.oco_allowed);
  EXPECT_FALSE(c.quote_order_qty_market_allowed);
  EXPECT_FALSE(c.cancel_replace_allowed);
  EXPECT_FALSE(c.amend_allowed);
  EXPECT_EQ(c.default_stp, engine::StpMode::kExpireBoth);
}

// Ids follow file order, not names; each value takes the scale of its own asset.
TEST(ParseMarkets, AssetIdsAndScalesFollowTheFile) {
  const auto r = ParseMarkets(R"(
[[asset]]
name = "EUR"
scale = 2
[[asset]]
name = "TKN"
scale = 0
[[symbol]]
name = "TKNEUR"
base = "TKN"
quote = "EUR"
tick_size = "0.01"
step_size = "1"
min_notional = "1.5"
[fees]
maker = "0"
taker = "0.00075"
)",
                              "t.toml");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ(std::get<engine::AddAsset>((*r)[0]).name.view(), "EUR");
  EXPECT_EQ(std::get<engine::AddAsset>((*r)[0]).scale, 2);
  EXPECT_EQ(std::get<engine::AddAsset>((*r)[1]).scale, 0);
  const engine::SymbolConfig& c = std::get<engine::AddSymbol>((*r)[2]).config;
  EXPECT_EQ(c.base_asset, 1u);
  EXPECT_EQ(c.quote_asset, 0u);
  EXPECT_EQ(c.filters.tick_size.v, 1);       // 0.01 EUR at scale 2
  EXPECT_EQ(c.filters.step_size.v, 1);       // 1 TKN at scale 0
  EXPECT_EQ(c.filters.min_notional.v, 150);  // 1.5 EUR
  const auto& fees = std::get<engine::SetFees>((*r)[3]);
  EXPECT_EQ(fees.maker_rate_e8, 0);
  EXPECT_EQ(fees.taker_rate_e8, 75'000);

  engine::Engine e;
  for (RejectCode code : ApplyAll(e, *r)) {
    EXPECT_EQ(code, RejectCode::kNone) << engine::ToString(code);
  }
  EXPECT_EQ(e.FindSymbol("TKNEUR"), 0u);
}

// ---------------------------------------------------------------------------------------------
// Errors: each names the file, the position and the key.

TEST(ParseMarketsErrors, SyntaxErrorNamesTheLine) {
  const std::string m = ErrorOf("[[asset]]\nname = \"BTC\"\nscale = = 8\n");
  EXPECT_EQ(m.rfind("t.toml:3:", 0), 0u) << m;
}

TEST(ParseMarketsErrors, DuplicateTomlKeyIsASyntaxError) {
  const std::string m = ErrorOf("[[asset]]\nname = \"BTC\"\nname = \"ETH\"\nscale = 8\n");
  EXPECT_EQ(m.rfind("t.toml:3:", 0), 0u) << m;
}

TEST(ParseMarketsErrors, UnknownKeyIsNamedWithASuggestion) {
  const std::string m = ErrorOf(MinimalSymbol("tick_sise = \"0.01\"\n"));
  // kTwoAssets is 7 lines, then a blank line, [[symbol]] on 9, the keys on 10..14, the typo on 15.
  EXPECT_EQ(m, "t.toml:15:1: symbol[0].tick_sise: unknown key (did you mean \"tick_size\"?)");
}

TEST(ParseMarketsErrors, UnknownTopLevelKeyOrTable) {
  EXPECT_NE(ErrorOf("[fee]\nmaker = \"0.001\"\n").find("t.toml:1:2: fee: unknown key"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[[assets]]\nname = \"BTC\"\n").find("assets: unknown key (did you mean"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[fees]\nmaker = \"0\"\ntaker = \"0\"\nrebate = \"0\"\n")
                .find("fees.rebate: unknown key"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[[asset]]\nname = \"BTC\"\nscale = 8\nprecision = 8\n")
                .find("t.toml:4:1: asset[0].precision: unknown key"),
            std::string::npos);
}

TEST(ParseMarketsErrors, MissingRequiredKeys) {
  EXPECT_EQ(ErrorOf("[[asset]]\nname = \"BTC\"\n"),
            "t.toml:1:1: asset[0].scale: missing required key");
  EXPECT_NE(ErrorOf("[[asset]]\nscale = 8\n").find("asset[0].name: missing required key"),
            std::string::npos);
  const std::string no_step = std::string(kTwoAssets) +
                              "[[symbol]]\nname = \"BTCUSDT\"\nbase = \"BTC\"\nquote = \"USDT\"\n"
                              "tick_size = \"0.01\"\n";
  EXPECT_EQ(ErrorOf(no_step), "t.toml:8:1: symbol[0].step_size: missing required key");
  EXPECT_NE(ErrorOf(std::string(kTwoAssets) + "[[symbol]]\nname = \"BTCUSDT\"\nbase = \"BTC\"\n")
                .find("symbol[0].quote: missing required key"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[fees]\nmaker = \"0.001\"\n").find("fees.taker: missing required key"),
            std::string::npos);
}

TEST(ParseMarketsErrors, BadDecimals) {
  EXPECT_NE(ErrorOf(MinimalSymbol("min_qty = \"0.0a1\"\n"))
                .find("t.toml:15:11: symbol[0].min_qty: \"0.0a1\" is not a decimal"),
            std::string::npos);
  EXPECT_NE(ErrorOf(MinimalSymbol("min_qty = \"-1\"\n")).find("is not a decimal"),
            std::string::npos);
  EXPECT_NE(ErrorOf(MinimalSymbol("min_qty = \"1e-5\"\n")).find("is not a decimal"),
            std::string::npos);
  EXPECT_NE(ErrorOf(MinimalSymbol("min_qty = \"\"\n")).find("is not a decimal"), std::string::npos);
  EXPECT_NE(ErrorOf(MinimalSymbol("max_price = \"99999999999999999999\"\n"))
                .find("symbol[0].max_price: \"99999999999999999999\" is too large for USDT"),
            std::string::npos);
}

TEST(ParseMarketsErrors, TooManyDecimalsForTheAssetScale) {
  EXPECT_NE(ErrorOf(MinimalSymbol("min_price = \"0.000000001\"\n"))
                .find("symbol[0].min_price: \"0.000000001\" has more than 8 decimals (the scale "
                      "of USDT)"),
            std::string::npos);
  // Trailing zeros past the scale are exact, hence fine.
  EXPECT_TRUE(ParseMarkets(MinimalSymbol("min_price = \"0.0100000000\"\n"), "t.toml").has_value());
  // A scale-2 quote: a tick of 0.001 cannot be represented.
  const std::string text = R"([[asset]]
name = "TKN"
scale = 0
[[asset]]
name = "EUR"
scale = 2
[[symbol]]
name = "TKNEUR"
base = "TKN"
quote = "EUR"
tick_size = "0.001"
step_size = "1"
)";
  EXPECT_NE(ErrorOf(text).find("symbol[0].tick_size: \"0.001\" has more than 2 decimals (the "
                               "scale of EUR)"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[fees]\nmaker = \"0.000000001\"\ntaker = \"0\"\n")
                .find("fees.maker: \"0.000000001\" has more than 8 decimals (the scale of rates)"),
            std::string::npos);
}

TEST(ParseMarketsErrors, WrongTypes) {
  EXPECT_NE(ErrorOf(MinimalSymbol("min_qty = 0.001\n"))
                .find("symbol[0].min_qty: expected a decimal string such as \"0.01\", got a "
                      "float (write the number in quotes"),
            std::string::npos);
  EXPECT_NE(ErrorOf(MinimalSymbol("min_qty = 1\n")).find("got an integer"), std::string::npos);
  EXPECT_NE(ErrorOf("[[asset]]\nname = \"BTC\"\nscale = \"8\"\n")
                .find("asset[0].scale: expected an integer, got a string"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[[asset]]\nname = 7\nscale = 8\n")
                .find("asset[0].name: expected a string, got an integer"),
            std::string::npos);
  EXPECT_NE(ErrorOf(MinimalSymbol("oco_allowed = \"yes\"\n"))
                .find("symbol[0].oco_allowed: expected true or false, got a string"),
            std::string::npos);
  EXPECT_NE(ErrorOf(MinimalSymbol("avg_price_mins = 1979-05-27\n")).find("got a date"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[asset]\nname = \"BTC\"\nscale = 8\n")
                .find("asset: expected an array of tables ([[asset]]), got a table"),
            std::string::npos);
  EXPECT_NE(ErrorOf("asset = [1]\n").find("asset[0]: expected a table, got an integer"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf("[[fees]]\nmaker = \"0\"\n").find("fees: expected a table ([fees]), got an array"),
      std::string::npos);
}

TEST(ParseMarketsErrors, ValuesOutOfRange) {
  EXPECT_NE(ErrorOf("[[asset]]\nname = \"BTC\"\nscale = 19\n")
                .find("asset[0].scale: 19 is out of range [0, 18]"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[[asset]]\nname = \"BTC\"\nscale = -1\n").find("out of range"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf(MinimalSymbol("avg_price_mins = 0\n")).find("avg_price_mins: 0 is out of range"),
      std::string::npos);
  EXPECT_NE(ErrorOf(MinimalSymbol("iceberg_parts = 101\n")).find("iceberg_parts: 101 is out"),
            std::string::npos);
  EXPECT_NE(ErrorOf(MinimalSymbol("max_num_orders = 3000000000\n")).find("max_num_orders: 3000"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[fees]\nmaker = \"1\"\ntaker = \"0\"\n").find("fees.maker: must be below 1"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[fees]\nmaker = \"0\"\ntaker = \"2.5\"\n").find("fees.taker: must be below 1"),
            std::string::npos);
}

TEST(ParseMarketsErrors, ZeroTickOrStep) {
  const std::string zero_tick = std::string(kTwoAssets) +
                                "[[symbol]]\nname = \"BTCUSDT\"\nbase = \"BTC\"\nquote = \"USDT\"\n"
                                "tick_size = \"0.00\"\nstep_size = \"0.00001\"\n";
  EXPECT_NE(ErrorOf(zero_tick).find("symbol[0].tick_size: must be greater than 0"),
            std::string::npos);
}

TEST(ParseMarketsErrors, BoundsBelowTheirMinimum) {
  EXPECT_NE(ErrorOf(MinimalSymbol("min_price = \"10\"\nmax_price = \"9\"\n"))
                .find("symbol[0].max_price: must not be below min_price"),
            std::string::npos);
  EXPECT_NE(ErrorOf(MinimalSymbol("min_qty = \"2\"\nmax_qty = \"1\"\n")).find("max_qty: must not"),
            std::string::npos);
  // The MARKET_LOT_SIZE bounds inherit LOT_SIZE's, and are checked after that.
  EXPECT_NE(ErrorOf(MinimalSymbol("min_qty = \"2\"\nmarket_max_qty = \"1\"\n"))
                .find("market_max_qty: must not be below market_min_qty"),
            std::string::npos);
  EXPECT_NE(ErrorOf(MinimalSymbol("min_notional = \"5\"\nmax_notional = \"4\"\n"))
                .find("max_notional: must not"),
            std::string::npos);
  EXPECT_NE(ErrorOf(MinimalSymbol("ask_multiplier_up = \"0.5\"\nask_multiplier_down = \"2\"\n"))
                .find("ask_multiplier_up: must not be below ask_multiplier_down"),
            std::string::npos);
  // "0" disables a maximum: no conflict.
  EXPECT_TRUE(
      ParseMarkets(MinimalSymbol("min_price = \"10\"\nmax_price = \"0\"\n"), "t.toml").has_value());
}

TEST(ParseMarketsErrors, GridWhoseNotionalsWouldRound) {
  // ETHBTC with Binance's 0.0001 step: 0.00001 BTC x 0.0001 ETH is below one satoshi.
  const std::string text = R"([[asset]]
name = "ETH"
scale = 8
[[asset]]
name = "BTC"
scale = 8
[[symbol]]
name = "ETHBTC"
base = "ETH"
quote = "BTC"
tick_size = "0.00001"
step_size = "0.0001"
)";
  EXPECT_EQ(ErrorOf(text),
            "t.toml:12:13: symbol[0].step_size: tick_size x step_size is finer than the smallest "
            "unit of BTC (0.00000001), so a trade's notional could need rounding; make tick_size "
            "or step_size coarser");
  EXPECT_NE(ErrorOf(MinimalSymbol("market_step_size = \"0.000015\"\n"))
                .find("market_step_size: must be a multiple of step_size"),
            std::string::npos);
}

TEST(ParseMarketsErrors, UnknownAsset) {
  const std::string text = std::string(kTwoAssets) +
                           "[[symbol]]\nname = \"XRPUSDT\"\nbase = \"XRP\"\nquote = \"USDT\"\n"
                           "tick_size = \"0.0001\"\nstep_size = \"1\"\n";
  EXPECT_EQ(ErrorOf(text),
            "t.toml:10:8: symbol[0].base: unknown asset \"XRP\" (list it in an [[asset]] table)");
}

TEST(ParseMarketsErrors, SameBaseAndQuote) {
  const std::string text = std::string(kTwoAssets) +
                           "[[symbol]]\nname = \"BTCBTC\"\nbase = \"BTC\"\nquote = \"BTC\"\n"
                           "tick_size = \"0.01\"\nstep_size = \"1\"\n";
  EXPECT_NE(ErrorOf(text).find("symbol[0].quote: must differ from base"), std::string::npos);
}

TEST(ParseMarketsErrors, DuplicateNames) {
  EXPECT_EQ(ErrorOf(std::string(kTwoAssets) + "[[asset]]\nname = \"BTC\"\nscale = 2\n"),
            "t.toml:9:8: asset[2].name: duplicate asset \"BTC\"");
  const std::string twice = MinimalSymbol() +
                            "[[symbol]]\nname = \"BTCUSDT\"\nbase = \"BTC\"\nquote = \"USDT\"\n"
                            "tick_size = \"0.1\"\nstep_size = \"0.001\"\n";
  EXPECT_NE(ErrorOf(twice).find("symbol[1].name: duplicate symbol \"BTCUSDT\""), std::string::npos);
}

TEST(ParseMarketsErrors, BadNamesAndEnums) {
  EXPECT_NE(ErrorOf("[[asset]]\nname = \"btc\"\nscale = 8\n")
                .find("asset[0].name: \"btc\" is not a valid asset name"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[[asset]]\nname = \"ABCDEFGHIJKLMNOPQRSTU\"\nscale = 8\n")
                .find("is not a valid asset name"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[[asset]]\nname = \"\"\nscale = 8\n").find("is not a valid asset name"),
            std::string::npos);
  EXPECT_NE(ErrorOf(MinimalSymbol("status = \"OPEN\"\n"))
                .find("symbol[0].status: \"OPEN\" is not one of \"TRADING\", \"HALT\", \"BREAK\""),
            std::string::npos);
  // The symbol's default must be a real mode: "DEFAULT" means "ask the symbol" on orders only.
  EXPECT_NE(ErrorOf(MinimalSymbol("default_stp = \"DEFAULT\"\n"))
                .find("symbol[0].default_stp: \"DEFAULT\" is not one of"),
            std::string::npos);
  // Odd bytes from the file are escaped in the message.
  EXPECT_NE(ErrorOf("[[asset]]\nname = \"B\\u0001\"\nscale = 8\n").find("\"B\\x01\""),
            std::string::npos);
}

TEST(ParseMarketsErrors, TooManyAssets) {
  std::string text;
  for (size_t i = 0; i <= kMaxAssets; ++i) {
    text += "[[asset]]\nname = \"A" + std::to_string(i) + "\"\nscale = 8\n";
  }
  EXPECT_NE(ErrorOf(text).find("asset: more than 1024 entries"), std::string::npos);
}

TEST(LoadMarkets, UnreadableFileNamesThePath) {
  const auto r = LoadMarkets("/nonexistent/markets.toml");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "/nonexistent/markets.toml: cannot open: No such file or directory");
  const auto dir = LoadMarkets("/");
  ASSERT_FALSE(dir.has_value());
  EXPECT_NE(dir.error().message.find("/: cannot read"), std::string::npos) << dir.error().message;
}

TEST(LoadMarkets, OversizedFileIsRefused) {
  char tmpl[] = "/tmp/spotex_markets_test_XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string path = std::string(tmpl) + "/big.toml";
  {
    std::ofstream out(path);
    const std::string line(1023, '#');
    for (size_t i = 0; i <= kMaxMarketsFileBytes / 1024; ++i) {
      out << line << '\n';
    }
  }
  const auto r = LoadMarkets(path);
  std::filesystem::remove_all(tmpl);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("big.toml: larger than"), std::string::npos)
      << r.error().message;
}

// ---------------------------------------------------------------------------------------------
// No input crashes the loader.

TEST(ParseMarketsRobustness, MalformedInputsAreErrors) {
  const std::vector<std::string> inputs = {
      std::string("\0", 1),
      std::string("name = \"a\0b\"\n", 13),
      "[[",
      "[[asset]",
      "[[asset]]\nname = \"BTC",
      "\xff\xfe\xfd",
      "[[asset]]\nname = \"\xc3\x28\"\nscale = 8\n",
      std::string(100000, '['),
      "a = " + std::string(100000, '[') + std::string(100000, ']'),
      "a = " + std::string(5000, '{'),
      "[a.b.c.d.e.f.g]\n",
      "asset = \"BTC\"\n",
      "symbol = 1979-05-27T07:32:00Z\n",
      "[[asset]]\nname = \"BTC\"\nscale = 9223372036854775807\n",
      "[[asset]]\nname = \"BTC\"\nscale = 99999999999999999999\n",
      "[[asset]]\nname = \"BTC\"\nscale = 8\n[[asset]]\n",
      "[fees]\nmaker = \"0." + std::string(5000, '0') + "1\"\ntaker = \"0\"\n",
      "[fees]\nmaker = {a = 1}\ntaker = []\n",
      "[[symbol]]\nname = \"X\"\n",
  };
  for (const std::string& text : inputs) {
    const auto r = ParseMarkets(text, "t.toml");
    EXPECT_FALSE(r.has_value()) << "accepted: " << text.substr(0, 80);
    if (!r.has_value()) {
      EXPECT_EQ(r.error().message.rfind("t.toml", 0), 0u) << r.error().message;
    }
  }
}

// Seeded random mutations of the default file: every result is an error or a set of commands
// that a fresh engine accepts whole (the loader's promise). Prints the seed on failure.
TEST(ParseMarketsRobustness, MutatedDefaultFile) {
  std::ifstream in(kDefaultFile);
  const std::string original{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  ASSERT_FALSE(original.empty());
  const uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  static constexpr char kAlphabet[] = "[]{}=\".,#\n 0123456789abcxyzABC_-+eE\\";
  int accepted = 0;
  for (int iteration = 0; iteration < 2000; ++iteration) {
    std::string text = original;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits && !text.empty(); ++k) {
      const size_t at = rng() % text.size();
      const char c = rng() % 8 == 0 ? static_cast<char>(rng() & 0xff)
                                    : kAlphabet[rng() % (sizeof kAlphabet - 1)];
      switch (rng() % 3) {
        case 0:
          text[at] = c;
          break;
        case 1:
          text.insert(at, 1, c);
          break;
        default:
          text.erase(at, 1 + rng() % 8);
          break;
      }
    }
    const auto r = ParseMarkets(text, "t.toml");
    if (!r.has_value()) {
      ASSERT_FALSE(r.error().message.empty());
      continue;
    }
    ++accepted;
    engine::Engine e;
    for (RejectCode code : ApplyAll(e, *r)) {
      ASSERT_EQ(code, RejectCode::kNone) << "iteration " << iteration << ":\n" << text;
    }
  }
  EXPECT_GT(accepted, 0);  // the mutations do not only break the syntax
}

}  // namespace
}  // namespace spotex::config
