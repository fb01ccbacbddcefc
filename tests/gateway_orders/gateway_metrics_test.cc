// spotex-gateway's observability as a process (docs/metrics.md "Gateway", docs/logging.md), on a
// real nats-server and spotex-engine (PostgreSQL and Redis are not running: the rate limiter
// fails open): /metrics on --metrics-port serves every name docs/metrics.md lists for the
// gateway with its type (parsed from the document, so document and code cannot drift) and no
// undocumented spotex_gateway_* name; requests are counted under their route pattern, unknown
// paths under one "unmatched"; the request log has one JSON line per request with the request
// id (HAProxy's, or a made-up one echoed in X-Request-Id) and never the query string.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
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

struct Answer {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
};

// One HTTP/1.1 request with Connection: close.
Answer Request(int port, const std::string& method, const std::string& target,
               const std::string& extra_headers = "") {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return {};
  }
  const std::string req = method + " " + target + " HTTP/1.1\r\nHost: x\r\n" + extra_headers +
                          "Content-Length: 0\r\nConnection: close\r\n\r\n";
  (void)!::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string resp;
  char buf[8192];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) resp.append(buf, static_cast<size_t>(n));
  ::close(fd);
  Answer a;
  a.status = resp.size() > 12 ? std::atoi(resp.substr(9, 3).c_str()) : 0;
  const size_t body = resp.find("\r\n\r\n");
  a.head = resp.substr(0, body);
  a.body = body == std::string::npos ? "" : resp.substr(body + 4);
  return a;
}

// The value of header `name` (as the gateway spells it) in `head`, or "".
std::string HeaderValue(const std::string& head, const std::string& name) {
  const size_t at = head.find("\r\n" + name + ": ");
  if (at == std::string::npos) return "";
  const size_t begin = at + name.size() + 4;
  return head.substr(begin, head.find("\r\n", begin) - begin);
}

struct DocMetric {
  std::string name, type;
};

// The rows "| `name` | type | labels | meaning |" of the section that starts with `heading`.
std::vector<DocMetric> DocSection(const std::string& doc, const std::string& heading) {
  std::vector<DocMetric> out;
  const size_t at = doc.find("\n" + heading + "\n");
  if (at == std::string::npos) return out;
  const size_t end = doc.find("\n## ", at + heading.size() + 1);
  const std::string section = doc.substr(at, end == std::string::npos ? end : end - at);
  std::istringstream lines(section);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("| `")) continue;
    const size_t name_end = line.find('`', 3);
    const size_t col1 = line.find('|', name_end);
    const size_t col2 = line.find('|', col1 + 1);
    std::string type = line.substr(col1 + 1, col2 - col1 - 1);
    type.erase(0, type.find_first_not_of(' '));
    type.erase(type.find_last_not_of(' ') + 1);
    out.push_back({line.substr(3, name_end - 3), type});
  }
  return out;
}

// The value of the sample line that starts with `series` ("name{labels}"), or -1.
double Sample(const std::string& body, const std::string& series) {
  const size_t at = body.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(body.substr(at + series.size() + 2));
}

class GatewayMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nats_ = std::make_unique<NatsServer>(dir_.path());
    ASSERT_TRUE(nats_->ok());
    engine_ = std::make_unique<EngineProcess>(
        *nats_, dir_.path() + "/engine", dir_.path() + "/engine.log",
        EngineOptions{std::string(SPOTEX_SOURCE_DIR) + "/etc/markets.toml", 200000, 300});
    engine_->Start();
    port_ = FreePort();
    metrics_port_ = FreePort();
    const std::string secrets = dir_.path() + "/secrets";
    ::mkdir(secrets.c_str(), 0700);
    WriteFile(secrets + "/auth_master_key.1", std::string(64, 'a'));
    WriteFile(secrets + "/admin-token", "test-admin-token-0123456789");
    log_ = dir_.path() + "/gateway.log";
    gateway_ = Spawn({SPOTEX_GATEWAY_BIN, "--port", std::to_string(port_), "--nats-url",
                      nats_->url(), "--nats-user", "spotex", "--nats-password-file",
                      nats_->password_file(), "--secrets-dir", secrets, "--pg-port",
                      std::to_string(FreePort()), "--redis-port", std::to_string(FreePort()),
                      "--metrics-port", std::to_string(metrics_port_), "--access-log", "all"},
                     log_);
    for (int i = 0; i < 150 && Request(port_, "GET", "/health").status != 200; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_EQ(Request(port_, "GET", "/health").status, 200) << ReadFile(log_);
  }
  void TearDown() override {
    if (gateway_ > 0) KillAndWait(gateway_, SIGTERM);
  }

  TempDir dir_;
  std::unique_ptr<NatsServer> nats_;
  std::unique_ptr<EngineProcess> engine_;
  pid_t gateway_ = -1;
  int port_ = 0;
  int metrics_port_ = 0;
  std::string log_;
};

