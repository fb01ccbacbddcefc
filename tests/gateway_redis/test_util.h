// Helpers shared by the spotex_redis tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>

#include "auth/replay_cache.h"
#include "gateway/api/ports.h"

namespace spotex::testing {

// The value of header `name` in a verdict ("" if absent; the name compared exactly).
inline std::string HeaderValue(const gateway::LimitVerdict& v, std::string_view name) {
  for (const auto& [n, value] : v.headers) {
    if (n == name) {
      return value;
    }
  }
  return "";
}

inline bool HasHeader(const gateway::LimitVerdict& v, std::string_view name) {
  for (const auto& h : v.headers) {
    if (h.first == name) {
      return true;
    }
  }
  return false;
}

// Fixed windows are aligned to the wall clock: a test that needs `need_ms` inside one window
// waits for the next window when less than that is left of the current one.
inline void AlignToWindow(int64_t window_ms, int64_t need_ms) {
  const int64_t now = auth::SystemClockMs();
  const int64_t left = window_ms - now % window_ms;
  if (left < need_ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(left + 20));
  }
}

// Sleeps until the window after the current one has begun.
inline void WaitForNextWindow(int64_t window_ms) {
  const int64_t now = auth::SystemClockMs();
  std::this_thread::sleep_for(std::chrono::milliseconds(window_ms - now % window_ms + 20));
}

// The number after "banned until " in a 418 message; -1 if absent.
inline int64_t BannedUntil(const std::string& msg) {
  constexpr std::string_view kNeedle = "IP banned until ";
  auto at = msg.find(kNeedle);
  if (at == std::string::npos) {
    return -1;
  }
  return std::stoll(msg.substr(at + kNeedle.size()));
}

}  // namespace spotex::testing
