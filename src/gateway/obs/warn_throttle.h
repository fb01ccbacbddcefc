// Warnings that may come in floods (every order while NATS is down, every timeout while the
// engine is stuck): at most one line per interval, each with its request context, and the
// number of lines suppressed since the previous one. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "service/log.h"

namespace spotex::gateway::obs {

class WarnThrottle {
 public:
  explicit WarnThrottle(std::string component,
                        std::chrono::milliseconds interval = std::chrono::milliseconds(1000))
      : component_(std::move(component)), interval_(interval) {}

  // Logs `message` at warn with `fields`, unless a line went out less than the interval ago
  // (then it is only counted). True if it was logged.
  bool Warn(std::string_view message, const service::LogFields& fields = {});

 private:
  const std::string component_;
  const std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point last_{};
  bool any_ = false;
  uint64_t suppressed_ = 0;
};

}  // namespace spotex::gateway::obs
