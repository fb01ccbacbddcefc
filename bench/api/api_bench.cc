// api_bench: an open-loop HTTP/1.1 load generator for the Spotex REST API (issue 4 §8). It
// sends signed Binance requests (bench/api/workload.h: orders, cancels and a read mix, signed
// as ccxt signs them) over many keep-alive connections at a fixed offered rate.
//
// Open loop: request i is due at t_i = start + i / rate whatever the server does. A due request
// goes out on the first idle connection (one request in flight per connection, no pipelining);
// when none is idle it waits in a FIFO. Latency = time the response is complete − t_i, so time
// spent waiting for a connection or in the kernel's queues is charged in full (no coordinated
// omission). The first --warmup-s seconds of the schedule are not measured; the measured
// window is the next --duration-s seconds. After the schedule ends, answers are awaited for at
// most --drain-s seconds; a measured request still unanswered then counts as an error.
//
// Counted in the measured window:
//   achieved  answers that are 2xx, plus cancels refused with -2011 because the order had
//             been filled since it was placed (the server did the full work; a race of the
//             workload, listed apart on stderr), per second of the window;
//   latency   of those answers (exact: every sample is kept and sorted);
//   errors    every other answer (non-2xx), every transport failure (refused or reset
//             connection, malformed response) and every request left unanswered.
// stderr gets the breakdown: errors by kind:status/code, the mix, per-kind latencies, the
// bench's own CPU time and send lag (to show it is not the bottleneck), and the CPU of the
// processes named by --cpu-pids.
//
// One thread, epoll, non-blocking sockets, a timerfd for the schedule.
//
// Last line on stdout:
//   api offered=<N> achieved=<N> p50_ms=<x> p99_ms=<x> p999_ms=<x> errors=<N>
//
// usage: api_bench --url http://127.0.0.1:PORT [--rate 2000] [--duration-s 20] [--warmup-s 5]
//          [--connections 128] [--users FILE] [--mix full|public] [--read-fraction 0.2]
//          [--cancel-fraction 0.1] [--open-per-user 8] [--mid-price 30000.00]
//          [--drain-s 5] [--seed N] [--cpu-pids name=pid,name=pid]
// Exit: 0 the run finished (errors are in the line), 2 usage or set-up error.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "apps/flags.h"
#include "http_response.h"
#include "workload.h"

namespace spotex::bench {
namespace {

constexpr int64_t kNsPerS = 1'000'000'000;
constexpr int64_t kConnectionsMax = 4096;
constexpr int64_t kRateMax = 1'000'000;
constexpr int64_t kScheduledMax = 50'000'000;  // rate × (warm-up + duration)
constexpr int64_t kReconnectBackoffNs = 100'000'000;
constexpr size_t kReadChunkBytes = 64 * 1024;

int64_t MonoNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * kNsPerS + ts.tv_nsec;
}

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
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
  int64_t utime = 0;
  int64_t stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) {
      utime = std::stoll(f);
    } else if (i == 15) {
      stime = std::stoll(f);
    }
  }
  return utime + stime;
}

int64_t SelfCpuNs() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * kNsPerS +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

struct Config {
  sockaddr_in addr{};
  std::string host;  // Host header
  int64_t rate = 2000;
  int64_t duration_s = 20;
  int64_t warmup_s = 5;
  int64_t connections = 128;
  int64_t drain_s = 5;
  uint64_t seed = 1;
  MixOptions mix;
  std::vector<ApiUser> users;
  std::vector<std::pair<std::string, int>> cpu_pids;
};

struct Connection {
  enum class State { kClosed, kConnecting, kIdle, kBusy };
  int fd = -1;
  State state = State::kClosed;
  std::string out;
  size_t out_sent = 0;
  HttpResponseReader reader;
  RequestTag tag;
  int64_t index = -1;           // schedule index of the request in flight
  int64_t reconnect_at_ns = 0;  // kClosed: when to try again
};

