// User data events from real engine envelopes: every executionReport field for a new order, a
// partial fill, a fill, a cancel with the cancel's client id, an expiry and a self-trade
// prevention; outboundAccountPosition after each; balanceUpdate for deposits and withdrawals;
// listStatus for an OCO. Each account sees only its own events.
#include "btcusdt_market.h"
#include "gateway/userdata/user_event_encoder.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <string>

#include "engine/engine.h"

namespace spotex::gateway::userdata {
namespace {

constexpr int64_t kT0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
constexpr int64_t kUsdt = 100'000'000;      // one whole unit at scale 8

// Every field of a JSON object, as its minified JSON text ("\"1.00\"", "12", "true", "null").
using Fields = std::map<std::string, std::string>;
Fields Parse(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  EXPECT_EQ(parser.parse(json).get(obj), simdjson::SUCCESS) << json;
  Fields out;
  for (auto [key, value] : obj) {
    out[std::string(key)] = simdjson::minify(value);
  }
  return out;
}

class UserEventEncoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const engine::CommandBody& c : spotex::testing::BtcUsdtMarket()) {
      Run(c);
    }
    // 0.1 % maker and taker, so fills carry a commission.
    Run(engine::SetFees{engine::kDefaultsAccount, 100'000, 100'000});
    for (engine::AccountId a : {1, 2}) {
      Run(engine::OpenAccount{a});
      Run(engine::Deposit{a, 0, engine::Amount{100 * kUsdt}});
      Run(engine::Deposit{a, 1, engine::Amount{1'000'000 * kUsdt}});
    }
  }

  // Runs a command; applies its envelope to the history (as the gateway does first), then
  // encodes it.
  std::vector<AccountEvents> Run(engine::CommandBody body) {
    engine::Command c{++seq_, kT0 + static_cast<int64_t>(seq_), body};
    std::vector<std::byte> bytes;
    proto::AppendEnvelope(0, c, engine_.Apply(c), bytes);
    last_ = *proto::Envelope::Parse(bytes);
    history_.Apply(last_);
    return encoder_.Encode(last_);
  }
  int64_t Time() const { return kT0 + static_cast<int64_t>(seq_); }

  std::vector<AccountEvents> Limit(engine::AccountId a, engine::Side side, int64_t usdt,
                                   int64_t milli, std::string_view client_id,
                                   engine::TimeInForce tif = engine::TimeInForce::kGtc,
                                   engine::StpMode stp = engine::StpMode::kDefault) {
    engine::NewOrder o;
    o.account = a;
    o.symbol = 0;
    o.side = side;
    o.type = engine::OrderType::kLimit;
    o.tif = tif;
    o.stp = stp;
    o.price = engine::Price{usdt * kUsdt};
    o.qty = engine::Qty{milli * 100'000};
    (void)o.client_order_id.Assign(client_id);
    return Run(engine::PlaceOrder{o});
  }

  // The events of `account`, parsed (empty when it has none).
  static std::vector<Fields> Of(const std::vector<AccountEvents>& all, int64_t account) {
    std::vector<Fields> out;
    for (const auto& a : all) {
      if (a.account == account) {
        for (const auto& e : a.events) out.push_back(Parse(e));
      }
    }
    return out;
  }
  // The engine's id of the envelope's only order (the new one) and trade ids.
  int64_t NewOrderId() const { return last_.header().order_id; }
  std::vector<int64_t> TradeIds() const {
    std::vector<int64_t> out;
    for (auto r = last_.reader(); !r.Done(); r.Next()) {
      if (const auto* t = r.If<engine::Trade>()) out.push_back(t->trade_id);
    }
    return out;
  }

  engine::Engine engine_;
  uint64_t seq_ = 0;
  proto::Envelope last_;
  AccountHistory history_;
  UserEventEncoder encoder_{history_,
                            [](uint32_t id) -> std::optional<SymbolInfo> {
                              if (id != 0) return std::nullopt;
                              return SymbolInfo{0, "BTCUSDT", "BTC", "USDT", 8, 8};
                            },
                            [](uint32_t id) -> std::optional<AssetInfo> {
                              if (id == 0) return AssetInfo{"BTC", 8};
                              if (id == 1) return AssetInfo{"USDT", 8};
                              return std::nullopt;
                            }};
};

