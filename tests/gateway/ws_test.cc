// spotex::http::Server WebSocket endpoints over real loopback sockets, with Beast's client.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gateway/http/server.h"

namespace spotex::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// Records what the server saw of its connections.
struct Recorder {
  std::mutex mu;
  std::vector<std::pair<uint16_t, std::string>> closes;
  std::vector<std::shared_ptr<WsConnection>> connections;
  std::vector<std::string> targets;

  size_t close_count() {
    std::lock_guard lock(mu);
    return closes.size();
  }
  bool WaitCloses(size_t n) {
    for (int i = 0; i < 1000 && close_count() < n; ++i) std::this_thread::sleep_for(10ms);
    return close_count() >= n;
  }
};

// Echo handler: every text comes back prefixed with "echo:"; "close" makes the server close.
WsFactory EchoFactory(std::shared_ptr<Recorder> recorder, WsStats* stats = nullptr) {
  return [recorder, stats](const WsRequest& request,
                    const std::shared_ptr<WsConnection>& connection) -> std::expected<WsHandlers, Response> {
    if (request.target.find("reject") != std::string::npos) {
      return std::unexpected(Response::Json(400, R"({"code":-1100,"msg":"bad stream"})"));
    }
    {
      std::lock_guard lock(recorder->mu);
      recorder->connections.push_back(connection);
      recorder->targets.push_back(request.target);
    }
    std::weak_ptr<WsConnection> weak = connection;
    WsHandlers handlers;
    handlers.stats = stats;
    handlers.on_message = [weak](std::string_view text) {
      if (auto c = weak.lock()) {
        if (text == "close") {
          c->Close(4000, "asked");
        } else {
          c->Send(std::make_shared<const std::string>("echo:" + std::string(text)));
        }
      }
    };
    handlers.on_close = [recorder](uint16_t code, std::string_view reason) {
      std::lock_guard lock(recorder->mu);
      recorder->closes.emplace_back(code, std::string(reason));
    };
    handlers.on_shutdown = [weak] {
      if (auto c = weak.lock()) c->Send(std::make_shared<const std::string>(R"({"e":"serverShutdown"})"));
    };
    return handlers;
  };
}

void NotFound(Request&&, Responder responder) {
  responder.Send(Response::Json(404, R"({"code":-1,"msg":"not found"})"));
}

struct Fixture {
  std::shared_ptr<Recorder> recorder = std::make_shared<Recorder>();
  std::unique_ptr<Server> server;

  explicit Fixture(WebSocketConfig ws = {}, size_t max_connections = 10'000,
                   WsStats* stats = nullptr) {
    ServerConfig config;
    config.max_connections = max_connections;
    config.linger_timeout = 100ms;
    config.websocket = std::move(ws);
    if (config.websocket.paths.empty()) config.websocket.paths = {"/ws", "/stream"};
    auto started = Server::Start(config, NotFound, EchoFactory(recorder, stats));
    EXPECT_TRUE(started.has_value()) << (started ? "" : started.error());
    server = std::move(*started);
  }
};

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
  std::string Read(beast::error_code& ec) {
    buffer.consume(buffer.size());
    ws.read(buffer, ec);
    return beast::buffers_to_string(buffer.data());
  }
  // Reads until the connection closes; returns the close code (1006 if none came).
  uint16_t ReadUntilClosed(std::vector<std::string>* messages = nullptr) {
    for (;;) {
      beast::error_code ec;
      std::string text = Read(ec);
      if (ec) {
        return ec == websocket::error::closed ? ws.reason().code : 1006;
      }
      if (messages != nullptr) messages->push_back(std::move(text));
    }
  }
};

TEST(WebSocketServer, UpgradesRegisteredPathAndEchoes) {
  Fixture f;
  Client client;
  ASSERT_FALSE(client.Connect(f.server->port(), "/ws/btcusdt@trade"));
  client.ws.write(asio::buffer(std::string("hello")));
  beast::error_code ec;
  EXPECT_EQ(client.Read(ec), "echo:hello");
  ASSERT_FALSE(ec);
  client.ws.write(asio::buffer(std::string("close")));
  EXPECT_EQ(client.ReadUntilClosed(), 4000);
  ASSERT_TRUE(f.recorder->WaitCloses(1));
  EXPECT_EQ(f.recorder->closes[0].first, 4000);
  EXPECT_EQ(f.recorder->targets[0], "/ws/btcusdt@trade");
  // Combined-stream form with a query.
  Client combined;
  ASSERT_FALSE(combined.Connect(f.server->port(), "/stream?streams="));
  combined.ws.write(asio::buffer(std::string("x")));
  EXPECT_EQ(combined.Read(ec), "echo:x");
}

