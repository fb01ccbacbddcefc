// ws_bench: the WebSocket fan-out benchmark (issue 5 §5, `make bench-ws`). Opens N WebSocket
// connections to a gateway, each subscribed to the same market streams (by default
// <symbol>@trade and <symbol>@depth@100ms of one busy symbol, raw /ws/<s1>/<s2> path), and
// measures what reaches them while another process (api_bench, started by run_ws_bench.sh once
// this one is ready) places crossing orders.
//
// Latency of a message = its receipt time (CLOCK_REALTIME, read once per recv() batch) − the
// event time in its payload: "E" (trade and depthUpdate), which the gateway copies from the
// engine envelope's time_ms, the command log's timestamp of the command that produced the event,
// in whole milliseconds. The payloads carry nothing finer, so a sample overstates the true delay
// by 0..1 ms (the truncated fraction of E's millisecond); the same machine's clock is on both
// ends. Samples go into a histogram (10 µs buckets to 1 s, 1 ms to 120 s); percentiles are the
// upper edge of their bucket.
//
// Counted in the measured window (after --warmup-s from the moment every connection is open,
// for --duration-s seconds, by receipt time):
//   msgs_per_s  trade and depthUpdate messages received over all connections, per second;
//   dropped     connections that failed to open or were closed by the server or the network
//               (close frame, EOF, reset, protocol error) at any time after the start, plus
//               messages known lost: per connection, trade ids must follow each other (t = last
//               t + 1; each missing id counts one) and depthUpdates must chain (U = last u + 1;
//               each break counts one, as its size in messages is unknown).
// stderr gets the details: events per second per connection, close reasons, the bench's own CPU
// and that of the processes named by --cpu-pids.
//
// A few threads (--threads), each an epoll loop over its share of the connections;
// non-blocking sockets; pings are answered with pongs; RLIMIT_NOFILE is raised to its hard
// limit. Connections are opened --connect-batch at a time per thread so that the server's
// accept backlog never overflows.
//
// Last line on stdout:
//   ws conns=<N> msgs_per_s=<N> p50_ms=<x> p99_ms=<x> p999_ms=<x> dropped=<N>
//
// usage: ws_bench --url http://127.0.0.1:PORT [--connections 10000] [--symbol BTCUSDT]
//          [--streams trade,depth@100ms] [--threads 2] [--duration-s 20] [--warmup-s 5]
//          [--connect-timeout-s 120] [--connect-batch 200] [--ready-file PATH]
//          [--cpu-pids name=pid,...]
// Exit: 0 the run finished (problems are in the line), 2 usage or set-up error.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "apps/flags.h"
#include "bench_cli.h"
#include "ws_frames.h"

namespace spotex::bench {
namespace {

constexpr int64_t kNsPerS = 1'000'000'000;
constexpr int64_t kConnectionsMax = 100'000;
constexpr int64_t kThreadsMax = 16;
constexpr size_t kReadChunkBytes = 256 * 1024;
constexpr size_t kHandshakeBytesMax = 16 * 1024;
// Latency histogram: 10 µs buckets up to 1 s, then 1 ms buckets up to 120 s; slower samples go
// in the last bucket.
constexpr int64_t kFineBucketUs = 10;
constexpr int64_t kFineLimitUs = 1'000'000;
constexpr int64_t kCoarseBucketUs = 1000;
constexpr int64_t kCoarseLimitUs = 120'000'000;
constexpr size_t kFineBuckets = kFineLimitUs / kFineBucketUs;
constexpr size_t kBuckets = kFineBuckets + (kCoarseLimitUs - kFineLimitUs) / kCoarseBucketUs;

size_t BucketOf(int64_t latency_us) {
  if (latency_us < kFineLimitUs) {
    return static_cast<size_t>(latency_us / kFineBucketUs);
  }
  return std::min(kBuckets - 1, kFineBuckets + static_cast<size_t>((latency_us - kFineLimitUs) /
                                                                   kCoarseBucketUs));
}

// The upper edge of bucket `b`, in µs.
int64_t BucketEdgeUs(size_t b) {
  if (b < kFineBuckets) {
    return static_cast<int64_t>(b + 1) * kFineBucketUs;
  }
  return kFineLimitUs + static_cast<int64_t>(b + 1 - kFineBuckets) * kCoarseBucketUs;
}

int64_t MonoNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * kNsPerS + ts.tv_nsec;
}

int64_t WallUs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * 1'000'000 + ts.tv_nsec / 1000;
}

