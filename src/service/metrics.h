// Prometheus metrics shared by every Spotex service: counters, gauges and histograms grouped in
// labelled families, a registry that renders them in the text exposition format 0.0.4, the
// standard process_* metrics read from /proc/self, and a tiny loopback HTTP server that answers
// GET /metrics. The naming scheme and every metric name are in docs/metrics.md.
//
// Hot path: a service obtains each child (Family::With) once, at start-up or on first use, and
// keeps the reference; Inc/Set/Add/Observe on it are a few relaxed atomic operations, no lock
// and no allocation. With() takes the family's lock (and allocates the first time a label set
// is seen). Render() and the collect callbacks run on the metrics server's thread.
//
// Names are code constants, so a malformed metric or label name, a label count that does not
// match, or one name registered twice with different types is a bug (SPOTEX_ASSERT aborts).
// Label values may come from input: they are escaped on output, and each family holds at most
// kSeriesMax label sets; further new ones all share one overflow child whose label values are
// kOverflowLabel (so a client cannot grow memory without bound).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <expected>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace spotex::metrics {

// A monotonically increasing integer. Thread-safe, lock-free.
class Counter {
 public:
  void Inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down. Thread-safe, lock-free (Add is a compare-exchange loop).
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double d);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Observations counted into fixed buckets (upper bounds, strictly increasing; +Inf implicit),
// with their sum and count. Observe is thread-safe and lock-free. A render taken while other
// threads observe may see _sum lag its buckets by those in-flight observations; the buckets
// are cumulative and _count always equals the +Inf bucket.
class Histogram {
 public:
  // `bounds` must be finite and strictly increasing (asserted).
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);

  const std::vector<double>& bounds() const { return bounds_; }
  // Non-cumulative count of bucket i (i == bounds().size() is the +Inf bucket).
  uint64_t BucketCount(size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  double Sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1
  std::atomic<double> sum_{0};
};

// What the registry needs from a family of any type.
class FamilyBase {
 public:
  virtual ~FamilyBase() = default;
  const std::string& name() const { return name_; }
  // Appends this family's HELP, TYPE and samples.
  virtual void Render(std::string& out) const = 0;

 protected:
  FamilyBase(std::string name, std::string help, std::string type, std::vector<std::string> labels)
      : name_(std::move(name)),
        help_(std::move(help)),
        type_(std::move(type)),
        labels_(std::move(labels)) {}
  void RenderHeader(std::string& out) const;

  std::string name_, help_, type_;
  std::vector<std::string> labels_;
  friend class Registry;
};

// A metric and all its label sets. T = Counter, Gauge or Histogram.
template <class T>
class Family final : public FamilyBase {
 public:
  // Most label sets one family keeps; beyond it new sets share the overflow child.
  static constexpr size_t kSeriesMax = 4096;
  static constexpr std::string_view kOverflowLabel = "_overflow_";

  // The child for these label values (in the order of the family's label names; the count
  // must match, asserted). Created on first use; the reference stays valid for the family's
  // (the registry's) life. Takes the family's lock: call once, keep the reference.
  T& With(std::initializer_list<std::string_view> label_values);
  T& With(const std::vector<std::string>& label_values);

  void Render(std::string& out) const override;

  // Internal: the registry builds families.
  Family(std::string name, std::string help, std::string type, std::vector<std::string> labels,
         std::vector<double> buckets);

 private:
  T& Find(std::vector<std::string> key);
  std::unique_ptr<T> Make() const;

  std::vector<double> buckets_;  // histograms only
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> children_;  // sorted: stable output
};

// A set of families, rendered together. Thread-safe: families may be added, children created
// and updated, and Render() called from any thread at once.
class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Adding a name already present with the same type, labels (and buckets) returns the
  // existing family; anything else under that name is a bug (asserted).
  Family<Counter>& AddCounter(std::string name, std::string help,
                              std::vector<std::string> labels = {});
  Family<Gauge>& AddGauge(std::string name, std::string help, std::vector<std::string> labels = {});
  Family<Histogram>& AddHistogram(std::string name, std::string help, std::vector<double> buckets,
                                  std::vector<std::string> labels = {});
  // A counter whose value is not counted here but sampled from a monotonic source (set it in
  // an OnCollect callback, e.g. CPU seconds): a Gauge internally, exposed as TYPE counter.
  Family<Gauge>& AddSampledCounter(std::string name, std::string help,
                                   std::vector<std::string> labels = {});

  // Called at the start of each Render() (for values read on demand, e.g. queue depths):
  // sets gauges. Callbacks run one Render() at a time, on the rendering thread; they must
  // outlive the registry's use (there is no removal).
  void OnCollect(std::function<void()> fn);

  // Prometheus text exposition format 0.0.4, families in registration order.
  std::string Render() const;

 private:
  template <class T>
  Family<T>& Add(std::string name, std::string help, std::string type,
                 std::vector<std::string> labels, std::vector<double> buckets);

  mutable std::mutex mu_;         // families_, collectors_
  mutable std::mutex render_mu_;  // one Render() (and its callbacks) at a time
  std::vector<std::unique_ptr<FamilyBase>> families_;
  std::vector<std::function<void()>> collectors_;
};

// The process-wide registry (never destroyed).
Registry& DefaultRegistry();

// Latency buckets in seconds: 0.0001 .. 10 (use for request/command latencies).
std::vector<double> LatencyBuckets();

// Size buckets for batch sizes and counts: 1, 2, 4, ... 65536.
std::vector<double> SizeBuckets();

// process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_max_fds, process_threads, process_start_time_seconds (from
// /proc/self), refreshed at collect. Call once per registry.
void RegisterProcessMetrics(Registry& r);

// Serves GET /metrics (and nothing else: 404, other methods 405, malformed requests 400) on
// address:port (an IPv4 literal, normally 127.0.0.1; port 0 = ephemeral) from its own thread.
// One connection at a time, one request per connection (Connection: close), at most
// kRequestBytesMax bytes of request and kIoTimeoutMs for the whole exchange, so a stuck client
// delays a scrape by at most that. The registry must outlive the server.
class MetricsServer {
 public:
  static constexpr size_t kRequestBytesMax = 8192;
  static constexpr int kIoTimeoutMs = 2000;

  static std::expected<std::unique_ptr<MetricsServer>, std::string> Start(
      Registry& r, const std::string& address, uint16_t port);
  uint16_t port() const { return port_; }
  ~MetricsServer();  // stops and joins
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

 private:
  MetricsServer(Registry& r, int listen_fd, int wake_fd_read, int wake_fd_write, uint16_t port);
  void Loop();
  void Serve(int fd);

  Registry& registry_;
  int listen_fd_;
  int wake_read_fd_, wake_write_fd_;  // a byte written here wakes Loop() to stop
  uint16_t port_;
  std::thread thread_;
};

}  // namespace spotex::metrics
