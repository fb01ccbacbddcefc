// The open-loop HTTP/1.1 load generator behind spotex-loadgen and api_bench: measured requests
// from a Workload (workload.h) at a fixed offered rate over many keep-alive connections, plus
// market makers (market_maker.h) quoting over connections of their own, all in one thread.
//
// Open loop: in a phase at rate R, request i is due at t_i = start + i / R whatever the server
// does. A due request goes out on the measured connection idle the longest (one request in flight
// per connection, no pipelining); when none is idle it waits in a FIFO. Latency = time the response
// is complete − t_i, so time spent waiting for a connection or in the kernel's queues is charged
// in full (no coordinated omission). The first `warmup_s` seconds of the schedule are not
// measured; the measured window is the next `duration_s` seconds. After the schedule ends,
// answers are awaited for at most `drain_s` seconds; a measured request still unanswered then
// counts as an error.
//
// Counted in the measured window:
//   achieved  answers that are 2xx, plus cancels refused with -2011 because the order had been
//             filled since it was placed (the server did the full work; a race of the workload,
//             listed apart), per second of the window;
//   latency   of those answers (exact: every sample is kept and sorted);
//   errors    every other answer (non-2xx), every transport failure (refused or reset
//             connection, malformed response) and every request left unanswered.
// The makers' requests are never in these figures: their count, errors and resting quotes are
// reported apart. They run during phases and during Idle(), closed loop, one request in flight
// per maker.
//
// Several phases may run one after the other on the same connections (the rate search); the
// workload's knowledge of open orders and the makers' ladders carry over.
//
// One thread, epoll, non-blocking sockets, a timerfd for the schedule. The report includes this
// process's own CPU time over the window, so a saturated generator shows.
//
// Thread safety: none; one LoadGenerator per thread, its methods called from that thread.
#pragma once

#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http_response.h"
#include "market_maker.h"
#include "rate_search.h"
#include "workload.h"

namespace spotex::bench {

inline constexpr int64_t kConnectionsMax = 4096;
inline constexpr int64_t kMakersMax = 64;
inline constexpr int64_t kRateMax = 1'000'000;
inline constexpr int64_t kScheduledMax = 50'000'000;  // rate × (warm-up + duration) per phase
inline constexpr size_t kCpuPidsMax = 16;

struct LoadConfig {
  sockaddr_in addr{};
  std::string host;  // Host header, "127.0.0.1:8080"
  int64_t connections = 128;  // measured traffic; each maker has one more
  int64_t drain_s = 5;
  std::vector<std::pair<std::string, int>> cpu_pids;  // name, pid: CPU shares reported
  std::string program = "spotex-loadgen";             // prefix of the stderr lines
};

constexpr size_t kKindCount = static_cast<size_t>(RequestKind::kCount);

struct PhaseReport {
  int64_t rate = 0;
  int64_t duration_s = 0;
  double achieved = 0;  // per second of the window
  LatencySummary all;
  std::array<LatencySummary, kKindCount> by_kind{};
  std::array<uint64_t, kKindCount> sent{};
  std::map<std::string, uint64_t> errors;          // measured window, by kind:status/code
  std::map<std::string, uint64_t> outside_errors;  // warm-up and drain
  uint64_t error_count = 0;
  uint64_t cancel_raced = 0;
  size_t tracked_open = 0;
  double self_cpu_pct = 0;  // of one core, over the window
  std::vector<std::pair<std::string, double>> cpu_pct;
  double send_lag_max_ms = 0;
  uint64_t late_sends = 0;  // measured requests sent > 1 ms after due
  uint64_t reconnects = 0;
  std::map<std::string, uint64_t> closes;  // connections closed between requests, by why
  // Makers, since Connect() (phases, warm-ups, drains and Idle() alike).
  size_t makers = 0;
  uint64_t maker_requests = 0;
  uint64_t maker_placed = 0;
  int maker_resting = 0;  // quotes believed resting at the end
  std::map<std::string, uint64_t> maker_errors;
};

// The breakdown of a phase on stderr, lines prefixed with `program`.
void PrintPhase(const PhaseReport& report, std::string_view program);

class LoadGenerator {
 public:
  LoadGenerator(LoadConfig config, Workload workload, std::vector<MarketMaker> makers);
  ~LoadGenerator();
  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;