// utime + stime of a process in clock ticks, from /proc/<pid>/stat; -1 if unreadable.
int64_t ProcessCpuTicks(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = text.rfind(')');
  if (close == std::string::npos) {
    return -1;
  }
  std::istringstream fields(text.substr(close + 2));
  std::string f;
  int64_t ticks = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14 || i == 15) {
      ticks += std::stoll(f);
    }
  }
  return ticks;
}

int64_t SelfCpuNs() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * kNsPerS +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

struct Config {
  sockaddr_in addr{};
  std::string host;
  std::string target;  // /ws/<stream>/<stream>
  int64_t connections = 10'000;
  int64_t threads = 2;
  int64_t duration_s = 20;
  int64_t warmup_s = 5;
  int64_t connect_timeout_s = 120;
  int64_t connect_batch = 200;
  std::string ready_file;
  std::vector<std::pair<std::string, int>> cpu_pids;
};

// The measured window, in CLOCK_REALTIME µs; 0 until every connection is open.
std::atomic<int64_t> g_window_begin_us{0};
std::atomic<int64_t> g_window_end_us{0};
std::atomic<bool> g_stop{false};

struct Connection {
  enum class State : uint8_t { kIdle, kConnecting, kHandshake, kOpen, kClosed };
  int fd = -1;
  State state = State::kIdle;
  std::string handshake;  // the 101 answer so far
  FrameReader reader;
  std::string out;  // unsent pongs
  int64_t last_trade_id = -1;
  int64_t last_update_id = -1;
};

struct ThreadStats {
  std::vector<uint64_t> histogram = std::vector<uint64_t>(kBuckets, 0);
  uint64_t messages = 0;        // trade + depthUpdate in the window
  uint64_t other_messages = 0;  // anything else in the window
  uint64_t trades_lost = 0;
  uint64_t depth_gaps = 0;
  uint64_t out_of_order = 0;
  uint64_t failed_connects = 0;
  uint64_t closed = 0;
  std::map<std::string, uint64_t> close_reasons;
};

class Worker {
 public:
  Worker(const Config& config, size_t count, std::atomic<int64_t>& opened)
      : config_(config), conns_(count), opened_(opened) {}
  ~Worker() {
    for (auto& c : conns_) {
      if (c.fd >= 0) {
        close(c.fd);
      }
    }
    if (epoll_fd_ >= 0) {
      close(epoll_fd_);
    }
  }

  void Run();
  const ThreadStats& stats() const { return stats_; }
  size_t open_count() const { return open_; }

 private:
  void StartConnect(size_t ci);
  void Drop(size_t ci, const std::string& why);
  void OnConnected(size_t ci);
  void OnReadable(size_t ci, char* buf);
  bool OnHandshake(size_t ci, std::string_view bytes, std::string_view& rest);
  void OnMessage(Connection& c, const WsMessage& m, int64_t now_us, size_t ci);
  void Flush(size_t ci);

  const Config& config_;
  std::vector<Connection> conns_;
  std::atomic<int64_t>& opened_;
  int epoll_fd_ = -1;
  size_t next_to_connect_ = 0;
  size_t pending_ = 0;  // connecting or in the handshake
  size_t open_ = 0;
  ThreadStats stats_;
  std::string request_;
};

