// Stream payloads from real engine envelopes: trade, aggTrade, depthUpdate and bookTicker
// messages, raw and combined; successive depth diffs are gap-free and, applied to the REST
// depth snapshot, give the REST book again; a seeded book skips the changes it already holds.
#include "btcusdt_market.h"
#include "gateway/streams/encoder.h"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <zlib.h>

#include <functional>
#include <map>

#include "core/decimal.h"
#include "engine/engine.h"
#include "gateway/streams/periodic.h"

namespace spotex::gateway::streams {
namespace {

constexpr int64_t kT0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

SymbolInfo Btc() { return SymbolInfo{0, "BTCUSDT", "BTC", "USDT", 8, 8}; }

class EncoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const engine::CommandBody& c : spotex::testing::BtcUsdtMarket()) {
      Run(c);
    }
    for (engine::AccountId a : {1, 2}) {
      Run(engine::OpenAccount{a});
      Run(engine::Deposit{a, 0, engine::Amount{100'00000000}});
      Run(engine::Deposit{a, 1, engine::Amount{10'000'000'00000000}});
    }
    md_.AddSymbol(Btc(), 0, {}, {});
  }

  proto::Envelope Run(engine::CommandBody body) {
    engine::Command c{++seq_, kT0 + static_cast<int64_t>(seq_), body};
    std::vector<std::byte> bytes;
    proto::AppendEnvelope(0, c, engine_.Apply(c), bytes);
    return *proto::Envelope::Parse(bytes);
  }

  // A limit order (price in whole USDT, qty in 0.001 BTC); returns its envelope.
  proto::Envelope Limit(engine::AccountId a, engine::Side side, int64_t usdt, int64_t milli) {
    engine::NewOrder o;
    o.account = a;
    o.symbol = 0;
    o.side = side;
    o.type = engine::OrderType::kLimit;
    o.tif = engine::TimeInForce::kGtc;
    o.price = engine::Price{usdt * 100'000'000};
    o.qty = engine::Qty{milli * 100'000};
    return Run(engine::PlaceOrder{o});
  }

  static const StreamMessage* Find(const std::vector<StreamMessage>& ms, std::string_view name) {
    for (const auto& m : ms) {
      if (m.key.Name() == name) return &m;
    }
    return nullptr;
  }

  engine::Engine engine_;
  MarketData md_;
  StreamEncoder enc_{md_};
  uint64_t seq_ = 0;
};

TEST_F(EncoderTest, RestingOrderGivesDepthAndBookTicker) {
  auto env = Limit(1, engine::Side::kSell, 65000, 150);
  auto ms = enc_.Apply(env);
  const int64_t u = engine_.Book(0, 1)->last_update_id;
  const std::string e = std::to_string(env.header().time_ms);
  ASSERT_EQ(ms.size(), 3u);
  EXPECT_EQ(ms[0].key.Name(), "btcusdt@depth");
  EXPECT_EQ(ms[0].raw, "{\"e\":\"depthUpdate\",\"E\":" + e + ",\"s\":\"BTCUSDT\",\"U\":" +
                           std::to_string(u) + ",\"u\":" + std::to_string(u) +
                           ",\"b\":[],\"a\":[[\"65000.00000000\",\"0.15000000\"]]}");
  EXPECT_EQ(ms[0].combined, "{\"stream\":\"btcusdt@depth\",\"data\":" + ms[0].raw + "}");
  EXPECT_EQ(ms[1].key.Name(), "btcusdt@depth@100ms");
  EXPECT_EQ(ms[1].raw, ms[0].raw);
  EXPECT_EQ(ms[1].combined, "{\"stream\":\"btcusdt@depth@100ms\",\"data\":" + ms[0].raw + "}");
  EXPECT_EQ(ms[2].key.Name(), "btcusdt@bookTicker");
  EXPECT_EQ(ms[2].raw, "{\"u\":" + std::to_string(u) +
                           ",\"s\":\"BTCUSDT\",\"b\":\"0.00000000\",\"B\":\"0.00000000\","
                           "\"a\":\"65000.00000000\",\"A\":\"0.15000000\"}");
  // A worse ask changes the book but not its top: depth only.
  ms = enc_.Apply(Limit(1, engine::Side::kSell, 65001, 100));
  ASSERT_EQ(ms.size(), 2u);
  EXPECT_EQ(ms[0].key.kind, StreamKind::kDepth);
  EXPECT_EQ(ms[1].key.kind, StreamKind::kDepth);
}

TEST_F(EncoderTest, TakerOrderGivesTradesAggTradeDepthAndBookTicker) {
  (void)enc_.Apply(Limit(1, engine::Side::kSell, 65000, 100));
  (void)enc_.Apply(Limit(1, engine::Side::kSell, 65000, 50));
  (void)enc_.Apply(Limit(1, engine::Side::kSell, 65001, 500));
  const int64_t u0 = engine_.Book(0, 1)->last_update_id;
  auto env = Limit(2, engine::Side::kBuy, 65001, 200);  // takes 0.15 @65000, 0.05 @65001
  auto ms = enc_.Apply(env);
  const std::string e = std::to_string(env.header().time_ms);
  std::vector<std::string> names;
  for (const auto& m : ms) names.push_back(m.key.Name());
  EXPECT_EQ(names,
            (std::vector<std::string>{"btcusdt@trade", "btcusdt@trade", "btcusdt@trade",
                                      "btcusdt@aggTrade", "btcusdt@aggTrade", "btcusdt@depth",
                                      "btcusdt@depth@100ms", "btcusdt@bookTicker"}));
  const std::string trades = md_.Trades("BTCUSDT", 3).value();
  EXPECT_NE(trades.find("\"id\":1,"), std::string::npos) << trades;
  EXPECT_EQ(ms[0].raw,
            "{\"e\":\"trade\",\"E\":" + e +
                ",\"s\":\"BTCUSDT\",\"t\":1,\"p\":\"65000.00000000\",\"q\":\"0.10000000\","
                "\"T\":" +
                e + ",\"m\":false,\"M\":true}");
  EXPECT_EQ(ms[0].combined, "{\"stream\":\"btcusdt@trade\",\"data\":" + ms[0].raw + "}");
  EXPECT_NE(ms[2].raw.find("\"t\":3,\"p\":\"65001.00000000\",\"q\":\"0.05000000\""),
            std::string::npos);
  EXPECT_EQ(ms[3].raw,
            "{\"e\":\"aggTrade\",\"E\":" + e +
                ",\"s\":\"BTCUSDT\",\"a\":1,\"p\":\"65000.00000000\",\"q\":\"0.15000000\","
                "\"f\":1,\"l\":2,\"T\":" +
                e + ",\"m\":false,\"M\":true}");
  EXPECT_NE(ms[4].raw.find("\"a\":3,\"p\":\"65001.00000000\",\"q\":\"0.05000000\",\"f\":3,\"l\":3"),
            std::string::npos);
  // The REST aggTrades numbers them the same way.
  EXPECT_NE(md_.AggTrades("BTCUSDT", 10)->find("{\"a\":1,"), std::string::npos);
  const int64_t u = engine_.Book(0, 1)->last_update_id;
  EXPECT_EQ(ms[5].raw,
            "{\"e\":\"depthUpdate\",\"E\":" + e + ",\"s\":\"BTCUSDT\",\"U\":" +
                std::to_string(u0 + 1) + ",\"u\":" + std::to_string(u) +
                ",\"b\":[],\"a\":[[\"65000.00000000\",\"0.00000000\"],[\"65001.00000000\","
                "\"0.45000000\"]]}");
  EXPECT_NE(ms[5].raw.find("\"U\":" + std::to_string(u0 + 1) + ",\"u\":" + std::to_string(u) + ","),
            std::string::npos);
  EXPECT_NE(ms[5].raw.find("[\"65000.00000000\",\"0.00000000\"]"), std::string::npos) << ms[5].raw;
  EXPECT_NE(ms[5].raw.find("[\"65001.00000000\",\"0.45000000\"]"), std::string::npos) << ms[5].raw;
  EXPECT_EQ(ms[5].raw.find("\"pu\""), std::string::npos);
  EXPECT_EQ(ms[7].raw, "{\"u\":" + std::to_string(u) +
                           ",\"s\":\"BTCUSDT\",\"b\":\"0.00000000\",\"B\":\"0.00000000\","
                           "\"a\":\"65001.00000000\",\"A\":\"0.45000000\"}");
}

// A local book kept from depthUpdate messages the way clients keep it.
struct LocalBook {
  int64_t id = 0;
  std::map<std::string, std::string, std::function<bool(const std::string&, const std::string&)>>
      bids{[](const std::string& a, const std::string& b) { return std::stod(a) > std::stod(b); }};
  std::map<std::string, std::string, std::function<bool(const std::string&, const std::string&)>>
      asks{[](const std::string& a, const std::string& b) { return std::stod(a) < std::stod(b); }};

  // Loads REST depth JSON.
  void Load(const std::string& json) {
    simdjson::dom::parser p;
    simdjson::dom::element doc = p.parse(json);
    id = int64_t(doc["lastUpdateId"]);
    for (auto l : doc["bids"].get_array())
      bids[std::string(l.at(0).get_string().value())] = std::string(l.at(1).get_string().value());
    for (auto l : doc["asks"].get_array())
      asks[std::string(l.at(0).get_string().value())] = std::string(l.at(1).get_string().value());
  }
  // Applies a depthUpdate; returns its U.
  int64_t Apply(const std::string& json) {
    simdjson::dom::parser p;
    simdjson::dom::element doc = p.parse(json);
    const int64_t first = int64_t(doc["U"]);
    auto side = [](auto& levels, simdjson::dom::array arr) {
      for (auto l : arr) {
        std::string price(l.at(0).get_string().value()), qty(l.at(1).get_string().value());
        if (std::stod(qty) == 0) {
          levels.erase(price);
        } else {
          levels[price] = qty;
        }
      }
    };
    side(bids, doc["b"].get_array());
    side(asks, doc["a"].get_array());
    id = int64_t(doc["u"]);
    return first;
  }
  std::string Json() const {
    std::string out = "{\"lastUpdateId\":" + std::to_string(id);
    auto side = [&](const char* key, const auto& levels) {
      out += key;
      size_t n = 0;
      for (const auto& [p, q] : levels) out += (n++ ? ",[\"" : "[\"") + p + "\",\"" + q + "\"]";
      out += ']';
    };
    side(",\"bids\":[", bids);
    side(",\"asks\":[", asks);
    return out + "}";
  }
};

TEST_F(EncoderTest, DepthDiffsAreGapFreeAndRebuildTheRestBook) {
  // Some book before the client connects.
  for (int i = 0; i < 5; ++i) {
    (void)enc_.Apply(Limit(1, engine::Side::kSell, 65010 + i, 100 + i));
    (void)enc_.Apply(Limit(2, engine::Side::kBuy, 64990 - i, 200 + i));
  }
  LocalBook local;
  local.Load(*md_.Depth("BTCUSDT", 5000));
  // A deterministic mix: resting orders, crossing orders, cancels.
  uint64_t x = 12345;
  auto next = [&] {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int64_t>(x >> 33);
  };
  size_t diffs = 0;
  for (int i = 0; i < 300; ++i) {
    proto::Envelope env = [&] {
      const int64_t r = next() % 10;
      if (r < 2) {
        engine::CancelOrder c;
        c.ref.account = 1 + next() % 2;
        c.ref.symbol = 0;
        c.ref.order_id = 1 + next() % (i + 10);
        return Run(c);
      }
      const auto side = next() % 2 == 0 ? engine::Side::kBuy : engine::Side::kSell;
      return Limit(side == engine::Side::kBuy ? 2 : 1, side, 64980 + next() % 40, 1 + next() % 300);
    }();
    for (const auto& m : enc_.Apply(env)) {
      if (m.key.Name() != "btcusdt@depth") continue;
      const int64_t prev = local.id;
      EXPECT_EQ(local.Apply(m.raw), prev + 1) << m.raw;
      ++diffs;
    }
    ASSERT_EQ(local.Json(), *md_.Depth("BTCUSDT", 5000)) << "after command " << i;
  }
  EXPECT_GT(diffs, 200u);
  EXPECT_EQ(local.id, engine_.Book(0, 1)->last_update_id);
}

TEST_F(EncoderTest, KlineOneSecondFromTheTradeMessages) {
  const SymbolKnown known = [this](std::string_view s) { return md_.HasSymbol(s); };
  const StreamKey k1s = *ParseStreamName("btcusdt@kline_1s", known);
  SecondBars seconds;
  auto feed = [&](const std::vector<StreamMessage>& ms) {
    for (const auto& m : ms) {
      if (m.trade) seconds.Add(m.key.symbol, m.first_id, *m.trade);
    }
  };
  // Before any trade: a flat bar at 0 (the symbol is registered).
  auto none = EncodePeriodic(md_, k1s, kT0 + 500, &seconds);
  ASSERT_TRUE(none);
  EXPECT_NE(none->raw.find("\"i\":\"1s\",\"f\":-1,\"L\":-1,\"o\":\"0.00000000\""),
            std::string::npos)
      << none->raw;
  feed(enc_.Apply(Limit(1, engine::Side::kSell, 65000, 100)));
  feed(enc_.Apply(Limit(1, engine::Side::kSell, 65002, 100)));
  auto env = Limit(2, engine::Side::kBuy, 65002, 150);  // 0.1 @65000, 0.05 @65002
  feed(enc_.Apply(env));
  const int64_t t = env.header().time_ms, second = t / 1000 * 1000;
  auto k = EncodePeriodic(md_, k1s, t, &seconds);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->raw,
            "{\"e\":\"kline\",\"E\":" + std::to_string(t) + ",\"s\":\"BTCUSDT\",\"k\":{\"t\":" +
                std::to_string(second) + ",\"T\":" + std::to_string(second + 999) +
                ",\"s\":\"BTCUSDT\",\"i\":\"1s\",\"f\":1,\"L\":2,\"o\":\"65000.00000000\","
                "\"c\":\"65002.00000000\",\"h\":\"65002.00000000\",\"l\":\"65000.00000000\","
                "\"v\":\"0.15000000\",\"n\":2,\"x\":false,\"q\":\"9750.10000000\","
                "\"V\":\"0.15000000\",\"Q\":\"9750.10000000\",\"B\":\"0\"}}");
  // The next second has no trades: flat at the last price.
  auto quiet = EncodePeriodic(md_, k1s, second + 1500, &seconds);
  EXPECT_NE(quiet->raw.find("\"f\":-1,\"L\":-1,\"o\":\"65002.00000000\",\"c\":\"65002.00000000\""),
            std::string::npos)
      << quiet->raw;
  EXPECT_FALSE(EncodePeriodic(md_, k1s, t));  // without the second bars: not produced
}

TEST(DepthChecksum, CanonicalTextCrcAndPayload) {
  std::vector<TextLevel> bids, asks;
  EXPECT_EQ(ChecksumText(bids, asks), "");
  bids = {{"3.00", "0.10"}, {"2.00", "0.20"}};
  asks = {{"4.00", "0.30"}};
  EXPECT_EQ(ChecksumText(bids, asks), "3.00:0.10:4.00:0.30:2.00:0.20");
  // zlib's CRC-32 (IEEE; check value of "123456789" 0xCBF43926) of the canonical text.
  const std::string check = "123456789";
  EXPECT_EQ(crc32(0L, reinterpret_cast<const Bytef*>(check.data()), 9), 0xCBF43926u);
  const std::string t = ChecksumText(bids, asks);
  EXPECT_EQ(BookChecksum(bids, asks),
            crc32(0L, reinterpret_cast<const Bytef*>(t.data()), static_cast<uInt>(t.size())));
  std::vector<TextLevel> many;
  for (int i = 0; i < 12; ++i) many.emplace_back(std::to_string(100 - i), "1");
  const std::string text = ChecksumText(many, {});
  EXPECT_EQ(text.find("89:"), std::string::npos) << text;  // the 11th level is not covered
  EXPECT_NE(text.find("91:1"), std::string::npos) << text;
  EXPECT_EQ(WithChecksum("{\"e\":\"depthUpdate\"}", 4294967295u),
            "{\"e\":\"depthUpdate\",\"cs\":4294967295}");
}

TEST_F(EncoderTest, DepthUpdatesCarryTheChecksumOfTheTopLevels) {
  (void)enc_.Apply(Limit(1, engine::Side::kSell, 65000, 150));
  auto ms = enc_.Apply(Limit(2, engine::Side::kBuy, 64000, 20));
  ASSERT_EQ(ms[0].key.kind, StreamKind::kDepth);
  ASSERT_TRUE(ms[0].checksum.has_value());
  EXPECT_EQ(*ms[0].checksum, BookChecksum({{"64000.00000000", "0.02000000"}},
                                          {{"65000.00000000", "0.15000000"}}));
  EXPECT_EQ(ms[1].checksum, ms[0].checksum);  // @depth@100ms
  EXPECT_FALSE(ms[2].checksum.has_value());   // bookTicker
}

TEST_F(EncoderTest, ASeededBookSkipsTheChangesItHolds) {
  std::vector<proto::Envelope> stream;
  stream.push_back(Limit(1, engine::Side::kSell, 65000, 100));
  stream.push_back(Limit(1, engine::Side::kSell, 65001, 100));
  auto snap = engine_.Book(0, 100);
  stream.push_back(Limit(1, engine::Side::kSell, 65002, 100));
  MarketData fresh;
  std::vector<MarketData::Level> asks;
  for (const auto& l : snap->asks) asks.push_back({l.price.v, l.qty.v});
  fresh.AddSymbol(Btc(), snap->last_update_id, {}, asks);
  StreamEncoder enc(fresh);
  EXPECT_TRUE(enc.Apply(stream[0]).empty());
  EXPECT_TRUE(enc.Apply(stream[1]).empty());
  auto ms = enc.Apply(stream[2]);
  ASSERT_FALSE(ms.empty());
  EXPECT_NE(ms[0].raw.find("\"U\":" + std::to_string(snap->last_update_id + 1) + ","),
            std::string::npos);
  EXPECT_NE(ms[0].raw.find("\"a\":[[\"65002.00000000\",\"0.10000000\"]]"), std::string::npos);
}

TEST_F(EncoderTest, UnregisteredSymbolsAndOtherEventsGiveNothing) {
  MarketData empty;
  StreamEncoder enc(empty);
  EXPECT_TRUE(enc.Apply(Limit(1, engine::Side::kSell, 65000, 100)).empty());
  EXPECT_TRUE(enc_.Apply(Run(engine::Deposit{1, 0, engine::Amount{1}})).empty());
}

TEST_F(EncoderTest, PeriodicStreams) {
  const SymbolKnown known = [this](std::string_view s) { return md_.HasSymbol(s); };
  auto key = [&](std::string_view name) { return *ParseStreamName(name, known); };
  const int64_t now = kT0 + 1000;
  // Nothing traded yet: the arrays have nothing to send; real-time streams are not periodic.
  EXPECT_FALSE(EncodePeriodic(md_, key("!miniTicker@arr"), now));
  EXPECT_FALSE(EncodePeriodic(md_, key("btcusdt@trade"), now));
  EXPECT_FALSE(EncodePeriodic(md_, key("btcusdt@kline_1s"), now));
  EXPECT_FALSE(EncodePeriodic(md_, StreamKey{StreamKind::kTicker, "NOPE", ""}, now));
  (void)enc_.Apply(Limit(1, engine::Side::kSell, 65000, 100));
  (void)enc_.Apply(Limit(1, engine::Side::kSell, 65002, 100));
  (void)enc_.Apply(Limit(2, engine::Side::kBuy, 64990, 300));
  (void)enc_.Apply(Limit(2, engine::Side::kBuy, 65000, 40));  // trade 0.04 @ 65000

  auto depth = EncodePeriodic(md_, key("btcusdt@depth5@100ms"), now);
  ASSERT_TRUE(depth);
  EXPECT_EQ(depth->raw, *md_.Depth("BTCUSDT", 5));
  EXPECT_EQ(depth->combined, "{\"stream\":\"btcusdt@depth5@100ms\",\"data\":" + depth->raw + "}");
  EXPECT_EQ(EncodePeriodic(md_, key("btcusdt@depth10"), now)->raw, *md_.Depth("BTCUSDT", 10));

  auto mini = EncodePeriodic(md_, key("btcusdt@miniTicker"), now);
  ASSERT_TRUE(mini);
  EXPECT_EQ(mini->raw, "{\"e\":\"24hrMiniTicker\",\"E\":" + std::to_string(now) +
                           ",\"s\":\"BTCUSDT\",\"c\":\"65000.00000000\",\"o\":\"65000.00000000\","
                           "\"h\":\"65000.00000000\",\"l\":\"65000.00000000\",\"v\":\"0.04000000\","
                           "\"q\":\"2600.00000000\"}");
  auto ticker = EncodePeriodic(md_, key("btcusdt@ticker"), now);
  ASSERT_TRUE(ticker);
  EXPECT_TRUE(ticker->raw.starts_with("{\"e\":\"24hrTicker\",\"E\":" + std::to_string(now) +
                                      ",\"s\":\"BTCUSDT\",\"p\":\"0.00000000\",\"P\":\"0.000\","))
      << ticker->raw;
  EXPECT_NE(
      ticker->raw.find(",\"b\":\"64990.00000000\",\"B\":\"0.30000000\",\"a\":\"65000.00000000\","
                       "\"A\":\"0.06000000\","),
      std::string::npos)
      << ticker->raw;
  EXPECT_NE(ticker->raw.find(",\"F\":1,\"L\":1,\"n\":1}"), std::string::npos) << ticker->raw;
  auto hour = EncodePeriodic(md_, key("btcusdt@ticker_1h"), now);
  ASSERT_TRUE(hour);
  EXPECT_TRUE(hour->raw.starts_with("{\"e\":\"1hTicker\",")) << hour->raw;
  EXPECT_EQ(hour->raw.find("\"b\":"), std::string::npos);
  EXPECT_NE(hour->raw.find(",\"O\":" + std::to_string(now - 3'600'000) +
                           ",\"C\":" + std::to_string(now) + ","),
            std::string::npos)
      << hour->raw;
  auto arr = EncodePeriodic(md_, key("!miniTicker@arr"), now);
  ASSERT_TRUE(arr);
  EXPECT_EQ(arr->raw, "[" + mini->raw + "]");
  EXPECT_EQ(arr->combined, "{\"stream\":\"!miniTicker@arr\",\"data\":[" + mini->raw + "]}");
  EXPECT_EQ(EncodePeriodic(md_, key("!ticker@arr"), now)->raw, "[" + ticker->raw + "]");
}

TEST_F(EncoderTest, KlineStreams) {
  const SymbolKnown known = [this](std::string_view s) { return md_.HasSymbol(s); };
  auto key = [&](std::string_view name) { return *ParseStreamName(name, known); };
  (void)enc_.Apply(Limit(1, engine::Side::kSell, 65000, 100));
  (void)enc_.Apply(Limit(1, engine::Side::kSell, 65002, 100));
  (void)enc_.Apply(Limit(2, engine::Side::kBuy, 65002, 150));  // 0.1 @65000, 0.05 @65002
  const int64_t now = kT0 + 30'000;
  auto k = EncodePeriodic(md_, key("btcusdt@kline_1m"), now);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->raw,
            "{\"e\":\"kline\",\"E\":" + std::to_string(now) + ",\"s\":\"BTCUSDT\",\"k\":{\"t\":" +
                std::to_string(kT0) + ",\"T\":" + std::to_string(kT0 + 59'999) +
                ",\"s\":\"BTCUSDT\",\"i\":\"1m\",\"f\":1,\"L\":2,\"o\":\"65000.00000000\","
                "\"c\":\"65002.00000000\",\"h\":\"65002.00000000\",\"l\":\"65000.00000000\","
                "\"v\":\"0.15000000\",\"n\":2,\"x\":false,\"q\":\"9750.10000000\","
                "\"V\":\"0.15000000\",\"Q\":\"9750.10000000\",\"B\":\"0\"}}");
  EXPECT_EQ(k->combined, "{\"stream\":\"btcusdt@kline_1m\",\"data\":" + k->raw + "}");
  // At the bar's last millisecond it is closed.
  EXPECT_NE(EncodePeriodic(md_, key("btcusdt@kline_1m"), kT0 + 59'999)->raw.find("\"x\":true"),
            std::string::npos);
  // The next minute has no trades: flat at the last close, no trade ids.
  auto quiet = EncodePeriodic(md_, key("btcusdt@kline_1m"), kT0 + 90'000);
  EXPECT_NE(quiet->raw.find("\"f\":-1,\"L\":-1,\"o\":\"65002.00000000\",\"c\":\"65002.00000000\""),
            std::string::npos)
      << quiet->raw;
  EXPECT_NE(quiet->raw.find("\"n\":0,"), std::string::npos);
  // Longer intervals and months contain the same trades.
  auto month = EncodePeriodic(md_, key("btcusdt@kline_1M"), now);
  EXPECT_NE(month->raw.find("\"t\":" + std::to_string(kT0) +
                            ",\"T\":" + std::to_string(kT0 + 31LL * 86'400'000 - 1) + ","),
            std::string::npos)
      << month->raw;
  EXPECT_NE(month->raw.find("\"i\":\"1M\",\"f\":1,\"L\":2,"), std::string::npos);
  EXPECT_NE(EncodePeriodic(md_, key("btcusdt@kline_1h"), now)->raw.find("\"n\":2,"),
            std::string::npos);
}

}  // namespace
}  // namespace spotex::gateway::streams