// Every field of the executionReport table (BINANCE_API.md §9.2), in Binance's order.
const std::vector<std::string> kReportFields = {
    "e", "E", "s", "c", "S", "o", "f", "q", "p", "P", "F", "g", "C", "x", "X", "r", "i",
    "l", "z", "L", "n", "N", "T", "t", "I", "w", "m", "M", "O", "Z", "Y", "Q", "W", "V"};

void ExpectAllFields(const Fields& f) {
  for (const auto& k : kReportFields) EXPECT_TRUE(f.contains(k)) << "missing " << k;
}

TEST_F(UserEventEncoderTest, NewOrderThenBalances) {
  auto events = Limit(1, engine::Side::kSell, 100, 500, "sell-1");
  const int64_t id = NewOrderId();
  ASSERT_EQ(events.size(), 1u);  // only account 1
  auto mine = Of(events, 1);
  ASSERT_EQ(mine.size(), 2u);
  const Fields& n = mine[0];
  ExpectAllFields(n);
  const std::string t = std::to_string(Time());
  EXPECT_EQ(n.at("e"), "\"executionReport\"");
  EXPECT_EQ(n.at("E"), t);
  EXPECT_EQ(n.at("s"), "\"BTCUSDT\"");
  EXPECT_EQ(n.at("c"), "\"sell-1\"");
  EXPECT_EQ(n.at("S"), "\"SELL\"");
  EXPECT_EQ(n.at("o"), "\"LIMIT\"");
  EXPECT_EQ(n.at("f"), "\"GTC\"");
  EXPECT_EQ(n.at("q"), "\"0.50000000\"");
  EXPECT_EQ(n.at("p"), "\"100.00000000\"");
  EXPECT_EQ(n.at("P"), "\"0.00000000\"");
  EXPECT_EQ(n.at("F"), "\"0.00000000\"");
  EXPECT_EQ(n.at("g"), "-1");
  EXPECT_EQ(n.at("C"), "\"\"");
  EXPECT_EQ(n.at("x"), "\"NEW\"");
  EXPECT_EQ(n.at("X"), "\"NEW\"");
  EXPECT_EQ(n.at("r"), "\"NONE\"");
  EXPECT_EQ(n.at("i"), std::to_string(id));
  EXPECT_EQ(n.at("l"), "\"0.00000000\"");
  EXPECT_EQ(n.at("z"), "\"0.00000000\"");
  EXPECT_EQ(n.at("L"), "\"0.00000000\"");
  EXPECT_EQ(n.at("n"), "\"0\"");
  EXPECT_EQ(n.at("N"), "null");
  EXPECT_EQ(n.at("T"), t);
  EXPECT_EQ(n.at("t"), "-1");
  EXPECT_EQ(n.at("I"), std::to_string(static_cast<int64_t>(seq_) * (1 << 20) + 0));
  EXPECT_EQ(n.at("w"), "true");
  EXPECT_EQ(n.at("m"), "false");
  EXPECT_EQ(n.at("M"), "false");
  EXPECT_EQ(n.at("O"), t);
  EXPECT_EQ(n.at("Z"), "\"0.00000000\"");
  EXPECT_EQ(n.at("Y"), "\"0.00000000\"");
  EXPECT_EQ(n.at("Q"), "\"0.00000000\"");
  EXPECT_EQ(n.at("W"), t);
  EXPECT_EQ(n.at("V"), "\"NONE\"");
  EXPECT_FALSE(n.contains("eR"));
  // Placing locked 0.5 BTC: outboundAccountPosition, last.
  EXPECT_EQ(mine[1].at("e"), "\"outboundAccountPosition\"");
  EXPECT_EQ(mine[1].at("E"), t);
  EXPECT_EQ(mine[1].at("u"), t);
  EXPECT_EQ(mine[1].at("B"), R"([{"a":"BTC","f":"99.50000000","l":"0.50000000"}])");
}

