// Control messages: each method's reply, the id echoed with its JSON type, each Binance error
// reply, and the subscription limits.
#include "gateway/streams/control.h"

#include <gtest/gtest.h>

namespace spotex::gateway::streams {
namespace {

const SymbolKnown kKnown = [](std::string_view s) { return s == "BTCUSDT" || s == "ETHBTC"; };

TEST(ControlTest, SubscribeListUnsubscribe) {
  Subscriptions subs;
  auto out = subs.Handle(
      R"({"method":"SUBSCRIBE","params":["btcusdt@depth@100ms","btcusdt@trade"],"id":1})", kKnown);
  EXPECT_EQ(out.reply, R"({"result":null,"id":1})");
  ASSERT_EQ(out.added.size(), 2u);
  EXPECT_EQ(out.added[0].Name(), "btcusdt@depth@100ms");
  EXPECT_EQ(out.added[1].Name(), "btcusdt@trade");
  // Subscribing again adds nothing.
  out = subs.Handle(R"({"method":"SUBSCRIBE","params":["btcusdt@trade"],"id":9})", kKnown);
  EXPECT_EQ(out.reply, R"({"result":null,"id":9})");
  EXPECT_TRUE(out.added.empty());
  out = subs.Handle(R"({"method":"UNSUBSCRIBE","params":["btcusdt@trade","ethbtc@trade"],"id":2})",
                    kKnown);
  EXPECT_EQ(out.reply, R"({"result":null,"id":2})");
  ASSERT_EQ(out.removed.size(), 1u);
  EXPECT_EQ(out.removed[0].Name(), "btcusdt@trade");
  out = subs.Handle(R"({"method":"LIST_SUBSCRIPTIONS","id":3})", kKnown);
  EXPECT_EQ(out.reply, R"({"result":["btcusdt@depth@100ms"],"id":3})");
  EXPECT_TRUE(subs.Contains(*ParseStreamName("btcusdt@depth@100ms", kKnown)));
  EXPECT_FALSE(subs.Contains(*ParseStreamName("btcusdt@trade", kKnown)));
}

TEST(ControlTest, CombinedProperty) {
  Subscriptions subs;
  EXPECT_FALSE(subs.combined());
  EXPECT_EQ(subs.Handle(R"({"method":"GET_PROPERTY","params":["combined"],"id":5})", kKnown).reply,
            R"({"result":false,"id":5})");
  EXPECT_EQ(
      subs.Handle(R"({"method":"SET_PROPERTY","params":["combined",true],"id":4})", kKnown).reply,
      R"({"result":null,"id":4})");
  EXPECT_TRUE(subs.combined());
  EXPECT_EQ(subs.Handle(R"({"method":"GET_PROPERTY","params":["combined"],"id":5})", kKnown).reply,
            R"({"result":true,"id":5})");
  Subscriptions combined(true);
  EXPECT_TRUE(combined.combined());
}

// Beyond Binance: RESUME names a depth or trade stream and the first id wanted; the owner (the
// hub) looks the history up, so the outcome carries it and no reply yet.
TEST(ControlTest, Resume) {
  Subscriptions subs;
  auto o = subs.Handle(R"({"method":"RESUME","params":["btcusdt@depth@100ms",12345],"id":7})",
                       kKnown);
  EXPECT_EQ(o.reply, "");
  ASSERT_TRUE(o.resume);
  EXPECT_EQ(o.resume->key.Name(), "btcusdt@depth@100ms");
  EXPECT_EQ(o.resume->from_id, 12345);
  EXPECT_EQ(o.resume->id_json, "7");
  EXPECT_TRUE(subs.streams().empty());  // subscribed by the owner once the history serves it
  auto reply = [&](std::string_view text) { return subs.Handle(text, kKnown).reply; };
  EXPECT_EQ(reply(R"({"method":"RESUME","params":["btcusdt@ticker",1],"id":1})"),
            R"({"code":2,"msg":"Invalid request: only <symbol>@depth, <symbol>@depth@100ms and )"
            R"(<symbol>@trade can be resumed"})");
  EXPECT_EQ(reply(R"({"method":"RESUME","params":["btcusdt@trade"],"id":1})"),
            R"({"code":2,"msg":"Invalid request: missing parameter"})");
  EXPECT_EQ(reply(R"({"method":"RESUME","params":["btcusdt@trade","5"],"id":1})"),
            R"({"code":2,"msg":"Invalid request: RESUME needs an integer id"})");
  EXPECT_EQ(reply(R"({"method":"RESUME","params":["btcusdt@trade",-1],"id":1})"),
            R"({"code":2,"msg":"Invalid request: RESUME id out of range"})");
}

