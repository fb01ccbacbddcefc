// The pure parts of spotex-loadgen's reports and of its search for the highest sustainable
// rate: percentiles of exact latency samples, and the choice of the next rate to probe.
//
// Percentiles are nearest-rank over every sample (no histogram): the smallest sample with at
// least q of all samples at or below it.
//
// Search. A probe at rate r passes when every measured request was answered without error, the
// achieved rate is at least kAchievedShareMin of r, and p99 is below the bound. The search
// climbs from `start` by `step` while probes pass (never above `max`); after the first failure
// it bisects between the highest pass and the lowest failure until they are at most
// `resolution` apart (if `start` itself fails, between 0 and `start`). The result is the
// highest rate that passed, 0 if none did. Rates are rounded to multiples of `resolution`.
// Each rate is probed once: the search assumes p99 grows with the rate, and a noisy probe can
// make it stop early or late by one step (the report lists every probe).
//
// Thread safety: none.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace spotex::bench {

// Nearest-rank percentile of `sorted` (ascending, microseconds) in milliseconds; 0 if empty.
double PercentileMs(const std::vector<uint32_t>& sorted, double q);

struct LatencySummary {
  uint64_t count = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0;
};
// Sorts `samples_us` in place and summarises them.
LatencySummary Summarize(std::vector<uint32_t>& samples_us);

inline constexpr double kAchievedShareMin = 0.98;

struct SearchOptions {
  int64_t start = 500;
  int64_t step = 500;
  int64_t max = 100'000;
  int64_t resolution = 100;
  double bound_p99_ms = 20.0;
};

struct Probe {
  int64_t rate = 0;
  double achieved = 0;
  double p99_ms = 0;
  uint64_t errors = 0;
  bool passed = false;
};

// Whether a probe meets the bound (see above).
bool ProbePasses(const SearchOptions& options, int64_t rate, double achieved, double p99_ms,
                 uint64_t errors);

class RateSearch {
 public:
  // Options are clamped: resolution ≥ 1, step ≥ resolution, start and max ≥ resolution.
  explicit RateSearch(SearchOptions options);

  // The next rate to probe, or nullopt when the search is over.
  std::optional<int64_t> NextRate() const;
  void Record(const Probe& probe);

  const std::vector<Probe>& probes() const { return probes_; }
  // The highest rate that passed (nullopt if none did).
  std::optional<Probe> Best() const;

 private:
  int64_t Round(int64_t rate) const;

  SearchOptions options_;
  std::vector<Probe> probes_;
  int64_t pass_ = 0;     // highest passing rate so far (0: none)
  int64_t fail_ = 0;     // lowest failing rate so far (0: none)
};

}  // namespace spotex::bench
