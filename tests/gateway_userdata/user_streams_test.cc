// The user stream hub over real loopback WebSocket connections (Beast's client): raw,
// combined and WebSocket-API framing, unsubscribe, listenKeyExpired on expiry and delete; the
// listenKey endpoints (API key only, Binance's errors); ends told by another replica
// (stream_endings.h); and the listenKey stores, in memory and in a real redis-server.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "auth/keys.h"
#include "gateway/http/server.h"
#include "gateway/userdata/listen_key_api.h"
#include "gateway/userdata/listen_key_store.h"
#include "gateway/userdata/stream_endings.h"
#include "gateway/userdata/user_stream_hub.h"
#include "redis_harness.h"

namespace spotex::gateway::userdata {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

struct Client {
  asio::io_context io;
  websocket::stream<tcp::socket> ws{io};
  beast::flat_buffer buffer;

  beast::error_code Connect(uint16_t port, const std::string& target) {
    beast::error_code ec;
    ws.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    if (!ec) ws.handshake("127.0.0.1", target, ec);
    return ec;
  }
  std::string Read() {
    beast::error_code ec;
    buffer.consume(buffer.size());
    ws.read(buffer, ec);
    EXPECT_FALSE(ec) << ec.message();
    return beast::buffers_to_string(buffer.data());
  }
  // Reads until the connection closes; the close code (1006 if none came).
  uint16_t ReadUntilClosed() {
    for (;;) {
      beast::error_code ec;
      buffer.consume(buffer.size());
      ws.read(buffer, ec);
      if (ec) return ec == websocket::error::closed ? ws.reason().code : 1006;
    }
  }
};

// After Expire: the connection receives `expired` and is closed with 1000 "listenKey
// expired", even when Expire comes right after the client's handshake (before the server's
// side of the upgrade has finished, a close used to drop the connection without either).
void ExpectExpiredThenClosed(Client& c, const std::string& expired) {
  beast::error_code ec;
  c.buffer.consume(c.buffer.size());
  c.ws.read(c.buffer, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(beast::buffers_to_string(c.buffer.data()), expired);
  EXPECT_EQ(c.ReadUntilClosed(), 1000);
  EXPECT_EQ(c.ws.reason().reason, "listenKey expired");
}

bool WaitFor(const std::function<bool()>& done) {
  for (int i = 0; i < 500 && !done(); ++i) std::this_thread::sleep_for(10ms);
  return done();
}

constexpr int64_t kAccount = 42;
const std::string kApiKey(64, 'K');

// A gateway-like server: /ws and /stream go to the ListenKeyApi, "/ws-api" subscribes the
// connection with the WebSocket-API framing (what the WebSocket API does on subscribe).
class UserStreamsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = std::make_shared<ResolvedKey>();
    key->key_id = 1;
    key->user_id = kAccount;
    key->permissions = *auth::Permissions::FromBits(db::kPermissionsAll);
    keys_.Put(kApiKey, key);
    http::ServerConfig config;
    config.linger_timeout = 100ms;
    config.websocket.paths = {"/ws", "/stream", "/ws-api", "/session"};
    auto started = http::Server::Start(
        config, [](http::Request&&, http::Responder r) { r(http::Response::Json(404, "{}")); },
        [this](const http::WsRequest& request, const std::shared_ptr<http::WsConnection>& ws)
            -> std::expected<http::WsHandlers, http::Response> {
          if (request.target == "/session") {  // what the web session stream does
            hub_.Subscribe(kAccount, ws, Framing::kSession, session_token_);
            return http::WsHandlers{[](std::string_view) {}, [](uint16_t, std::string_view) {}, {}};
          }
          if (request.target.starts_with("/ws-api")) {
            ws_api_a_ = hub_.Subscribe(kAccount, ws, Framing::kWsApi, "0");
            ws_api_b_ = hub_.Subscribe(kAccount, ws, Framing::kWsApi, "1");
            return http::WsHandlers{[](std::string_view) {}, [](uint16_t, std::string_view) {}, {}};
          }
          if (auto user = api_.Accept(request, ws)) return std::move(*user);
          return std::unexpected(http::Response::Json(404, "{}"));
        });
    ASSERT_TRUE(started.has_value()) << (started ? "" : started.error());
    server_ = std::move(*started);
  }