struct Stats {
  std::array<std::vector<uint32_t>, static_cast<size_t>(RequestKind::kCount)> latency_us;
  std::array<uint64_t, static_cast<size_t>(RequestKind::kCount)> sent{};
  std::map<std::string, uint64_t> errors;         // measured window
  std::map<std::string, uint64_t> warmup_errors;  // outside it
  uint64_t ok = 0;
  uint64_t cancel_raced = 0;
  uint64_t error_count = 0;
  uint64_t waited_for_connection = 0;  // measured requests sent > 1 ms after due (no idle
                                       // connection, or this process not scheduled)
  int64_t send_lag_max_ns = 0;         // due → written, over measured requests
  uint64_t reconnects = 0;
};

class LoadGenerator {
 public:
  LoadGenerator(Config config, Workload workload)
      : config_(std::move(config)), workload_(std::move(workload)), conns_(config_.connections) {}

  ~LoadGenerator() {
    for (auto& c : conns_) {
      if (c.fd >= 0) {
        close(c.fd);
      }
    }
    if (timer_fd_ >= 0) {
      close(timer_fd_);
    }
    if (epoll_fd_ >= 0) {
      close(epoll_fd_);
    }
  }

  // Opens the connections (waits until all are up, at most 10 s), then runs the schedule.
  // False on a set-up failure (message on stderr).
  bool Run();
  void Report() const;

 private:
  int64_t Due(int64_t index) const {
    return start_ns_ + static_cast<int64_t>(static_cast<__int128>(index) * kNsPerS / config_.rate);
  }
  bool Measured(int64_t index) const { return index >= measured_begin_ && index < measured_end_; }

  bool Open(size_t ci);
  void Close(size_t ci, int64_t now, bool backoff);
  void Watch(size_t ci, bool want_write);
  void Dispatch(int64_t now);
  void Send(size_t ci, int64_t index, int64_t now);
  void Flush(size_t ci, int64_t now);
  void OnReadable(size_t ci, int64_t now);
  void Complete(size_t ci, int64_t now);
  void Fail(size_t ci, int64_t now, const std::string& why);
  void CountError(int64_t index, const std::string& key);
  void ArmTimer(int64_t at_ns);
  void Loop(int64_t end_ns);
  void SampleCpu(std::vector<int64_t>& ticks, int64_t& self_ns) const;

  Config config_;
  Workload workload_;
  std::vector<Connection> conns_;
  int epoll_fd_ = -1;
  int timer_fd_ = -1;
  int64_t timer_armed_ns_ = -1;
  int64_t start_ns_ = 0;
  int64_t total_ = 0;
  int64_t measured_begin_ = 0;
  int64_t measured_end_ = 0;
  int64_t next_index_ = 0;
  int64_t in_flight_ = 0;
  size_t closed_ = 0;  // connections in kClosed after a Close(), waiting to reopen
  bool draining_ = false;
  std::deque<int64_t> pending_;  // due, not yet sent
  std::vector<size_t> idle_;     // connections ready for a request
  Stats stats_;
  std::vector<int64_t> cpu_begin_, cpu_end_;
  int64_t self_cpu_begin_ns_ = 0, self_cpu_end_ns_ = 0;
  int64_t window_begin_ns_ = 0, window_end_ns_ = 0;
};

bool LoadGenerator::Open(size_t ci) {
  Connection& c = conns_[ci];
  c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) {
    std::fprintf(stderr, "api_bench: socket: %s\n", std::strerror(errno));
    return false;
  }
  int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c.reader.Reset();
  c.out.clear();
  c.out_sent = 0;
  int rc = connect(c.fd, reinterpret_cast<const sockaddr*>(&config_.addr), sizeof config_.addr);
  if (rc != 0 && errno != EINPROGRESS) {
    close(c.fd);
    c.fd = -1;
    return false;
  }
  c.state = Connection::State::kConnecting;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.u64 = ci;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c.fd, &ev);
  return true;
}

void LoadGenerator::Watch(size_t ci, bool want_write) {
  epoll_event ev{};
  ev.events = EPOLLIN | (want_write ? EPOLLOUT : 0u);
  ev.data.u64 = ci;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, conns_[ci].fd, &ev);
}