TEST(WebSocketServer, OtherPathsAndRefusalsStayHttp) {
  Fixture f;
  {
    Client client;  // not a registered path: the HTTP handler answers 404
    const beast::error_code ec = client.Connect(f.server->port(), "/wsx");
    EXPECT_EQ(ec, websocket::error::upgrade_declined);
  }
  {
    Client client;  // the factory refuses
    const beast::error_code ec = client.Connect(f.server->port(), "/ws/reject");
    EXPECT_EQ(ec, websocket::error::upgrade_declined);
  }
  // A plain GET on a WebSocket path goes to the handler.
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), f.server->port()));
  beast::http::request<beast::http::empty_body> request(beast::http::verb::get, "/ws", 11);
  request.set(beast::http::field::host, "x");
  beast::http::write(socket, request);
  beast::flat_buffer buffer;
  beast::http::response<beast::http::string_body> response;
  beast::http::read(socket, buffer, response);
  EXPECT_EQ(response.result_int(), 404u);
  EXPECT_EQ(f.server->stats().connections_refused, 0u);
}

TEST(WebSocketServer, SharedPayloadReachesEveryConnection) {
  Fixture f;
  constexpr int kClients = 200;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<Client>());
    ASSERT_FALSE(clients.back()->Connect(f.server->port(), "/ws"));
  }
  std::vector<std::shared_ptr<WsConnection>> connections;
  for (int i = 0; i < 500 && connections.size() < kClients; ++i) {
    std::this_thread::sleep_for(5ms);
    std::lock_guard lock(f.recorder->mu);
    connections = f.recorder->connections;
  }
  ASSERT_EQ(connections.size(), static_cast<size_t>(kClients));
  auto payload = std::make_shared<const std::string>(R"({"e":"trade","s":"BTCUSDT"})");
  for (const auto& c : connections) EXPECT_TRUE(c->Send(payload));
  for (auto& client : clients) {
    beast::error_code ec;
    EXPECT_EQ(client->Read(ec), *payload);
    EXPECT_FALSE(ec);
  }
}

TEST(WebSocketServer, OversizedMessageClosesWith1009) {
  WebSocketConfig ws;
  ws.max_message_bytes = 64;
  Fixture f(ws);
  Client client;
  ASSERT_FALSE(client.Connect(f.server->port(), "/ws"));
  client.ws.write(asio::buffer(std::string(65, 'a')));
  EXPECT_EQ(client.ReadUntilClosed(), 1009);
  ASSERT_TRUE(f.recorder->WaitCloses(1));
  EXPECT_EQ(f.recorder->closes[0].first, 1009);
}

TEST(WebSocketServer, RateLimitCloses) {
  WebSocketConfig ws;
  ws.max_messages_per_second = 5;
  Fixture f(ws);
  Client client;
  ASSERT_FALSE(client.Connect(f.server->port(), "/ws"));
  for (int i = 0; i < 10; ++i) client.ws.write(asio::buffer(std::string("m")));
  std::vector<std::string> messages;
  EXPECT_EQ(client.ReadUntilClosed(&messages), 1008);
  EXPECT_LE(messages.size(), 5u);
  EXPECT_EQ(client.ws.reason().reason, "Too many requests");
}

TEST(WebSocketServer, ClientWithoutPongsIsDropped) {
  WebSocketConfig ws;
  ws.ping_interval = 50ms;
  ws.pong_timeout = 200ms;
  ws.close_timeout = 200ms;
  Fixture f(ws);
  Client client;
  ASSERT_FALSE(client.Connect(f.server->port(), "/ws"));
  // Not reading: the client never answers the pings.
  ASSERT_TRUE(f.recorder->WaitCloses(1));
  EXPECT_EQ(f.recorder->closes[0].first, 1008);
  EXPECT_EQ(f.recorder->closes[0].second, "pong timeout");
}

TEST(WebSocketServer, ReadingClientAnswersPingsAndStays) {
  WebSocketConfig ws;
  ws.ping_interval = 30ms;
  ws.pong_timeout = 1s;  // generous: the client answers only while it reads
  ws.max_messages_per_second = 100;
  Fixture f(ws);
  Client client;
  ASSERT_FALSE(client.Connect(f.server->port(), "/ws"));
  std::atomic<int> pings{0};
  std::atomic<int> pongs{0};
  client.ws.control_callback([&](websocket::frame_type kind, beast::string_view) {
    if (kind == websocket::frame_type::ping) ++pings;
    if (kind == websocket::frame_type::pong) ++pongs;
  });
  client.ws.ping({});  // the server answers client pings
  for (int i = 0; i < 10; ++i) {
    std::this_thread::sleep_for(50ms);
    client.ws.write(asio::buffer(std::string("p")));
    beast::error_code ec;
    EXPECT_EQ(client.Read(ec), "echo:p");  // reading answers the server's pings
    ASSERT_FALSE(ec);
  }
  EXPECT_GT(pings.load(), 0);
  EXPECT_GT(pongs.load(), 0);
  EXPECT_EQ(f.recorder->close_count(), 0u);
}

