// The WebSocket API (/ws-api/v3) over a real loopback http::Server with Beast's client: the
// envelope, ids, errors, signed requests (HMAC raw and Ed25519 URI-encoded payloads), session
// logon/status/logout, and user-data subscriptions against a recording UserStreamHub.
#include <gtest/gtest.h>
#include <sodium.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "auth/replay_cache.h"
#include "auth/signature.h"
#include "gateway/http/params.h"
#include "gateway/http/server.h"
#include "gateway/wsapi/envelope.h"
#include "gateway/wsapi/ws_api.h"

// A recording UserStreamHub: these definitions stand in for spotex_userdata in this test.
namespace spotex::gateway::userdata {
UserStreamHub::SubscriberId UserStreamHub::Subscribe(int64_t account,
                                                     std::shared_ptr<http::WsConnection> ws,
                                                     Framing framing, std::string tag) {
  std::lock_guard lock(mu_);
  const SubscriberId id = next_id_++;
  subs_[id] = Sub{account, std::move(ws), framing, std::move(tag)};
  by_account_[account].insert(id);
  return id;
}
void UserStreamHub::Unsubscribe(SubscriberId id) {
  std::lock_guard lock(mu_);
  auto it = subs_.find(id);
  if (it == subs_.end()) return;
  by_account_[it->second.account].erase(id);
  subs_.erase(it);
}
void UserStreamHub::Publish(int64_t account, const std::vector<std::string>& events) {
  std::lock_guard lock(mu_);
  for (SubscriberId id : by_account_[account]) {
    const Sub& s = subs_[id];
    for (const auto& e : events) {
      s.ws->Send(std::make_shared<const std::string>("{\"subscriptionId\":" + s.tag +
                                                     ",\"event\":" + e + "}"));
    }
  }
}
size_t UserStreamHub::subscriptions() const {
  std::lock_guard lock(mu_);
  return subs_.size();
}
size_t UserStreamHub::subscribers(int64_t account) const {
  std::lock_guard lock(mu_);
  auto it = by_account_.find(account);
  return it == by_account_.end() ? 0 : it->second.size();
}
}  // namespace spotex::gateway::userdata