  http::Response Call(http::Method method, std::string name, std::string target,
                      bool with_key = true) {
    http::HeaderList headers;
    if (with_key) headers.emplace_back("X-MBX-APIKEY", kApiKey);
    return api_.Handle(http::Request(method, std::move(name), std::move(target), std::move(headers),
                                     "", "127.0.0.1", "127.0.0.1"));
  }
  std::string NewKey() {
    auto r = Call(http::Method::kPost, "POST", "/api/v3/userDataStream");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body.size(), 16u + 64u) << r.body;
    return r.body.substr(14, 64);
  }

  int64_t now_ms_ = 1'000'000;
  const std::string session_token_ = auth::GenerateSessionToken();
  InMemoryKeyDirectory keys_;
  InMemoryListenKeyStore store_{kListenKeyTtl, 100, [this] { return now_ms_; }};
  UserStreamHub hub_;
  ListenKeyApi api_{keys_, store_, hub_, [this] { return now_ms_; }};
  std::unique_ptr<http::Server> server_;
  UserStreamHub::SubscriberId ws_api_a_ = 0, ws_api_b_ = 0;
};

TEST_F(UserStreamsTest, RawAndCombinedListenKeyStreams) {
  const std::string key = NewKey();
  Client raw, combined, stranger;
  ASSERT_FALSE(raw.Connect(server_->port(), "/ws/" + key));
  ASSERT_FALSE(combined.Connect(server_->port(), "/stream?streams=" + key));
  EXPECT_EQ(hub_.subscribers(kAccount), 2u);
  EXPECT_EQ(hub_.ListenKeys(), std::vector<std::string>{key});
  hub_.Publish(kAccount + 1, {R"({"e":"other"})"});  // not this account's: nobody gets it
  hub_.Publish(kAccount, {R"({"e":"executionReport"})", R"({"e":"outboundAccountPosition"})"});
  EXPECT_EQ(raw.Read(), R"({"e":"executionReport"})");
  EXPECT_EQ(raw.Read(), R"({"e":"outboundAccountPosition"})");
  EXPECT_EQ(combined.Read(), R"({"stream":")" + key + R"(","data":{"e":"executionReport"}})");
  EXPECT_EQ(combined.Read(),
            R"({"stream":")" + key + R"(","data":{"e":"outboundAccountPosition"}})");
  // A closed connection's subscription goes away.
  raw.ws.close(websocket::close_code::normal);
  EXPECT_TRUE(WaitFor([&] { return hub_.subscribers(kAccount) == 1; }));
}

TEST_F(UserStreamsTest, UnknownListenKeyIsRefused) {
  Client c;
  EXPECT_EQ(c.Connect(server_->port(), "/ws/" + std::string(64, 'a')),
            websocket::error::upgrade_declined);
  EXPECT_FALSE(ParseListenKeyTarget("/ws/btcusdt@trade"));
  EXPECT_FALSE(ParseListenKeyTarget("/ws/0"));
  EXPECT_FALSE(ParseListenKeyTarget("/stream?streams=btcusdt@trade"));
  auto t = ParseListenKeyTarget("/stream?streams=" + std::string(64, 'b'));
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->combined);
}

TEST_F(UserStreamsTest, WsApiFramingAndUnsubscribe) {
  Client c;
  ASSERT_FALSE(c.Connect(server_->port(), "/ws-api/v3"));
  ASSERT_TRUE(WaitFor([&] { return hub_.subscribers(kAccount) == 2; }));
  EXPECT_TRUE(hub_.ListenKeys().empty());  // WebSocket-API subscriptions have no listenKey
  hub_.Publish(kAccount, {R"({"e":"a"})"});
  std::set<std::string> got = {c.Read(), c.Read()};
  EXPECT_EQ(got, (std::set<std::string>{R"({"subscriptionId":0,"event":{"e":"a"}})",
                                        R"({"subscriptionId":1,"event":{"e":"a"}})"}));
  hub_.Unsubscribe(ws_api_a_);
  hub_.Unsubscribe(ws_api_a_);  // unknown ids are ignored
  EXPECT_EQ(hub_.subscriptions(), 1u);
  hub_.Publish(kAccount, {R"({"e":"b"})"});
  EXPECT_EQ(c.Read(), R"({"subscriptionId":1,"event":{"e":"b"}})");
}