TEST(WebSocketServer, SlowConsumerIsClosedFastOneKeepsReceiving) {
  WebSocketConfig ws;
  ws.send_queue_bytes = 64 * 1024;
  ws.send_queue_messages = 1000;
  ws.close_timeout = 200ms;
  WsStats stats;
  Fixture f(ws, 10'000, &stats);
  Client slow;
  Client fast;
  ASSERT_FALSE(slow.Connect(f.server->port(), "/ws"));
  ASSERT_FALSE(fast.Connect(f.server->port(), "/ws"));
  std::vector<std::shared_ptr<WsConnection>> connections;
  for (int i = 0; i < 500 && connections.size() < 2; ++i) {
    std::this_thread::sleep_for(5ms);
    std::lock_guard lock(f.recorder->mu);
    connections = f.recorder->connections;
  }
  ASSERT_EQ(connections.size(), 2u);
  auto payload = std::make_shared<const std::string>(std::string(4096, 'x'));
  bool slow_refused = false;
  // Far more than the socket buffers and the queue hold; the fast client reads everything.
  for (int i = 0; i < 20'000 && !slow_refused; ++i) {
    EXPECT_TRUE(connections[1]->Send(payload));
    slow_refused = !connections[0]->Send(payload);
    beast::error_code ec;
    EXPECT_EQ(fast.Read(ec).size(), payload->size());
    ASSERT_FALSE(ec);
  }
  ASSERT_TRUE(slow_refused);
  ASSERT_TRUE(f.recorder->WaitCloses(1));
  EXPECT_EQ(f.recorder->closes[0].first, 1008);
  EXPECT_EQ(f.recorder->closes[0].second, "slow consumer");
  EXPECT_EQ(stats.slow_consumer_closes.load(), 1u);
  EXPECT_TRUE(connections[1]->Send(payload));
  beast::error_code ec;
  EXPECT_EQ(fast.Read(ec).size(), payload->size());
  EXPECT_FALSE(ec);
}

// The transport's counters for the application's metrics (WsHandlers::stats).
TEST(WebSocketServer, StatsCountConnectionsAndMessages) {
  WsStats stats;
  Fixture f({}, 10'000, &stats);
  {
    Client client;
    ASSERT_FALSE(client.Connect(f.server->port(), "/ws"));
    client.ws.write(asio::buffer(std::string("a")));
    client.ws.write(asio::buffer(std::string("b")));
    beast::error_code ec;
    EXPECT_EQ(client.Read(ec), "echo:a");
    EXPECT_EQ(client.Read(ec), "echo:b");
    EXPECT_EQ(stats.open.load(), 1);
    EXPECT_EQ(stats.accepted.load(), 1u);
    EXPECT_EQ(stats.messages_received.load(), 2u);
    for (int i = 0; i < 500 && stats.messages_sent.load() < 2; ++i) std::this_thread::sleep_for(2ms);
    EXPECT_EQ(stats.messages_sent.load(), 2u);
    client.ws.write(asio::buffer(std::string("close")));
    EXPECT_EQ(client.ReadUntilClosed(), 4000);
  }
  for (int i = 0; i < 500 && stats.open.load() != 0; ++i) std::this_thread::sleep_for(2ms);
  EXPECT_EQ(stats.open.load(), 0);
  {
    Client refused;  // refused upgrades are not counted
    EXPECT_EQ(refused.Connect(f.server->port(), "/ws/reject"), websocket::error::upgrade_declined);
  }
  EXPECT_EQ(stats.accepted.load(), 1u);
  EXPECT_EQ(stats.slow_consumer_closes.load(), 0u);
}

TEST(WebSocketServer, ShutdownSendsLastEventThenGoingAway) {
  Fixture f;
  Client client;
  ASSERT_FALSE(client.Connect(f.server->port(), "/ws"));
  client.ws.write(asio::buffer(std::string("a")));
  beast::error_code ec;
  EXPECT_EQ(client.Read(ec), "echo:a");
  std::thread stopper([&] { f.server->Stop(5s); });
  std::vector<std::string> messages;
  EXPECT_EQ(client.ReadUntilClosed(&messages), 1001);
  stopper.join();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], R"({"e":"serverShutdown"})");
}

TEST(WebSocketServer, MalformedFramesCloseCleanly) {
  Fixture f;
  for (const std::string& garbage :
       {std::string(16, '\xff'),  // reserved bits, 64-bit length with the top bit set
        std::string("\x81\x05hello", 7),  // unmasked client frame
        std::string("\x8f\x80\x00\x00\x00\x00", 6)}) {  // reserved opcode
    Client client;
    ASSERT_FALSE(client.Connect(f.server->port(), "/ws"));
    asio::write(client.ws.next_layer(), asio::buffer(garbage));
    std::array<char, 256> sink{};
    beast::error_code ec;
    while (!ec) client.ws.next_layer().read_some(asio::buffer(sink), ec);  // server closes
  }
  ASSERT_TRUE(f.recorder->WaitCloses(3));
  for (const auto& [code, reason] : f.recorder->closes) EXPECT_EQ(code, 1002) << reason;
  // Still serving.
  Client client;
  ASSERT_FALSE(client.Connect(f.server->port(), "/ws"));
}

TEST(WebSocketServer, SharesTheConnectionLimit) {
  Fixture f({}, 1);
  Client first;
  ASSERT_FALSE(first.Connect(f.server->port(), "/ws"));
  Client second;
  EXPECT_TRUE(second.Connect(f.server->port(), "/ws"));
  EXPECT_EQ(f.server->stats().connections_refused, 1u);
}

}  // namespace
}  // namespace spotex::http
