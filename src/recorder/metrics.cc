#include "recorder/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace spotex::recorder {

void RecorderMetrics::ObserveApply(double seconds, uint64_t events, uint64_t envelopes) {
  applied_events.fetch_add(events, std::memory_order_relaxed);
  applied_envelopes.fetch_add(envelopes, std::memory_order_relaxed);
  batches.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < kApplyBuckets.size(); ++i) {
    if (seconds <= kApplyBuckets[i]) {
      ++bucket_counts_[i];
      break;
    }
  }
  ++apply_count_;
  apply_sum_seconds_ += seconds;
}

namespace {

void Metric(std::string& out, const char* name, const char* type, const char* help,
            const std::string& value) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  out += name;
  out += ' ';
  out += value;
  out += '\n';
}

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

std::string RecorderMetrics::Render() const {
  std::string out;
  out.reserve(4096);
  auto u = [](const std::atomic<uint64_t>& a) {
    return std::to_string(a.load(std::memory_order_relaxed));
  };
  Metric(out, "spotex_recorder_lag_messages", "gauge",
         "EVT stream messages not yet applied (stream last seq - applied stream seq).",
         u(lag_messages));
  Metric(out, "spotex_recorder_lag_commands", "gauge",
         "Commands on the command log whose events are not yet applied.", u(lag_commands));
  Metric(out, "spotex_recorder_lag_ms", "gauge",
         "Age of the last applied command while a backlog exists, else 0.",
         std::to_string(lag_ms.load(std::memory_order_relaxed)));
  Metric(out, "spotex_recorder_position_command_seq", "gauge",
         "Last command seq committed to PostgreSQL.", u(position_command_seq));
  Metric(out, "spotex_recorder_position_stream_seq", "gauge",
         "EVT stream seq of the last committed message.", u(position_stream_seq));
  Metric(out, "spotex_recorder_applied_events_total", "counter",
         "Event records applied by this process.", u(applied_events));
  Metric(out, "spotex_recorder_applied_commands_total", "counter",
         "Command envelopes applied by this process.", u(applied_envelopes));
  Metric(out, "spotex_recorder_batches_total", "counter", "Transactions committed by this process.",
         u(batches));
  Metric(out, "spotex_recorder_errors_total", "counter",
         "PostgreSQL or NATS errors that made the recorder restart from its position.", u(errors));

  std::lock_guard lock(mu_);
  out += "# HELP spotex_recorder_apply_seconds Wall time of one batch transaction.\n";
  out += "# TYPE spotex_recorder_apply_seconds histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kApplyBuckets.size(); ++i) {
    cumulative += bucket_counts_[i];
    out += "spotex_recorder_apply_seconds_bucket{le=\"" + Num(kApplyBuckets[i]) + "\"} " +
           std::to_string(cumulative) + '\n';
  }
  out += "spotex_recorder_apply_seconds_bucket{le=\"+Inf\"} " + std::to_string(apply_count_) + '\n';
  out += "spotex_recorder_apply_seconds_sum " + Num(apply_sum_seconds_) + '\n';
  out += "spotex_recorder_apply_seconds_count " + std::to_string(apply_count_) + '\n';
  return out;
}

MetricsServer::~MetricsServer() { Stop(); }

std::expected<void, std::string> MetricsServer::Start(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::unexpected(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0) {
    std::string err =
        "metrics: cannot listen on 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno);
    ::close(fd);
    return std::unexpected(err);
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  listen_fd_ = fd;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
  return {};
}

void MetricsServer::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
}

void MetricsServer::Loop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    // Bounded wait so Stop() is noticed.
    if (::poll(&p, 1, 200) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    Serve(fd);
    ::close(fd);
  }
}

void MetricsServer::Serve(int fd) {
  std::string req;
  char buf[1024];
  while (req.find("\r\n\r\n") == std::string::npos && req.size() < kRequestBytesMax) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, kIoTimeoutMs) <= 0) return;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    req.append(buf, static_cast<size_t>(n));
  }
  std::string body, status;
  if (req.starts_with("GET /metrics ") || req.starts_with("GET /metrics?")) {
    status = "200 OK";
    body = metrics_.Render();
  } else {
    status = "404 Not Found";
    body = "not found\n";
  }
  std::string resp = "HTTP/1.1 " + status +
                     "\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  size_t off = 0;
  while (off < resp.size()) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, kIoTimeoutMs) <= 0) return;
    ssize_t n = ::send(fd, resp.data() + off, resp.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

}  // namespace spotex::recorder
