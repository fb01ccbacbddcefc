// docs/metrics.md against the real processes: spotex-engine and spotex-recorder are started with
// a metrics port (on a real nats-server; the recorder's PostgreSQL is unreachable on purpose, so
// it keeps retrying while serving its metrics), and every name the document lists for them must
// be served with the listed type, and every spotex_* name they serve must be listed. The names
// come from the document's tables, so the document and the code cannot drift apart.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "harness.h"

namespace spotex::testing {
namespace {

struct DocMetric {
  std::string name, type;
};

// The rows "| `name` | type | labels | meaning |" of the section that starts with `heading`.
std::vector<DocMetric> DocSection(const std::string& doc, const std::string& heading) {
  std::vector<DocMetric> out;
  size_t at = doc.find("\n" + heading + "\n");
  if (at == std::string::npos) {
    return out;
  }
  size_t end = doc.find("\n## ", at + heading.size() + 1);
  std::string section = doc.substr(at, end == std::string::npos ? std::string::npos : end - at);
  size_t pos = 0;
  while ((pos = section.find("\n| `", pos)) != std::string::npos) {
    size_t name_begin = pos + 4;
    size_t name_end = section.find('`', name_begin);
    size_t col1 = section.find('|', name_end);
    size_t col2 = section.find('|', col1 + 1);
    std::string type = section.substr(col1 + 1, col2 - col1 - 1);
    type.erase(0, type.find_first_not_of(' '));
    type.erase(type.find_last_not_of(' ') + 1);
    out.push_back({section.substr(name_begin, name_end - name_begin), type});
    pos = name_end;
  }
  return out;
}

// The body of GET http://127.0.0.1:port/metrics, or "" if it did not answer 200.
std::string Scrape(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return {};
  }
  const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  (void)!::send(fd, req, sizeof req - 1, MSG_NOSIGNAL);
  std::string out;
  char buf[8192];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (!out.starts_with("HTTP/1.1 200 ")) {
    return {};
  }
  size_t body = out.find("\r\n\r\n");
  return body == std::string::npos ? std::string() : out.substr(body + 4);
}

std::string ScrapeWithin(int port, int64_t timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    std::string body = Scrape(port);
    if (!body.empty() || std::chrono::steady_clock::now() > deadline) {
      return body;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// Every documented name is served with its type; every served `prefix` name is documented.
void ExpectMatches(const std::string& body, const std::vector<DocMetric>& documented,
                   const std::string& prefix, const std::string& service) {
  std::set<std::string> names;
  for (const auto& m : documented) {
    names.insert(m.name);
    EXPECT_NE(body.find("\n# TYPE " + m.name + " " + m.type + "\n"), std::string::npos)
        << service << " does not serve " << m.name << " as a " << m.type;
  }
  size_t pos = 0;
  const std::string marker = "# TYPE " + prefix;
  while ((pos = body.find(marker, pos)) != std::string::npos) {
    size_t begin = pos + 7;
    std::string name = body.substr(begin, body.find(' ', begin) - begin);
    EXPECT_TRUE(names.contains(name))
        << service << " serves " << name << ", which docs/metrics.md does not list";
    pos = begin;
  }
}

TEST(MetricsNamesTest, EngineAndRecorderServeExactlyTheDocumentedNames) {
  const std::string doc = ReadFile(std::string(SPOTEX_SOURCE_DIR) + "/docs/metrics.md");
  const auto engine_doc = DocSection(doc, "## Engine");
  const auto recorder_doc = DocSection(doc, "## Recorder");
  const auto process_doc = DocSection(doc, "## Process (every service)");
  // The parser itself: the tables are there and read as expected.
  ASSERT_GE(engine_doc.size(), 15u);
  ASSERT_EQ(recorder_doc.size(), 10u);
  ASSERT_EQ(process_doc.size(), 7u);
  EXPECT_EQ(engine_doc[0].name, "spotex_engine_commands_total");
  EXPECT_EQ(engine_doc[0].type, "counter");

  TempDir dir;
  NatsServer nats(dir.path());
  ASSERT_TRUE(nats.ok()) << ReadFile(dir.path() + "/nats.log");
  const int engine_port = FreePort();
  const int recorder_port = FreePort();
  const int dead_pg_port = FreePort();  // nobody listens: the recorder retries, serving metrics
  std::vector<pid_t> pids;
  pids.push_back(Spawn({SPOTEX_ENGINE_BIN, "--data-dir", dir.path() + "/engine", "--nats-url",
                        nats.url(), "--nats-user", "spotex", "--nats-password-file",
                        nats.password_file(), "--metrics-port", std::to_string(engine_port)},
                       dir.path() + "/engine.log"));
  pids.push_back(
      Spawn({SPOTEX_RECORDER_BIN, "--nats-url", nats.url(), "--nats-user", "spotex",
             "--nats-password-file", nats.password_file(), "--pg-port",
             std::to_string(dead_pg_port), "--metrics-port", std::to_string(recorder_port)},
            dir.path() + "/recorder.log"));

  const std::string engine_body = ScrapeWithin(engine_port, 30000);
  const std::string recorder_body = ScrapeWithin(recorder_port, 30000);
  for (pid_t pid : pids) {
    KillAndWait(pid, SIGTERM);
  }
  ASSERT_FALSE(engine_body.empty()) << ReadFile(dir.path() + "/engine.log");
  ASSERT_FALSE(recorder_body.empty()) << ReadFile(dir.path() + "/recorder.log");

  ExpectMatches(engine_body, engine_doc, "spotex_", "spotex-engine");
  ExpectMatches(engine_body, process_doc, "process_", "spotex-engine");
  ExpectMatches(recorder_body, recorder_doc, "spotex_", "spotex-recorder");
  ExpectMatches(recorder_body, process_doc, "process_", "spotex-recorder");
}

}  // namespace
}  // namespace spotex::testing
