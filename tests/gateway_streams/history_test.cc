// The resume history (beyond Binance, docs/streams.md "Resume"): what it replays for a given id,
// the clear errors when it cannot, and its bounds.
#include "gateway/streams/history.h"

#include <gtest/gtest.h>

namespace spotex::gateway::streams {
namespace {

StreamMessage Depth(int64_t first, int64_t last, int64_t ms, const char* param = "") {
  StreamMessage m{StreamKey{StreamKind::kDepth, "BTCUSDT", param}, "{\"U\":" +
                      std::to_string(first) + "}", ""};
  m.first_id = first;
  m.last_id = last;
  m.event_ms = ms;
  m.checksum = 7;
  return m;
}

StreamMessage Trade(int64_t id, int64_t ms) {
  StreamMessage m{StreamKey{StreamKind::kTrade, "BTCUSDT", ""}, "{\"t\":" + std::to_string(id) +
                      "}", ""};
  m.first_id = m.last_id = id;
  m.event_ms = ms;
  return m;
}

void Record(StreamHistory& h, const StreamMessage& m) {
  h.Record(m, std::make_shared<const std::string>(m.raw));
}

std::vector<int64_t> Firsts(const std::vector<const StreamHistory::Entry*>& es) {
  std::vector<int64_t> out;
  for (const auto* e : es) out.push_back(e->first_id);
  return out;
}

const StreamKey kDepthKey{StreamKind::kDepth, "BTCUSDT", ""};
const StreamKey kDepth100{StreamKind::kDepth, "BTCUSDT", "100ms"};
const StreamKey kTradeKey{StreamKind::kTrade, "BTCUSDT", ""};

TEST(StreamHistory, ReplaysDepthFromAnUpdateId) {
  StreamHistory h(StreamHistory::Limits{3, 1 << 20, 60'000});
  EXPECT_FALSE(h.Since(kDepthKey, 1));  // nothing held yet
  Record(h, Depth(11, 12, 1000));  // the gateway's seed was at 10
  Record(h, Depth(13, 15, 1001));
  Record(h, Depth(16, 16, 1002));
  Record(h, Depth(16, 16, 1002, "100ms"));  // the copy is not kept twice
  EXPECT_EQ(h.size(kDepthKey), 3u);
  EXPECT_EQ(Firsts(*h.Since(kDepthKey, 13)), (std::vector<int64_t>{13, 16}));
  EXPECT_EQ(Firsts(*h.Since(kDepthKey, 14)), (std::vector<int64_t>{13, 16}));  // U <= 14 <= u
  EXPECT_EQ(Firsts(*h.Since(kDepth100, 11)), (std::vector<int64_t>{11, 13, 16}));
  EXPECT_TRUE(h.Since(kDepthKey, 17)->empty());  // up to date
  EXPECT_EQ(h.Since(kDepthKey, 18).error(),
            "update id 18 is ahead of btcusdt@depth (next 17)");
  EXPECT_EQ(h.Since(kDepthKey, 10).error(),
            "update id 10 is older than the history of btcusdt@depth (oldest 11); fetch a "
            "snapshot");
  EXPECT_EQ((*h.Since(kDepthKey, 16))[0]->checksum, 7u);
  // A fourth message pushes the oldest out.
  Record(h, Depth(17, 18, 1003));
  EXPECT_FALSE(h.Since(kDepthKey, 12));
  EXPECT_EQ(Firsts(*h.Since(kDepthKey, 13)), (std::vector<int64_t>{13, 16, 17}));
}

TEST(StreamHistory, TradeIdsOfOneSymbolMayHaveGaps) {
  StreamHistory h;
  Record(h, Trade(5, 1000));
  Record(h, Trade(9, 1001));  // 6..8 were another symbol's
  EXPECT_EQ(Firsts(*h.Since(kTradeKey, 6)), (std::vector<int64_t>{9}));
  EXPECT_EQ(Firsts(*h.Since(kTradeKey, 5)), (std::vector<int64_t>{5, 9}));
  EXPECT_FALSE(h.Since(kTradeKey, 4));  // before the first one held: unknown
  EXPECT_FALSE(h.Since(StreamKey{StreamKind::kAggTrade, "BTCUSDT", ""}, 5));
}

TEST(StreamHistory, AgeAndByteBounds) {
  StreamHistory h(StreamHistory::Limits{100, 1 << 20, 1000});
  Record(h, Trade(1, 1000));
  Record(h, Trade(2, 1500));
  Record(h, Trade(3, 2100));  // trade 1 is now more than 1 s older than the newest
  EXPECT_EQ(h.size(kTradeKey), 2u);
  EXPECT_FALSE(h.Since(kTradeKey, 1));
  EXPECT_TRUE(h.Since(kTradeKey, 2));
  StreamHistory small(StreamHistory::Limits{100, 20, 60'000});
  for (int i = 1; i <= 5; ++i) Record(small, Trade(i, 1000));  // 7 bytes each
  EXPECT_EQ(small.size(kTradeKey), 2u);
}

}  // namespace
}  // namespace spotex::gateway::streams