void Worker::StartConnect(size_t ci) {
  Connection& c = conns_[ci];
  c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) {
    ++stats_.failed_connects;
    ++stats_.close_reasons[std::string("socket: ") + std::strerror(errno)];
    c.state = Connection::State::kClosed;
    return;
  }
  int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int rc = connect(c.fd, reinterpret_cast<const sockaddr*>(&config_.addr), sizeof config_.addr);
  if (rc != 0 && errno != EINPROGRESS) {
    ++stats_.failed_connects;
    ++stats_.close_reasons[std::string("connect: ") + std::strerror(errno)];
    close(c.fd);
    c.fd = -1;
    c.state = Connection::State::kClosed;
    return;
  }
  c.state = Connection::State::kConnecting;
  ++pending_;
  epoll_event ev{};
  ev.events = EPOLLOUT | EPOLLIN;
  ev.data.u64 = ci;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c.fd, &ev);
}

// The connection is gone: counted once, with the reason.
void Worker::Drop(size_t ci, const std::string& why) {
  Connection& c = conns_[ci];
  if (c.state == Connection::State::kClosed) {
    return;
  }
  if (c.state == Connection::State::kOpen) {
    --open_;
    ++stats_.closed;
  } else {
    --pending_;
    ++stats_.failed_connects;
  }
  ++stats_.close_reasons[why];
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
  close(c.fd);
  c.fd = -1;
  c.state = Connection::State::kClosed;
}

void Worker::OnConnected(size_t ci) {
  Connection& c = conns_[ci];
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    Drop(ci, std::string("connect: ") + std::strerror(err));
    return;
  }
  // The request is a few hundred bytes: a fresh socket's buffer takes it at once.
  ssize_t n = send(c.fd, request_.data(), request_.size(), MSG_NOSIGNAL);
  if (n != static_cast<ssize_t>(request_.size())) {
    Drop(ci, "upgrade request not sent");
    return;
  }
  c.state = Connection::State::kHandshake;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = ci;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
}

// Collects the 101 answer; `rest` gets the bytes after it (frames already sent).
bool Worker::OnHandshake(size_t ci, std::string_view bytes, std::string_view& rest) {
  Connection& c = conns_[ci];
  c.handshake.append(bytes);
  size_t end = c.handshake.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (c.handshake.size() > kHandshakeBytesMax) {
      Drop(ci, "upgrade answer too long");
    }
    rest = {};
    return false;
  }
  if (!c.handshake.starts_with("HTTP/1.1 101")) {
    std::string line = c.handshake.substr(0, c.handshake.find("\r\n"));
    Drop(ci, "upgrade refused: " + line);
    return false;
  }
  // What followed the answer is handed on through the reader (copied: `bytes` is reused).
  c.reader.Feed(std::string_view(c.handshake).substr(end + 4));
  std::string().swap(c.handshake);
  c.state = Connection::State::kOpen;
  --pending_;
  ++open_;
  opened_.fetch_add(1, std::memory_order_relaxed);
  rest = {};
  return true;
}

void Worker::OnMessage(Connection& c, const WsMessage& m, int64_t now_us, size_t ci) {
  const int64_t begin = g_window_begin_us.load(std::memory_order_relaxed);
  const bool measured =
      begin != 0 && now_us >= begin && now_us < g_window_end_us.load(std::memory_order_relaxed);
  StreamFields f = ParseStreamFields(m.payload);
  if (f.kind == StreamFields::Kind::kOther || f.event_ms < 0) {
    stats_.other_messages += measured ? 1 : 0;
    return;
  }
  // Loss is checked over the whole run, not only the window: a gap is a gap.
  if (f.kind == StreamFields::Kind::kTrade && f.trade_id >= 0) {
    if (c.last_trade_id >= 0) {
      if (f.trade_id > c.last_trade_id + 1) {
        stats_.trades_lost += static_cast<uint64_t>(f.trade_id - c.last_trade_id - 1);
      } else if (f.trade_id <= c.last_trade_id) {
        ++stats_.out_of_order;
      }
    }
    c.last_trade_id = std::max(c.last_trade_id, f.trade_id);
  } else if (f.kind == StreamFields::Kind::kDepthUpdate && f.first_update >= 0) {
    if (c.last_update_id >= 0 && f.first_update != c.last_update_id + 1) {
      if (f.first_update > c.last_update_id + 1) {
        ++stats_.depth_gaps;
      } else {
        ++stats_.out_of_order;
      }
    }
    c.last_update_id = std::max(c.last_update_id, f.last_update);
  }
  (void)ci;
  if (!measured) {
    return;
  }
  ++stats_.messages;
  int64_t latency_us = std::max<int64_t>(0, now_us - f.event_ms * 1000);
  ++stats_.histogram[BucketOf(latency_us)];
}