TEST_F(GatewayMetricsTest, ServesTheDocumentedNamesCountsRoutesAndLogsRequests) {
  const std::string doc = ReadFile(std::string(SPOTEX_SOURCE_DIR) + "/docs/metrics.md");
  const auto gateway_doc = DocSection(doc, "## Gateway");
  const auto process_doc = DocSection(doc, "## Process (every service)");
  ASSERT_GE(gateway_doc.size(), 15u) << "the Gateway table of docs/metrics.md did not parse";
  ASSERT_EQ(process_doc.size(), 7u);
  EXPECT_EQ(gateway_doc[0].name, "spotex_gateway_http_requests_total");
  EXPECT_EQ(gateway_doc[0].type, "counter");

  const Answer ping = Request(port_, "GET", "/api/v3/ping", "X-Request-Id: edge-req-42\r\n");
  EXPECT_EQ(ping.status, 200);
  EXPECT_EQ(HeaderValue(ping.head, "X-Request-Id"), "edge-req-42");
  const Answer unknown1 = Request(port_, "GET", "/no/such/thing?signature=deadbeefcafe");
  const Answer unknown2 = Request(port_, "GET", "/another/unknown/path");
  EXPECT_EQ(unknown1.status, 404);
  EXPECT_FALSE(HeaderValue(unknown1.head, "X-Request-Id").empty());
  const Answer unsigned_order =
      Request(port_, "POST", "/api/v3/order?symbol=BTCUSDT&signature=0123456789abcdef0123");
  EXPECT_GE(unsigned_order.status, 400);  // no API key: refused before any engine work

  // The observer runs after the write: poll until the last request is counted.
  std::string body;
  for (int i = 0; i < 100; ++i) {
    body = Request(metrics_port_, "GET", "/metrics").body;
    if (body.find("spotex_gateway_http_requests_total{route=\"/api/v3/order\",method=\"POST\"") !=
        std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(body.empty()) << ReadFile(log_);

  std::set<std::string> names;
  for (const auto& m : gateway_doc) {
    names.insert(m.name);
    EXPECT_NE(body.find("\n# TYPE " + m.name + " " + m.type + "\n"), std::string::npos)
        << "the gateway does not serve " << m.name << " as a " << m.type;
  }
  for (const auto& m : process_doc) {
    EXPECT_NE(body.find("\n# TYPE " + m.name + " " + m.type + "\n"), std::string::npos)
        << "the gateway does not serve " << m.name;
  }
  for (size_t pos = 0; (pos = body.find("# TYPE spotex_", pos)) != std::string::npos;) {
    const size_t begin = pos + 7;
    const std::string name = body.substr(begin, body.find(' ', begin) - begin);
    EXPECT_TRUE(names.contains(name)) << "served but not in docs/metrics.md: " << name;
    pos = begin;
  }

  EXPECT_GE(Sample(body,
                   "spotex_gateway_http_requests_total{route=\"/api/v3/ping\",method=\"GET\","
                   "status=\"200\"}"),
            1);
  // Both unknown paths are one series.
  EXPECT_EQ(Sample(body,
                   "spotex_gateway_http_requests_total{route=\"unmatched\",method=\"GET\","
                   "status=\"404\"}"),
            2);
  EXPECT_EQ(body.find("/no/such/thing"), std::string::npos);
  EXPECT_GE(Sample(body, "spotex_gateway_binance_errors_total{code=\"-1020\"}"), 2);
  EXPECT_GE(Sample(body,
                   "spotex_gateway_http_request_duration_seconds_count{route=\"/api/v3/"
                   "ping\",method=\"GET\"}"),
            1);

  // The request log: one JSON line per request with the ids, never the query string.
  const std::string log = ReadFile(log_);
  EXPECT_NE(log.find("\"path\":\"/api/v3/ping\",\"route\":\"/api/v3/ping\",\"status\":200"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("\"request_id\":\"edge-req-42\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"request_id\":\"" + HeaderValue(unknown1.head, "X-Request-Id") + "\""),
            std::string::npos);
  EXPECT_EQ(log.find("signature"), std::string::npos) << log;
  EXPECT_EQ(log.find("deadbeefcafe"), std::string::npos);
}

}  // namespace
}  // namespace spotex::testing