namespace spotex::gateway::wsapi {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr std::string_view kHmacApiKey =
    "hmacKEYhmacKEYhmacKEYhmacKEYhmacKEYhmacKEYhmacKEYhmacKEYhmacKEY1";
constexpr std::string_view kHmacSecret =
    "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
constexpr std::string_view kEdApiKey =
    "edKEYedKEYedKEYedKEYedKEYedKEYedKEYedKEYedKEYedKEYedKEYedKEYed12";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class CountingLimiter final : public RateLimiter {
 public:
  LimitVerdict ChargeRequest(std::string_view, int weight) override {
    std::lock_guard lock(mu_);
    used_ += weight;
    LimitVerdict v;
    v.headers.emplace_back("X-MBX-USED-WEIGHT-1M", std::to_string(used_));
    return v;
  }
  LimitVerdict ChargeOrder(int64_t) override { return {}; }

 private:
  std::mutex mu_;
  int64_t used_ = 0;
};

// Stands in for an order endpoint: authenticates as TRADE and answers who the caller is.
void FakeOrder(RequestAuthenticator& auth, http::Request&& request, http::Responder respond) {
  auto params = http::Params::FromRequest(request);
  if (!params) {
    respond(http::Response::FromError(params.error()));
    return;
  }
  auto caller = auth.Authenticate(request, *params, auth::SecurityType::kTrade);
  if (!caller) {
    respond(http::Response::FromError(caller.error()));
    return;
  }
  auto symbol = params->GetString("symbol");
  if (!symbol) {
    respond(http::Response::FromError(symbol.error()));
    return;
  }
  auto price = params->GetOptionalString("price");
  if (auto all = params->CheckAllRead(); !all) {
    respond(http::Response::FromError(all.error()));
    return;
  }
  // Answered from another thread, as the engine's reply would be.
  std::thread([respond = std::move(respond), account = caller->account,
               symbol = std::string(*symbol), price = std::string(price.value_or(""))]() mutable {
    respond(http::Response::Json(200, "{\"account\":" + std::to_string(account) +
                                          ",\"symbol\":\"" + symbol + "\",\"price\":\"" + price +
                                          "\"}"));
  }).detach();
}

struct Fixture {
  InMemoryKeyDirectory keys;
  auth::InMemoryReplayCache replays{10'000};
  CountingLimiter limiter;
  userdata::UserStreamHub hub;
  std::unique_ptr<WsApi> api;
  std::unique_ptr<http::Server> server;
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> ed_secret{};

  Fixture() {
    EXPECT_EQ(sodium_init() >= 0, true);
    auto hmac = std::make_shared<ResolvedKey>();
    hmac->key_id = 1;
    hmac->user_id = 7;
    hmac->kind = db::ApiKeyKind::kHmac;
    hmac->hmac_secret = auth::Secret(std::string(kHmacSecret));
    hmac->permissions = *auth::Permissions::FromBits(auth::Permissions::kKnownBits);
    keys.Put(std::string(kHmacApiKey), hmac);
    auto ed = std::make_shared<ResolvedKey>();
    ed->key_id = 2;
    ed->user_id = 8;
    ed->kind = db::ApiKeyKind::kEd25519;
    std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> pk{};
    crypto_sign_keypair(pk.data(), ed_secret.data());
    ed->ed25519_key = *auth::Ed25519PublicKeyFromRaw(pk);
    ed->permissions = *auth::Permissions::FromBits(auth::Permissions::kKnownBits);
    keys.Put(std::string(kEdApiKey), ed);

    WsApiOptions options;
    api = std::make_unique<WsApi>(keys, replays, limiter, hub, NowMs, options);
    RequestAuthenticator& auth = api->authenticator();
    EXPECT_TRUE(api->router().Add(http::Method::kPost, "/api/v3/order",
                                  [&auth](http::Request&& r, http::Responder respond) {
                                    FakeOrder(auth, std::move(r), std::move(respond));
                                  }));
    EXPECT_TRUE(api->router().Add(http::Method::kGet, "/api/v3/ping",
                                  [](http::Request&&, http::Responder respond) {
                                    respond(http::Response::Json(200, "{}"));
                                  }));
    api->Start();
    http::ServerConfig config;
    config.linger_timeout = 100ms;
    config.websocket.paths = {std::string(kPath)};
    // The market streams' limit: the WebSocket API's connections carry their own, higher one.
    config.websocket.max_messages_per_second = 5;
    auto started = http::Server::Start(
        config,
        [](http::Request&&, http::Responder respond) {
          respond(http::Response::FromError(http::errors::UnsupportedOperation(404)));
        },
        [this](const http::WsRequest& request, const std::shared_ptr<http::WsConnection>& ws) {
          return api->Accept(request, ws);
        });
    EXPECT_TRUE(started.has_value());
    server = std::move(*started);
  }
  ~Fixture() { server->Stop(1000ms); }

  std::string EdSign(std::string_view payload) const {
    std::array<unsigned char, crypto_sign_BYTES> sig{};
    crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(payload.data()),
                         payload.size(), ed_secret.data());
    std::string b64(sodium_base64_ENCODED_LEN(sig.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(b64.data(), b64.size(), sig.data(), sig.size(), sodium_base64_VARIANT_ORIGINAL);
    b64.resize(std::strlen(b64.c_str()));
    return b64;
  }
};

struct Client {
  asio::io_context io;
  websocket::stream<tcp::socket> ws{io};
  beast::flat_buffer buffer;

  explicit Client(uint16_t port, const std::string& target = std::string(kPath)) {
    ws.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    ws.handshake("127.0.0.1", target);
  }
  std::string Call(const std::string& text) {
    ws.write(asio::buffer(text));
    return Read();
  }
  std::string Read() {
    buffer.consume(buffer.size());
    beast::error_code ec;
    ws.read(buffer, ec);
    if (ec) return "read error: " + ec.message();
    return beast::buffers_to_string(buffer.data());
  }
};

#define EXPECT_HAS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)
#define EXPECT_LACKS(text, part) EXPECT_EQ((text).find(part), std::string::npos) << (text)

// "k=v&..." sorted, HMAC-signed, as ccxt builds it.
std::string HmacParams(std::map<std::string, std::string> params) {
  std::string payload;
  for (const auto& [k, v] : params) {
    if (!payload.empty()) payload += '&';
    payload += k + "=" + v;
  }
  params["signature"] = auth::ComputeHmacHex(kHmacSecret, payload);
  std::string json = "{";
  for (const auto& [k, v] : params) {
    if (json.size() > 1) json += ',';
    json += "\"" + k + "\":\"" + v + "\"";
  }
  return json + "}";
}

TEST(Envelope, ParsesIdsMethodAndParams) {
  auto r = ParseRequest(R"({"id":"a-1","method":"v3/order.place","params":{"symbol":"BTCUSDT","price":0.10,"flag":true,"symbols":["A","B"],"x":null}})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->id_json, "\"a-1\"");
  EXPECT_EQ(r->method, "order.place");
  ASSERT_EQ(r->params.size(), 4u);
  EXPECT_EQ(*r->Find("price"), "0.10");  // the exact token, for signatures
  EXPECT_EQ(*r->Find("flag"), "true");
  EXPECT_EQ(*r->Find("symbols"), R"(["A","B"])");
  EXPECT_FALSE(r->Find("x").has_value());
  EXPECT_EQ(ParseRequest(R"({"id":-42,"method":"ping"})")->id_json, "-42");
  EXPECT_EQ(ParseRequest(R"({"method":"ping","id":null})")->id_json, "null");
}

TEST(Envelope, Errors) {
  auto bad = ParseRequest("{not json");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().error.code, -1135);
  EXPECT_EQ(bad.error().id_json, "null");
  auto no_method = ParseRequest(R"({"id":5,"params":{}})");
  ASSERT_FALSE(no_method.has_value());
  EXPECT_EQ(no_method.error().error.code, -1102);
  EXPECT_EQ(no_method.error().id_json, "5");
  EXPECT_EQ(ParseRequest(R"({"id":5,"method":"ping","params":[1]})").error().error.msg,
            "Invalid 'params' in JSON request; expected an object.");
  EXPECT_EQ(ParseRequest(R"({"id":{},"method":"ping"})").error().error.code, -1135);
  EXPECT_EQ(ParseRequest(R"({"id":1.5,"method":"ping"})").error().error.code, -1135);
  EXPECT_EQ(ParseRequest(R"({"id":1,"method":"ping","params":{"a":1,"a":2}})").error().error.code,
            -1101);
  EXPECT_EQ(ParseRequest(R"({"id":1,"method":"ping","params":{"a":{"b":1}}})").error().error.code,
            -1135);
  std::string many = R"({"id":1,"method":"ping","params":{)";
  for (int i = 0; i < 65; ++i) many += (i ? "," : "") + std::string("\"p") + std::to_string(i) + "\":1";
  many += "}}";
  EXPECT_EQ(ParseRequest(many).error().error.msg, "Too many parameters sent for this endpoint.");
  std::string deep = R"({"id":1,"method":"ping","params":{"a":)" + std::string(20, '[') +
                     std::string(20, ']') + "}}";
  EXPECT_EQ(ParseRequest(deep).error().error.code, -1135);
  EXPECT_FALSE(ParseRequest(R"({"id":1,"method":"ping"} x)").has_value());
  EXPECT_FALSE(ParseRequest("\"\\ud800\"").has_value());
}

TEST(WsApi, EchoesIdsAndReportsRateLimits) {
  Fixture f;
  Client c(f.server->port());
  std::string r = c.Call(R"({"id":"abc","method":"ping","params":{}})");
  EXPECT_HAS(r, R"({"id":"abc","status":200,"result":{},"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":)");
  EXPECT_HAS(c.Call(R"({"id":17,"method":"v3/ping"})"), R"({"id":17,"status":200)");
  EXPECT_HAS(c.Call(R"({"id":null,"method":"ping"})"), R"({"id":null,"status":200)");
  Client quiet(f.server->port(), std::string(kPath) + "?returnRateLimits=false");
  EXPECT_EQ(quiet.Call(R"({"id":1,"method":"ping"})"), R"({"id":1,"status":200,"result":{}})");
}

TEST(WsApi, RequestsBackToBackAreNotLimitedLikeStreamControlMessages) {
  Fixture f;
  Client c(f.server->port());
  // 40 requests written at once: over the transport's 5 per second, under the API's 100.
  for (int i = 0; i < 40; ++i) {
    c.ws.write(asio::buffer(R"({"id":)" + std::to_string(i) + R"(,"method":"ping"})"));
  }
  std::set<std::string> answered;
  for (int i = 0; i < 40; ++i) {
    std::string r = c.Read();
    ASSERT_NE(r.find(R"("status":200)"), std::string::npos) << "answer " << i << ": " << r;
    answered.insert(r.substr(0, r.find(',')));
  }
  EXPECT_EQ(answered.size(), 40u);
}

TEST(WsApi, MalformedAndUnknownRequestsGetErrorsNotACrash) {
  Fixture f;
  Client c(f.server->port(), std::string(kPath) + "?returnRateLimits=false");
  EXPECT_EQ(c.Call("hello"),
            R"({"id":null,"status":400,"error":{"code":-1135,"msg":"Invalid JSON request"}})");
  EXPECT_EQ(c.Call(R"({"id":3})"),
            R"({"id":3,"status":400,"error":{"code":-1102,"msg":"Mandatory parameter 'method' was not sent, was empty/null, or malformed."}})");
  EXPECT_HAS(c.Call(R"({"id":4,"method":"nope"})"), R"("code":-1020)");
  EXPECT_HAS(c.Call(R"({"id":5,"method":"session.nope"})"), R"("code":-1020)");
  // Control characters in a value cannot reach the REST layer.
  EXPECT_HAS(c.Call(R"({"id":6,"method":"ping","params":{"a":"x\u0001"}})"), R"("code":-1100)");
  // Still serving.
  EXPECT_HAS(c.Call(R"({"id":7,"method":"ping"})"), R"("status":200)");
}

TEST(WsApi, SignedOrderPlaceWithHmacAndEd25519) {
  Fixture f;
  Client c(f.server->port(), std::string(kPath) + "?returnRateLimits=false");
  const std::string ts = std::to_string(NowMs());
  std::string params = HmacParams({{"apiKey", std::string(kHmacApiKey)},
                                   {"symbol", "BTCUSDT"},
                                   {"price", "0.10"},
                                   {"timestamp", ts}});
  EXPECT_EQ(c.Call(R"({"id":"o1","method":"order.place","params":)" + params + "}"),
            R"({"id":"o1","status":200,"result":{"account":7,"symbol":"BTCUSDT","price":"0.10"}})");
  // The same signed request again: a replay.
  EXPECT_HAS(c.Call(R"({"id":"o2","method":"order.place","params":)" + params + "}"),
             R"("code":-1022)");
  // A wrong signature.
  std::string tampered = params;
  tampered.replace(tampered.find("0.10"), 4, "0.20");
  EXPECT_HAS(c.Call(R"({"id":"o3","method":"order.place","params":)" + tampered + "}"),
             R"({"id":"o3","status":400,"error":{"code":-1022)");
  // Unknown key, missing timestamp.
  EXPECT_HAS(c.Call(R"({"id":"o4","method":"order.place","params":{"apiKey":"x","symbol":"B","signature":"00"}})"),
             R"("code":-2014)");
  // Ed25519 signing @binance/spot's way: values URI-encoded in the payload.
  const std::string ts2 = std::to_string(NowMs());
  const std::string payload = "apiKey=" + std::string(kEdApiKey) +
                              "&newClientOrderId=a%3Ab&symbol=BTCUSDT&timestamp=" + ts2;
  const std::string sig = f.EdSign(payload);
  std::string r = c.Call(R"({"id":9,"method":"order.place","params":{"symbol":"BTCUSDT","newClientOrderId":"a:b","apiKey":")" +
                         std::string(kEdApiKey) + R"(","timestamp":)" + ts2 + R"(,"signature":")" + sig + "\"}}");
  // newClientOrderId is not read by the fake endpoint: -1104 proves authentication passed.
  EXPECT_HAS(r, R"("code":-1104)");
}

TEST(WsApi, SessionLogonStatusLogoutHmac) {
  Fixture f;
  Client c(f.server->port(), std::string(kPath) + "?returnRateLimits=false");
  EXPECT_HAS(c.Call(R"({"id":1,"method":"session.status"})"), R"("apiKey":null)");
  // Not logged on: an unsigned request needs apiKey.
  EXPECT_HAS(c.Call(R"({"id":2,"method":"order.place","params":{"symbol":"BTCUSDT","timestamp":)" +
                    std::to_string(NowMs()) + "}}"),
             R"("code":-1102,"msg":"Mandatory parameter 'apiKey')");
  std::string logon = HmacParams({{"apiKey", std::string(kHmacApiKey)}, {"timestamp", std::to_string(NowMs())}});
  std::string r = c.Call(R"({"id":3,"method":"session.logon","params":)" + logon + "}");
  EXPECT_HAS(r, R"({"id":3,"status":200,"result":{"apiKey":")" + std::string(kHmacApiKey));
  EXPECT_HAS(r, R"("userDataStream":false)");
  // Logged on: timestamp only.
  EXPECT_HAS(c.Call(R"({"id":4,"method":"order.place","params":{"symbol":"ETHUSDT","timestamp":)" +
                    std::to_string(NowMs()) + "}}"),
             R"({"id":4,"status":200,"result":{"account":7,"symbol":"ETHUSDT")");
  EXPECT_HAS(c.Call(R"({"id":5,"method":"order.place","params":{"symbol":"ETHUSDT"}})"),
             R"("code":-1102)");  // timestamp still needed
  EXPECT_HAS(c.Call(R"({"id":6,"method":"session.status"})"), std::string(kHmacApiKey));
  EXPECT_HAS(c.Call(R"({"id":7,"method":"session.logout"})"), R"("apiKey":null)");
  EXPECT_HAS(c.Call(R"({"id":8,"method":"order.place","params":{"symbol":"ETHUSDT","timestamp":)" +
                    std::to_string(NowMs()) + "}}"),
             R"("code":-1102)");
}

TEST(WsApi, SessionLogonEd25519AndBadSignature) {
  Fixture f;
  Client c(f.server->port(), std::string(kPath) + "?returnRateLimits=false");
  const std::string ts = std::to_string(NowMs());
  const std::string sig = f.EdSign("apiKey=" + std::string(kEdApiKey) + "&timestamp=" + ts);
  EXPECT_HAS(c.Call(R"({"id":1,"method":"session.logon","params":{"apiKey":")" + std::string(kEdApiKey) +
                    R"(","timestamp":)" + ts + R"(,"signature":")" + sig + "\"}}"),
             R"("status":200)");
  EXPECT_HAS(c.Call(R"({"id":2,"method":"order.place","params":{"symbol":"X","timestamp":)" +
                    std::to_string(NowMs()) + "}}"),
             R"("account":8)");
  const std::string wrong = f.EdSign("apiKey=" + std::string(kEdApiKey) + "&timestamp=1");
  EXPECT_HAS(c.Call(R"({"id":3,"method":"session.logon","params":{"apiKey":")" + std::string(kEdApiKey) +
                    R"(","timestamp":)" + std::to_string(NowMs()) + R"(,"signature":")" + wrong + "\"}}"),
             R"("code":-1022)");
}

