// The benchmark client's frame reader and payload scanner: frames split at every byte,
// fragmented messages, pings, extended lengths, what a server must not send, and the fields of
// the gateway's trade and depthUpdate payloads (raw and combined).
#include "ws_frames.h"

#include <gtest/gtest.h>

#include <string>

namespace spotex::bench {
namespace {

std::string Frame(uint8_t first, std::string_view payload, bool masked = false) {
  std::string f(1, static_cast<char>(first));
  const uint8_t mask_bit = masked ? 0x80 : 0;
  if (payload.size() < 126) {
    f.push_back(static_cast<char>(mask_bit | payload.size()));
  } else if (payload.size() < 65536) {
    f.push_back(static_cast<char>(mask_bit | 126));
    f.push_back(static_cast<char>(payload.size() >> 8));
    f.push_back(static_cast<char>(payload.size() & 0xFF));
  } else {
    f.push_back(static_cast<char>(mask_bit | 127));
    for (int i = 7; i >= 0; --i) {
      f.push_back(static_cast<char>((uint64_t{payload.size()} >> (8 * i)) & 0xFF));
    }
  }
  if (masked) {
    f.append(4, '\0');
  }
  f.append(payload);
  return f;
}

TEST(FrameReader, TextMessagesSplitAtEveryByte) {
  const std::string big(70'000, 'x');
  const std::string wire =
      Frame(0x81, "hello") + Frame(0x81, std::string(300, 'a')) + Frame(0x81, big);
  FrameReader r;
  std::vector<std::string> got;
  WsMessage m;
  for (char c : wire) {
    r.Feed(std::string_view(&c, 1));
    while (r.Next(m) == FrameReader::State::kMessage) {
      EXPECT_EQ(m.opcode, WsOpcode::kText);
      got.emplace_back(m.payload);
    }
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], "hello");
  EXPECT_EQ(got[1], std::string(300, 'a'));
  EXPECT_EQ(got[2], big);
  EXPECT_EQ(r.buffered(), 0u);
}

TEST(FrameReader, FragmentsAreJoinedAndPingsInterleave) {
  FrameReader r;
  r.Feed(Frame(0x01, "ab") + Frame(0x89, "p1") + Frame(0x00, "cd") + Frame(0x80, "ef"));
  WsMessage m;
  ASSERT_EQ(r.Next(m), FrameReader::State::kMessage);
  EXPECT_EQ(m.opcode, WsOpcode::kPing);
  EXPECT_EQ(m.payload, "p1");
  ASSERT_EQ(r.Next(m), FrameReader::State::kMessage);
  EXPECT_EQ(m.opcode, WsOpcode::kText);
  EXPECT_EQ(m.payload, "abcdef");
  EXPECT_EQ(r.Next(m), FrameReader::State::kNeedMore);
}

TEST(FrameReader, RejectsWhatAServerMustNotSend) {
  WsMessage m;
  {
    FrameReader r;
    r.Feed(Frame(0x81, "x", /*masked=*/true));
    EXPECT_EQ(r.Next(m), FrameReader::State::kError);
    EXPECT_EQ(r.error(), "masked server frame");
  }
  {
    FrameReader r;
    r.Feed(Frame(0x80, "x"));  // continuation with nothing to continue
    EXPECT_EQ(r.Next(m), FrameReader::State::kError);
  }
  {
    FrameReader r;
    r.Feed(Frame(0x09, "x"));  // fragmented ping
    EXPECT_EQ(r.Next(m), FrameReader::State::kError);
  }
  {
    FrameReader r;
    r.Feed(Frame(0x83, "x"));  // reserved opcode
    EXPECT_EQ(r.Next(m), FrameReader::State::kError);
    r.Feed(Frame(0x81, "ok"));
    EXPECT_EQ(r.Next(m), FrameReader::State::kError);  // stays in error
  }
  {
    FrameReader r;
    r.Feed(Frame(0x81, std::string(kWsMessageBytesMax + 1, 'x')));
    EXPECT_EQ(r.Next(m), FrameReader::State::kError);
  }
}

TEST(FrameReader, CloseFrameCarriesCodeAndReason) {
  FrameReader r;
  r.Feed(Frame(0x88, std::string("\x03\xf0slow consumer", 15)));
  WsMessage m;
  ASSERT_EQ(r.Next(m), FrameReader::State::kMessage);
  EXPECT_EQ(m.opcode, WsOpcode::kClose);
  EXPECT_EQ(static_cast<uint8_t>(m.payload[0]) << 8 | static_cast<uint8_t>(m.payload[1]), 1008);
}

TEST(PongFrame, IsMaskedAndEchoesThePayload) {
  const std::string f = PongFrame("abc");
  ASSERT_EQ(f.size(), 2u + 4u + 3u);
  EXPECT_EQ(static_cast<uint8_t>(f[0]), 0x8A);
  EXPECT_EQ(static_cast<uint8_t>(f[1]), 0x80 | 3);
  EXPECT_EQ(f.substr(6), "abc");
}

TEST(ParseStreamFields, Trade) {
  auto f =
      ParseStreamFields(R"({"e":"trade","E":1764171234567,"s":"BTCUSDT","t":4021,"p":"30000.00",)"
                        R"("q":"0.00020","T":1764171234566,"m":true,"M":true})");
  EXPECT_EQ(f.kind, StreamFields::Kind::kTrade);
  EXPECT_EQ(f.event_ms, 1764171234567);
  EXPECT_EQ(f.trade_time_ms, 1764171234566);
  EXPECT_EQ(f.trade_id, 4021);
}

TEST(ParseStreamFields, CombinedDepthUpdateStopsAtTheLevels) {
  auto f = ParseStreamFields(
      R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":17,"s":"BTCUSDT",)"
      R"("U":157,"u":160,"b":[["30000.00","0.1"]],"a":[["30001.00","0"]],"t":9}})");
  EXPECT_EQ(f.kind, StreamFields::Kind::kDepthUpdate);
  EXPECT_EQ(f.event_ms, 17);
  EXPECT_EQ(f.first_update, 157);
  EXPECT_EQ(f.last_update, 160);
  EXPECT_EQ(f.trade_id, -1);  // after the first '[': not read
}

TEST(ParseStreamFields, OtherPayloads) {
  EXPECT_EQ(ParseStreamFields(R"({"result":null,"id":1})").kind, StreamFields::Kind::kOther);
  EXPECT_EQ(ParseStreamFields(R"({"e":"serverShutdown","E":5})").kind, StreamFields::Kind::kOther);
  EXPECT_EQ(ParseStreamFields("").kind, StreamFields::Kind::kOther);
}

}  // namespace
}  // namespace spotex::bench
