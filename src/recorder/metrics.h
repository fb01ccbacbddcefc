// The recorder's Prometheus metrics and the tiny loopback HTTP server that serves them
// (GET /metrics, text exposition format 0.0.4). The names are listed in docs/recorder.md.
//
// RecorderMetrics is written by the recorder's loop and read by the server's thread: every
// field is an atomic (or under the histogram's mutex), so both may run at once.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <expected>
#include <mutex>
#include <string>
#include <thread>

namespace spotex::recorder {

class RecorderMetrics {
 public:
  // Upper bounds (seconds) of the apply-time histogram's buckets; +Inf is implicit.
  static constexpr std::array<double, 12> kApplyBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                           0.1,   0.25,   0.5,   1.0,  2.5,   10.0};

  // One committed Apply(): its wall time and what it wrote.
  void ObserveApply(double seconds, uint64_t events, uint64_t envelopes);

  std::atomic<uint64_t> lag_messages{0};  // EVT stream last seq - applied stream seq
  std::atomic<uint64_t> lag_commands{0};  // CMD stream last seq - applied command seq
  std::atomic<int64_t> lag_ms{0};         // now - time of the last applied command (backlog)
  std::atomic<uint64_t> position_command_seq{0};
  std::atomic<uint64_t> position_stream_seq{0};
  std::atomic<uint64_t> applied_events{0};     // event records applied by this process
  std::atomic<uint64_t> applied_envelopes{0};  // commands applied by this process
  std::atomic<uint64_t> batches{0};            // committed transactions
  std::atomic<uint64_t> errors{0};             // PostgreSQL / NATS errors that forced a restart

  // The Prometheus text of every metric.
  std::string Render() const;

 private:
  mutable std::mutex mu_;
  std::array<uint64_t, kApplyBuckets.size()> bucket_counts_{};  // non-cumulative
  uint64_t apply_count_ = 0;
  double apply_sum_seconds_ = 0;
};

// Serves `metrics` on 127.0.0.1:port from one thread: one request per connection, at most
// kRequestBytesMax bytes read, kIoTimeoutMs per read/write. Anything but GET /metrics is 404.
// Start() binds (port 0 picks a free one, see port()); Stop() (or the destructor) joins.
class MetricsServer {
 public:
  static constexpr size_t kRequestBytesMax = 8192;
  static constexpr int kIoTimeoutMs = 2000;

  explicit MetricsServer(const RecorderMetrics& metrics) : metrics_(metrics) {}
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  [[nodiscard]] std::expected<void, std::string> Start(int port);
  void Stop();
  int port() const { return port_; }

 private:
  void Loop();
  void Serve(int fd);

  const RecorderMetrics& metrics_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace spotex::recorder