  // Opens every connection (measured and makers'); false (message on stderr) if they are not
  // all up within 10 s.
  bool Connect();

  // Runs one phase: `rate` requests/s for `warmup_s` + `duration_s` seconds, then the drain.
  // rate 1..kRateMax, duration_s ≥ 1, rate × (warmup_s + duration_s) ≤ kScheduledMax.
  PhaseReport RunPhase(int64_t rate, int64_t warmup_s, int64_t duration_s);

  // Lets only the makers work for `ns` nanoseconds (their ladders fill; the server's queues
  // drain between phases).
  void Idle(int64_t ns);

 private:
  struct Connection {
    enum class State { kClosed, kConnecting, kIdle, kBusy };
    int fd = -1;
    State state = State::kClosed;
    int maker = -1;  // index into makers_, or -1 for measured traffic
    std::string out;
    size_t out_sent = 0;
    HttpResponseReader reader;
    RequestTag tag;
    int64_t index = -1;           // schedule index of the request in flight
    int64_t reconnect_at_ns = 0;  // kClosed: when to try again
  };

  struct Stats {
    std::array<std::vector<uint32_t>, kKindCount> latency_us;
    std::array<uint64_t, kKindCount> sent{};
    std::map<std::string, uint64_t> errors;
    std::map<std::string, uint64_t> outside_errors;
    uint64_t ok = 0;
    uint64_t cancel_raced = 0;
    uint64_t error_count = 0;
    uint64_t late_sends = 0;
    int64_t send_lag_max_ns = 0;
    uint64_t reconnects = 0;
    std::map<std::string, uint64_t> closes;  // why connections were closed between requests
  };

  int64_t Due(int64_t index) const;
  bool Measured(int64_t index) const { return index >= measured_begin_ && index < measured_end_; }

  bool Open(size_t ci);
  void Close(size_t ci, int64_t now, bool backoff);
  void Watch(size_t ci, bool want_write);
  void Dispatch(int64_t now);
  void DispatchMakers(int64_t now, int64_t& wake);
  void Send(size_t ci, int64_t index, int64_t now);
  void Flush(size_t ci, int64_t now);
  void OnReadable(size_t ci, int64_t now);
  void Complete(size_t ci, int64_t now);
  void Fail(size_t ci, int64_t now, const std::string& why);
  void CountError(int64_t index, const std::string& key);
  void ArmTimer(int64_t at_ns);
  // Runs until `end_ns`; returns earlier once draining with nothing in flight, or, if
  // `until_schedule_done`, once every request of the schedule is due.
  void Loop(int64_t end_ns, bool until_schedule_done);
  void SampleCpu(std::vector<int64_t>& ticks, int64_t& self_ns) const;
  PhaseReport MakeReport(int64_t duration_s) const;

  LoadConfig config_;
  Workload workload_;
  std::vector<MarketMaker> makers_;
  std::vector<Connection> conns_;
  int epoll_fd_ = -1;
  int timer_fd_ = -1;
  int64_t timer_armed_ns_ = -1;
  // The current phase's schedule.
  int64_t rate_ = 1;
  int64_t start_ns_ = 0;
  int64_t total_ = 0;
  int64_t measured_begin_ = 0;
  int64_t measured_end_ = 0;
  int64_t next_index_ = 0;
  int64_t in_flight_ = 0;  // measured requests
  size_t closed_ = 0;      // connections in kClosed after a Close(), waiting to reopen
  bool phase_ = false;
  bool draining_ = false;
  std::deque<int64_t> pending_;  // due, not yet sent
  std::deque<size_t> idle_;      // measured connections ready for a request, oldest first
  Stats stats_;                                  // the current or last phase
  uint64_t maker_requests_ = 0;                  // since Connect()
  std::map<std::string, uint64_t> maker_errors_;  // since Connect()
  std::vector<int64_t> cpu_begin_, cpu_end_;
  int64_t self_cpu_begin_ns_ = 0, self_cpu_end_ns_ = 0;
  int64_t window_begin_ns_ = 0, window_end_ns_ = 0;
};

}  // namespace spotex::bench