TEST_F(UserEventEncoderTest, PartialFillAndFillWithTheTradeIdsOfMyTrades) {
  Limit(1, engine::Side::kSell, 100, 500, "sell-1");
  const int64_t maker_id = NewOrderId();
  auto events = Limit(2, engine::Side::kBuy, 100, 200, "buy-1");
  const int64_t taker_id = NewOrderId();
  auto trades = TradeIds();
  ASSERT_EQ(trades.size(), 1u);
  // The taker's account first (its OrderAccepted comes first), then the maker's.
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].account, 2);
  EXPECT_EQ(events[1].account, 1);

  auto taker = Of(events, 2);
  ASSERT_EQ(taker.size(), 3u);  // NEW, TRADE, outboundAccountPosition
  EXPECT_EQ(taker[0].at("x"), "\"NEW\"");
  const Fields& fill = taker[1];
  ExpectAllFields(fill);
  EXPECT_EQ(fill.at("c"), "\"buy-1\"");
  EXPECT_EQ(fill.at("S"), "\"BUY\"");
  EXPECT_EQ(fill.at("i"), std::to_string(taker_id));
  EXPECT_EQ(fill.at("x"), "\"TRADE\"");
  EXPECT_EQ(fill.at("X"), "\"FILLED\"");
  EXPECT_EQ(fill.at("q"), "\"0.20000000\"");
  EXPECT_EQ(fill.at("l"), "\"0.20000000\"");
  EXPECT_EQ(fill.at("z"), "\"0.20000000\"");
  EXPECT_EQ(fill.at("L"), "\"100.00000000\"");
  EXPECT_EQ(fill.at("n"), "\"0.00020000\"");  // 0.1 % of 0.2 BTC, in the asset received
  EXPECT_EQ(fill.at("N"), "\"BTC\"");
  EXPECT_EQ(fill.at("t"), std::to_string(trades[0]));
  EXPECT_EQ(fill.at("m"), "false");
  EXPECT_EQ(fill.at("w"), "false");
  EXPECT_EQ(fill.at("Z"), "\"20.00000000\"");
  EXPECT_EQ(fill.at("Y"), "\"20.00000000\"");
  EXPECT_NE(fill.at("I"), taker[0].at("I"));
  EXPECT_EQ(taker[2].at("e"), "\"outboundAccountPosition\"");
  EXPECT_EQ(taker[2].at("B"), R"([{"a":"USDT","f":"999980.00000000","l":"0.00000000"},)"
                              R"({"a":"BTC","f":"100.19980000","l":"0.00000000"}])");

  auto maker = Of(events, 1);
  ASSERT_EQ(maker.size(), 2u);  // TRADE, outboundAccountPosition
  const Fields& part = maker[0];
  ExpectAllFields(part);
  EXPECT_EQ(part.at("c"), "\"sell-1\"");  // static data from the history
  EXPECT_EQ(part.at("S"), "\"SELL\"");
  EXPECT_EQ(part.at("q"), "\"0.50000000\"");
  EXPECT_EQ(part.at("p"), "\"100.00000000\"");
  EXPECT_EQ(part.at("i"), std::to_string(maker_id));
  EXPECT_EQ(part.at("x"), "\"TRADE\"");
  EXPECT_EQ(part.at("X"), "\"PARTIALLY_FILLED\"");
  EXPECT_EQ(part.at("l"), "\"0.20000000\"");
  EXPECT_EQ(part.at("z"), "\"0.20000000\"");
  EXPECT_EQ(part.at("n"), "\"0.02000000\"");  // 0.1 % of 20 USDT
  EXPECT_EQ(part.at("N"), "\"USDT\"");
  EXPECT_EQ(part.at("m"), "true");
  EXPECT_EQ(part.at("w"), "true");
  EXPECT_EQ(part.at("t"), std::to_string(trades[0]));
  EXPECT_EQ(part.at("O"), std::to_string(Time() - 1));  // created by the previous command
  // The same trade id as myTrades (§9.3).
  auto my = history_.Trades(1, 0);
  ASSERT_EQ(my.size(), 1u);
  EXPECT_EQ(my[0].id, trades[0]);
  EXPECT_EQ(maker[1].at("e"), "\"outboundAccountPosition\"");
}

