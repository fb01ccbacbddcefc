// StreamHub's reading of a connection's URL (BINANCE_API.md §8, traps 4 and 15): raw /ws paths
// tolerate segments that are not stream names (ccxt's /ws/0); /stream?streams= is combined and
// refuses an invalid name. (The hub's fan-out is tested end to end in tests/e2e/streams.test.mjs.)
#include "gateway/feeds/stream_hub.h"

#include <gtest/gtest.h>

namespace spotex::gateway::streams {
namespace {

const SymbolKnown kKnown = [](std::string_view s) { return s == "BTCUSDT" || s == "ETHBTC"; };

std::vector<std::string> Names(const InitialStreams& s) {
  std::vector<std::string> out;
  for (const auto& k : s.keys) out.push_back(k.Name());
  return out;
}

TEST(StreamHubTarget, RawPathsTolerateSegmentsThatAreNotStreams) {
  auto none = ParseTarget("/ws", kKnown);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->combined);
  EXPECT_TRUE(none->keys.empty());
  auto ccxt = ParseTarget("/ws/0", kKnown);
  ASSERT_TRUE(ccxt);
  EXPECT_TRUE(ccxt->keys.empty());
  auto two = ParseTarget("/ws/btcusdt@trade/ethbtc@depth@100ms", kKnown);
  ASSERT_TRUE(two);
  EXPECT_EQ(Names(*two), (std::vector<std::string>{"btcusdt@trade", "ethbtc@depth@100ms"}));
}

TEST(StreamHubTarget, CombinedStreamsFromTheQuery) {
  auto empty = ParseTarget("/stream?streams=", kKnown);  // what @binance/spot opens
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->combined);
  EXPECT_TRUE(empty->keys.empty());
  auto two = ParseTarget("/stream?streams=btcusdt@bookTicker/ethbtc@kline_1m", kKnown);
  ASSERT_TRUE(two);
  EXPECT_TRUE(two->combined);
  EXPECT_EQ(Names(*two), (std::vector<std::string>{"btcusdt@bookTicker", "ethbtc@kline_1m"}));
  EXPECT_FALSE(ParseTarget("/stream?streams=btcusdt@nonsense", kKnown));
  EXPECT_FALSE(ParseTarget("/stream?streams=nosuch@trade", kKnown));
}

}  // namespace
}  // namespace spotex::gateway::streams