void Worker::Flush(size_t ci) {
  Connection& c = conns_[ci];
  while (!c.out.empty()) {
    ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n > 0) {
      c.out.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    // A pong that does not fit now is dropped: the server pings again and its pong timeout is
    // three ping intervals; a full socket here means the client is hopelessly behind anyway.
    c.out.clear();
    return;
  }
}

void Worker::OnReadable(size_t ci, char* buf) {
  Connection& c = conns_[ci];
  for (;;) {
    ssize_t n = recv(c.fd, buf, kReadChunkBytes, 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return;
    }
    if (n <= 0) {
      Drop(ci, n == 0 ? "EOF" : std::string("recv: ") + std::strerror(errno));
      return;
    }
    const int64_t now_us = WallUs();
    std::string_view bytes(buf, static_cast<size_t>(n));
    if (c.state == Connection::State::kHandshake) {
      std::string_view rest;
      if (!OnHandshake(ci, bytes, rest)) {
        return;  // incomplete, or dropped
      }
    } else {
      c.reader.Feed(bytes);
    }
    WsMessage m;
    for (;;) {
      auto state = c.reader.Next(m);
      if (state == FrameReader::State::kNeedMore) {
        break;
      }
      if (state == FrameReader::State::kError) {
        Drop(ci, "protocol error: " + std::string(c.reader.error()));
        return;
      }
      if (m.opcode == WsOpcode::kPing) {
        c.out += PongFrame(m.payload);
        Flush(ci);
      } else if (m.opcode == WsOpcode::kClose) {
        uint16_t code = m.payload.size() >= 2
                            ? static_cast<uint16_t>((static_cast<uint8_t>(m.payload[0]) << 8) |
                                                    static_cast<uint8_t>(m.payload[1]))
                            : 1005;
        std::string reason(m.payload.size() > 2 ? m.payload.substr(2) : "");
        Drop(ci, "close " + std::to_string(code) + " " + reason);
        return;
      } else if (m.opcode == WsOpcode::kText) {
        OnMessage(c, m, now_us, ci);
      }
    }
    if (static_cast<size_t>(n) < kReadChunkBytes) {
      return;  // most likely drained; epoll (level-triggered) says if not
    }
  }
}

