// The recorder's metrics on the shared library: every name, the cumulative apply histogram, and
// served over the shared loopback server.
#include "recorder/metrics.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace spotex::recorder {
namespace {

std::string Get(uint16_t port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return {};
  }
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
  (void)!::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

TEST(RecorderMetricsTest, RendersEveryMetricAndACumulativeHistogram) {
  metrics::Registry registry;
  RecorderMetrics m(registry);
  m.lag_messages.Set(7);
  m.lag_commands.Set(12);
  m.position_command_seq.Set(99);
  m.ObserveApply(0.003, 100, 10);  // bucket 0.005
  m.ObserveApply(0.0004, 50, 5);   // bucket 0.001
  m.ObserveApply(20.0, 1, 1);      // only +Inf
  std::string t = registry.Render();
  EXPECT_NE(t.find("\nspotex_recorder_lag_messages 7\n"), std::string::npos) << t;
  EXPECT_NE(t.find("\nspotex_recorder_lag_commands 12\n"), std::string::npos) << t;
  EXPECT_NE(t.find("\nspotex_recorder_lag_ms 0\n"), std::string::npos) << t;
  EXPECT_NE(t.find("\nspotex_recorder_position_command_seq 99\n"), std::string::npos) << t;
  EXPECT_NE(t.find("\nspotex_recorder_position_stream_seq 0\n"), std::string::npos) << t;
  EXPECT_NE(t.find("\nspotex_recorder_applied_events_total 151\n"), std::string::npos) << t;
  EXPECT_NE(t.find("\nspotex_recorder_applied_commands_total 16\n"), std::string::npos) << t;
  EXPECT_NE(t.find("\nspotex_recorder_batches_total 3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("\nspotex_recorder_errors_total 0\n"), std::string::npos) << t;
  EXPECT_NE(t.find("# TYPE spotex_recorder_apply_seconds histogram"), std::string::npos) << t;
  EXPECT_NE(t.find("spotex_recorder_apply_seconds_bucket{le=\"0.001\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("spotex_recorder_apply_seconds_bucket{le=\"0.0025\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("spotex_recorder_apply_seconds_bucket{le=\"0.005\"} 2\n"), std::string::npos);
  EXPECT_NE(t.find("spotex_recorder_apply_seconds_bucket{le=\"10\"} 2\n"), std::string::npos);
  EXPECT_NE(t.find("spotex_recorder_apply_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(t.find("spotex_recorder_apply_seconds_count 3\n"), std::string::npos);
}

TEST(RecorderMetricsTest, ServedByTheSharedServer) {
  metrics::Registry registry;
  RecorderMetrics m(registry);
  m.lag_commands.Set(5);
  auto server = metrics::MetricsServer::Start(registry, "127.0.0.1", 0);
  ASSERT_TRUE(server) << server.error();
  uint16_t port = (*server)->port();
  std::string ok = Get(port, "/metrics");
  EXPECT_TRUE(ok.starts_with("HTTP/1.1 200 OK\r\n")) << ok;
  EXPECT_NE(ok.find("\nspotex_recorder_lag_commands 5\n"), std::string::npos) << ok;
  // Values are read at each request.
  m.lag_commands.Set(6);
  EXPECT_NE(Get(port, "/metrics").find("\nspotex_recorder_lag_commands 6\n"), std::string::npos);
  EXPECT_TRUE(Get(port, "/other").starts_with("HTTP/1.1 404 "));
}

}  // namespace
}  // namespace spotex::recorder