TEST_F(UserStreamsTest, DeleteAndExpiryEndTheStream) {
  const std::string key = NewKey();
  EXPECT_EQ(NewKey(), key);  // one live key per account, as on Binance
  Client c;
  ASSERT_FALSE(c.Connect(server_->port(), "/ws/" + key));
  // Keepalive, then the key runs out 60 minutes after it.
  now_ms_ += 30 * 60'000;
  EXPECT_EQ(Call(http::Method::kPut, "PUT", "/api/v3/userDataStream?listenKey=" + key).body, "{}");
  now_ms_ += 59 * 60'000;
  EXPECT_EQ(api_.ExpireStale(), 0u);
  now_ms_ += 2 * 60'000;
  EXPECT_EQ(api_.ExpireStale(), 1u);
  ExpectExpiredThenClosed(c, R"({"e":"listenKeyExpired","E":)" + std::to_string(now_ms_) +
                                 R"(,"listenKey":")" + key + R"("})");
  EXPECT_EQ(hub_.subscriptions(), 0u);
  // An expired key is unknown to PUT.
  auto put = Call(http::Method::kPut, "PUT", "/api/v3/userDataStream?listenKey=" + key);
  EXPECT_EQ(put.status, 400);
  EXPECT_EQ(put.body, R"({"code":-1125,"msg":"This listenKey does not exist."})");

  // DELETE ends this replica's connections at once.
  const std::string second = NewKey();
  EXPECT_NE(second, key);
  Client d;
  ASSERT_FALSE(d.Connect(server_->port(), "/stream?streams=" + second));
  hub_.Publish(kAccount, {R"({"e":"x"})"});  // the connection is up on the server side too
  EXPECT_EQ(d.Read(), R"({"stream":")" + second + R"(","data":{"e":"x"}})");
  auto del = Call(http::Method::kDelete, "DELETE", "/api/v3/userDataStream?listenKey=" + second);
  EXPECT_EQ(del.status, 200);
  EXPECT_EQ(del.body, "{}");
  ExpectExpiredThenClosed(d, R"({"stream":")" + second +
                                 R"(","data":{"e":"listenKeyExpired","E":)" +
                                 std::to_string(now_ms_) + R"(,"listenKey":")" + second + R"("}})");
  EXPECT_EQ(hub_.subscriptions(), 0u);
}

