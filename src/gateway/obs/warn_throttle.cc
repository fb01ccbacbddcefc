#include "gateway/obs/warn_throttle.h"

namespace spotex::gateway::obs {

bool WarnThrottle::Warn(std::string_view message, const service::LogFields& fields) {
  const auto now = std::chrono::steady_clock::now();
  uint64_t suppressed = 0;
  {
    std::lock_guard lock(mu_);
    if (any_ && now - last_ < interval_) {
      ++suppressed_;
      return false;
    }
    any_ = true;
    last_ = now;
    suppressed = suppressed_;
    suppressed_ = 0;
  }
  service::LogLine line(service::LogLevel::kWarn, component_, message);
  line.Fields(fields);
  if (suppressed > 0) {
    line.Uint("suppressed", suppressed);
  }
  line.Write();
  return true;
}

}  // namespace spotex::gateway::obs
