// ServerConfig::on_request and request ids over real loopback sockets: every answered request
// reaches the observer with its route pattern (unknown paths: none), status, Binance code and
// what the handler noted; X-Request-Id is taken when valid, made up otherwise, and echoed.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gateway/http/router.h"
#include "gateway/http/server.h"
#include "test_client.h"

namespace spotex::http {
namespace {

using std::chrono::milliseconds;
using testing::TestClient;

// A RequestRecord with owned strings.
struct Seen {
  std::string method, path, route, request_id, client_ip, command_id;
  int status = 0;
  int code = 0;
  bool written = false;
  std::optional<uint64_t> account_id;
  std::chrono::nanoseconds duration{0};
};

class Recorder {
 public:
  RequestObserver Observer() {
    return [this](const RequestRecord& r) {
      std::lock_guard lock(mu_);
      seen_.push_back(Seen{std::string(r.method), std::string(r.path), std::string(r.route),
                           std::string(r.request_id), std::string(r.client_ip),
                           std::string(r.command_id), r.status, r.code, r.written, r.account_id,
                           r.duration});
    };
  }
  // The first `n` records, waiting up to 5 s for them (the observer runs after the write).
  std::vector<Seen> Wait(size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + milliseconds(5'000);
    for (;;) {
      {
        std::lock_guard lock(mu_);
        if (seen_.size() >= n || std::chrono::steady_clock::now() >= deadline) {
          return seen_;
        }
      }
      std::this_thread::sleep_for(milliseconds(1));
    }
  }

 private:
  std::mutex mu_;
  std::vector<Seen> seen_;
};

ServerConfig Config(Recorder& recorder) {
  ServerConfig config;
  config.io_threads = 2;
  config.linger_timeout = milliseconds(100);
  config.request_id_header = "X-Request-Id";
  config.on_request = recorder.Observer();
  return config;
}

std::mutex g_kept_mu;
std::vector<Responder> g_kept;

Handler TestRouter() {
  Router router;
  EXPECT_TRUE(router.Add(Method::kGet, "/api/v3/time", [](Request&&, Responder responder) {
    responder.Send(Response::Json(200, "{}"));
  }));
  EXPECT_TRUE(router.Add(Method::kPost, "/api/v3/order", [](Request&& request, Responder r) {
    r.NoteAccount(42);
    r.NoteCommand("gw1-7");
    Response response = Response::FromError(Error{-2010, "rejected", 400});
    // The handler sees the request id the server assigned.
    response.headers.emplace_back("X-Seen-Id", std::string(request.request_id()));
    r.Send(std::move(response));
  }));
  EXPECT_TRUE(router.AddPrefix(Method::kGet, "/api/v3/ticker/",
                               [](Request&&, Responder r) { r.Send(Response::Json(200, "[]")); }));
  EXPECT_TRUE(router.Add(Method::kGet, "/slow", [](Request&&, Responder r) {
    // Never answers: kept until the test ends, so the handler timeout answers for it.
    std::lock_guard lock(g_kept_mu);
    g_kept.push_back(std::move(r));
  }));
  return std::move(router).ToHandler();
}

class ObserverTest : public ::testing::Test {
 protected:
  void Start(ServerConfig config) {
    auto started = Server::Start(std::move(config), TestRouter());
    ASSERT_TRUE(started.has_value()) << started.error();
    server_ = std::move(*started);
  }
  void TearDown() override {
    server_.reset();
    std::lock_guard lock(g_kept_mu);
    g_kept.clear();
  }
  Recorder recorder_;
  std::unique_ptr<Server> server_;
};

TEST_F(ObserverTest, RouteStatusCodeAndNotesReachTheObserver) {
  Start(Config(recorder_));
  TestClient client;
  ASSERT_TRUE(client.Connect(server_->port()));
  ASSERT_TRUE(client.RoundTrip("GET /api/v3/time?signature=abc HTTP/1.1\r\nHost: t\r\n\r\n"));
  const auto order = client.RoundTrip(
      "POST /api/v3/order?symbol=X HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(order.has_value());
  EXPECT_EQ(order->status, 400);
  ASSERT_TRUE(client.RoundTrip("GET /api/v3/ticker/price HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(client.RoundTrip("DELETE /api/v3/time HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(client.RoundTrip("GET /no/such/path/123 HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(client.RoundTrip("GET /another/unknown HTTP/1.1\r\nHost: t\r\n\r\n"));

  const auto seen = recorder_.Wait(6);
  ASSERT_EQ(seen.size(), 6u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].path, "/api/v3/time");  // no query string
  EXPECT_EQ(seen[0].route, "/api/v3/time");
  EXPECT_EQ(seen[0].status, 200);
  EXPECT_EQ(seen[0].code, 0);
  EXPECT_TRUE(seen[0].written);
  EXPECT_EQ(seen[0].client_ip, "127.0.0.1");
  EXPECT_FALSE(seen[0].account_id.has_value());
  EXPECT_GT(seen[0].duration.count(), 0);

  EXPECT_EQ(seen[1].route, "/api/v3/order");
  EXPECT_EQ(seen[1].status, 400);
  EXPECT_EQ(seen[1].code, -2010);
  EXPECT_EQ(seen[1].account_id, 42u);
  EXPECT_EQ(seen[1].command_id, "gw1-7");
  EXPECT_EQ(order->Header("x-seen-id"), seen[1].request_id);

  EXPECT_EQ(seen[2].route, "/api/v3/ticker/");  // the prefix pattern, not the path
  EXPECT_EQ(seen[2].path, "/api/v3/ticker/price");

  EXPECT_EQ(seen[3].route, "/api/v3/time");  // 405: the known path's pattern
  EXPECT_EQ(seen[3].status, 405);
  EXPECT_EQ(seen[3].code, -1020);

  // Unknown paths have no route: one label value for all of them, whatever the path.
  EXPECT_EQ(seen[4].route, "");
  EXPECT_EQ(seen[5].route, "");
  EXPECT_EQ(seen[4].status, 404);
  EXPECT_EQ(seen[4].code, -1020);
  // Notes of one request do not leak into the next on the same connection.
  EXPECT_FALSE(seen[2].account_id.has_value());
  EXPECT_EQ(seen[2].command_id, "");
}

TEST_F(ObserverTest, RequestIdFromTheProxyWhenValidElseMadeUpAndAlwaysEchoed) {
  Start(Config(recorder_));
  TestClient client;
  ASSERT_TRUE(client.Connect(server_->port()));
  const auto given =
      client.RoundTrip("GET /api/v3/time HTTP/1.1\r\nHost: t\r\nX-Request-Id: abc-123.x:y\r\n\r\n");
  const auto bad = client.RoundTrip(
      "GET /api/v3/time HTTP/1.1\r\nHost: t\r\nX-Request-Id: has space\"quote\r\n\r\n");
  const auto long_id = client.RoundTrip("GET /api/v3/time HTTP/1.1\r\nHost: t\r\nX-Request-Id: " +
                                        std::string(kRequestIdMax + 1, 'a') + "\r\n\r\n");
  const auto none = client.RoundTrip("GET /api/v3/time HTTP/1.1\r\nHost: t\r\n\r\n");
  const auto none2 = client.RoundTrip("GET /api/v3/time HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(given && bad && long_id && none && none2);
  EXPECT_EQ(given->Header("x-request-id"), "abc-123.x:y");
  EXPECT_NE(bad->Header("x-request-id"), "");
  EXPECT_TRUE(IsValidRequestId(bad->Header("x-request-id")));
  EXPECT_EQ(bad->Header("x-request-id").find(' '), std::string::npos);
  EXPECT_TRUE(IsValidRequestId(long_id->Header("x-request-id")));
  EXPECT_TRUE(IsValidRequestId(none->Header("x-request-id")));
  EXPECT_NE(none->Header("x-request-id"), none2->Header("x-request-id"));
  const auto seen = recorder_.Wait(5);
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen[0].request_id, "abc-123.x:y");
  EXPECT_EQ(seen[3].request_id, none->Header("x-request-id"));
}

TEST_F(ObserverTest, WithoutTheHeaderSettingThereAreNoIds) {
  ServerConfig config = Config(recorder_);
  config.request_id_header.clear();
  Start(std::move(config));
  TestClient client;
  ASSERT_TRUE(client.Connect(server_->port()));
  const auto r =
      client.RoundTrip("GET /api/v3/time HTTP/1.1\r\nHost: t\r\nX-Request-Id: abc\r\n\r\n");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->Header("x-request-id"), "");
  const auto seen = recorder_.Wait(1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].request_id, "");
}

TEST_F(ObserverTest, ServerMadeAnswersAreObservedToo) {
  ServerConfig config = Config(recorder_);
  config.handler_timeout = milliseconds(200);
  Start(std::move(config));
  TestClient client;
  ASSERT_TRUE(client.Connect(server_->port()));
  const auto slow = client.RoundTrip("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(slow.has_value());
  EXPECT_EQ(slow->status, 500);
  TestClient bad;
  ASSERT_TRUE(bad.Connect(server_->port()));
  const auto malformed = bad.RoundTrip("GET / HTTP/1.1\r\nBad Header\r\n\r\n");
  ASSERT_TRUE(malformed.has_value());
  EXPECT_EQ(malformed->status, 400);
  EXPECT_NE(malformed->Header("x-request-id"), "");

  auto seen = recorder_.Wait(2);
  ASSERT_EQ(seen.size(), 2u);
  // Two connections: the server observes each answer once its write completes, and the
  // client may read the first answer before that, so the two may be observed in either order.
  if (seen[0].status != 500) std::swap(seen[0], seen[1]);
  EXPECT_EQ(seen[0].route, "/slow");
  EXPECT_EQ(seen[0].status, 500);
  EXPECT_EQ(seen[0].code, -1007);
  EXPECT_EQ(seen[1].status, 400);
  EXPECT_EQ(seen[1].code, -1000);
  EXPECT_EQ(seen[1].route, "");
  EXPECT_EQ(seen[1].method, "");
  EXPECT_EQ(seen[1].client_ip, "127.0.0.1");
}

TEST(RouterMatchTest, MatchGivesThePatternDispatchWouldUse) {
  Router router;
  const auto ok = [](Request&&, Responder r) { r.Send(Response::Json(200, "{}")); };
  ASSERT_TRUE(router.Add(Method::kGet, "/a", ok));
  ASSERT_TRUE(router.AddPrefix(Method::kGet, "/p/", ok));
  ASSERT_TRUE(router.AddPrefix(Method::kGet, "/p/q/", ok));
  EXPECT_EQ(router.Match(Method::kGet, "/a"), "/a");
  EXPECT_EQ(router.Match(Method::kPost, "/a"), "/a");  // 405 for the known path
  EXPECT_EQ(router.Match(Method::kGet, "/p/q/r"), "/p/q/");
  EXPECT_EQ(router.Match(Method::kGet, "/p/x"), "/p/");
  EXPECT_EQ(router.Match(Method::kGet, "/b"), "");
  EXPECT_EQ(router.Match(Method::kGet, "/a/"), "");
}

}  // namespace
}  // namespace spotex::http
