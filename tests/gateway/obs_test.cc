// The gateway's request log and request metrics (src/gateway/obs): what an answered request
// becomes in the metrics (route patterns, one "unmatched" for every unknown path, codes) and in
// the log (modes all/errors/off, no query strings, token-like path segments redacted).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "gateway/obs/metrics.h"
#include "gateway/obs/request_log.h"
#include "gateway/obs/warn_throttle.h"
#include "service/log.h"
#include "service/metrics.h"

namespace spotex::gateway::obs {
namespace {

// Redirects stderr (the log) into a file for its lifetime.
class CaptureStderr {
 public:
  CaptureStderr() {
    char name[] = "/tmp/spotex-obs-test-XXXXXX";
    const int fd = mkstemp(name);
    path_ = name;
    std::fflush(stderr);
    saved_ = dup(2);
    dup2(fd, 2);
    close(fd);
    EXPECT_TRUE(service::InitLog({}));
  }
  ~CaptureStderr() {
    std::fflush(stderr);
    dup2(saved_, 2);
    close(saved_);
    unlink(path_.c_str());
  }
  std::vector<std::string> lines() {
    std::ifstream in(path_);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

 private:
  std::string path_;
  int saved_ = -1;
};

http::RequestRecord Record(std::string_view method, std::string_view path, std::string_view route,
                           int status, int code = 0) {
  http::RequestRecord r;
  r.method = method;
  r.path = path;
  r.route = route;
  r.status = status;
  r.code = code;
  r.duration = std::chrono::microseconds(1500);
  r.request_id = "rid-1";
  r.client_ip = "10.1.2.3";
  return r;
}

TEST(SanitizePathTest, RedactsTokenSegmentsKeepsTheRest) {
  const std::string key(64, 'k');
  EXPECT_EQ(SanitizePath("/ws/" + key), "/ws/<redacted>");
  EXPECT_EQ(SanitizePath("/ws/btcusdt@trade/ethusdt@depth@100ms"),
            "/ws/btcusdt@trade/ethusdt@depth@100ms");
  EXPECT_EQ(SanitizePath("/api/v3/order"), "/api/v3/order");
  EXPECT_EQ(SanitizePath("/x/" + std::string(31, 'a') + "/y"), "/x/" + std::string(31, 'a') + "/y");
  EXPECT_EQ(SanitizePath("/x/" + std::string(32, 'a') + "/y"), "/x/<redacted>/y");
  // Cut at 256 bytes, and a token cut in half is redacted too.
  const std::string long_path = "/" + std::string(250, 'b') + "/" + key;
  const std::string cut = SanitizePath(long_path);
  EXPECT_TRUE(cut.ends_with("/<redacted>...")) << cut;
  EXPECT_EQ(cut.find("kkkk"), std::string::npos);
}

TEST(AccessLogTest, ParsesTheThreeModes) {
  EXPECT_EQ(ParseAccessLog("all"), AccessLog::kAll);
  EXPECT_EQ(ParseAccessLog("errors"), AccessLog::kErrors);
  EXPECT_EQ(ParseAccessLog("off"), AccessLog::kOff);
  EXPECT_FALSE(ParseAccessLog("ALL").has_value());
  EXPECT_FALSE(ParseAccessLog("").has_value());
}

TEST(RequestObserverTest, CountsByRoutePatternAndCollapsesUnknownPaths) {
  metrics::Registry registry;
  GatewayMetrics m(registry);
  auto observe =
      MakeRequestObserver({AccessLog::kOff, &m, [](http::Method method, std::string_view path) {
                             return method == http::Method::kGet && path == "/api/v3/depth"
                                        ? std::string_view("/api/v3/depth")
                                        : std::string_view();
                           }});
  observe(Record("GET", "/api/v3/time", "/api/v3/time", 200));
  observe(Record("GET", "/api/v3/time", "/api/v3/time", 200));
  observe(Record("POST", "/api/v3/order", "/api/v3/order", 400, -2010));
  observe(Record("GET", "/random/1", "", 404, -1020));
  observe(Record("GET", "/random/2", "", 404, -1020));
  observe(Record("PURGE", "/random/3", "", 404, -1020));
  // Refused by the rate limit before the router: the route comes from route_of.
  observe(Record("GET", "/api/v3/depth", "", 429, -1003));
  const std::string text = registry.Render();
  auto has = [&](const std::string& line) {
    return text.find("\n" + line + "\n") != std::string::npos;
  };
  EXPECT_TRUE(has(
      R"(spotex_gateway_http_requests_total{route="/api/v3/time",method="GET",status="200"} 2)"))
      << text;
  EXPECT_TRUE(has(
      R"(spotex_gateway_http_requests_total{route="/api/v3/order",method="POST",status="400"} 1)"));
  EXPECT_TRUE(
      has(R"(spotex_gateway_http_requests_total{route="unmatched",method="GET",status="404"} 2)"));
  EXPECT_TRUE(has(
      R"(spotex_gateway_http_requests_total{route="unmatched",method="OTHER",status="404"} 1)"));
  EXPECT_TRUE(has(
      R"(spotex_gateway_http_requests_total{route="/api/v3/depth",method="GET",status="429"} 1)"));
  EXPECT_TRUE(has(R"(spotex_gateway_binance_errors_total{code="-1020"} 3)"));
  EXPECT_TRUE(has(R"(spotex_gateway_binance_errors_total{code="-2010"} 1)"));
  EXPECT_TRUE(has(
      R"(spotex_gateway_http_request_duration_seconds_count{route="/api/v3/time",method="GET"} 2)"));
  EXPECT_EQ(text.find("/random/"), std::string::npos);
  EXPECT_EQ(text.find("PURGE"), std::string::npos);
}

TEST(RequestObserverTest, SecondInstanceDoesNotReuseTheFirstOnesChildren) {
  // The per-thread cache must not hand a new registry's observer the old registry's children.
  for (int i = 0; i < 2; ++i) {
    metrics::Registry registry;
    GatewayMetrics m(registry);
    m.ObserveRequest("/a", "GET", 200, 0, 0.001);
    EXPECT_NE(
        registry.Render().find(
            "\nspotex_gateway_http_requests_total{route=\"/a\",method=\"GET\",status=\"200\"} 1\n"),
        std::string::npos)
        << "instance " << i;
  }
}

TEST(RequestObserverTest, LogModesAndLineContent) {
  CaptureStderr cap;
  http::RequestRecord ok = Record("GET", "/api/v3/time", "/api/v3/time", 200);
  http::RequestRecord order = Record("POST", "/api/v3/order", "/api/v3/order", 500, -1007);
  order.account_id = 7;
  order.command_id = "gw-9";
  const std::string ws_path = "/ws/" + std::string(64, 'Z');  // a listenKey
  http::RequestRecord ws = Record("GET", ws_path, "/ws", 101);
  for (AccessLog mode : {AccessLog::kAll, AccessLog::kErrors, AccessLog::kOff}) {
    auto observe = MakeRequestObserver({mode, nullptr, {}});
    observe(ok);
    observe(order);
    observe(ws);
  }
  const auto lines = cap.lines();
  ASSERT_EQ(lines.size(), 4u);  // all: 3, errors: 1, off: 0
  EXPECT_NE(
      lines[0].find(
          R"("level":"info","component":"http","msg":"request","method":"GET","path":"/api/v3/time","route":"/api/v3/time","status":200,"duration_s":0.001500,"request_id":"rid-1","client_ip":"10.1.2.3"})"),
      std::string::npos)
      << lines[0];
  EXPECT_NE(lines[1].find(R"("level":"warn")"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find(R"("code":-1007)"), std::string::npos);
  EXPECT_NE(lines[1].find(R"("account_id":7,"command_id":"gw-9")"), std::string::npos);
  EXPECT_NE(lines[2].find(R"("path":"/ws/<redacted>","route":"/ws","status":101)"),
            std::string::npos)
      << lines[2];
  EXPECT_EQ(lines[2].find("ZZZZ"), std::string::npos);
  EXPECT_NE(lines[3].find(R"("status":500)"), std::string::npos);  // errors mode: only the 5xx
}

TEST(WarnThrottleTest, OneLinePerIntervalWithTheSuppressedCount) {
  CaptureStderr cap;
  WarnThrottle throttle("trading", std::chrono::milliseconds(200));
  EXPECT_TRUE(throttle.Warn("first", service::LogFields{.request_id = "r1", .command_id = "c1"}));
  EXPECT_FALSE(throttle.Warn("second"));
  EXPECT_FALSE(throttle.Warn("third"));
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  EXPECT_TRUE(throttle.Warn("fourth"));
  const auto lines = cap.lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find(R"("msg":"first","request_id":"r1","command_id":"c1"})"),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[1].find(R"("msg":"fourth","suppressed":2})"), std::string::npos) << lines[1];
}

}  // namespace
}  // namespace spotex::gateway::obs
