#include "load_generator.h"

#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <netinet/tcp.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace spotex::bench {
namespace {

constexpr int64_t kNsPerS = 1'000'000'000;
constexpr int64_t kNsPerMs = 1'000'000;
constexpr int64_t kReconnectBackoffNs = 100'000'000;
constexpr size_t kReadChunkBytes = 64 * 1024;
constexpr uint64_t kTimerToken = UINT64_MAX;

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
  if (close == std::string::npos || close + 2 > text.size()) {
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

std::string Join(const std::map<std::string, uint64_t>& counts) {
  std::string out;
  for (const auto& [key, n] : counts) {
    out += " " + key + "=" + std::to_string(n);
  }
  return out;
}

}  // namespace

LoadGenerator::LoadGenerator(LoadConfig config, Workload workload, std::vector<MarketMaker> makers)
    : config_(std::move(config)),
      workload_(std::move(workload)),
      makers_(std::move(makers)),
      conns_(static_cast<size_t>(config_.connections) + makers_.size()) {
  for (size_t m = 0; m < makers_.size(); ++m) {
    conns_[static_cast<size_t>(config_.connections) + m].maker = static_cast<int>(m);
  }
}

LoadGenerator::~LoadGenerator() {
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

int64_t LoadGenerator::Due(int64_t index) const {
  return start_ns_ + static_cast<int64_t>(static_cast<__int128>(index) * kNsPerS / rate_);
}

bool LoadGenerator::Open(size_t ci) {
  Connection& c = conns_[ci];
  c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) {
    std::fprintf(stderr, "%s: socket: %s\n", config_.program.c_str(), std::strerror(errno));
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
  if (c.state == Connection::State::kIdle && c.maker < 0) {
    idle_.erase(std::remove(idle_.begin(), idle_.end(), ci), idle_.end());
  }
  c.state = Connection::State::kClosed;
  ++closed_;
  c.reconnect_at_ns = backoff ? now + kReconnectBackoffNs : now;
}

void LoadGenerator::CountError(int64_t index, const std::string& key) {
  if (phase_ && Measured(index)) {
    ++stats_.error_count;
    ++stats_.errors[key];
  } else {
    ++stats_.outside_errors[key];
  }
}

// The request in flight on `ci` failed at the transport level: counted, connection dropped.
void LoadGenerator::Fail(size_t ci, int64_t now, const std::string& why) {
  Connection& c = conns_[ci];
  if (c.state == Connection::State::kBusy) {
    if (c.maker >= 0) {
      ++maker_errors_["maker:" + why];
      makers_[static_cast<size_t>(c.maker)].OnTransportError(now / kNsPerMs);
    } else {
      CountError(c.index, std::string(Name(c.tag.kind)) + ":" + why);
      --in_flight_;
    }
  } else {
    ++stats_.closes["idle, " + why];
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
    if (lag > kNsPerMs) {
      ++stats_.late_sends;
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
    // Least recently used first: every connection stays in use, none idles into the server's
    // (or HAProxy's) idle timeout.
    size_t ci = idle_.front();
    idle_.pop_front();
    int64_t index = pending_.front();
    pending_.pop_front();
    Send(ci, index, now);
  }
}

// Sends each idle maker's next request if it is due; lowers `wake` to the next maker due time.
void LoadGenerator::DispatchMakers(int64_t now, int64_t& wake) {
  int64_t now_ms = now / kNsPerMs;
  for (size_t ci = static_cast<size_t>(config_.connections); ci < conns_.size(); ++ci) {
    Connection& c = conns_[ci];
    if (c.state != Connection::State::kIdle) {
      continue;
    }
    MarketMaker& maker = makers_[static_cast<size_t>(c.maker)];
    if (!maker.Ready(now_ms)) {
      wake = std::min(wake, maker.WakeAtMs() * kNsPerMs);
      continue;
    }
    maker.Next(WallMs(), c.out);
    c.out_sent = 0;
    c.state = Connection::State::kBusy;
    ++maker_requests_;
    Flush(ci, now);
  }
}

void LoadGenerator::Complete(size_t ci, int64_t now) {
  Connection& c = conns_[ci];
  std::string key;
  if (c.maker >= 0) {
    if (!makers_[static_cast<size_t>(c.maker)].OnResponse(now / kNsPerMs, c.reader.status(),
                                                          c.reader.body(), key)) {
      ++maker_errors_[key];
    }
  } else {
    Outcome outcome = workload_.OnResponse(c.tag, c.reader.status(), c.reader.body(), key);
    --in_flight_;
    if (outcome == Outcome::kError) {
      CountError(c.index, key);
    } else if (phase_ && Measured(c.index)) {
      int64_t latency_us = (now - Due(c.index)) / 1000;
      stats_.latency_us[static_cast<size_t>(c.tag.kind)].push_back(
          static_cast<uint32_t>(std::min<int64_t>(latency_us, UINT32_MAX)));
      ++stats_.ok;
      if (outcome == Outcome::kCancelRaced) {
        ++stats_.cancel_raced;
      }
    }
  }
  bool keep_alive = c.reader.keep_alive();
  c.state = Connection::State::kIdle;
  bool extra = c.reader.Next() != HttpResponseReader::State::kNeedMore;
  if (extra || !keep_alive) {
    // Bytes beyond the one answer we asked for, or the server closes: start afresh.
    ++stats_.closes[extra ? "bytes after an answer" : "answer with Connection: close"];
    Close(ci, now, false);
    return;
  }
  if (c.maker < 0) {
    idle_.push_back(ci);
  }
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
      if (c.state == Connection::State::kBusy) {
        Fail(ci, now, n == 0 ? "closed by server" : "recv failed");
      } else {
        ++stats_.closes[n == 0 ? "idle, closed by server" : "idle, recv failed"];
        Close(ci, now, n != 0);
      }
      return;
    }
    if (c.state != Connection::State::kBusy) {
      // HAProxy answers 408 on a keep-alive connection left idle past its request timeout.
      bool timeout = std::string_view(buf, static_cast<size_t>(n)).starts_with("HTTP/1.1 408");
      Fail(ci, now, timeout ? "408 from the server" : "unsolicited bytes");
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

void LoadGenerator::Loop(int64_t end_ns, bool until_schedule_done) {
  std::array<epoll_event, 256> events;
  for (;;) {
    int64_t now = MonoNs();
    while (next_index_ < total_ && Due(next_index_) <= now) {
      pending_.push_back(next_index_++);
    }
    if (phase_ && window_begin_ns_ == 0 && now >= Due(measured_begin_)) {
      window_begin_ns_ = now;
      SampleCpu(cpu_begin_, self_cpu_begin_ns_);
    }
    if (phase_ && window_end_ns_ == 0 && now >= Due(measured_end_)) {
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
    DispatchMakers(now, wake);
    if (now >= end_ns || (draining_ && in_flight_ == 0 && pending_.empty()) ||
        (until_schedule_done && next_index_ >= total_)) {
      return;
    }
    if (next_index_ < total_) {
      wake = std::min(wake, Due(next_index_));
    }
    ArmTimer(std::max<int64_t>(wake, 1));
    int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), -1);
    now = MonoNs();
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == kTimerToken) {
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
          ++stats_.closes["connect failed"];
          Close(ci, now, true);
          continue;
        }
        c.state = Connection::State::kIdle;
        Watch(ci, false);
        if (c.maker < 0) {
          idle_.push_back(ci);
        }
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

bool LoadGenerator::Connect() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (epoll_fd_ < 0 || timer_fd_ < 0) {
    std::fprintf(stderr, "%s: epoll/timerfd: %s\n", config_.program.c_str(), std::strerror(errno));
    return false;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kTimerToken;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, timer_fd_, &ev);

  int64_t deadline = MonoNs() + 10 * kNsPerS;
  for (size_t ci = 0; ci < conns_.size(); ++ci) {
    if (!Open(ci)) {
      ++closed_;
    }
  }
  auto up = [this] {
    return std::all_of(conns_.begin(), conns_.end(), [](const Connection& c) {
      return c.state == Connection::State::kIdle || c.state == Connection::State::kBusy;
    });
  };
  while (!up() && MonoNs() < deadline) {
    Loop(std::min(deadline, MonoNs() + 50'000'000), false);
  }
  if (!up()) {
    std::fprintf(stderr, "%s: only %zu of %zu measured connections to %s opened in 10 s\n",
                 config_.program.c_str(), idle_.size(), static_cast<size_t>(config_.connections),
                 config_.host.c_str());
    return false;
  }
  return true;
}

void LoadGenerator::Idle(int64_t ns) { Loop(MonoNs() + ns, false); }

PhaseReport LoadGenerator::RunPhase(int64_t rate, int64_t warmup_s, int64_t duration_s) {
  stats_ = Stats{};
  pending_.clear();
  rate_ = rate;
  total_ = rate * (warmup_s + duration_s);
  measured_begin_ = rate * warmup_s;
  measured_end_ = total_;
  next_index_ = 0;
  window_begin_ns_ = window_end_ns_ = 0;
  self_cpu_begin_ns_ = self_cpu_end_ns_ = 0;
  cpu_begin_.clear();
  cpu_end_.clear();
  draining_ = false;
  phase_ = true;
  start_ns_ = MonoNs() + 10'000'000;
  Loop(INT64_MAX, true);
  draining_ = true;
  Loop(MonoNs() + config_.drain_s * kNsPerS, false);
  draining_ = false;
  if (window_end_ns_ == 0) {
    window_end_ns_ = MonoNs();
    SampleCpu(cpu_end_, self_cpu_end_ns_);
  }
  // Whatever is still due or in flight was never answered.
  for (int64_t index : pending_) {
    CountError(index, "unanswered");
  }
  pending_.clear();
  for (size_t ci = 0; ci < static_cast<size_t>(config_.connections); ++ci) {
    Connection& c = conns_[ci];
    if (c.state == Connection::State::kBusy) {
      CountError(c.index, std::string(Name(c.tag.kind)) + ":unanswered");
      // Its answer would be matched to the next request: the connection starts afresh.
      c.state = Connection::State::kIdle;
      Close(ci, MonoNs(), false);
    }
  }
  in_flight_ = 0;
  phase_ = false;
  PhaseReport report = MakeReport(duration_s);
  for (const auto& m : makers_) {
    report.maker_placed += m.placed();
    report.maker_resting += m.Resting();
  }
  return report;
}

PhaseReport LoadGenerator::MakeReport(int64_t duration_s) const {
  PhaseReport r;
  r.rate = rate_;
  r.duration_s = duration_s;
  std::vector<uint32_t> all;
  for (size_t k = 0; k < kKindCount; ++k) {
    std::vector<uint32_t> v = stats_.latency_us[k];
    all.insert(all.end(), v.begin(), v.end());
    r.by_kind[k] = Summarize(v);
  }
  r.all = Summarize(all);
  r.sent = stats_.sent;
  r.achieved = static_cast<double>(stats_.ok) / static_cast<double>(duration_s);
  r.errors = stats_.errors;
  r.outside_errors = stats_.outside_errors;
  r.error_count = stats_.error_count;
  r.cancel_raced = stats_.cancel_raced;
  r.tracked_open = workload_.TrackedOpenOrders();
  double wall_s = static_cast<double>(window_end_ns_ - window_begin_ns_) / 1e9;
  long hz = sysconf(_SC_CLK_TCK);
  if (wall_s > 0) {
    r.self_cpu_pct =
        100.0 * static_cast<double>(self_cpu_end_ns_ - self_cpu_begin_ns_) / 1e9 / wall_s;
    for (size_t i = 0; i < config_.cpu_pids.size() && i < cpu_end_.size() && i < cpu_begin_.size();
         ++i) {
      if (cpu_begin_[i] >= 0 && cpu_end_[i] >= 0) {
        r.cpu_pct.emplace_back(
            config_.cpu_pids[i].first,
            100.0 * static_cast<double>(cpu_end_[i] - cpu_begin_[i]) / hz / wall_s);
      }
    }
  }
  r.send_lag_max_ms = static_cast<double>(stats_.send_lag_max_ns) / 1e6;
  r.late_sends = stats_.late_sends;
  r.reconnects = stats_.reconnects;
  r.closes = stats_.closes;
  r.makers = makers_.size();
  r.maker_requests = maker_requests_;
  r.maker_errors = maker_errors_;
  return r;
}

void PrintPhase(const PhaseReport& r, std::string_view program) {
  const std::string p(program);
  std::string mix;
  std::string per_kind;
  for (size_t k = 0; k < kKindCount; ++k) {
    if (r.sent[k] == 0) {
      continue;
    }
    std::string name(Name(RequestKind(k)));
    mix += " " + name + "=" + std::to_string(r.sent[k]);
    char buf[160];
    std::snprintf(buf, sizeof buf, " %s=%.2f/%.2f", name.c_str(), r.by_kind[k].p50_ms,
                  r.by_kind[k].p99_ms);
    per_kind += buf;
  }
  std::fprintf(stderr, "%s: rate %lld/s, measured window %lld s; sent:%s\n", p.c_str(),
               static_cast<long long>(r.rate), static_cast<long long>(r.duration_s), mix.c_str());
  std::fprintf(stderr,
               "%s: latency ms over %llu answers: p50 %.2f p90 %.2f p99 %.2f p99.9 %.2f max %.2f\n",
               p.c_str(), static_cast<unsigned long long>(r.all.count), r.all.p50_ms, r.all.p90_ms,
               r.all.p99_ms, r.all.p999_ms, r.all.max_ms);
  std::fprintf(stderr, "%s: p50/p99 ms by kind:%s\n", p.c_str(), per_kind.c_str());
  std::fprintf(stderr,
               "%s: cancels of orders filled meanwhile (-2011, counted ok): %llu;"
               " our orders resting at the end: %zu\n",
               p.c_str(), static_cast<unsigned long long>(r.cancel_raced), r.tracked_open);
  std::fprintf(stderr, "%s: errors:%s\n", p.c_str(),
               r.errors.empty() ? " none" : Join(r.errors).c_str());
  if (!r.outside_errors.empty()) {
    std::fprintf(stderr, "%s: errors outside the window (warm-up, drain):%s\n", p.c_str(),
                 Join(r.outside_errors).c_str());
  }
  if (r.makers > 0) {
    std::fprintf(stderr,
                 "%s: makers (since start, not measured): %zu, %llu requests, %llu quotes placed, "
                 "%d resting now; maker errors:%s\n",
                 p.c_str(), r.makers, static_cast<unsigned long long>(r.maker_requests),
                 static_cast<unsigned long long>(r.maker_placed), r.maker_resting,
                 r.maker_errors.empty() ? " none" : Join(r.maker_errors).c_str());
  }
  std::string cpu;
  for (const auto& [name, pct] : r.cpu_pct) {
    char buf[96];
    std::snprintf(buf, sizeof buf, " %s=%.0f%%", name.c_str(), pct);
    cpu += buf;
  }
  std::fprintf(stderr,
               "%s: cpu (%% of one core) %s=%.0f%%%s; send lag max %.2f ms, "
               "%llu requests sent >1 ms after due, %llu reconnects (closes:%s)\n",
               p.c_str(), p.c_str(), r.self_cpu_pct, cpu.c_str(), r.send_lag_max_ms,
               static_cast<unsigned long long>(r.late_sends),
               static_cast<unsigned long long>(r.reconnects),
               r.closes.empty() ? " none" : Join(r.closes).c_str());
}

}  // namespace spotex::bench