TEST(WsApi, UserDataSubscribeUnsubscribeAndOnePerAccount) {
  Fixture f;
  {
    Client c(f.server->port(), std::string(kPath) + "?returnRateLimits=false");
    EXPECT_HAS(c.Call(R"({"id":1,"method":"userDataStream.subscribe"})"), R"("code":-2015)");
    std::string logon = HmacParams({{"apiKey", std::string(kHmacApiKey)}, {"timestamp", std::to_string(NowMs())}});
    EXPECT_HAS(c.Call(R"({"id":2,"method":"session.logon","params":)" + logon + "}"), R"("status":200)");
    EXPECT_EQ(c.Call(R"({"id":3,"method":"userDataStream.subscribe"})"),
              R"({"id":3,"status":200,"result":{"subscriptionId":0}})");
    EXPECT_EQ(f.hub.subscribers(7), 1u);
    EXPECT_HAS(c.Call(R"({"id":4,"method":"userDataStream.subscribe"})"), R"("code":-2035)");
    // subscribe.signature for the same account: also -2035; another account's key works.
    // (recvWindow makes it another signature than the logon's, which the replay check refuses.)
    std::string sig7 = HmacParams({{"apiKey", std::string(kHmacApiKey)},
                                   {"recvWindow", "6000"},
                                   {"timestamp", std::to_string(NowMs())}});
    EXPECT_HAS(c.Call(R"({"id":5,"method":"userDataStream.subscribe.signature","params":)" + sig7 + "}"),
               R"("code":-2035)");
    const std::string ts = std::to_string(NowMs());
    const std::string sig = f.EdSign("apiKey=" + std::string(kEdApiKey) + "&timestamp=" + ts);
    EXPECT_EQ(c.Call(R"({"id":6,"method":"userDataStream.subscribe.signature","params":{"apiKey":")" +
                     std::string(kEdApiKey) + R"(","timestamp":)" + ts + R"(,"signature":")" + sig + "\"}}"),
              R"({"id":6,"status":200,"result":{"subscriptionId":1}})");
    EXPECT_EQ(c.Call(R"({"id":7,"method":"session.subscriptions"})"),
              R"({"id":7,"status":200,"result":[{"subscriptionId":0},{"subscriptionId":1}]})");
    // Events arrive framed with the subscriptionId.
    f.hub.Publish(8, {R"({"e":"balanceUpdate"})"});
    EXPECT_EQ(c.Read(), R"({"subscriptionId":1,"event":{"e":"balanceUpdate"}})");
    // Unsubscribe one: eventStreamTerminated, then the answer.
    c.ws.write(asio::buffer(std::string(R"({"id":8,"method":"userDataStream.unsubscribe","params":{"subscriptionId":0}})")));
    EXPECT_HAS(c.Read(), R"({"subscriptionId":0,"event":{"e":"eventStreamTerminated","E":)");
    EXPECT_EQ(c.Read(), R"({"id":8,"status":200,"result":{}})");
    EXPECT_EQ(f.hub.subscribers(7), 0u);
    EXPECT_HAS(c.Call(R"({"id":9,"method":"userDataStream.unsubscribe","params":{"subscriptionId":0}})"),
               R"("code":-2036)");
    EXPECT_EQ(f.hub.subscribers(8), 1u);
  }
  // Closing the connection ends its subscriptions.
  for (int i = 0; i < 200 && f.hub.subscriptions() != 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(f.hub.subscriptions(), 0u);
}

TEST(WsApi, ServerShutdownEvent) {
  Fixture f;
  Client c(f.server->port());
  EXPECT_HAS(c.Call(R"({"id":1,"method":"ping"})"), R"("status":200)");
  std::thread stopper([&f] { f.server->Stop(2000ms); });
  EXPECT_HAS(c.Read(), R"({"event":{"e":"serverShutdown","E":)");
  stopper.join();
}

}  // namespace
}  // namespace spotex::gateway::wsapi