void Worker::Run() {
  request_ = "GET " + config_.target + " HTTP/1.1\r\nHost: " + config_.host +
             "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: c3BvdGV4LWJlbmNoLXdzMQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  std::vector<char> buf(kReadChunkBytes);
  std::vector<epoll_event> events(512);
  const int64_t connect_deadline = MonoNs() + config_.connect_timeout_s * kNsPerS;
  for (;;) {
    // Keep at most connect_batch connections in their opening phase.
    while (next_to_connect_ < conns_.size() &&
           pending_ < static_cast<size_t>(config_.connect_batch) && MonoNs() < connect_deadline) {
      StartConnect(next_to_connect_++);
    }
    if (next_to_connect_ < conns_.size() && MonoNs() >= connect_deadline) {
      for (; next_to_connect_ < conns_.size(); ++next_to_connect_) {
        ++stats_.failed_connects;
        ++stats_.close_reasons["not opened within --connect-timeout-s"];
      }
    }
    const int64_t end = g_window_end_us.load(std::memory_order_relaxed);
    if (g_stop.load(std::memory_order_relaxed) || (end != 0 && WallUs() >= end)) {
      return;
    }
    int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 20);
    for (int i = 0; i < n; ++i) {
      size_t ci = static_cast<size_t>(events[i].data.u64);
      Connection& c = conns_[ci];
      if (c.fd < 0) {
        continue;
      }
      if (c.state == Connection::State::kConnecting) {
        if ((events[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) {
          OnConnected(ci);
        }
        continue;
      }
      if ((events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
        OnReadable(ci, buf.data());
      }
    }
  }
}

struct CpuSample {
  std::vector<int64_t> ticks;
  int64_t self_ns = 0;
  int64_t mono_ns = 0;
};

CpuSample SampleCpu(const Config& config) {
  CpuSample s;
  for (const auto& [name, pid] : config.cpu_pids) {
    s.ticks.push_back(ProcessCpuTicks(pid));
  }
  s.self_ns = SelfCpuNs();
  s.mono_ns = MonoNs();
  return s;
}

double PercentileMs(const std::vector<uint64_t>& histogram, uint64_t total, double q) {
  if (total == 0) {
    return 0.0;
  }
  uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(total) + 0.999999);
  rank = std::clamp<uint64_t>(rank, 1, total);
  uint64_t seen = 0;
  for (size_t b = 0; b < histogram.size(); ++b) {
    seen += histogram[b];
    if (seen >= rank) {
      return static_cast<double>(BucketEdgeUs(b)) / 1000.0;
    }
  }
  return static_cast<double>(BucketEdgeUs(kBuckets - 1)) / 1000.0;
}

void Report(const Config& config, const std::vector<std::unique_ptr<Worker>>& workers,
            int64_t conns_at_start, const CpuSample& cpu0, const CpuSample& cpu1) {
  std::vector<uint64_t> histogram(kBuckets, 0);
  ThreadStats sum;
  size_t still_open = 0;
  for (const auto& w : workers) {
    const ThreadStats& s = w->stats();
    for (size_t b = 0; b < kBuckets; ++b) {
      histogram[b] += s.histogram[b];
    }
    sum.messages += s.messages;
    sum.other_messages += s.other_messages;
    sum.trades_lost += s.trades_lost;
    sum.depth_gaps += s.depth_gaps;
    sum.out_of_order += s.out_of_order;
    sum.failed_connects += s.failed_connects;
    sum.closed += s.closed;
    for (const auto& [why, n] : s.close_reasons) {
      sum.close_reasons[why] += n;
    }
    still_open += w->open_count();
  }
  const double window_s = static_cast<double>(config.duration_s);
  const double per_conn =
      conns_at_start > 0 ? static_cast<double>(sum.messages) / window_s / conns_at_start : 0.0;
  std::string reasons;
  for (const auto& [why, n] : sum.close_reasons) {
    reasons += " [" + why + "]=" + std::to_string(n);
  }
  std::fprintf(stderr,
               "ws_bench: %lld of %lld connections open at the window's start, %zu at its end;"
               " %.1f messages/s per connection; other messages %llu\n",
               static_cast<long long>(conns_at_start), static_cast<long long>(config.connections),
               still_open, per_conn, static_cast<unsigned long long>(sum.other_messages));
  std::fprintf(stderr,
               "ws_bench: failed opens %llu, closed %llu, trades lost %llu, depth gaps %llu,"
               " out of order %llu; reasons:%s\n",
               static_cast<unsigned long long>(sum.failed_connects),
               static_cast<unsigned long long>(sum.closed),
               static_cast<unsigned long long>(sum.trades_lost),
               static_cast<unsigned long long>(sum.depth_gaps),
               static_cast<unsigned long long>(sum.out_of_order),
               reasons.empty() ? " none" : reasons.c_str());
  const double wall_s = static_cast<double>(cpu1.mono_ns - cpu0.mono_ns) / 1e9;
  std::string cpu;
  const long hz = sysconf(_SC_CLK_TCK);
  for (size_t i = 0; i < config.cpu_pids.size() && wall_s > 0; ++i) {
    if (cpu0.ticks[i] < 0 || cpu1.ticks[i] < 0) {
      continue;
    }
    char b[96];
    std::snprintf(b, sizeof b, " %s=%.0f%%", config.cpu_pids[i].first.c_str(),
                  100.0 * static_cast<double>(cpu1.ticks[i] - cpu0.ticks[i]) / hz / wall_s);
    cpu += b;
  }
  std::fprintf(
      stderr, "ws_bench: cpu in the window (%% of one core) ws_bench=%.0f%%%s\n",
      wall_s > 0 ? 100.0 * static_cast<double>(cpu1.self_ns - cpu0.self_ns) / 1e9 / wall_s : 0.0,
      cpu.c_str());
  const uint64_t dropped = sum.failed_connects + sum.closed + sum.trades_lost + sum.depth_gaps;
  std::printf(
      "ws conns=%lld msgs_per_s=%.0f p50_ms=%.2f p99_ms=%.2f p999_ms=%.2f dropped=%llu\n",
      static_cast<long long>(conns_at_start), static_cast<double>(sum.messages) / window_s,
      PercentileMs(histogram, sum.messages, 0.5), PercentileMs(histogram, sum.messages, 0.99),
      PercentileMs(histogram, sum.messages, 0.999), static_cast<unsigned long long>(dropped));
  std::fflush(stdout);
}

constexpr const char* kUsage =
    "usage: ws_bench --url http://127.0.0.1:PORT [--connections 10000] [--symbol BTCUSDT]\n"
    "         [--streams trade,depth@100ms] [--threads 2] [--duration-s 20] [--warmup-s 5]\n"
    "         [--connect-timeout-s 120] [--connect-batch 200] [--ready-file PATH]\n"
    "         [--cpu-pids name=pid,...]\n";

// "/ws/btcusdt@trade/btcusdt@depth@100ms" from the symbol and "trade,depth@100ms".
std::optional<std::string> BuildTarget(std::string symbol, const std::string& streams) {
  if (symbol.empty() || symbol.size() > 20 || streams.empty() || streams.size() > 200) {
    return std::nullopt;
  }
  for (char& ch : symbol) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) {
      return std::nullopt;
    }
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  std::string target = "/ws";
  std::string_view rest = streams;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view s = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
    for (char ch : s) {
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '@' && ch != '_') {
        return std::nullopt;
      }
    }
    if (!s.empty()) {
      target += "/" + symbol + "@" + std::string(s);
    }
  }
  return target;
}

