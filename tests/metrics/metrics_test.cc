// The shared metrics library: exposition text (escaping, cumulative histograms), concurrency,
// process metrics, and the loopback server (GET /metrics, 404/405/400, hostile clients).
#include "service/metrics.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ctime>
#include <string>
#include <thread>
#include <vector>

namespace spotex::metrics {
namespace {

bool Has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

int Connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends `raw` and reads until the server closes.
std::string Exchange(uint16_t port, const std::string& raw) {
  int fd = Connect(port);
  if (fd < 0) {
    return {};
  }
  (void)!::send(fd, raw.data(), raw.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string Get(uint16_t port, const std::string& path) {
  return Exchange(port, "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
}

TEST(MetricsTest, RendersCountersAndGaugesWithHelpTypeAndLabels) {
  Registry r;
  auto& requests = r.AddCounter("spotex_test_requests_total", "Requests.", {"route", "code"});
  auto& depth = r.AddGauge("spotex_test_depth", "Queue depth.");
  requests.With({"/api/v3/order", "200"}).Inc();
  requests.With({"/api/v3/order", "200"}).Inc(2);
  requests.With({"/api/v3/depth", "400"}).Inc();
  depth.With({}).Set(2.5);
  depth.With({}).Add(-1);
  EXPECT_EQ(requests.With({"/api/v3/order", "200"}).Value(), 3u);
  std::string t = r.Render();
  EXPECT_TRUE(Has(t,
                  "# HELP spotex_test_requests_total Requests.\n"
                  "# TYPE spotex_test_requests_total counter\n"))
      << t;
  EXPECT_TRUE(Has(t, "spotex_test_requests_total{route=\"/api/v3/order\",code=\"200\"} 3\n")) << t;
  EXPECT_TRUE(Has(t, "spotex_test_requests_total{route=\"/api/v3/depth\",code=\"400\"} 1\n")) << t;
  EXPECT_TRUE(Has(t, "# TYPE spotex_test_depth gauge\nspotex_test_depth 1.5\n")) << t;
  // Registration order.
  EXPECT_LT(t.find("spotex_test_requests_total"), t.find("spotex_test_depth"));
}

TEST(MetricsTest, UnlabelledMetricsExistFromRegistrationAndLabelledOnesShowTheirHeader) {
  Registry r;
  r.AddCounter("spotex_test_a_total", "A.");
  r.AddHistogram("spotex_test_b_seconds", "B.", {1}, {"kind"});
  std::string t = r.Render();
  EXPECT_TRUE(Has(t, "\nspotex_test_a_total 0\n")) << t;
  EXPECT_TRUE(Has(t, "# TYPE spotex_test_b_seconds histogram\n")) << t;
  EXPECT_FALSE(Has(t, "spotex_test_b_seconds_count")) << t;
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  Registry r;
  auto& f = r.AddCounter("spotex_test_esc_total", "Line one\nback\\slash \"quoted\".", {"v"});
  f.With({"a\"b\\c\nd"}).Inc();
  std::string t = r.Render();
  // HELP escapes backslash and newline but not the quote.
  EXPECT_TRUE(Has(t, "# HELP spotex_test_esc_total Line one\\nback\\\\slash \"quoted\".\n")) << t;
  EXPECT_TRUE(Has(t, "spotex_test_esc_total{v=\"a\\\"b\\\\c\\nd\"} 1\n")) << t;
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithSumCountAndInf) {
  Registry r;
  auto& h = r.AddHistogram("spotex_test_latency_seconds", "Latency.", {0.001, 0.01, 0.1}, {"op"})
                .With({"place"});
  h.Observe(0.0005);  // <= 0.001
  h.Observe(0.001);   // upper bound inclusive: <= 0.001
  h.Observe(0.05);    // <= 0.1
  h.Observe(3);       // +Inf only
  std::string t = r.Render();
  EXPECT_TRUE(Has(t, "spotex_test_latency_seconds_bucket{op=\"place\",le=\"0.001\"} 2\n")) << t;
  EXPECT_TRUE(Has(t, "spotex_test_latency_seconds_bucket{op=\"place\",le=\"0.01\"} 2\n")) << t;
  EXPECT_TRUE(Has(t, "spotex_test_latency_seconds_bucket{op=\"place\",le=\"0.1\"} 3\n")) << t;
  EXPECT_TRUE(Has(t, "spotex_test_latency_seconds_bucket{op=\"place\",le=\"+Inf\"} 4\n")) << t;
  EXPECT_TRUE(Has(t, "spotex_test_latency_seconds_sum{op=\"place\"} 3.0515\n")) << t;
  EXPECT_TRUE(Has(t, "spotex_test_latency_seconds_count{op=\"place\"} 4\n")) << t;
}

TEST(MetricsTest, UnlabelledHistogramAndDefaultBuckets) {
  Registry r;
  auto& h = r.AddHistogram("spotex_test_fsync_seconds", "Fsync.", LatencyBuckets()).With({});
  h.Observe(0.0002);
  std::string t = r.Render();
  EXPECT_TRUE(Has(t, "spotex_test_fsync_seconds_bucket{le=\"0.0001\"} 0\n")) << t;
  EXPECT_TRUE(Has(t, "spotex_test_fsync_seconds_bucket{le=\"0.00025\"} 1\n")) << t;
  EXPECT_TRUE(Has(t, "spotex_test_fsync_seconds_bucket{le=\"10\"} 1\n")) << t;
  EXPECT_TRUE(Has(t, "spotex_test_fsync_seconds_count 1\n")) << t;
  EXPECT_EQ(LatencyBuckets().front(), 0.0001);
  EXPECT_EQ(LatencyBuckets().back(), 10);
  EXPECT_EQ(SizeBuckets().front(), 1);
}

TEST(MetricsTest, SameNameTwiceReturnsTheSameFamilyAndChildrenAreStable) {
  Registry r;
  auto& a = r.AddCounter("spotex_test_same_total", "Same.", {"k"});
  auto& b = r.AddCounter("spotex_test_same_total", "Same.", {"k"});
  EXPECT_EQ(&a, &b);
  Counter& c1 = a.With({"x"});
  for (int i = 0; i < 100; ++i) {
    a.With({std::to_string(i)});
  }
  EXPECT_EQ(&c1, &a.With({"x"}));
  std::string t = r.Render();
  EXPECT_EQ(t.find("# TYPE spotex_test_same_total"), t.rfind("# TYPE spotex_test_same_total"));
}

TEST(MetricsTest, SeriesBeyondTheLimitShareTheOverflowChild) {
  Registry r;
  auto& f = r.AddCounter("spotex_test_many_total", "Many.", {"k"});
  for (size_t i = 0; i < Family<Counter>::kSeriesMax + 10; ++i) {
    f.With({std::to_string(i)}).Inc();
  }
  std::string t = r.Render();
  EXPECT_TRUE(Has(t, "spotex_test_many_total{k=\"_overflow_\"} 10\n"));
  EXPECT_TRUE(Has(t, "spotex_test_many_total{k=\"0\"} 1\n"));
}

TEST(MetricsTest, ConcurrentIncObserveAndRenderLoseNothing) {
  Registry r;
  auto& fam = r.AddCounter("spotex_test_conc_total", "Concurrent.", {"t"});
  auto& shared = r.AddCounter("spotex_test_shared_total", "Shared.").With({});
  auto& h = r.AddHistogram("spotex_test_conc_seconds", "H.", {0.5}).With({});
  auto& g = r.AddGauge("spotex_test_conc_gauge", "G.").With({});
  constexpr int kThreads = 4, kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Counter& mine = fam.With({std::to_string(t % 2)});  // two threads per child
      for (int i = 0; i < kPerThread; ++i) {
        mine.Inc();
        shared.Inc();
        h.Observe(i % 2 == 0 ? 0.25 : 1.0);
        g.Add(1);
      }
    });
  }
  std::thread renderer([&] {
    for (int i = 0; i < 20; ++i) {
      std::string t = r.Render();
      ASSERT_TRUE(Has(t, "# TYPE spotex_test_conc_seconds histogram"));
    }
  });
  for (auto& t : threads) {
    t.join();
  }
  renderer.join();
  EXPECT_EQ(shared.Value(), uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(fam.With({"0"}).Value(), uint64_t{2} * kPerThread);
  EXPECT_EQ(g.Value(), double{kThreads} * kPerThread);
  std::string t = r.Render();
  EXPECT_TRUE(Has(t, "spotex_test_conc_seconds_bucket{le=\"0.5\"} 40000\n")) << t;
  EXPECT_TRUE(Has(t, "spotex_test_conc_seconds_count 80000\n")) << t;
  EXPECT_TRUE(Has(t, "spotex_test_conc_seconds_sum 50000\n")) << t;
}

TEST(MetricsTest, OnCollectRunsAtEachRender) {
  Registry r;
  auto& g = r.AddGauge("spotex_test_collected", "Collected.").With({});
  int calls = 0;
  r.OnCollect([&] { g.Set(++calls); });
  EXPECT_TRUE(Has(r.Render(), "\nspotex_test_collected 1\n"));
  EXPECT_TRUE(Has(r.Render(), "\nspotex_test_collected 2\n"));
}

// Value of an unlabelled sample, or -1.
double Sample(const std::string& text, const std::string& name) {
  size_t p = text.find("\n" + name + " ");
  if (p == std::string::npos) {
    return -1;
  }
  return std::strtod(text.c_str() + p + name.size() + 2, nullptr);
}

TEST(MetricsTest, ProcessMetricsArePresentAndPlausible) {
  Registry r;
  RegisterProcessMetrics(r);
  // Burn CPU until the process has used at least 50 ms (a few clock ticks), so the counter is
  // above zero whatever the machine's speed.
  volatile uint64_t x = 0;
  while (std::clock() < CLOCKS_PER_SEC / 20) {
    for (int i = 0; i < 100000; ++i) {
      x = x + static_cast<uint64_t>(i);
    }
  }
  std::string t = r.Render();
  EXPECT_TRUE(Has(t, "# TYPE process_cpu_seconds_total counter\n")) << t;
  EXPECT_GT(Sample(t, "process_cpu_seconds_total"), 0) << t;
  EXPECT_GT(Sample(t, "process_resident_memory_bytes"), 1 << 20) << t;
  EXPECT_GT(Sample(t, "process_virtual_memory_bytes"), Sample(t, "process_resident_memory_bytes"));
  EXPECT_GE(Sample(t, "process_open_fds"), 3) << t;
  EXPECT_GT(Sample(t, "process_max_fds"), 0) << t;
  EXPECT_GE(Sample(t, "process_threads"), 1) << t;
  double start = Sample(t, "process_start_time_seconds");
  double now = static_cast<double>(::time(nullptr));
  EXPECT_GT(start, now - 3600) << t;
  EXPECT_LE(start, now + 1) << t;
}

TEST(MetricsServerTest, ServesMetricsAnd404sOtherPaths) {
  Registry r;
  auto& c = r.AddCounter("spotex_test_served_total", "Served.").With({});
  c.Inc(5);
  auto server = MetricsServer::Start(r, "127.0.0.1", 0);
  ASSERT_TRUE(server) << server.error();
  uint16_t port = (*server)->port();
  ASSERT_GT(port, 0);
  std::string ok = Get(port, "/metrics");
  EXPECT_TRUE(ok.starts_with("HTTP/1.1 200 OK\r\n")) << ok;
  EXPECT_TRUE(Has(ok, "Content-Type: text/plain; version=0.0.4")) << ok;
  EXPECT_TRUE(Has(ok, "\r\n\r\n# HELP spotex_test_served_total")) << ok;
  EXPECT_TRUE(Has(ok, "\nspotex_test_served_total 5\n")) << ok;
  // Values are read at each request; a query string is allowed.
  c.Inc();
  EXPECT_TRUE(Has(Get(port, "/metrics?x=1"), "\nspotex_test_served_total 6\n"));
  EXPECT_TRUE(Get(port, "/").starts_with("HTTP/1.1 404 "));
  EXPECT_TRUE(Get(port, "/metricsx").starts_with("HTTP/1.1 404 "));
  EXPECT_TRUE(Exchange(port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
                  .starts_with("HTTP/1.1 405 "));
  server->reset();  // stops and joins; the port is closed
  EXPECT_EQ(Get(port, "/metrics"), "");
}

TEST(MetricsServerTest, RefusesBadRequestsAndKeepsServing) {
  Registry r;
  r.AddCounter("spotex_test_alive_total", "Alive.");
  auto server = MetricsServer::Start(r, "127.0.0.1", 0);
  ASSERT_TRUE(server) << server.error();
  uint16_t port = (*server)->port();
  EXPECT_TRUE(Exchange(port, "garbage\r\n\r\n").starts_with("HTTP/1.1 400 "));
  EXPECT_TRUE(
      Exchange(port, std::string("\0\x01\x02\xff\r\n\r\n", 8)).starts_with("HTTP/1.1 400 "));
  // Oversized: headers never end within the limit.
  std::string huge = "GET /metrics HTTP/1.1\r\nX: " + std::string(64 * 1024, 'a');
  std::string resp = Exchange(port, huge);
  EXPECT_TRUE(resp.empty() || resp.starts_with("HTTP/1.1 400 ")) << resp.substr(0, 100);
  // A client that connects and leaves at once, and one that half-sends and leaves.
  int fd = Connect(port);
  ASSERT_GE(fd, 0);
  ::close(fd);
  fd = Connect(port);
  ASSERT_GE(fd, 0);
  (void)!::send(fd, "GET /met", 8, MSG_NOSIGNAL);
  ::close(fd);
  EXPECT_TRUE(Has(Get(port, "/metrics"), "\nspotex_test_alive_total 0\n"));
}

TEST(MetricsServerTest, RejectsBadAddressAndBusyPort) {
  Registry r;
  auto bad = MetricsServer::Start(r, "not-an-address", 0);
  ASSERT_FALSE(bad);
  EXPECT_TRUE(Has(bad.error(), "not an IPv4 address"));
  auto first = MetricsServer::Start(r, "127.0.0.1", 0);
  ASSERT_TRUE(first);
  auto second = MetricsServer::Start(r, "127.0.0.1", (*first)->port());
  ASSERT_FALSE(second);
  EXPECT_TRUE(Has(second.error(), "cannot listen")) << second.error();
}

}  // namespace
}  // namespace spotex::metrics