// A listenKey deleted and a session ended on another replica: that replica's DELETE does not
// reach this one's connections; the message it tells does, at once.
TEST_F(UserStreamsTest, EndsToldByAnotherReplicaEndTheStreamsHere) {
  const std::string key = NewKey();
  Client listener, browser;
  ASSERT_FALSE(listener.Connect(server_->port(), "/ws/" + key));
  ASSERT_FALSE(browser.Connect(server_->port(), "/session"));
  ASSERT_TRUE(WaitFor([&] { return hub_.subscriptions() == 2; }));

  UserStreamHub other_hub;  // the other replica: same stores, none of these connections
  std::vector<std::string> told;
  ListenKeyApi other(keys_, store_, other_hub, [this] { return now_ms_; },
                     [&](const std::string& k) { told.push_back(ListenKeyEndedMessage(k)); });
  http::HeaderList headers = {{"X-MBX-APIKEY", kApiKey}};
  auto del = other.Handle(http::Request(http::Method::kDelete, "DELETE",
                                        "/api/v3/userDataStream?listenKey=" + key, headers, "",
                                        "127.0.0.1", "127.0.0.1"));
  EXPECT_EQ(del.status, 200) << del.body;
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(hub_.subscriptions(), 2u);  // the DELETE alone leaves this replica's stream open
  // The message names the key by its digest only.
  EXPECT_EQ(told[0], "listenKey " + auth::Sha256Hex(key));
  EXPECT_EQ(told[0].find(key), std::string::npos);

  // What names nothing here, or is malformed, changes nothing.
  for (const std::string& noise :
       {std::string("listenKey ") + auth::Sha256Hex(std::string(64, 'q')), std::string(""),
        std::string("listenKey"), std::string("listenKey ") + key,
        "LISTENKEY " + auth::Sha256Hex(key), "listenKey " + auth::Sha256Hex(key) + " ",
        "session " + auth::Sha256Hex(key), std::string("session ") + std::string(64, 'G')}) {
    EXPECT_EQ(ApplyStreamEnded(hub_, noise, now_ms_), 0u) << noise;
  }
  EXPECT_EQ(hub_.subscriptions(), 2u);

  EXPECT_EQ(ApplyStreamEnded(hub_, told[0], now_ms_), 1u);
  ExpectExpiredThenClosed(listener, R"({"e":"listenKeyExpired","E":)" + std::to_string(now_ms_) +
                                        R"(,"listenKey":")" + key + R"("})");
  EXPECT_EQ(ApplyStreamEnded(hub_, told[0], now_ms_), 0u);  // once

  const std::string ended = SessionEndedMessage(session_token_);
  EXPECT_EQ(ended, "session " + *auth::SessionTokenHash(session_token_));
  EXPECT_EQ(SessionEndedMessage("not a session token"), "");
  EXPECT_NE(SessionEndedMessage(auth::GenerateSessionToken()), ended);
  EXPECT_EQ(ApplyStreamEnded(hub_, SessionEndedMessage(auth::GenerateSessionToken()), now_ms_),
            0u);
  EXPECT_EQ(ApplyStreamEnded(hub_, ended, now_ms_), 1u);
  EXPECT_EQ(browser.ReadUntilClosed(), 1000);
  EXPECT_EQ(browser.ws.reason().reason, "session ended");
  EXPECT_TRUE(WaitFor([&] { return hub_.subscriptions() == 0; }));
}

TEST_F(UserStreamsTest, EndpointErrors) {
  auto none = Call(http::Method::kPost, "POST", "/api/v3/userDataStream", false);
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.body, R"({"code":-2014,"msg":"API-key format invalid."})");
  http::HeaderList unknown = {{"X-MBX-APIKEY", std::string(64, 'Z')}};
  auto bad = api_.Handle(http::Request(http::Method::kPost, "POST", "/api/v3/userDataStream",
                                       unknown, "", "127.0.0.1", "127.0.0.1"));
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(bad.body, R"({"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."})");
  // No signature needed; one sent anyway is ignored.
  auto signed_post =
      Call(http::Method::kPost, "POST", "/api/v3/userDataStream?timestamp=1&signature=ab");
  EXPECT_EQ(signed_post.status, 200);
  auto missing = Call(http::Method::kPut, "PUT", "/api/v3/userDataStream");
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(missing.body.find("-1102"), std::string::npos) << missing.body;
  auto other = Call(http::Method::kDelete, "DELETE",
                    "/api/v3/userDataStream?listenKey=" + std::string(64, 'q'));
  EXPECT_EQ(other.body, R"({"code":-1125,"msg":"This listenKey does not exist."})");
  // Another account's key is "does not exist" too.
  auto foreign = store_.Create(kAccount + 1);
  ASSERT_TRUE(foreign);
  auto theirs =
      Call(http::Method::kDelete, "DELETE", "/api/v3/userDataStream?listenKey=" + *foreign);
  EXPECT_EQ(theirs.status, 400);
  EXPECT_TRUE(store_.Find(*foreign)->has_value());
  keys_.SetUnavailable(true);
  EXPECT_EQ(Call(http::Method::kPost, "POST", "/api/v3/userDataStream").status, 500);
}

// --- the stores --------------------------------------------------------------------------------