TEST_F(UserEventEncoderTest, CancelCarriesTheCancelsClientIdAndTheOriginal) {
  Limit(1, engine::Side::kSell, 100, 500, "sell-1");
  const int64_t id = NewOrderId();
  Limit(2, engine::Side::kBuy, 100, 200, "buy-1");
  engine::CancelOrder c;
  c.ref.account = 1;
  c.ref.symbol = 0;
  c.ref.order_id = id;
  (void)c.new_client_order_id.Assign("cxl-1");
  auto events = Run(c);
  auto mine = Of(events, 1);
  ASSERT_EQ(mine.size(), 2u);
  const Fields& x = mine[0];
  ExpectAllFields(x);
  EXPECT_EQ(x.at("x"), "\"CANCELED\"");
  EXPECT_EQ(x.at("X"), "\"CANCELED\"");
  EXPECT_EQ(x.at("c"), "\"cxl-1\"");
  EXPECT_EQ(x.at("C"), "\"sell-1\"");
  EXPECT_EQ(x.at("z"), "\"0.20000000\"");
  EXPECT_EQ(x.at("Z"), "\"20.00000000\"");
  EXPECT_EQ(x.at("l"), "\"0.00000000\"");
  EXPECT_EQ(x.at("t"), "-1");
  EXPECT_EQ(x.at("N"), "null");
  EXPECT_EQ(x.at("w"), "false");
  EXPECT_EQ(mine[1].at("B"), R"([{"a":"BTC","f":"99.80000000","l":"0.00000000"}])");
  EXPECT_TRUE(Of(events, 2).empty());  // a user only sees their own events

  // Without a cancel id: c and C are both the order's.
  Limit(1, engine::Side::kSell, 120, 100, "sell-2");
  engine::CancelOrder plain;
  plain.ref.account = 1;
  plain.ref.symbol = 0;
  plain.ref.order_id = NewOrderId();
  auto again = Of(Run(plain), 1);
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(again[0].at("c"), "\"sell-2\"");
  EXPECT_EQ(again[0].at("C"), "\"sell-2\"");
}

TEST_F(UserEventEncoderTest, UnfilledIocExpiresWithItsReason) {
  auto events = Limit(2, engine::Side::kBuy, 90, 100, "ioc-1", engine::TimeInForce::kIoc);
  auto mine = Of(events, 2);
  ASSERT_GE(mine.size(), 2u);
  EXPECT_EQ(mine[0].at("x"), "\"NEW\"");
  EXPECT_EQ(mine[0].at("f"), "\"IOC\"");
  const Fields& x = mine[1];
  ExpectAllFields(x);
  EXPECT_EQ(x.at("x"), "\"EXPIRED\"");
  EXPECT_EQ(x.at("X"), "\"EXPIRED\"");
  EXPECT_EQ(x.at("eR"), "\"UNFILLED_IOC_QUANTITY_EXPIRED\"");
  EXPECT_EQ(x.at("c"), "\"ioc-1\"");
  EXPECT_EQ(x.at("C"), "\"\"");
  EXPECT_EQ(x.at("w"), "false");
}

TEST_F(UserEventEncoderTest, SelfTradePrevention) {
  Limit(1, engine::Side::kSell, 100, 500, "maker-1");
  const int64_t maker = NewOrderId();
  auto events = Limit(1, engine::Side::kBuy, 100, 100, "taker-1", engine::TimeInForce::kGtc,
                      engine::StpMode::kExpireTaker);
  EXPECT_TRUE(TradeIds().empty());
  auto mine = Of(events, 1);
  // NEW, TRADE_PREVENTION; the funds locked and released within the command: no balance event.
  ASSERT_EQ(mine.size(), 2u);
  EXPECT_EQ(mine[0].at("x"), "\"NEW\"");
  const Fields& p = mine[1];
  ExpectAllFields(p);
  EXPECT_EQ(p.at("c"), "\"taker-1\"");
  EXPECT_EQ(p.at("x"), "\"TRADE_PREVENTION\"");
  EXPECT_EQ(p.at("X"), "\"EXPIRED_IN_MATCH\"");
  EXPECT_EQ(p.at("V"), "\"EXPIRE_TAKER\"");
  EXPECT_EQ(p.at("t"), "-1");
  EXPECT_EQ(p.at("U"), std::to_string(maker));
  EXPECT_EQ(p.at("A"), "\"0.10000000\"");
  EXPECT_NE(p.at("v"), "0");
  EXPECT_EQ(p.at("w"), "false");
}

TEST_F(UserEventEncoderTest, DepositAndWithdrawalAreBalanceUpdates) {
  auto events = Run(engine::Deposit{2, 1, engine::Amount{100 * kUsdt}});
  auto mine = Of(events, 2);
  ASSERT_EQ(mine.size(), 2u);
  const std::string t = std::to_string(Time());
  EXPECT_EQ(mine[0].at("e"), "\"balanceUpdate\"");
  EXPECT_EQ(mine[0].at("E"), t);
  EXPECT_EQ(mine[0].at("a"), "\"USDT\"");
  EXPECT_EQ(mine[0].at("d"), "\"100.00000000\"");
  EXPECT_EQ(mine[0].at("T"), t);
  EXPECT_EQ(mine[1].at("e"), "\"outboundAccountPosition\"");
  EXPECT_EQ(mine[1].at("B"), R"([{"a":"USDT","f":"1000100.00000000","l":"0.00000000"}])");

  auto out = Of(Run(engine::Withdraw{2, 0, engine::Amount{kUsdt / 2}}), 2);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].at("a"), "\"BTC\"");
  EXPECT_EQ(out[0].at("d"), "\"-0.50000000\"");
}