void LoadGenerator::Close(size_t ci, int64_t now, bool backoff) {
  Connection& c = conns_[ci];
  if (c.fd >= 0) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
    c.fd = -1;
  }
  if (c.state == Connection::State::kIdle) {
    idle_.erase(std::remove(idle_.begin(), idle_.end(), ci), idle_.end());
  }
  c.state = Connection::State::kClosed;
  ++closed_;
  c.reconnect_at_ns = backoff ? now + kReconnectBackoffNs : now;
}

void LoadGenerator::CountError(int64_t index, const std::string& key) {
  if (Measured(index)) {
    ++stats_.error_count;
    ++stats_.errors[key];
  } else {
    ++stats_.warmup_errors[key];
  }
}

// The request in flight on `ci` failed at the transport level: counted, connection dropped.
void LoadGenerator::Fail(size_t ci, int64_t now, const std::string& why) {
  Connection& c = conns_[ci];
  if (c.state == Connection::State::kBusy) {
    CountError(c.index, std::string(Name(c.tag.kind)) + ":" + why);
    --in_flight_;
  }
  Close(ci, now, true);
}

void LoadGenerator::Send(size_t ci, int64_t index, int64_t now) {
  Connection& c = conns_[ci];
  c.tag = workload_.Next(WallMs(), c.out);
  c.out_sent = 0;
  c.index = index;
  c.state = Connection::State::kBusy;
  ++in_flight_;
  if (Measured(index)) {
    ++stats_.sent[static_cast<size_t>(c.tag.kind)];
    int64_t lag = now - Due(index);
    stats_.send_lag_max_ns = std::max(stats_.send_lag_max_ns, lag);
    if (lag > 1'000'000) {
      ++stats_.waited_for_connection;
    }
  }
  Flush(ci, now);
}

