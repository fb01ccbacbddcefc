// StreamHub behind the real WebSocket transport, over loopback with Beast's client: the opt-in
// depth checksum, RESUME from the hub's history (gap-free with the live messages after it), and
// the per-IP connection-attempt limit (429 with Retry-After).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <memory>
#include <string>

#include "gateway/feeds/stream_hub.h"
#include "gateway/http/server.h"
#include "market_sim.h"

namespace spotex::gateway::streams::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct Stack {
  MarketSim sim;
  std::atomic<int64_t> now_ms{1'000'000};
  std::unique_ptr<StreamHub> hub;
  std::unique_ptr<http::Server> server;

  explicit Stack(StreamHubConfig config) {
    config.clock = [this] { return now_ms.load(); };
    hub = std::make_unique<StreamHub>(
        sim.market(), [this](std::string_view s) { return sim.market().HasSymbol(s); },
        std::move(config));
    http::ServerConfig sc;
    sc.linger_timeout = std::chrono::milliseconds(100);
    sc.websocket.paths = {"/ws", "/stream"};
    sc.websocket.max_messages_per_second = 1000;
    auto started = Server::Start(
        sc, [](http::Request&&, http::Responder r) { r.Send(http::Response::Json(404, "{}")); },
        [this](const http::WsRequest& req, const std::shared_ptr<http::WsConnection>& c) {
          return hub->Accept(req, c);
        });
    EXPECT_TRUE(started.has_value());
    server = std::move(*started);
  }
  ~Stack() { server.reset(); }

  using Server = http::Server;
};

struct Client {
  asio::io_context io;
  websocket::stream<tcp::socket> ws{io};
  beast::flat_buffer buffer;
  websocket::response_type refused;

  beast::error_code Connect(uint16_t port, const std::string& target) {
    beast::error_code ec;
    ws.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    if (!ec) ws.handshake(refused, "127.0.0.1", target, ec);
    return ec;
  }
  std::string Read() {
    buffer.consume(buffer.size());
    beast::error_code ec;
    ws.read(buffer, ec);
    EXPECT_FALSE(ec) << ec.message();
    return beast::buffers_to_string(buffer.data());
  }
  void Write(const std::string& text) {
    beast::error_code ec;
    ws.write(asio::buffer(text), ec);
    EXPECT_FALSE(ec) << ec.message();
  }
};

int64_t Field(const std::string& json, const char* key) {
  simdjson::dom::parser p;
  simdjson::padded_string padded(json);
  int64_t v = -1;
  simdjson::dom::element doc;
  if (p.parse(padded).get(doc) == simdjson::SUCCESS) {
    simdjson::dom::element data;
    if (doc["data"].get(data) == simdjson::SUCCESS) doc = data;
    if (doc[key].get_int64().get(v) != simdjson::SUCCESS) v = -1;
  }
  return v;
}

// Publishes random commands until `n` depth messages for BTCUSDT went out.
void PublishDepth(Stack& s, Rng& rng, int n) {
  while (n > 0) {
    auto ms = s.sim.Step(rng);
    for (const auto& m : ms) {
      if (m.key.Name() == "btcusdt@depth") --n;
    }
    s.hub->Publish(ms);
  }
}

TEST(StreamHubWs, ChecksumPropertyAddsCsToDepthUpdates) {
  Stack s(StreamHubConfig{});
  Rng rng(7);
  Client plain, checked;
  ASSERT_FALSE(plain.Connect(s.server->port(), "/ws/btcusdt@depth"));
  ASSERT_FALSE(checked.Connect(s.server->port(), "/stream?streams=btcusdt@depth"));
  checked.Write(R"({"method":"SET_PROPERTY","params":["checksum",true],"id":1})");
  EXPECT_EQ(checked.Read(), R"({"result":null,"id":1})");
  PublishDepth(s, rng, 3);
  for (int i = 0; i < 3; ++i) {
    const std::string a = plain.Read(), b = checked.Read();
    EXPECT_EQ(a.find("\"cs\""), std::string::npos) << a;
    EXPECT_TRUE(b.starts_with("{\"stream\":\"btcusdt@depth\",\"data\":")) << b;
    EXPECT_GE(Field(b, "cs"), 0) << b;
    EXPECT_EQ(Field(a, "u"), Field(b, "u"));
  }
}