std::optional<std::string> ParseConfig(int argc, char** argv, Config& config) {
  apps::Flags flags;
  if (auto err = apps::Flags::Parse(
          argc, argv,
          {"url", "connections", "symbol", "streams", "threads", "duration-s", "warmup-s",
           "connect-timeout-s", "connect-batch", "ready-file", "cpu-pids"},
          flags)) {
    return err;
  }
  if (!flags.positional().empty()) {
    return "unexpected argument " + flags.positional().front();
  }
  if (auto url = ParseHttpUrl(flags.Get("url", "http://127.0.0.1:8080"))) {
    config.addr = url->addr;
    config.host = std::move(url->host);
  } else {
    return "--url must be http://<IPv4 or localhost>:<port>";
  }
  auto connections = flags.GetInt("connections", 10'000);
  auto threads = flags.GetInt("threads", 2);
  auto duration = flags.GetInt("duration-s", 20);
  auto warmup = flags.GetInt("warmup-s", 5);
  auto connect_timeout = flags.GetInt("connect-timeout-s", 120);
  auto batch = flags.GetInt("connect-batch", 200);
  if (!connections || *connections < 1 || *connections > kConnectionsMax || !threads ||
      *threads < 1 || *threads > kThreadsMax || !duration || *duration < 1 || *duration > 3600 ||
      !warmup || *warmup < 0 || *warmup > 3600 || !connect_timeout || *connect_timeout < 1 ||
      *connect_timeout > 3600 || !batch || *batch < 1 || *batch > 10'000) {
    return "a numeric flag is malformed or out of range";
  }
  config.connections = *connections;
  config.threads = std::min(*threads, *connections);
  config.duration_s = *duration;
  config.warmup_s = *warmup;
  config.connect_timeout_s = *connect_timeout;
  config.connect_batch = *batch;
  config.ready_file = flags.Get("ready-file");
  auto target =
      BuildTarget(flags.Get("symbol", "BTCUSDT"), flags.Get("streams", "trade,depth@100ms"));
  if (!target) {
    return "--symbol is letters and digits; --streams a comma-separated list of stream suffixes";
  }
  config.target = *target;
  if (!ParseCpuPids(flags.Get("cpu-pids"), config.cpu_pids, 16)) {
    return "--cpu-pids is name=pid[,name=pid...], at most 16";
  }
  return std::nullopt;
}

// Lifts the soft descriptor limit to the hard one; false if that is still too low.
bool RaiseFileLimit(int64_t needed) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    return false;
  }
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  if (rl.rlim_cur != RLIM_INFINITY && static_cast<int64_t>(rl.rlim_cur) < needed) {
    std::fprintf(stderr, "ws_bench: RLIMIT_NOFILE is %llu, %lld needed\n",
                 static_cast<unsigned long long>(rl.rlim_cur), static_cast<long long>(needed));
    return false;
  }
  return true;
}

