// Stream names: every supported form parses to its key and back to the same name; malformed
// names, wrong case and unknown symbols are refused with a reason.
#include "gateway/streams/stream_name.h"

#include <gtest/gtest.h>

namespace spotex::gateway::streams {
namespace {

const SymbolKnown kKnown = [](std::string_view s) { return s == "BTCUSDT" || s == "ETHBTC"; };

TEST(StreamNameTest, EverySupportedFormRoundTrips) {
  for (const char* name : {"btcusdt@trade",         "btcusdt@aggTrade",
                           "btcusdt@depth",         "btcusdt@depth@100ms",
                           "btcusdt@depth5",        "btcusdt@depth10",
                           "btcusdt@depth20",       "btcusdt@depth5@100ms",
                           "btcusdt@depth10@100ms", "btcusdt@depth20@100ms",
                           "btcusdt@kline_1s",      "btcusdt@kline_1m",
                           "btcusdt@kline_3m",      "btcusdt@kline_5m",
                           "btcusdt@kline_15m",     "btcusdt@kline_30m",
                           "btcusdt@kline_1h",      "btcusdt@kline_2h",
                           "btcusdt@kline_4h",      "btcusdt@kline_6h",
                           "btcusdt@kline_8h",      "btcusdt@kline_12h",
                           "btcusdt@kline_1d",      "btcusdt@kline_3d",
                           "btcusdt@kline_1w",      "btcusdt@kline_1M",
                           "btcusdt@miniTicker",    "btcusdt@ticker",
                           "btcusdt@ticker_1h",     "btcusdt@ticker_4h",
                           "btcusdt@ticker_1d",     "ethbtc@bookTicker",
                           "!miniTicker@arr",       "!ticker@arr"}) {
    auto key = ParseStreamName(name, kKnown);
    ASSERT_TRUE(key) << name << ": " << key.error();
    EXPECT_EQ(key->Name(), name);
  }
}

TEST(StreamNameTest, KeysCarryKindSymbolAndParam) {
  auto k = ParseStreamName("btcusdt@depth10@100ms", kKnown);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->kind, StreamKind::kPartialDepth);
  EXPECT_EQ(k->symbol, "BTCUSDT");
  EXPECT_EQ(k->param, "10@100ms");
  k = ParseStreamName("btcusdt@depth@100ms", kKnown);
  EXPECT_EQ(k->kind, StreamKind::kDepth);
  EXPECT_EQ(k->param, "100ms");
  k = ParseStreamName("btcusdt@kline_1M", kKnown);
  EXPECT_EQ(k->kind, StreamKind::kKline);
  EXPECT_EQ(k->param, "1M");
  k = ParseStreamName("!ticker@arr", kKnown);
  EXPECT_EQ(k->kind, StreamKind::kAllTickers);
  EXPECT_EQ(k->symbol, "");
  EXPECT_TRUE(IsRealTime(StreamKind::kDepth));
  EXPECT_TRUE(IsRealTime(StreamKind::kBookTicker));
  EXPECT_FALSE(IsRealTime(StreamKind::kKline));
}

TEST(StreamNameTest, MalformedNamesAreRefused) {
  for (const char* name : {"",
                           "btcusdt",
                           "@trade",
                           "btcusdt@",
                           "btcusdt@Trade",
                           "btcusdt@aggtrade",
                           "BTCUSDT@trade",
                           "btcUSDT@trade",
                           "btcusdt@depth15",
                           "btcusdt@depth@1000ms",
                           "btcusdt@depth5@250ms",
                           "btcusdt@depth@100ms@x",
                           "btcusdt@kline_2m",
                           "btcusdt@kline_1H",
                           "btcusdt@kline_",
                           "btcusdt@ticker_2h",
                           "btcusdt@bookticker",
                           "!bookTicker@arr",
                           "!miniTicker",
                           "btc usdt@trade",
                           "btcusdt@trade ",
                           "btcusdt@trade\"x"}) {
    auto key = ParseStreamName(name, kKnown);
    ASSERT_FALSE(key) << name;
    EXPECT_TRUE(key.error().starts_with("invalid stream name")) << key.error();
  }
  EXPECT_FALSE(ParseStreamName(std::string(65, 'a') + "@trade", kKnown));
}

TEST(StreamNameTest, UnknownSymbolsAreRefused) {
  auto key = ParseStreamName("xyzusdt@trade", kKnown);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error(), "unknown symbol `xyzusdt`");
  EXPECT_FALSE(ParseStreamName("btcusdt@trade", SymbolKnown{}));
}

}  // namespace
}  // namespace spotex::gateway::streams