// Trades after a bar's last periodic message still reach the stream: the tick that crosses
// into the next bar first sends the ended bar closed (x = true) with all its trades.
TEST(StreamHubWs, AnEndedKlineIsSentClosedWithItsLastTrades) {
  Stack s(StreamHubConfig{});
  Rng rng(11);
  Client c;
  ASSERT_FALSE(c.Connect(s.server->port(), "/ws/btcusdt@kline_1m"));
  s.hub->Tick(kT0 + 59'000);  // the last 2-second message of the first minute is due here
  int64_t trades = 0;
  for (int i = 0; i < 2000 && trades < 3; ++i) {  // trade times are kT0 + 7 ms per command
    auto ms = s.sim.Step(rng);
    for (const auto& m : ms) trades += m.key.Name() == "btcusdt@trade" ? 1 : 0;
    s.hub->Publish(ms);
  }
  ASSERT_GE(trades, 3);
  s.hub->Tick(kT0 + 60'050);
  const std::string closed = c.Read();
  simdjson::dom::parser p;
  simdjson::padded_string padded(closed);
  simdjson::dom::element k;
  ASSERT_EQ(p.parse(padded)["k"].get(k), simdjson::SUCCESS) << closed;
  EXPECT_EQ(int64_t(k["t"]), kT0) << closed;
  EXPECT_TRUE(bool(k["x"])) << closed;
  EXPECT_GE(int64_t(k["n"]), trades) << closed;
  const std::string current = c.Read();
  EXPECT_NE(current.find("\"t\":" + std::to_string(kT0 + 60'000)), std::string::npos) << current;
  EXPECT_NE(current.find("\"x\":false"), std::string::npos) << current;
}

TEST(StreamHubWs, ResumeReplaysWhatTheConnectionMissedThenLive) {
  Stack s(StreamHubConfig{StreamHistory::Limits{50, 1 << 20, 60'000}});
  Rng rng(11);
  Client first;
  ASSERT_FALSE(first.Connect(s.server->port(), "/ws/btcusdt@depth"));
  PublishDepth(s, rng, 5);
  int64_t last_u = 0;
  for (int i = 0; i < 5; ++i) last_u = Field(first.Read(), "u");
  // The client goes away; 10 more diffs are published meanwhile.
  first.ws.next_layer().close();
  PublishDepth(s, rng, 10);
  Client again;
  ASSERT_FALSE(again.Connect(s.server->port(), "/ws"));
  again.Write(R"({"method":"RESUME","params":["btcusdt@depth",)" + std::to_string(last_u + 1) +
              R"(],"id":"r1"})");
  EXPECT_EQ(again.Read(), R"({"result":{"replayed":10},"id":"r1"})");
  PublishDepth(s, rng, 3);
  for (int i = 0; i < 13; ++i) {  // 10 replayed, 3 live: one gap-free sequence
    const std::string m = again.Read();
    EXPECT_EQ(Field(m, "U"), last_u + 1) << m;
    last_u = Field(m, "u");
  }
  again.Write(R"({"method":"LIST_SUBSCRIPTIONS","id":2})");
  EXPECT_EQ(again.Read(), R"({"result":["btcusdt@depth"],"id":2})");
  // Too old for a 50-message history: a clear error, nothing subscribed.
  PublishDepth(s, rng, 60);
  Client late;
  ASSERT_FALSE(late.Connect(s.server->port(), "/ws"));
  late.Write(R"({"method":"RESUME","params":["btcusdt@depth@100ms",1],"id":3})");
  const std::string err = late.Read();
  EXPECT_TRUE(err.starts_with(
      R"({"code":4,"msg":"Resume not possible: update id 1 is older than the history of )"
      R"(btcusdt@depth@100ms (oldest )"))
      << err;
  EXPECT_TRUE(err.ends_with(R"(; fetch a snapshot","id":3})")) << err;
  late.Write(R"({"method":"LIST_SUBSCRIPTIONS","id":4})");
  EXPECT_EQ(late.Read(), R"({"result":[],"id":4})");
}

TEST(StreamHubWs, ConnectionAttemptsPerIpAreLimited) {
  StreamHubConfig config;
  config.connections_per_ip = 3;
  config.connections_window_ms = 300'000;
  Stack s(config);
  std::vector<std::unique_ptr<Client>> ok;
  for (int i = 0; i < 3; ++i) {
    ok.push_back(std::make_unique<Client>());
    ASSERT_FALSE(ok.back()->Connect(s.server->port(), "/ws/btcusdt@trade"));
  }
  s.now_ms += 100'000;
  Client declined;
  EXPECT_EQ(declined.Connect(s.server->port(), "/ws/btcusdt@trade"),
            websocket::error::upgrade_declined);
  // The refusal itself, read as HTTP.
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), s.server->port()));
  beast::http::request<beast::http::empty_body> upgrade(beast::http::verb::get, "/ws", 11);
  upgrade.set(beast::http::field::host, "127.0.0.1");
  upgrade.set(beast::http::field::upgrade, "websocket");
  upgrade.set(beast::http::field::connection, "Upgrade");
  upgrade.set(beast::http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  upgrade.set(beast::http::field::sec_websocket_version, "13");
  beast::http::write(socket, upgrade);
  beast::flat_buffer buffer;
  beast::http::response<beast::http::string_body> refused;
  beast::http::read(socket, buffer, refused);
  EXPECT_EQ(refused.result_int(), 429u);
  EXPECT_EQ(refused[beast::http::field::retry_after], "200");
  EXPECT_NE(refused.body().find(
                "\"code\":-1003,\"msg\":\"Too many new WebSocket connections from IP 127.0.0.1; "
                "current limit is 3 connection attempts per 300 seconds."),
            std::string::npos)
      << refused.body();
  // Closing connections does not give attempts back; the window does.
  ok.clear();
  s.now_ms += 200'000;
  Client later;
  EXPECT_FALSE(later.Connect(s.server->port(), "/ws/btcusdt@trade"));
}

}  // namespace
}  // namespace spotex::gateway::streams::test
