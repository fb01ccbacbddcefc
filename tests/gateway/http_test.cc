// spotex::http::Server and Router over real loopback sockets: keep-alive, pipelining,
// asynchronous answers, every server-made error, limits, timeouts and shutdown.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
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
using testing::ParsedResponse;
using testing::TestClient;

constexpr std::string_view kPing = "GET /ping HTTP/1.1\r\nHost: t\r\n\r\n";
constexpr std::string_view kUnknownError =
    R"({"code":-1000,"msg":"An unknown error occurred while processing the request."})";
constexpr std::string_view kUnsupported =
    R"({"code":-1020,"msg":"This operation is not supported."})";

// Short timeouts so that timeout tests end fast; long enough not to fire under sanitizers.
ServerConfig TestConfig() {
  ServerConfig config;
  config.io_threads = 2;
  config.request_timeout = milliseconds(3'000);
  config.idle_timeout = milliseconds(10'000);
  config.write_timeout = milliseconds(3'000);
  config.handler_timeout = milliseconds(10'000);
  config.linger_timeout = milliseconds(200);
  return config;
}

// Responders a handler kept for later, handed to the test thread.
class Stash {
 public:
  void Put(Responder responder) {
    std::lock_guard lock(mu_);
    responders_.push_back(std::move(responder));
    cv_.notify_all();
  }
  // The oldest stashed Responder, waiting up to 5 s for one.
  Responder Take() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, milliseconds(5'000), [this] { return !responders_.empty(); });
    if (responders_.empty()) {
      return Responder();
    }
    Responder responder = std::move(responders_.front());
    responders_.pop_front();
    return responder;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Responder> responders_;
};

// Answers on its own thread, like the engine reply path does.
class AnswerThread {
 public:
  AnswerThread() : thread_([this] { Run(); }) {}
  ~AnswerThread() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void Answer(Responder responder, Response response) {
    std::lock_guard lock(mu_);
    jobs_.emplace_back(std::move(responder), std::move(response));
    cv_.notify_all();
  }
  std::thread::id id() const { return thread_.get_id(); }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) {
        return;
      }
      auto [responder, response] = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      responder.Send(std::move(response));
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<Responder, Response>> jobs_;
  bool stop_ = false;
  std::thread thread_;
};

// Waits (at most 5 s) until `condition` holds; for server counters that change just after the
// client saw the effect (e.g. the socket is closed before the timeout is counted).
template <typename Condition>
bool Eventually(Condition condition) {
  const auto deadline = std::chrono::steady_clock::now() + milliseconds(5'000);
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

Handler PingRouter() {
  Router router;
  EXPECT_TRUE(router.Add(Method::kGet, "/ping", [](Request&&, Responder responder) {
    responder.Send(Response::Json(200, "{}"));
  }));
  EXPECT_TRUE(router.Add(Method::kPost, "/echo", [](Request&& request, Responder responder) {
    responder.Send(Response::Json(200, std::string(request.body())));
  }));
  return std::move(router).ToHandler();
}

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerConfig config, Handler handler) {
    auto started = Server::Start(std::move(config), std::move(handler));
    ASSERT_TRUE(started.has_value()) << started.error();
    server_ = std::move(*started);
  }
  uint16_t port() const { return server_->port(); }

  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartServer(TestConfig(), PingRouter());
  TestClient client;
  ASSERT_TRUE(client.Connect(port()));
  for (int i = 0; i < 3; ++i) {
    const std::optional<ParsedResponse> response = client.RoundTrip(kPing);
    ASSERT_TRUE(response.has_value()) << "request " << i;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "{}");
    EXPECT_EQ(response->Header("content-type"), "application/json;charset=UTF-8");
  }
  EXPECT_EQ(server_->stats().connections_accepted, 1u);
  EXPECT_EQ(server_->stats().requests, 3u);
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer(TestConfig(), PingRouter());
  TestClient client;
  ASSERT_TRUE(client.Connect(port()));
  std::string batch;
  for (int i = 0; i < 3; ++i) {
    const std::string body = "{\"n\":" + std::to_string(i) + "}";
    batch += "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) +
             "\r\n\r\n" + body;
  }
  ASSERT_TRUE(client.Send(batch));
  for (int i = 0; i < 3; ++i) {
    const std::optional<ParsedResponse> response = client.ReadResponse();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->body, "{\"n\":" + std::to_string(i) + "}");
  }
}

TEST_F(ServerTest, RequestCarriesMethodTargetHeadersBodyAndPeer) {
  std::promise<std::string> seen;
  StartServer(TestConfig(), [&seen](Request&& request, Responder responder) {
    std::string summary = std::string(request.method_name()) + "|" + std::string(request.path()) +
                          "|" + std::string(request.query()) + "|" +
                          std::string(request.Header("x-mbx-apikey").value_or("none")) + "|" +
                          std::string(request.body()) + "|" + std::string(request.peer_ip()) + "|" +
                          std::string(request.client_ip());
    seen.set_value(std::move(summary));
    responder.Send(Response::Json(200, "{}"));
  });
  TestClient client;
  ASSERT_TRUE(client.Connect(port()));
  const auto response = client.RoundTrip(
      "POST /api/v3/order?symbol=BTCUSDT&signature=ab%2Bc HTTP/1.1\r\nHost: t\r\n"
      "X-MBX-APIKEY: key1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
      "Content-Length: 9\r\n\r\nside=BUY&");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(seen.get_future().get(),
            "POST|/api/v3/order|symbol=BTCUSDT&signature=ab%2Bc|key1|side=BUY&|127.0.0.1|"
            "127.0.0.1");
}

TEST_F(ServerTest, ChunkedBodyIsDecoded) {
  StartServer(TestConfig(), PingRouter());
  TestClient client;
  ASSERT_TRUE(client.Connect(port()));
  const auto response = client.RoundTrip(
      "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, "abcde");
}

TEST_F(ServerTest, Expect100ContinueGetsInterimResponse) {
  StartServer(TestConfig(), PingRouter());
  TestClient client;
  ASSERT_TRUE(client.Connect(port()));
  ASSERT_TRUE(client.Send(
      "POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"));
  const auto interim = client.ReadResponse(milliseconds(5'000), /*head=*/true);
  ASSERT_TRUE(interim.has_value());
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client.Send("{}"));
  const auto response = client.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "{}");
}

TEST_F(ServerTest, AsyncHandlerAnswersFromAnotherThread) {
  AnswerThread answers;
  StartServer(TestConfig(), [&answers](Request&& request, Responder responder) {
    Response response = Response::Json(200, "{\"path\":\"" + std::string(request.path()) + "\"}");
    response.headers.emplace_back("X-MBX-USED-WEIGHT-1M", "7");
    answers.Answer(std::move(responder), std::move(response));
  });
  TestClient client;
  ASSERT_TRUE(client.Connect(port()));
  for (int i = 0; i < 5; ++i) {
    const auto response =
        client.RoundTrip("GET /a/" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "{\"path\":\"/a/" + std::to_string(i) + "\"}");
    EXPECT_EQ(response->Header("x-mbx-used-weight-1m"), "7");
  }
}

TEST_F(ServerTest, ManyClientsWithAsyncAnswers) {
  AnswerThread answers;
  StartServer(TestConfig(), [&answers](Request&& request, Responder responder) {
    answers.Answer(std::move(responder), Response::Json(200, std::string(request.body())));
  });
  constexpr int kClients = 8;
  constexpr int kRequests = 40;
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&ok, c, this] {
      TestClient client;
      if (!client.Connect(port())) {
        return;
      }
      for (int i = 0; i < kRequests; ++i) {
        const std::string body = std::to_string(c * 1000 + i);
        const auto response = client.RoundTrip("POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: " +
                                               std::to_string(body.size()) + "\r\n\r\n" + body);
        if (response.has_value() && response->body == body) {
          ok.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& thread : clients) {
    thread.join();
  }
  EXPECT_EQ(ok.load(), kClients * kRequests);
}

TEST_F(ServerTest, DroppedResponderAnswers500AndKeepsTheConnection) {
  StartServer(TestConfig(), [](Request&& request, Responder responder) {
    if (request.path() == "/drop") {
      return;  // Responder destroyed unanswered
    }
    responder.Send(Response::Json(200, "{}"));
  });
  TestClient client;
  ASSERT_TRUE(client.Connect(port()));
  const auto dropped = client.RoundTrip("GET /drop HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(dropped.has_value());
  EXPECT_EQ(dropped->status, 500);
  EXPECT_EQ(dropped->body, kUnknownError);
  const auto next = client.RoundTrip(kPing);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(server_->stats().dropped_responders, 1u);
}

TEST_F(ServerTest, ThrowingHandlerAnswers500) {
  StartServer(TestConfig(), [](Request&&, Responder) { throw std::runtime_error("boom"); });
  TestClient client;
  ASSERT_TRUE(client.Connect(port()));
  const auto response = client.RoundTrip(kPing);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 500);
  EXPECT_EQ(response->body, kUnknownError);
}

TEST_F(ServerTest, SecondAnswerIsRejected) {
  std::promise<bool> second;
  StartServer(TestConfig(), [&second](Request&&, Responder responder) {
    EXPECT_TRUE(responder.Send(Response::Json(200, "{\"first\":true}")));
    second.set_value(responder.Send(Response::Json(200, "{\"second\":true}")));
  });
  TestClient client;
  ASSERT_TRUE(client.Connect(port()));
  const auto response = client.RoundTrip(kPing);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, "{\"first\":true}");
  EXPECT_FALSE(second.get_future().get());
}

TEST_F(ServerTest, SlowHandlerGetsBackendTimeoutAndLateAnswerIsDiscarded) {
  ServerConfig config = TestConfig();
  config.handler_timeout = milliseconds(150);
  Stash stash;
  StartServer(config, [&stash](Request&& request, Responder responder) {
    if (request.path() == "/slow") {
      stash.Put(std::move(responder));
      return;
    }
    responder.Send(Response::Json(200, "{}"));
  });
  TestClient client;
  ASSERT_TRUE(client.Connect(port()));
  const auto response = client.RoundTrip("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 500);
  EXPECT_EQ(response->body,
            R"({"code":-1007,"msg":"Timeout waiting for response from backend server. Send )"
            R"(status unknown; execution status unknown."})");
  Responder late = stash.Take();
  ASSERT_TRUE(static_cast<bool>(late));
  EXPECT_FALSE(late.Send(Response::Json(200, "{\"late\":true}")));
  const auto next = client.RoundTrip(kPing);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->body, "{}");
  EXPECT_EQ(server_->stats().handler_timeouts, 1u);
}

TEST_F(ServerTest, UnknownPathIs404AndWrongMethodIs405) {
  StartServer(TestConfig(), PingRouter());
  TestClient client;
  ASSERT_TRUE(client.Connect(port()));
  const auto not_found = client.RoundTrip("GET /api/v3/nothing HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(not_found.has_value());
  EXPECT_EQ(not_found->status, 404);
  EXPECT_EQ(not_found->body, kUnsupported);
  const auto wrong_method = client.RoundTrip("DELETE /ping HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(wrong_method.has_value());
  EXPECT_EQ(wrong_method->status, 405);
  EXPECT_EQ(wrong_method->body, kUnsupported);
  EXPECT_EQ(wrong_method->Header("allow"), "GET");
  // The query string is not part of the path.
  const auto with_query = client.RoundTrip("GET /ping?x=1 HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(with_query.has_value());
  EXPECT_EQ(with_query->status, 200);
}

TEST_F(ServerTest, HeadGetsHeadersWithoutBody) {
  Router router;
  const auto answer = [](Request&&, Responder responder) {
    responder.Send(Response::Json(200, "{\"a\":1}"));
  };
  ASSERT_TRUE(router.Add(Method::kGet, "/x", answer));
  ASSERT_TRUE(router.Add(Method::kHead, "/x", answer));
  ASSERT_TRUE(router.Add(Method::kPost, "/x", answer));
  StartServer(TestConfig(), std::move(router).ToHandler());
  TestClient client;
  ASSERT_TRUE(client.Connect(port()));
  ASSERT_TRUE(client.Send("HEAD /x HTTP/1.1\r\nHost: t\r\n\r\n"));
  const auto head = client.ReadResponse(milliseconds(5'000), /*head=*/true);
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("content-length"), "7");
  // Had a body been sent, it would be read as the start of this response.
  const auto get = client.RoundTrip("GET /x HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(get.has_value());
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, "{\"a\":1}");
  const auto wrong = client.RoundTrip("PUT /x HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(wrong.has_value());
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(wrong->Header("allow"), "GET, HEAD, POST");
}

TEST(RouterTest, ExactRoutesWinOverPrefixesAndLongestPrefixWins) {
  Router router;
  const auto answer_with = [](std::string body) {
    return [body](Request&&, Responder responder) { responder.Send(Response::Json(200, body)); };
  };
  EXPECT_TRUE(router.AddPrefix(Method::kGet, "/ws/", answer_with("prefix")));
  EXPECT_TRUE(router.AddPrefix(Method::kGet, "/ws/special/", answer_with("longer")));
  EXPECT_TRUE(router.Add(Method::kGet, "/ws/exact", answer_with("exact")));
  EXPECT_FALSE(router.Add(Method::kGet, "/ws/exact", answer_with("again")));
  EXPECT_FALSE(router.Add(Method::kGet, "/empty", Handler()));
  auto started = Server::Start(TestConfig(), std::move(router).ToHandler());
  ASSERT_TRUE(started.has_value());
  TestClient client;
  ASSERT_TRUE(client.Connect((*started)->port()));
  for (const auto& [path, body] : std::vector<std::pair<std::string, std::string>>{
           {"/ws/0", "prefix"}, {"/ws/special/1", "longer"}, {"/ws/exact", "exact"}}) {
    const auto response = client.RoundTrip("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->body, body) << path;
  }
}

TEST_F(ServerTest, OversizedHeaderIs431AndCloses) {
  StartServer(TestConfig(), PingRouter());
  TestClient client;
  ASSERT_TRUE(client.Connect(port()));
  const std::string request =
      "GET /ping HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(10'000, 'a') + "\r\n\r\n";
  const auto response = client.RoundTrip(request);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 431);
  EXPECT_EQ(response->body, R"({"code":-1000,"msg":"Request header fields too large."})");
  EXPECT_EQ(response->Header("connection"), "close");
  EXPECT_TRUE(client.WaitForClose());
  EXPECT_EQ(server_->stats().malformed_requests, 1u);
  EXPECT_EQ(server_->stats().requests, 0u);
}

TEST_F(ServerTest, OversizedBodyIs413ByContentLength) {
  StartServer(TestConfig(), PingRouter());
  TestClient client;
  ASSERT_TRUE(client.Connect(port()));
  const std::string body(70'000, 'x');
  const auto response =
      client.RoundTrip("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 70000\r\n\r\n" + body);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->body, R"({"code":-1000,"msg":"Request body too large."})");
  EXPECT_TRUE(client.WaitForClose());
}

TEST_F(ServerTest, OversizedChunkedBodyIs413) {
  ServerConfig config = TestConfig();
  config.body_limit_bytes = 1024;
  StartServer(config, PingRouter());
  TestClient client;
  ASSERT_TRUE(client.Connect(port()));
  std::string request = "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 4; ++i) {
    request += "200\r\n" + std::string(512, 'y') + "\r\n";
  }
  request += "0\r\n\r\n";
  const auto response = client.RoundTrip(request);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);
}

TEST_F(ServerTest, BodyAtTheLimitIsAccepted) {
  ServerConfig config = TestConfig();
  config.body_limit_bytes = 1024;
  StartServer(config, PingRouter());
  TestClient client;
  ASSERT_TRUE(client.Connect(port()));
  const auto response = client.RoundTrip(
      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1024\r\n\r\n" + std::string(1024, 'z'));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body.size(), 1024u);
}

TEST_F(ServerTest, MalformedRequestsAre400AndClose) {
  StartServer(TestConfig(), PingRouter());
  for (const std::string_view bad : {
           std::string_view("GARBAGE\r\n\r\n"),
           std::string_view("GET /ping HTTP/9.9\r\nHost: t\r\n\r\n"),
           std::string_view("GET /ping HTTP/1.1\r\nBad Header Line\r\n\r\n"),
           std::string_view("GET /pi\x01ng HTTP/1.1\r\nHost: t\r\n\r\n"),
           std::string_view("POST /echo HTTP/1.1\r\nContent-Length: abc\r\n\r\n"),
           std::string_view("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
       }) {
    TestClient client;
    ASSERT_TRUE(client.Connect(port()));
    const auto response = client.RoundTrip(bad);
    ASSERT_TRUE(response.has_value()) << bad;
    EXPECT_EQ(response->status, 400) << bad;
    EXPECT_EQ(response->body, R"({"code":-1000,"msg":"Malformed HTTP request."})") << bad;
    EXPECT_TRUE(client.WaitForClose()) << bad;
  }
  // The server is still fine.
  TestClient client;
  ASSERT_TRUE(client.Connect(port()));
  const auto response = client.RoundTrip(kPing);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
}

TEST_F(ServerTest, SlowClientIsDisconnectedAfterRequestTimeout) {
  ServerConfig config = TestConfig();
  config.request_timeout = milliseconds(200);
  StartServer(config, PingRouter());
  TestClient client;
  ASSERT_TRUE(client.Connect(port()));
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.Send("GET /ping HTTP/1.1\r\nHost: t\r\n"));  // never finished
  EXPECT_TRUE(client.WaitForClose(milliseconds(5'000)));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(elapsed, milliseconds(150));
  EXPECT_TRUE(Eventually([this] { return server_->stats().timeouts == 1; }));
}

TEST_F(ServerTest, IdleKeepAliveConnectionIsClosed) {
  ServerConfig config = TestConfig();
  config.idle_timeout = milliseconds(200);
  StartServer(config, PingRouter());
  TestClient client;
  ASSERT_TRUE(client.Connect(port()));
  const auto response = client.RoundTrip(kPing);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->Header("connection"), "");  // HTTP/1.1: keep-alive is the default
  EXPECT_TRUE(client.WaitForClose(milliseconds(5'000)));
}

TEST_F(ServerTest, Http10WithoutKeepAliveIsClosedAfterTheResponse) {
  StartServer(TestConfig(), PingRouter());
  TestClient client;
  ASSERT_TRUE(client.Connect(port()));
  const auto response = client.RoundTrip("GET /ping HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(client.WaitForClose());
}

TEST_F(ServerTest, ConnectionsOverTheLimitGet503) {
  ServerConfig config = TestConfig();
  config.max_connections = 2;
  StartServer(config, PingRouter());
  TestClient first;
  TestClient second;
  ASSERT_TRUE(first.Connect(port()));
  ASSERT_TRUE(second.Connect(port()));
  // A served request proves each connection is registered.
  ASSERT_TRUE(first.RoundTrip(kPing).has_value());
  ASSERT_TRUE(second.RoundTrip(kPing).has_value());

  TestClient third;
  ASSERT_TRUE(third.Connect(port()));
  const auto refused = third.ReadResponse();
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->body,
            R"({"code":-1008,"msg":"Server is currently overloaded with other requests. )"
            R"(Please try again in a few minutes."})");
  EXPECT_TRUE(third.WaitForClose());
  EXPECT_EQ(server_->stats().connections_refused, 1u);

  // Once a connection goes, a new one is served.
  first.Close();
  ASSERT_TRUE(Eventually([this] { return server_->stats().connections_active == 1; }));
  TestClient fourth;
  ASSERT_TRUE(fourth.Connect(port()));
  const auto served = fourth.RoundTrip(kPing);
  ASSERT_TRUE(served.has_value());
  EXPECT_EQ(served->status, 200);
}

TEST_F(ServerTest, GracefulShutdownFinishesTheInFlightRequest) {
  Stash stash;
  StartServer(TestConfig(), [&stash](Request&& request, Responder responder) {
    if (request.path() == "/wait") {
      stash.Put(std::move(responder));
      return;
    }
    responder.Send(Response::Json(200, "{}"));
  });
  TestClient idle;
  ASSERT_TRUE(idle.Connect(port()));
  ASSERT_TRUE(idle.RoundTrip(kPing).has_value());
  TestClient busy;
  ASSERT_TRUE(busy.Connect(port()));
  ASSERT_TRUE(busy.Send("GET /wait HTTP/1.1\r\nHost: t\r\n\r\n"));
  Responder in_flight = stash.Take();
  ASSERT_TRUE(static_cast<bool>(in_flight));

  server_->Shutdown();
  EXPECT_TRUE(server_->draining());
  EXPECT_TRUE(idle.WaitForClose());  // idle keep-alive connections go at once
  TestClient late;
  EXPECT_FALSE(late.Connect(port()));  // nothing listens any more

  ASSERT_TRUE(in_flight.Send(Response::Json(200, "{\"done\":true}")));
  const auto response = busy.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "{\"done\":true}");
  EXPECT_EQ(response->Header("connection"), "close");
  EXPECT_TRUE(busy.WaitForClose());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(server_->Wait(milliseconds(5'000)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(4'000));
}

TEST_F(ServerTest, ShutdownClosesWhatOutlivesTheGracePeriod) {
  Stash stash;
  StartServer(TestConfig(),
              [&stash](Request&&, Responder responder) { stash.Put(std::move(responder)); });
  TestClient client;
  ASSERT_TRUE(client.Connect(port()));
  ASSERT_TRUE(client.Send(kPing));
  Responder never = stash.Take();
  ASSERT_TRUE(static_cast<bool>(never));
  EXPECT_FALSE(server_->Stop(milliseconds(100)));
  EXPECT_TRUE(client.WaitForClose());
  // The server is gone: a late answer is discarded, and destroying it is harmless.
  EXPECT_FALSE(never.Send(Response::Json(200, "{}")));
  server_.reset();
}

TEST_F(ServerTest, ResponderMayOutliveTheServer) {
  Stash stash;
  StartServer(TestConfig(),
              [&stash](Request&&, Responder responder) { stash.Put(std::move(responder)); });
  TestClient client;
  ASSERT_TRUE(client.Connect(port()));
  ASSERT_TRUE(client.Send(kPing));
  Responder kept = stash.Take();
  ASSERT_TRUE(static_cast<bool>(kept));
  server_.reset();  // destructor: Stop(linger_timeout)
  EXPECT_FALSE(kept.Send(Response::Json(200, "{}")));
}

TEST_F(ServerTest, ForwardedForIsHonouredOnlyFromTrustedProxies) {
  const auto echo_client_ip = [](Request&& request, Responder responder) {
    responder.Send(Response::Json(200, std::string(request.client_ip())));
  };
  const std::string request =
      "GET / HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 203.0.113.7, 10.0.0.1\r\n\r\n";
  struct Case {
    std::vector<std::string> trusted;
    std::string client_ip;
  };
  for (const Case& c : std::vector<Case>{
           {{}, "127.0.0.1"},                           // no proxy trusted: the peer
           {{"10.9.9.9"}, "127.0.0.1"},                 // the peer is not a trusted proxy
           {{"127.0.0.1"}, "10.0.0.1"},                 // nearest untrusted hop
           {{"127.0.0.1", "10.0.0.1"}, "203.0.113.7"},  // through two trusted proxies
       }) {
    ServerConfig config = TestConfig();
    config.trusted_proxies = c.trusted;
    auto started = Server::Start(config, echo_client_ip);
    ASSERT_TRUE(started.has_value());
    TestClient client;
    ASSERT_TRUE(client.Connect((*started)->port()));
    const auto response = client.RoundTrip(request);
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->body, c.client_ip);
  }
  // Garbage in the header stops the walk at the last good address.
  ServerConfig config = TestConfig();
  config.trusted_proxies = {"127.0.0.1"};
  auto started = Server::Start(config, echo_client_ip);
  ASSERT_TRUE(started.has_value());
  TestClient client;
  ASSERT_TRUE(client.Connect((*started)->port()));
  const auto response = client.RoundTrip(
      "GET / HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 203.0.113.7, not-an-ip\r\n\r\n");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, "127.0.0.1");
}

TEST_F(ServerTest, UnsafeResponseHeadersAreDropped) {
  StartServer(TestConfig(), [](Request&&, Responder responder) {
    Response response = Response::Json(200, "{}");
    response.headers.emplace_back("X-Ok", "1");
    response.headers.emplace_back("X-Split", "a\r\nX-Injected: 1");
    response.headers.emplace_back("Bad Name", "1");
    response.headers.emplace_back("Content-Length", "999");
    responder.Send(std::move(response));
  });
  TestClient client;
  ASSERT_TRUE(client.Connect(port()));
  const auto response = client.RoundTrip(kPing);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->Header("x-ok"), "1");
  EXPECT_EQ(response->Header("x-split"), "");
  EXPECT_EQ(response->Header("x-injected"), "");
  EXPECT_EQ(response->Header("content-length"), "2");
  EXPECT_EQ(response->body, "{}");
}

TEST(ServerStartTest, RejectsBadConfigAndBusyPorts) {
  const Handler handler = [](Request&&, Responder) {};
  ServerConfig bad_address = TestConfig();
  bad_address.address = "not-an-address";
  EXPECT_FALSE(Server::Start(bad_address, handler).has_value());
  ServerConfig no_threads = TestConfig();
  no_threads.io_threads = 0;
  EXPECT_FALSE(Server::Start(no_threads, handler).has_value());
  ServerConfig bad_proxy = TestConfig();
  bad_proxy.trusted_proxies = {"proxy.example"};
  EXPECT_FALSE(Server::Start(bad_proxy, handler).has_value());
  EXPECT_FALSE(Server::Start(TestConfig(), Handler()).has_value());

  auto first = Server::Start(TestConfig(), handler);
  ASSERT_TRUE(first.has_value());
  ServerConfig same_port = TestConfig();
  same_port.port = (*first)->port();
  const auto second = Server::Start(same_port, handler);
  ASSERT_FALSE(second.has_value());
  EXPECT_NE(second.error().find("cannot listen"), std::string::npos) << second.error();
}

}  // namespace
}  // namespace spotex::http