// Beyond Binance: the opt-in depth checksum is a property of its own.
TEST(ControlTest, ChecksumProperty) {
  Subscriptions subs;
  EXPECT_FALSE(subs.checksum());
  EXPECT_EQ(subs.Handle(R"({"method":"GET_PROPERTY","params":["checksum"],"id":1})", kKnown).reply,
            R"({"result":false,"id":1})");
  EXPECT_EQ(
      subs.Handle(R"({"method":"SET_PROPERTY","params":["checksum",true],"id":2})", kKnown).reply,
      R"({"result":null,"id":2})");
  EXPECT_TRUE(subs.checksum());
  EXPECT_FALSE(subs.combined());
  EXPECT_EQ(subs.Handle(R"({"method":"GET_PROPERTY","params":["checksum"],"id":3})", kKnown).reply,
            R"({"result":true,"id":3})");
  EXPECT_EQ(
      subs.Handle(R"({"method":"SET_PROPERTY","params":["checksum",1],"id":4})", kKnown).reply,
      R"({"code":1,"msg":"Invalid value type: expected Boolean"})");
  EXPECT_TRUE(subs.checksum());
}

TEST(ControlTest, IdsAreEchoedWithTheirJsonType) {
  Subscriptions subs;
  auto list = [&](std::string id) {
    return subs.Handle(R"({"method":"LIST_SUBSCRIPTIONS","id":)" + id + "}", kKnown).reply;
  };
  EXPECT_EQ(list("7"), R"({"result":[],"id":7})");
  EXPECT_EQ(list("-7"), R"({"result":[],"id":-7})");
  EXPECT_EQ(list("18446744073709551615"), R"({"result":[],"id":18446744073709551615})");
  EXPECT_EQ(list(R"("7")"), R"({"result":[],"id":"7"})");
  EXPECT_EQ(list(R"("0123456789abcdef0123456789ABCDEF")"),
            R"({"result":[],"id":"0123456789abcdef0123456789ABCDEF"})");
  EXPECT_EQ(list("null"), R"({"result":[],"id":null})");
  EXPECT_EQ(subs.Handle(R"({"method":"LIST_SUBSCRIPTIONS"})", kKnown).reply,
            R"({"result":[],"id":null})");
  const std::string bad_id =
      R"({"code":2,"msg":"Invalid request: request ID must be an integer, an alphanumeric string of up to 36 characters, or null"})";
  EXPECT_EQ(list(R"("abc-1")"), bad_id);
  EXPECT_EQ(list('"' + std::string(37, 'a') + '"'), bad_id);
  EXPECT_EQ(list("1.5"), bad_id);
  EXPECT_EQ(list("true"), bad_id);
  EXPECT_EQ(list("[1]"), bad_id);
}