void LoadGenerator::Flush(size_t ci, int64_t now) {
  Connection& c = conns_[ci];
  while (c.out_sent < c.out.size()) {
    ssize_t n = send(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      Watch(ci, true);
      return;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    Fail(ci, now, "send failed");
    return;
  }
}

void LoadGenerator::Dispatch(int64_t now) {
  while (!pending_.empty() && !idle_.empty()) {
    size_t ci = idle_.back();
    idle_.pop_back();
    int64_t index = pending_.front();
    pending_.pop_front();
    Send(ci, index, now);
  }
}

void LoadGenerator::Complete(size_t ci, int64_t now) {
  Connection& c = conns_[ci];
  std::string key;
  Outcome outcome = workload_.OnResponse(c.tag, c.reader.status(), c.reader.body(), key);
  --in_flight_;
  if (outcome == Outcome::kError) {
    CountError(c.index, key);
  } else if (Measured(c.index)) {
    int64_t latency_us = (now - Due(c.index)) / 1000;
    stats_.latency_us[static_cast<size_t>(c.tag.kind)].push_back(
        static_cast<uint32_t>(std::min<int64_t>(latency_us, UINT32_MAX)));
    ++stats_.ok;
    if (outcome == Outcome::kCancelRaced) {
      ++stats_.cancel_raced;
    }
  }
  bool keep_alive = c.reader.keep_alive();
  c.state = Connection::State::kIdle;
  if (c.reader.Next() != HttpResponseReader::State::kNeedMore || !keep_alive) {
    // Bytes beyond the one answer we asked for, or the server closes: start afresh.
    Close(ci, now, false);
    return;
  }
  idle_.push_back(ci);
}

void LoadGenerator::OnReadable(size_t ci, int64_t now) {
  static char buf[kReadChunkBytes];
  Connection& c = conns_[ci];
  for (;;) {
    ssize_t n = recv(c.fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return;
    }
    if (n <= 0) {
      // Closed by the server: an error only if a request was waiting for its answer.
      bool busy = c.state == Connection::State::kBusy;
      if (busy) {
        Fail(ci, now, n == 0 ? "closed by server" : "recv failed");
      } else {
        Close(ci, now, n != 0);
      }
      return;
    }
    if (c.state != Connection::State::kBusy) {
      Fail(ci, now, "unsolicited bytes");
      return;
    }
    auto state = c.reader.Feed(std::string_view(buf, static_cast<size_t>(n)));
    if (state == HttpResponseReader::State::kError) {
      Fail(ci, now, "bad response (" + std::string(c.reader.error()) + ")");
      return;
    }
    if (state == HttpResponseReader::State::kComplete) {
      Complete(ci, now);
      return;
    }
  }
}

void LoadGenerator::ArmTimer(int64_t at_ns) {
  if (at_ns == timer_armed_ns_) {
    return;
  }
  timer_armed_ns_ = at_ns;
  itimerspec spec{};
  spec.it_value.tv_sec = at_ns / kNsPerS;
  spec.it_value.tv_nsec = at_ns % kNsPerS;
  timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
}

void LoadGenerator::SampleCpu(std::vector<int64_t>& ticks, int64_t& self_ns) const {
  ticks.clear();
  for (const auto& [name, pid] : config_.cpu_pids) {
    ticks.push_back(ProcessCpuTicks(pid));
  }
  self_ns = SelfCpuNs();
}

// Runs until `end_ns` or, once draining, until nothing is left in flight.
void LoadGenerator::Loop(int64_t end_ns) {
  std::array<epoll_event, 256> events;
  for (;;) {
    int64_t now = MonoNs();
    while (next_index_ < total_ && Due(next_index_) <= now) {
      pending_.push_back(next_index_++);
    }
    if (window_begin_ns_ == 0 && now >= Due(measured_begin_)) {
      window_begin_ns_ = now;
      SampleCpu(cpu_begin_, self_cpu_begin_ns_);
    }
    if (window_end_ns_ == 0 && now >= Due(measured_end_)) {
      window_end_ns_ = now;
      SampleCpu(cpu_end_, self_cpu_end_ns_);
    }
    int64_t wake = end_ns;
    for (size_t ci = 0; closed_ > 0 && ci < conns_.size(); ++ci) {
      Connection& c = conns_[ci];
      if (c.state == Connection::State::kClosed && !draining_) {
        if (c.reconnect_at_ns <= now) {
          ++stats_.reconnects;
          if (Open(ci)) {
            --closed_;
          } else {
            c.reconnect_at_ns = now + kReconnectBackoffNs;
          }
        }
        if (c.state == Connection::State::kClosed) {
          wake = std::min(wake, c.reconnect_at_ns);
        }
      }
    }
    Dispatch(now);
    if (now >= end_ns || (draining_ && in_flight_ == 0 && pending_.empty())) {
      return;
    }
    if (next_index_ < total_) {
      wake = std::min(wake, Due(next_index_));
    } else if (!draining_) {
      return;  // the schedule is done: the caller starts the drain
    }
    ArmTimer(wake);
    int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), -1);
    now = MonoNs();
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == UINT64_MAX) {
        uint64_t expirations = 0;
        [[maybe_unused]] ssize_t r = read(timer_fd_, &expirations, sizeof expirations);
        timer_armed_ns_ = -1;
        continue;
      }
      size_t ci = static_cast<size_t>(events[i].data.u64);
      Connection& c = conns_[ci];
      if (c.fd < 0) {
        continue;
      }
      if (c.state == Connection::State::kConnecting) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0 || (events[i].events & (EPOLLERR | EPOLLHUP)) != 0) {
          Close(ci, now, true);
          continue;
        }
        c.state = Connection::State::kIdle;
        Watch(ci, false);
        idle_.push_back(ci);
        continue;
      }
      if ((events[i].events & EPOLLOUT) != 0 && c.state == Connection::State::kBusy) {
        Flush(ci, now);
        if (c.fd >= 0 && c.out_sent == c.out.size()) {
          Watch(ci, false);
        }
      }
      if (c.fd >= 0 && (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
        OnReadable(ci, now);
      }
    }
  }
}

