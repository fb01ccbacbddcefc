// WorkerPool: bounded queue, refusal answered 503 -1008 through the Responder, tasks drained on
// destruction.
#include "gateway/users/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <latch>

#include "../gateway/test_client.h"
#include "gateway/http/router.h"

namespace spotex::gateway::users {
namespace {

TEST(WorkerPoolTest, RefusesBeyondTheQueueAndRunsTheRest) {
  std::atomic<int> ran{0};
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  {
    WorkerPool pool(1, 2);
    std::latch started(1);
    ASSERT_TRUE(pool.TrySubmit([&] {
      started.count_down();
      gate.wait();
      ++ran;
    }));
    started.wait();  // the only thread is busy; the queue holds 2
    EXPECT_TRUE(pool.TrySubmit([&] { ++ran; }));
    EXPECT_TRUE(pool.TrySubmit([&] { ++ran; }));
    EXPECT_FALSE(pool.TrySubmit([&] { ++ran; }));
    EXPECT_EQ(pool.rejected(), 1u);
    EXPECT_EQ(pool.queued(), 2u);
    release.set_value();
  }  // the destructor runs what was queued
  EXPECT_EQ(ran.load(), 3);
}

TEST(WorkerPoolTest, FullPoolAnswers503OverHttp) {
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  WorkerPool pool(1, 1);
  std::latch started(1);
  ASSERT_TRUE(pool.TrySubmit([&] {
    started.count_down();
    gate.wait();
  }));
  started.wait();
  ASSERT_TRUE(pool.TrySubmit([] {}));  // the queue is now full

  http::Router router;
  ASSERT_TRUE(router.Add(http::Method::kGet, "/work",
                         [&pool](http::Request&&, http::Responder responder) {
                           pool.Run(std::move(responder), [](http::Responder& r) {
                             r.Send(http::Response::Json(200, "{}"));
                           });
                         }));
  auto server = http::Server::Start(http::ServerConfig{}, std::move(router).ToHandler());
  ASSERT_TRUE(server) << server.error();
  http::testing::TestClient client;
  ASSERT_TRUE(client.Connect((*server)->port()));
  auto busy = client.RoundTrip("GET /work HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(busy);
  EXPECT_EQ(busy->status, 503);
  EXPECT_EQ(busy->body,
            "{\"code\":-1008,\"msg\":\"Server is currently overloaded with other requests. "
            "Please try again in a few minutes.\"}");

  release.set_value();
  // Once the pool has room again the same route answers from a pool thread.
  std::optional<http::testing::ParsedResponse> ok;
  for (int i = 0; i < 200; ++i) {
    ok = client.RoundTrip("GET /work HTTP/1.1\r\nHost: t\r\n\r\n");
    if (ok && ok->status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, "{}");
  (*server)->Stop(std::chrono::milliseconds(1000));
}

}  // namespace
}  // namespace spotex::gateway::users