void OnSignal(int) { g_stop.store(true); }

}  // namespace
}  // namespace spotex::bench

int main(int argc, char** argv) {
  using namespace spotex::bench;
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  Config config;
  if (auto err = ParseConfig(argc, argv, config)) {
    std::fprintf(stderr, "ws_bench: %s\n%s", err->c_str(), kUsage);
    return 2;
  }
  if (!RaiseFileLimit(config.connections + 64)) {
    return 2;
  }
  std::atomic<int64_t> opened{0};
  std::vector<std::unique_ptr<Worker>> workers;
  for (int64_t t = 0; t < config.threads; ++t) {
    int64_t share = config.connections / config.threads + (t < config.connections % config.threads);
    workers.push_back(std::make_unique<Worker>(config, static_cast<size_t>(share), opened));
  }
  std::vector<std::thread> threads;
  const int64_t t0 = MonoNs();
  for (auto& w : workers) {
    threads.emplace_back([&w] { w->Run(); });
  }
  // Until every connection is open (or the rest failed / timed out).
  const int64_t deadline = t0 + (config.connect_timeout_s + 1) * kNsPerS;
  while (opened.load() < config.connections && MonoNs() < deadline && !g_stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const int64_t conns = opened.load();
  std::fprintf(stderr, "ws_bench: %lld of %lld connections open after %.1f s\n",
               static_cast<long long>(conns), static_cast<long long>(config.connections),
               static_cast<double>(MonoNs() - t0) / 1e9);
  const int64_t begin = WallUs() + config.warmup_s * 1'000'000;
  g_window_end_us.store(begin + config.duration_s * 1'000'000);
  g_window_begin_us.store(begin);
  if (!config.ready_file.empty()) {
    std::ofstream(config.ready_file) << conns << "\n";
  }
  std::this_thread::sleep_for(std::chrono::microseconds(begin - WallUs()));
  CpuSample cpu0 = SampleCpu(config);
  for (auto& t : threads) {
    t.join();
  }
  CpuSample cpu1 = SampleCpu(config);
  if (g_stop.load()) {
    std::fprintf(stderr, "ws_bench: interrupted\n");
    return 2;
  }
  Report(config, workers, conns, cpu0, cpu1);
  return 0;
}