TEST_F(UserEventEncoderTest, OcoGivesListStatusAndLegReports) {
  Limit(1, engine::Side::kSell, 100, 100, "m");
  Limit(2, engine::Side::kBuy, 100, 100, "t");  // last price 100
  engine::PlaceOco oco;
  oco.account = 1;
  oco.symbol = 0;
  oco.side = engine::Side::kSell;
  oco.qty = engine::Qty{10'000'000};  // 0.1
  (void)oco.list_client_order_id.Assign("list-1");
  oco.above.type = engine::OrderType::kLimitMaker;
  oco.above.price = engine::Price{110 * kUsdt};
  (void)oco.above.client_order_id.Assign("above-1");
  oco.below.type = engine::OrderType::kStopLossLimit;
  oco.below.stop_price = engine::Price{95 * kUsdt};
  oco.below.price = engine::Price{94 * kUsdt};
  oco.below.tif = engine::TimeInForce::kGtc;
  (void)oco.below.client_order_id.Assign("below-1");
  auto events = Run(oco);
  ASSERT_EQ(last_.header().code, engine::RejectCode::kNone);
  auto mine = Of(events, 1);
  const Fields* list = nullptr;
  int reports = 0;
  for (const auto& f : mine) {
    if (f.at("e") == "\"listStatus\"") list = &f;
    if (f.at("e") == "\"executionReport\"") {
      ++reports;
      EXPECT_NE(f.at("g"), "-1");
      EXPECT_EQ(f.at("x"), "\"NEW\"");
    }
  }
  EXPECT_EQ(reports, 2);
  ASSERT_NE(list, nullptr);
  EXPECT_EQ(list->at("s"), "\"BTCUSDT\"");
  EXPECT_EQ(list->at("c"), "\"OCO\"");
  EXPECT_EQ(list->at("l"), "\"EXEC_STARTED\"");
  EXPECT_EQ(list->at("L"), "\"EXECUTING\"");
  EXPECT_EQ(list->at("r"), "\"NONE\"");
  EXPECT_EQ(list->at("C"), "\"list-1\"");
  EXPECT_EQ(list->at("g"), std::to_string(last_.header().order_list_id));
  EXPECT_NE(list->at("O").find("\"c\":\"above-1\""), std::string::npos) << list->at("O");
  EXPECT_NE(list->at("O").find("\"c\":\"below-1\""), std::string::npos) << list->at("O");
  EXPECT_EQ(mine.back().at("e"), "\"outboundAccountPosition\"");
}

TEST_F(UserEventEncoderTest, OrdersUnknownToTheHistoryStillReportFills) {
  // A history that missed the order's placement (gateway started later).
  AccountHistory fresh;
  UserEventEncoder encoder(
      fresh,
      [](uint32_t) {
        return std::optional<SymbolInfo>(SymbolInfo{0, "BTCUSDT", "BTC", "USDT", 8, 8});
      },
      [](uint32_t id) {
        return std::optional<AssetInfo>(AssetInfo{id == 0 ? "BTC" : "USDT", 8});
      });
  Limit(1, engine::Side::kSell, 100, 500, "sell-1");
  Limit(2, engine::Side::kBuy, 100, 100, "buy-1");
  fresh.Apply(last_);
  auto maker = Of(encoder.Encode(last_), 1);
  ASSERT_EQ(maker.size(), 2u);
  EXPECT_EQ(maker[0].at("x"), "\"TRADE\"");
  EXPECT_EQ(maker[0].at("S"), "\"SELL\"");  // from the fill
  EXPECT_EQ(maker[0].at("l"), "\"0.10000000\"");
}

TEST_F(UserEventEncoderTest, RejectedAndMalformedGiveNothing) {
  auto events = Limit(2, engine::Side::kBuy, 100, 1'000'000'000, "too-big");
  EXPECT_NE(last_.header().code, engine::RejectCode::kNone);
  EXPECT_TRUE(events.empty());
}

}  // namespace
}  // namespace spotex::gateway::userdata