void ExerciseStore(ListenKeyStore& store) {
  auto k1 = store.Create(7);
  ASSERT_TRUE(k1) << k1.error();
  EXPECT_TRUE(IsListenKeyFormat(*k1));
  EXPECT_EQ(*store.Create(7), *k1);  // the live key again
  auto k2 = store.Create(8);
  ASSERT_TRUE(k2);
  EXPECT_NE(*k2, *k1);
  EXPECT_EQ(*store.Find(*k1), std::optional<int64_t>(7));
  EXPECT_EQ(*store.Find(*k2), std::optional<int64_t>(8));
  EXPECT_EQ(*store.Find(std::string(64, 'x')), std::nullopt);
  EXPECT_EQ(*store.Find("short"), std::nullopt);
  // Batched: one answer per key, in order; malformed keys are unknown.
  std::vector<std::string> many = {*k2, "short", std::string(64, 'x'), *k1};
  for (int i = 0; i < 100; ++i) many.push_back(*k2);  // more than one MGET batch
  auto found = store.FindMany(many);
  ASSERT_TRUE(found) << found.error();
  ASSERT_EQ(found->size(), many.size());
  EXPECT_EQ((*found)[0], std::optional<int64_t>(8));
  EXPECT_EQ((*found)[1], std::nullopt);
  EXPECT_EQ((*found)[2], std::nullopt);
  EXPECT_EQ((*found)[3], std::optional<int64_t>(7));
  EXPECT_EQ(found->back(), std::optional<int64_t>(8));
  EXPECT_TRUE(*store.KeepAlive(7, *k1));
  EXPECT_FALSE(*store.KeepAlive(8, *k1));  // not its key
  EXPECT_FALSE(*store.Delete(8, *k1));
  EXPECT_TRUE(*store.Delete(7, *k1));
  EXPECT_FALSE(*store.Delete(7, *k1));
  EXPECT_FALSE(*store.KeepAlive(7, *k1));
  EXPECT_EQ(*store.Find(*k1), std::nullopt);
  auto k3 = store.Create(7);
  ASSERT_TRUE(k3);
  EXPECT_NE(*k3, *k1);
}

TEST(ListenKeyStore, InMemory) {
  int64_t now = 0;
  InMemoryListenKeyStore store(kListenKeyTtl, 3, [&] { return now; });
  ExerciseStore(store);
  auto key = store.Create(9);
  ASSERT_TRUE(key);
  now += 3'599'999;
  EXPECT_TRUE(store.Find(*key)->has_value());
  now += 1;
  EXPECT_FALSE(store.Find(*key)->has_value());  // 60 minutes after its creation
  // Bounded: three live keys at most.
  EXPECT_TRUE(store.Create(10));
  EXPECT_TRUE(store.Create(11));
  EXPECT_TRUE(store.Create(12));
  EXPECT_FALSE(store.Create(13));
}

TEST(ListenKeyStore, Redis) {
  auto server = spotex::testing::RedisServer::Start();
  ASSERT_TRUE(server.has_value()) << server.error();
  RedisPool pool((*server)->Config());
  RedisListenKeyStore store(pool);
  ExerciseStore(store);
  auto key = store.Create(9);
  ASSERT_TRUE(key);
  // Stored with the 60-minute TTL, which a keepalive sets again.
  auto ttl = pool.Command({"TTL", "spotex:listenkey:" + *key});
  ASSERT_TRUE(ttl);
  EXPECT_GT(ttl->integer, 3590);
  EXPECT_LE(ttl->integer, 3600);
  ASSERT_TRUE(pool.Command({"EXPIRE", "spotex:listenkey:" + *key, "5"}));
  EXPECT_TRUE(*store.KeepAlive(9, *key));
  EXPECT_GT(pool.Command({"TTL", "spotex:listenkey:" + *key})->integer, 3590);
  // A key that ran out is gone (simulated by Redis deleting it).
  ASSERT_TRUE(pool.Command({"DEL", "spotex:listenkey:" + *key}));
  EXPECT_FALSE(store.Find(*key)->has_value());
  EXPECT_NE(*store.Create(9), *key);
  // Redis down: errors, not "unknown".
  (*server)->Stop();
  EXPECT_FALSE(store.Find(*key).has_value());
  EXPECT_FALSE(store.Create(9).has_value());
}

}  // namespace
}  // namespace spotex::gateway::userdata
