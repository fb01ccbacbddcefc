#include "rate_search.h"

#include <algorithm>

namespace spotex::bench {

double PercentileMs(const std::vector<uint32_t>& sorted, double q) {
  if (sorted.empty()) {
    return 0.0;
  }
  size_t rank = static_cast<size_t>(q * static_cast<double>(sorted.size()) + 0.999999);
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1] / 1000.0;
}

LatencySummary Summarize(std::vector<uint32_t>& samples_us) {
  std::sort(samples_us.begin(), samples_us.end());
  LatencySummary s;
  s.count = samples_us.size();
  s.p50_ms = PercentileMs(samples_us, 0.5);
  s.p90_ms = PercentileMs(samples_us, 0.9);
  s.p99_ms = PercentileMs(samples_us, 0.99);
  s.p999_ms = PercentileMs(samples_us, 0.999);
  s.max_ms = samples_us.empty() ? 0.0 : samples_us.back() / 1000.0;
  return s;
}

bool ProbePasses(const SearchOptions& options, int64_t rate, double achieved, double p99_ms,
                 uint64_t errors) {
  return errors == 0 && achieved >= kAchievedShareMin * static_cast<double>(rate) &&
         p99_ms < options.bound_p99_ms;
}

RateSearch::RateSearch(SearchOptions options) : options_(options) {
  options_.resolution = std::max<int64_t>(options_.resolution, 1);
  options_.step = std::max(options_.step, options_.resolution);
  options_.start = std::max(Round(options_.start), options_.resolution);
  options_.max = std::max(options_.max, options_.resolution);
}

int64_t RateSearch::Round(int64_t rate) const {
  return rate / options_.resolution * options_.resolution;
}

std::optional<int64_t> RateSearch::NextRate() const {
  if (probes_.empty()) {
    return std::min(options_.start, options_.max);
  }
  if (fail_ == 0) {
    // Climbing: stop at max.
    if (pass_ >= options_.max) {
      return std::nullopt;
    }
    return std::min(pass_ + options_.step, options_.max);
  }
  if (fail_ - pass_ <= options_.resolution) {
    return std::nullopt;
  }
  int64_t mid = Round(pass_ + (fail_ - pass_) / 2);
  if (mid <= pass_) {
    mid = pass_ + options_.resolution;
  }
  if (mid >= fail_) {
    return std::nullopt;
  }
  return mid;
}

void RateSearch::Record(const Probe& probe) {
  probes_.push_back(probe);
  if (probe.passed) {
    pass_ = std::max(pass_, probe.rate);
  } else if (fail_ == 0 || probe.rate < fail_) {
    fail_ = probe.rate;
  }
}

std::optional<Probe> RateSearch::Best() const {
  std::optional<Probe> best;
  for (const Probe& p : probes_) {
    if (p.passed && (!best || p.rate > best->rate)) {
      best = p;
    }
  }
  return best;
}

}  // namespace spotex::bench
