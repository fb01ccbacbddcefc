// Request weights (BINANCE_API.md §3) and the layer that charges them before any endpoint, over
// a real server: refused requests never reach the endpoint; every answer carries the headers.
#include "gateway/api/request_limits.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "gateway/http/router.h"
#include "test_client.h"

namespace spotex::gateway {
namespace {

int Weight(http::Method method, std::string_view target, std::string_view body = {}) {
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  auto params = http::Params::Parse(query, body);
  return RequestWeight(method, path, params ? &*params : nullptr);
}

TEST(RequestWeight, FollowsBinanceTable) {
  using http::Method;
  EXPECT_EQ(Weight(Method::kGet, "/api/v3/ping"), 1);
  EXPECT_EQ(Weight(Method::kGet, "/api/v3/exchangeInfo"), 20);
  EXPECT_EQ(Weight(Method::kGet, "/api/v3/depth?symbol=BTCUSDT"), 5);
  EXPECT_EQ(Weight(Method::kGet, "/api/v3/depth?symbol=BTCUSDT&limit=500"), 25);
  EXPECT_EQ(Weight(Method::kGet, "/api/v3/depth?symbol=BTCUSDT&limit=1000"), 50);
  EXPECT_EQ(Weight(Method::kGet, "/api/v3/depth?symbol=BTCUSDT&limit=5000"), 250);
  EXPECT_EQ(Weight(Method::kGet, "/api/v3/trades?symbol=BTCUSDT"), 25);
  EXPECT_EQ(Weight(Method::kGet, "/api/v3/aggTrades?symbol=BTCUSDT"), 4);
  EXPECT_EQ(Weight(Method::kGet, "/api/v3/klines?symbol=BTCUSDT&interval=1m"), 2);
  EXPECT_EQ(Weight(Method::kGet, "/api/v3/ticker/24hr?symbol=BTCUSDT"), 2);
  EXPECT_EQ(Weight(Method::kGet, "/api/v3/ticker/24hr"), 80);
  EXPECT_EQ(Weight(Method::kGet, "/api/v3/ticker/24hr?symbols=%5B%22A%22%2C%22B%22%5D"), 2);
  EXPECT_EQ(Weight(Method::kGet, "/api/v3/ticker/price"), 4);
  EXPECT_EQ(Weight(Method::kGet, "/api/v3/ticker/bookTicker?symbol=BTCUSDT"), 2);
  EXPECT_EQ(Weight(Method::kPost, "/api/v3/order", "symbol=BTCUSDT"), 1);
  EXPECT_EQ(Weight(Method::kGet, "/api/v3/order?symbol=BTCUSDT&orderId=1"), 4);
  EXPECT_EQ(Weight(Method::kDelete, "/api/v3/order?symbol=BTCUSDT&orderId=1"), 1);
  EXPECT_EQ(Weight(Method::kPost, "/api/v3/order/test", "computeCommissionRates=true"), 20);
  EXPECT_EQ(Weight(Method::kGet, "/api/v3/openOrders?symbol=BTCUSDT"), 6);
  EXPECT_EQ(Weight(Method::kGet, "/api/v3/openOrders"), 80);
  EXPECT_EQ(Weight(Method::kDelete, "/api/v3/openOrders?symbol=BTCUSDT"), 1);
  EXPECT_EQ(Weight(Method::kGet, "/api/v3/account"), 20);
  EXPECT_EQ(Weight(Method::kGet, "/api/v3/allOrders?symbol=BTCUSDT"), 20);
  EXPECT_EQ(Weight(Method::kGet, "/api/v3/myTrades?symbol=BTCUSDT"), 20);
  EXPECT_EQ(Weight(Method::kGet, "/api/v3/myTrades?symbol=BTCUSDT&orderId=3"), 5);
  EXPECT_EQ(Weight(Method::kPost, "/api/v1/session"), 100);
  EXPECT_EQ(Weight(Method::kGet, "/no/such/path"), 1);
}

TEST(RequestWeight, UnparsableParametersCountAsAbsent) {
  EXPECT_EQ(Weight(http::Method::kGet, "/api/v3/depth?limit=%zz"), 5);  // query refused: default
  EXPECT_EQ(Weight(http::Method::kGet, "/api/v3/depth?limit=abc"), 5);
}

// Allows `budget` total weight, then refuses with 429.
class FakeLimiter : public RateLimiter {
 public:
  explicit FakeLimiter(int budget) : budget_(budget) {}
  LimitVerdict ChargeRequest(std::string_view ip, int weight) override {
    std::lock_guard lock(mu_);
    ips_.emplace_back(ip);
    used_ += weight;
    LimitVerdict v;
    v.headers = {{"X-MBX-USED-WEIGHT-1M", std::to_string(used_)}};
    if (used_ > budget_) {
      v.allowed = false;
      v.error = http::Error{-1003, "Too much request weight used.", 429};
      v.headers.emplace_back("Retry-After", "7");
    }
    return v;
  }
  LimitVerdict ChargeOrder(int64_t) override { return {}; }
  std::vector<std::string> ips() {
    std::lock_guard lock(mu_);
    return ips_;
  }

 private:
  std::mutex mu_;
  int budget_;
  int used_ = 0;
  std::vector<std::string> ips_;
};

TEST(WithRequestLimits, ChargesBeforeTheEndpointAndRefusesOverTheLimit) {
  FakeLimiter limiter(/*budget=*/25);
  std::atomic<int> reached{0};
  http::Router router;
  ASSERT_TRUE(router.Add(http::Method::kGet, "/api/v3/exchangeInfo",
                         [&](http::Request&&, http::Responder respond) {
                           ++reached;
                           respond(http::Response::Json(200, "{}"));
                         }));
  ASSERT_TRUE(router.Add(http::Method::kGet, "/health", [&](http::Request&&, http::Responder r) {
    r(http::Response::Json(200, "{\"status\":\"ok\"}"));
  }));
  http::ServerConfig config;
  auto server = http::Server::Start(config, WithRequestLimits(std::move(router).ToHandler(), limiter));
  ASSERT_TRUE(server.has_value()) << server.error();
  http::testing::TestClient client;
  ASSERT_TRUE(client.Connect((*server)->port()));
  const std::string get = "GET /api/v3/exchangeInfo HTTP/1.1\r\nHost: x\r\n\r\n";

  ASSERT_TRUE(client.Send(get));
  auto first = client.ReadResponse();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->Header("x-mbx-used-weight-1m"), "20");

  ASSERT_TRUE(client.Send(get));
  auto second = client.ReadResponse();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->status, 429);
  EXPECT_EQ(second->Header("x-mbx-used-weight-1m"), "40");
  EXPECT_EQ(second->Header("retry-after"), "7");
  EXPECT_NE(second->body.find("-1003"), std::string::npos);
  EXPECT_EQ(reached.load(), 1);

  // The load balancer's health check is never charged.
  ASSERT_TRUE(client.Send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto health = client.ReadResponse();
  ASSERT_TRUE(health.has_value());
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->Header("x-mbx-used-weight-1m"), "");
  EXPECT_EQ(limiter.ips(), (std::vector<std::string>{"127.0.0.1", "127.0.0.1"}));
}

}  // namespace
}  // namespace spotex::gateway