bool LoadGenerator::Run() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (epoll_fd_ < 0 || timer_fd_ < 0) {
    std::fprintf(stderr, "api_bench: epoll/timerfd: %s\n", std::strerror(errno));
    return false;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = UINT64_MAX;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, timer_fd_, &ev);

  total_ = config_.rate * (config_.warmup_s + config_.duration_s);
  measured_begin_ = config_.rate * config_.warmup_s;
  measured_end_ = total_;
  // Connect everything before the clock starts.
  start_ns_ = INT64_MAX / 2;
  int64_t deadline = MonoNs() + 10 * kNsPerS;
  for (size_t ci = 0; ci < conns_.size(); ++ci) {
    if (!Open(ci)) {
      ++closed_;
    }
  }
  while (idle_.size() < conns_.size() && MonoNs() < deadline) {
    Loop(std::min(deadline, MonoNs() + 50'000'000));
  }
  if (idle_.size() < conns_.size()) {
    std::fprintf(stderr, "api_bench: only %zu of %zu connections to %s opened in 10 s\n",
                 idle_.size(), conns_.size(), config_.host.c_str());
    return false;
  }
  start_ns_ = MonoNs() + 10'000'000;
  Loop(INT64_MAX);
  draining_ = true;
  Loop(MonoNs() + config_.drain_s * kNsPerS);
  if (window_end_ns_ == 0) {
    window_end_ns_ = MonoNs();
    SampleCpu(cpu_end_, self_cpu_end_ns_);
  }
  // Whatever is still due or in flight was never answered.
  for (int64_t index : pending_) {
    CountError(index, "unanswered");
  }
  for (const auto& c : conns_) {
    if (c.state == Connection::State::kBusy) {
      CountError(c.index, std::string(Name(c.tag.kind)) + ":unanswered");
    }
  }
  return true;
}

double Percentile(const std::vector<uint32_t>& sorted, double q) {
  if (sorted.empty()) {
    return 0.0;
  }
  size_t rank = static_cast<size_t>(q * static_cast<double>(sorted.size()) + 0.999999);
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1] / 1000.0;
}

void LoadGenerator::Report() const {
  std::vector<uint32_t> all;
  std::string per_kind;
  std::string mix;
  for (size_t k = 0; k < stats_.latency_us.size(); ++k) {
    std::vector<uint32_t> v = stats_.latency_us[k];
    if (stats_.sent[k] == 0) {
      continue;
    }
    std::sort(v.begin(), v.end());
    char buf[160];
    std::snprintf(buf, sizeof buf, " %s=%.2f/%.2f", std::string(Name(RequestKind(k))).c_str(),
                  Percentile(v, 0.5), Percentile(v, 0.99));
    per_kind += buf;
    mix += " " + std::string(Name(RequestKind(k))) + "=" + std::to_string(stats_.sent[k]);
    all.insert(all.end(), v.begin(), v.end());
  }
  std::sort(all.begin(), all.end());
  double window_s = static_cast<double>(config_.duration_s);
  std::fprintf(stderr, "api_bench: measured window %lld s, %lld requests due; sent:%s\n",
               static_cast<long long>(config_.duration_s),
               static_cast<long long>(measured_end_ - measured_begin_), mix.c_str());
  std::fprintf(stderr, "api_bench: p50/p99 ms by kind:%s\n", per_kind.c_str());
  std::fprintf(stderr,
               "api_bench: cancels of orders filled meanwhile (-2011, counted ok): %llu;"
               " our orders resting at the end: %zu\n",
               static_cast<unsigned long long>(stats_.cancel_raced), workload_.TrackedOpenOrders());
  std::string errors;
  for (const auto& [key, n] : stats_.errors) {
    errors += " " + key + "=" + std::to_string(n);
  }
  std::fprintf(stderr, "api_bench: errors:%s\n", errors.empty() ? " none" : errors.c_str());
  if (!stats_.warmup_errors.empty()) {
    std::string w;
    for (const auto& [key, n] : stats_.warmup_errors) {
      w += " " + key + "=" + std::to_string(n);
    }
    std::fprintf(stderr, "api_bench: errors outside the window (warm-up, drain):%s\n", w.c_str());
  }
  double wall_s = static_cast<double>(window_end_ns_ - window_begin_ns_) / 1e9;
  std::string cpu;
  long hz = sysconf(_SC_CLK_TCK);
  for (size_t i = 0; i < config_.cpu_pids.size() && i < cpu_end_.size(); ++i) {
    if (cpu_begin_[i] < 0 || cpu_end_[i] < 0 || wall_s <= 0) {
      continue;
    }
    char buf[96];
    std::snprintf(buf, sizeof buf, " %s=%.0f%%", config_.cpu_pids[i].first.c_str(),
                  100.0 * static_cast<double>(cpu_end_[i] - cpu_begin_[i]) / hz / wall_s);
    cpu += buf;
  }
  std::fprintf(
      stderr,
      "api_bench: cpu (%% of one core) api_bench=%.0f%%%s; send lag max %.2f ms, "
      "%llu requests sent >1 ms after due, %llu reconnects\n",
      wall_s > 0 ? 100.0 * static_cast<double>(self_cpu_end_ns_ - self_cpu_begin_ns_) / 1e9 / wall_s
                 : 0.0,
      cpu.c_str(), static_cast<double>(stats_.send_lag_max_ns) / 1e6,
      static_cast<unsigned long long>(stats_.waited_for_connection),
      static_cast<unsigned long long>(stats_.reconnects));
  std::printf("api offered=%lld achieved=%.0f p50_ms=%.2f p99_ms=%.2f p999_ms=%.2f errors=%llu\n",
              static_cast<long long>(config_.rate), static_cast<double>(stats_.ok) / window_s,
              Percentile(all, 0.5), Percentile(all, 0.99), Percentile(all, 0.999),
              static_cast<unsigned long long>(stats_.error_count));
  std::fflush(stdout);
}

