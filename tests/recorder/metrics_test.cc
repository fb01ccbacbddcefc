// The recorder's Prometheus text and its loopback metrics server.
#include "recorder/metrics.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace spotex::recorder {
namespace {

std::string Get(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
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
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

TEST(RecorderMetricsTest, RendersEveryMetricAndACumulativeHistogram) {
  RecorderMetrics m;
  m.lag_messages = 7;
  m.lag_commands = 12;
  m.position_command_seq = 99;
  m.ObserveApply(0.003, 100, 10);  // bucket 0.005
  m.ObserveApply(0.0004, 50, 5);   // bucket 0.001
  m.ObserveApply(20.0, 1, 1);      // only +Inf
  std::string t = m.Render();
  EXPECT_NE(t.find("\nspotex_recorder_lag_messages 7\n"), std::string::npos) << t;
  EXPECT_NE(t.find("\nspotex_recorder_lag_commands 12\n"), std::string::npos) << t;
  EXPECT_NE(t.find("\nspotex_recorder_position_command_seq 99\n"), std::string::npos) << t;
  EXPECT_NE(t.find("\nspotex_recorder_applied_events_total 151\n"), std::string::npos) << t;
  EXPECT_NE(t.find("\nspotex_recorder_batches_total 3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("# TYPE spotex_recorder_apply_seconds histogram"), std::string::npos) << t;
  EXPECT_NE(t.find("spotex_recorder_apply_seconds_bucket{le=\"0.001\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("spotex_recorder_apply_seconds_bucket{le=\"0.0025\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("spotex_recorder_apply_seconds_bucket{le=\"0.005\"} 2\n"), std::string::npos);
  EXPECT_NE(t.find("spotex_recorder_apply_seconds_bucket{le=\"10\"} 2\n"), std::string::npos);
  EXPECT_NE(t.find("spotex_recorder_apply_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(t.find("spotex_recorder_apply_seconds_count 3\n"), std::string::npos);
}

TEST(RecorderMetricsTest, ServerAnswersMetricsAndNotFound) {
  RecorderMetrics m;
  m.lag_commands = 5;
  MetricsServer server(m);
  ASSERT_TRUE(server.Start(0));
  ASSERT_GT(server.port(), 0);
  std::string ok = Get(server.port(), "/metrics");
  EXPECT_TRUE(ok.starts_with("HTTP/1.1 200 OK\r\n")) << ok;
  EXPECT_NE(ok.find("\nspotex_recorder_lag_commands 5\n"), std::string::npos) << ok;
  // Values are read at each request.
  m.lag_commands = 6;
  EXPECT_NE(Get(server.port(), "/metrics").find("\nspotex_recorder_lag_commands 6\n"),
            std::string::npos);
  EXPECT_TRUE(Get(server.port(), "/other").starts_with("HTTP/1.1 404 "));
  server.Stop();
  EXPECT_EQ(Get(server.port(), "/metrics"), "");
}

}  // namespace
}  // namespace spotex::recorder
