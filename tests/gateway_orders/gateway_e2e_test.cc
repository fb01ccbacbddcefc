// spotex-gateway as a process against a real nats-server and spotex-engine: the public
// market-data endpoints over HTTP, fed by orders that go through the command log.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "engine/command.h"
#include "harness.h"
#include "proto/codec.h"
#include "proto/envelope.h"
#include "service/command_client.h"

namespace spotex::testing {
namespace {

void WriteFile(const std::string& path, const std::string& text) {
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr) << path;
  std::fputs(text.c_str(), f);
  std::fclose(f);
  ::chmod(path.c_str(), 0600);
}

// One HTTP/1.1 GET with Connection: close; returns status line + body.
std::pair<int, std::string> Get(int port, const std::string& target) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return {0, ""};
  }
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  (void)::write(fd, req.data(), req.size());
  std::string resp;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) resp.append(buf, static_cast<size_t>(n));
  ::close(fd);
  int status = resp.size() > 12 ? std::atoi(resp.substr(9, 3).c_str()) : 0;
  auto body = resp.find("\r\n\r\n");
  return {status, body == std::string::npos ? "" : resp.substr(body + 4)};
}

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nats_ = std::make_unique<NatsServer>(dir_.path());
    ASSERT_TRUE(nats_->ok());
    engine_ = std::make_unique<EngineProcess>(
        *nats_, dir_.path() + "/engine", dir_.path() + "/engine.log",
        EngineOptions{std::string(SPOTEX_SOURCE_DIR) + "/etc/markets.toml", 200000, 300});
    engine_->Start();
    auto client = service::CommandClient::Connect(nats_->config(), 0);
    ASSERT_TRUE(client);
    client_ = std::move(*client);
    // The engine creates the streams and lists the markets (9 commands) when it starts.
    for (int i = 0; i < 200; ++i) {
      auto st = client_->Query("status", 500);
      if (st && JsonField(*st, "logSeq") == "9") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    for (engine::AccountId a : {1, 2}) {
      Send(engine::OpenAccount{a});
      Send(engine::Deposit{a, 0, engine::Amount{10'00000000}});
      Send(engine::Deposit{a, 3, engine::Amount{1'000'000'00000000}});
    }
    // One resting ask before the gateway starts: it must come from the seed.
    Order(1, engine::Side::kSell, 6'500'000, 200);
    port_ = FreePort();
    // The gateway's secrets; PostgreSQL and Redis are not running (nothing here needs them:
    // the rate limiter fails open), so their ports are free ones.
    const std::string secrets = dir_.path() + "/secrets";
    ::mkdir(secrets.c_str(), 0700);
    WriteFile(secrets + "/auth_master_key.1", std::string(64, 'a'));
    WriteFile(secrets + "/admin-token", "test-admin-token-0123456789");
    gateway_ =
        Spawn({SPOTEX_GATEWAY_BIN, "--port", std::to_string(port_), "--nats-url", nats_->url(),
               "--nats-user", "spotex", "--nats-password-file", nats_->password_file(),
               "--secrets-dir", secrets, "--pg-port", std::to_string(FreePort()),
               "--redis-port", std::to_string(FreePort())},
              dir_.path() + "/gateway.log");
    for (int i = 0; i < 100 && Get(port_, "/health").first != 200; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_EQ(Get(port_, "/health").first, 200) << ReadFile(dir_.path() + "/gateway.log");
  }
  void TearDown() override {
    if (gateway_ > 0) KillAndWait(gateway_, SIGTERM);
  }
  // The command's result code (kInvalidParameter, after a test failure, if it got no answer).
  engine::RejectCode Send(engine::CommandBody body) {
    auto r = client_->Call(proto::EncodeCommand(engine::Command{0, 0, body}), {}, 10000);
    auto env = r ? proto::Envelope::Parse(*r) : std::unexpected(proto::EnvelopeError::kTruncated);
    if (!env) {
      ADD_FAILURE() << (r ? "bad envelope" : r.error().message);
      return engine::RejectCode::kInvalidParameter;
    }
    return env->header().code;
  }
  // price in cents, qty in 0.00001 BTC steps
  void Order(engine::AccountId a, engine::Side side, int64_t cents, int64_t steps) {
    engine::NewOrder o;
    o.account = a;
    o.side = side;
    o.type = engine::OrderType::kLimit;
    o.tif = engine::TimeInForce::kGtc;
    o.price = engine::Price{cents * 1'000'000};
    o.qty = engine::Qty{steps * 1'000};
    EXPECT_EQ(Send(engine::PlaceOrder{o}), engine::RejectCode::kNone);
  }
  // Waits until the gateway's depth contains `what`.
  std::string WaitDepth(const std::string& what) {
    std::string body;
    for (int i = 0; i < 100; ++i) {
      body = Get(port_, "/api/v3/depth?symbol=BTCUSDT&limit=5").second;
      if (body.find(what) != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return body;
  }

  TempDir dir_;
  std::unique_ptr<NatsServer> nats_;
  std::unique_ptr<EngineProcess> engine_;
  std::unique_ptr<service::CommandClient> client_;
  pid_t gateway_ = -1;
  int port_ = 0;
};

TEST_F(GatewayTest, MarketDataFollowsTheLog) {
  // Seeded: the ask placed before the gateway started.
  std::string depth = WaitDepth("[\"65000.00000000\",\"0.00200000\"]");
  EXPECT_NE(depth.find("\"asks\":[[\"65000.00000000\",\"0.00200000\"]]"), std::string::npos)
      << depth;
  // Live: a buy that takes half of it, and a resting bid.
  Order(2, engine::Side::kBuy, 6'500'000, 100);
  Order(2, engine::Side::kBuy, 6'499'000, 300);
  depth = WaitDepth("64990.00000000");
  EXPECT_NE(depth.find("\"bids\":[[\"64990.00000000\",\"0.00300000\"]],\"asks\":[["
                       "\"65000.00000000\",\"0.00100000\"]]"),
            std::string::npos)
      << depth;
  auto trades = Get(port_, "/api/v3/trades?symbol=BTCUSDT");
  EXPECT_EQ(trades.first, 200);
  EXPECT_NE(trades.second.find("\"price\":\"65000.00000000\",\"qty\":\"0.00100000\","
                               "\"quoteQty\":\"65.00000000\""),
            std::string::npos)
      << trades.second;
  auto ticker = Get(port_, "/api/v3/ticker/24hr?symbol=BTCUSDT").second;
  EXPECT_NE(ticker.find("\"lastPrice\":\"65000.00000000\""), std::string::npos) << ticker;
  EXPECT_NE(ticker.find("\"count\":1}"), std::string::npos) << ticker;
  auto klines = Get(port_, "/api/v3/klines?symbol=BTCUSDT&interval=1m").second;
  EXPECT_NE(klines.find("\"65000.00000000\",\"65000.00000000\",\"65000.00000000\","
                        "\"65000.00000000\",\"0.00100000\""),
            std::string::npos)
      << klines;
  auto book = Get(port_, "/api/v3/ticker/bookTicker?symbol=BTCUSDT").second;
  EXPECT_EQ(book,
            "{\"symbol\":\"BTCUSDT\",\"bidPrice\":\"64990.00000000\",\"bidQty\":\"0.00300000\","
            "\"askPrice\":\"65000.00000000\",\"askQty\":\"0.00100000\"}");
  auto info = Get(port_, "/api/v3/exchangeInfo").second;
  EXPECT_NE(info.find("\"symbol\":\"ETHBTC\""), std::string::npos);
}

TEST_F(GatewayTest, BadRequestsGetBinanceErrorsNeverA5xx) {
  struct Case {
    const char* target;
    int status;
    const char* body;
  } cases[] = {
      {"/api/v3/depth?symbol=NOPE", 400, "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}"},
      {"/api/v3/depth", 400,
       "{\"code\":-1102,\"msg\":\"Mandatory parameter 'symbol' was not sent, was empty/null, or "
       "malformed.\"}"},
      {"/api/v3/klines?symbol=BTCUSDT&interval=7m", 400,
       "{\"code\":-1120,\"msg\":\"Invalid interval.\"}"},
      {"/api/v3/depth?symbol=BTCUSDT&limit=abc", 400, nullptr},
      {"/api/v3/depth?symbol=BTCUSDT&limit=1e3", 400, nullptr},
      {"/api/v3/depth?symbol=BTCUSDT&symbol=ETHUSDT", 400, nullptr},
      {"/api/v3/depth?symbol=BTC%ZZ", 400, nullptr},
      {"/api/v3/depth?symbol=BTCUSDT&extra=1", 400, nullptr},
      {"/api/v3/ticker/24hr?symbols=notjson", 400, nullptr},
      {"/api/v3/nothing", 404, nullptr},
  };
  for (const auto& c : cases) {
    auto [status, body] = Get(port_, c.target);
    EXPECT_EQ(status, c.status) << c.target << " -> " << body;
    if (c.body != nullptr) {
      EXPECT_EQ(body, c.body) << c.target;
    } else {
      EXPECT_TRUE(body.starts_with("{\"code\":-1")) << c.target << " -> " << body;
    }
  }
}

}  // namespace
}  // namespace spotex::testing