TEST(ControlTest, ErrorReplies) {
  Subscriptions subs;
  auto reply = [&](std::string_view text) { return subs.Handle(text, kKnown).reply; };
  EXPECT_TRUE(reply("{nope").starts_with(R"({"code":3,"msg":"Invalid JSON: )")) << reply("{nope");
  EXPECT_TRUE(reply("").starts_with(R"({"code":3,"msg":"Invalid JSON: )"));
  EXPECT_EQ(reply(std::string(kMaxControlMessageBytes + 1, ' ')),
            R"({"code":3,"msg":"Invalid JSON: message longer than 65536 bytes"})");
  EXPECT_EQ(reply("[1]"), R"({"code":2,"msg":"Invalid request: expected a JSON object"})");
  EXPECT_EQ(
      reply(R"({"method":"FOO","id":1})"),
      R"({"code":2,"msg":"Invalid request: unknown variant `FOO`, expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`"})");
  EXPECT_EQ(reply(R"({"method":"subscribe","id":1})").substr(0, 51),
            R"({"code":2,"msg":"Invalid request: unknown variant `)");
  EXPECT_EQ(reply(R"({"params":[],"id":1})"),
            R"({"code":2,"msg":"Invalid request: missing field `method`"})");
  EXPECT_EQ(reply(R"({"method":"SUBSCRIBE","params":"btcusdt@trade","id":1})"),
            R"({"code":2,"msg":"Invalid request: params must be an array"})");
  EXPECT_EQ(reply(R"({"method":"SUBSCRIBE","params":[1],"id":1})"),
            R"({"code":2,"msg":"Invalid request: stream name must be a string"})");
  EXPECT_EQ(reply(R"({"method":"SUBSCRIBE","params":["btcusdt@trade","btcusdt@nope"],"id":1})"),
            R"({"code":2,"msg":"Invalid request: invalid stream name `btcusdt@nope`"})");
  EXPECT_EQ(reply(R"({"method":"SUBSCRIBE","params":["xyz@trade"],"id":1})"),
            R"({"code":2,"msg":"Invalid request: unknown symbol `xyz`"})");
  EXPECT_TRUE(subs.streams().empty());  // all-or-nothing
  EXPECT_EQ(reply(R"({"method":"UNSUBSCRIBE","params":["btcusdt@nope"],"id":1})"),
            R"({"code":2,"msg":"Invalid request: invalid stream name `btcusdt@nope`"})");
  EXPECT_EQ(reply(R"({"method":"SET_PROPERTY","params":["combined","yes"],"id":1})"),
            R"({"code":1,"msg":"Invalid value type: expected Boolean"})");
  EXPECT_EQ(reply(R"({"method":"SET_PROPERTY","params":["combined"],"id":1})"),
            R"({"code":2,"msg":"Invalid request: missing parameter"})");
  EXPECT_EQ(reply(R"({"method":"SET_PROPERTY","params":["combined",true,1],"id":1})"),
            R"({"code":2,"msg":"Invalid request: too many parameters"})");
  EXPECT_EQ(reply(R"({"method":"SET_PROPERTY","params":[1,true],"id":1})"),
            R"({"code":2,"msg":"Invalid request: property name must be a string"})");
  EXPECT_EQ(reply(R"({"method":"SET_PROPERTY","params":["speed",true],"id":8})"),
            R"({"code":0,"msg":"Unknown property","id":8})");
  EXPECT_EQ(reply(R"({"method":"GET_PROPERTY","params":["speed"],"id":"x9"})"),
            R"({"code":0,"msg":"Unknown property","id":"x9"})");
  EXPECT_FALSE(subs.combined());
}

TEST(ControlTest, StreamLimits) {
  Subscriptions subs;
  auto names = [](size_t from, size_t n) {
    // "sNNNN@trade" for a symbol set that knows every symbol.
    std::string params;
    for (size_t i = from; i < from + n; ++i) {
      if (!params.empty()) params += ',';
      params += "\"s" + std::to_string(i) + "@trade\"";
    }
    return params;
  };
  const SymbolKnown any = [](std::string_view) { return true; };
  auto out = subs.Handle(
      R"({"method":"SUBSCRIBE","params":[)" + names(0, kMaxParamsPerMessage + 1) + R"(],"id":1})",
      any);
  EXPECT_EQ(out.reply, R"({"code":2,"msg":"Invalid request: too many parameters"})");
  out = subs.Handle(R"({"method":"SUBSCRIBE","params":[)" + names(0, 1000) + R"(],"id":1})", any);
  EXPECT_EQ(out.reply, R"({"result":null,"id":1})");
  EXPECT_EQ(out.added.size(), 1000u);
  out = subs.Handle(R"({"method":"SUBSCRIBE","params":[)" + names(990, 35) + R"(],"id":2})", any);
  EXPECT_EQ(
      out.reply,
      R"j({"code":2,"msg":"Invalid request: too many streams for one connection (at most 1024)"})j");
  EXPECT_EQ(subs.streams().size(), 1000u);
  out = subs.Handle(R"({"method":"SUBSCRIBE","params":[)" + names(990, 34) + R"(],"id":3})", any);
  EXPECT_EQ(out.reply, R"({"result":null,"id":3})");
  EXPECT_EQ(out.added.size(), 24u);
  EXPECT_EQ(subs.streams().size(), kMaxStreamsPerConnection);
  EXPECT_FALSE(subs.Add(*ParseStreamName("s5000@trade", any)));
  EXPECT_TRUE(subs.Add(*ParseStreamName("s1@trade", any)));  // already there
}

}  // namespace
}  // namespace spotex::gateway::streams