constexpr const char* kUsage =
    "usage: api_bench --url http://127.0.0.1:PORT [--rate 2000] [--duration-s 20]\n"
    "         [--warmup-s 5] [--connections 128] [--users FILE] [--mix full|public]\n"
    "         [--read-fraction 0.2] [--cancel-fraction 0.1] [--open-per-user 8]\n"
    "         [--mid-price 30000.00] [--drain-s 5] [--seed N] [--cpu-pids name=pid,...]\n";

// "http://127.0.0.1:8080" (an IPv4 literal or localhost; no path).
bool ParseUrl(const std::string& url, Config& config) {
  std::string_view rest = url;
  if (!rest.starts_with("http://")) {
    return false;
  }
  rest.remove_prefix(7);
  if (rest.ends_with("/")) {
    rest.remove_suffix(1);
  }
  size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) {
    return false;
  }
  std::string host(rest.substr(0, colon));
  int port = 0;
  auto port_text = rest.substr(colon + 1);
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || p != port_text.data() + port_text.size() || port < 1 || port > 65535) {
    return false;
  }
  config.addr.sin_family = AF_INET;
  config.addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host.c_str(), &config.addr.sin_addr) !=
      1) {
    return false;
  }
  config.host = std::string(rest);
  return true;
}

// "30000.00" → ticks at `decimals` decimals; -1 if malformed or more decimals than that.
int64_t ParsePrice(std::string_view text, int decimals) {
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || frac.size() > static_cast<size_t>(decimals) || whole.size() > 12) {
    return -1;
  }
  int64_t v = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') {
      return -1;
    }
    v = v * 10 + (c - '0');
  }
  for (int i = 0; i < decimals; ++i) {
    char c = i < static_cast<int>(frac.size()) ? frac[static_cast<size_t>(i)] : '0';
    if (c < '0' || c > '9') {
      return -1;
    }
    v = v * 10 + (c - '0');
  }
  return v;
}

bool ParseFraction(const std::string& text, double& out) {
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return !text.empty() && end == text.c_str() + text.size() && out >= 0.0 && out <= 1.0;
}

bool ParseCpuPids(const std::string& text, Config& config) {
  std::string_view rest = text;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return false;
    }
    int pid = 0;
    auto num = item.substr(eq + 1);
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), pid);
    if (ec != std::errc() || p != num.data() + num.size() || pid <= 0) {
      return false;
    }
    config.cpu_pids.emplace_back(std::string(item.substr(0, eq)), pid);
  }
  return config.cpu_pids.size() <= 16;
}

// Parses the flags into `config`; an error text on failure.
std::optional<std::string> ParseConfig(int argc, char** argv, Config& config) {
  apps::Flags flags;
  if (auto err = apps::Flags::Parse(
          argc, argv,
          {"url", "rate", "duration-s", "warmup-s", "connections", "users", "mix", "read-fraction",
           "cancel-fraction", "open-per-user", "mid-price", "drain-s", "seed", "cpu-pids"},
          flags)) {
    return err;
  }
  if (!flags.positional().empty()) {
    return "unexpected argument " + flags.positional().front();
  }
  if (!ParseUrl(flags.Get("url", "http://127.0.0.1:8080"), config)) {
    return "--url must be http://<IPv4 or localhost>:<port>";
  }
  auto rate = flags.GetInt("rate", 2000);
  auto duration = flags.GetInt("duration-s", 20);
  auto warmup = flags.GetInt("warmup-s", 5);
  auto connections = flags.GetInt("connections", 128);
  auto drain = flags.GetInt("drain-s", 5);
  auto seed = flags.GetInt("seed", 1);
  auto open = flags.GetInt("open-per-user", 8);
  if (!rate || *rate < 1 || *rate > kRateMax || !duration || *duration < 1 || !warmup ||
      *warmup < 0 || !connections || *connections < 1 || *connections > kConnectionsMax || !drain ||
      *drain < 0 || *drain > 600 || !seed || !open || *open < 1 || *open > 100) {
    return "a numeric flag is malformed or out of range";
  }
  if (*duration > 3600 || *warmup > 3600 || *rate * (*duration + *warmup) > kScheduledMax) {
    return "rate × (warmup + duration) above " + std::to_string(kScheduledMax);
  }
  config.rate = *rate;
  config.duration_s = *duration;
  config.warmup_s = *warmup;
  config.connections = *connections;
  config.drain_s = *drain;
  config.seed = static_cast<uint64_t>(*seed);
  config.mix.open_per_user_max = static_cast<size_t>(*open);
  std::string mix = flags.Get("mix", "full");
  if (mix != "full" && mix != "public") {
    return "--mix must be full or public";
  }
  config.mix.public_only = mix == "public";
  if (!ParseFraction(flags.Get("read-fraction", "0.2"), config.mix.read_fraction) ||
      !ParseFraction(flags.Get("cancel-fraction", "0.1"), config.mix.cancel_fraction)) {
    return "--read-fraction and --cancel-fraction are numbers in 0..1";
  }
  config.mix.mid_price_ticks =
      ParsePrice(flags.Get("mid-price", "30000.00"), config.mix.price_decimals);
  if (config.mix.mid_price_ticks < 100) {
    return "--mid-price must be a price with at most 2 decimals, at least 1.00";
  }
  if (!ParseCpuPids(flags.Get("cpu-pids"), config)) {
    return "--cpu-pids is name=pid[,name=pid...], at most 16";
  }
  std::string users_path = flags.Get("users");
  if (users_path.empty() != config.mix.public_only) {
    return "--mix full needs --users FILE; --mix public takes none";
  }
  if (!users_path.empty()) {
    std::ifstream in(users_path, std::ios::binary);
    if (!in) {
      return "cannot read " + users_path;
    }
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto users = ParseUsersJson(text);
    if (!users) {
      return users.error();
    }
    config.users = std::move(*users);
  }
  return std::nullopt;
}

// Letters and digits, fresh per process: newClientOrderId prefixes never repeat across runs.
std::string RunId() {
  std::random_device rd;
  std::string id = "b";
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  for (int i = 0; i < 8; ++i) {
    id.push_back(kAlphabet[rd() % 36]);
  }
  return id;
}

}  // namespace
}  // namespace spotex::bench

int main(int argc, char** argv) {
  using namespace spotex::bench;
  std::signal(SIGPIPE, SIG_IGN);
  Config config;
  if (auto err = ParseConfig(argc, argv, config)) {
    std::fprintf(stderr, "api_bench: %s\n%s", err->c_str(), kUsage);
    return 2;
  }
  Workload workload(config.users, config.mix, config.seed, config.host, RunId());
  LoadGenerator generator(std::move(config), std::move(workload));
  if (!generator.Run()) {
    return 2;
  }
  generator.Report();
  return 0;
}
