#include "auth/timestamp.h"

#include <limits>

#include "core/assert.h"

namespace spotex::auth {
namespace {

constexpr int64_t kUsPerMs = 1000;
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Accumulates the decimal digits of `text` (all of which must be digits) into `value`.
bool ParseDigits(std::string_view text, int64_t& value) {
  value = 0;
  for (const char c : text) {
    if (!IsDigit(c)) {
      return false;
    }
    const int64_t digit = c - '0';
    if (value > (kInt64Max - digit) / 10) {
      return false;
    }
    value = value * 10 + digit;
  }
  return true;
}

}  // namespace

std::expected<int64_t, ApiError> ParseTimestampUs(std::string_view text) {
  int64_t value = 0;
  if (text.empty() || text.size() > 19 || !ParseDigits(text, value)) {
    return std::unexpected(errors::kTimestampMissing);
  }
  if (value >= kMicrosecondTimestampMin) {
    return value;
  }
  return value * kUsPerMs;  // < 10^17: cannot overflow
}

std::expected<int64_t, ApiError> ParseRecvWindowUs(std::optional<std::string_view> text) {
  if (!text.has_value()) {
    return kRecvWindowDefaultMs * kUsPerMs;
  }
  const size_t dot = text->find('.');
  const std::string_view whole = text->substr(0, dot);
  const std::string_view frac =
      dot == std::string_view::npos ? std::string_view{} : text->substr(dot + 1);
  int64_t whole_ms = 0;
  int64_t frac_us = 0;
  if (whole.empty() || whole.size() > 10 || !ParseDigits(whole, whole_ms) ||
      (dot != std::string_view::npos && (frac.empty() || frac.size() > 3)) ||
      !ParseDigits(frac, frac_us)) {
    return std::unexpected(errors::kRecvWindowIllegal);
  }
  for (size_t i = frac.size(); i < 3; ++i) {
    frac_us *= 10;  // "6000.3" is 6000300 µs
  }
  const int64_t window_us = whole_ms * kUsPerMs + frac_us;  // < 10^13 + 10^3
  if (window_us > kRecvWindowMaxMs * kUsPerMs) {
    return std::unexpected(errors::kBadRecvWindow);
  }
  return window_us;
}

std::expected<void, ApiError> CheckTimestampUs(int64_t timestamp_us, int64_t recv_window_us,
                                               int64_t server_now_us) {
  // The server clock is ours, not input: a negative or absurd value is a bug.
  SPOTEX_ASSERT(server_now_us >= 0 && server_now_us < kInt64Max / 2);
  if (recv_window_us < 0 || recv_window_us > kRecvWindowMaxMs * kUsPerMs) {
    return std::unexpected(errors::kBadRecvWindow);
  }
  if (timestamp_us >= server_now_us + kTimestampAheadMaxMs * kUsPerMs) {
    return std::unexpected(errors::kTimestampAhead);
  }
  // A negative timestamp is older than any window (and would overflow the subtraction).
  if (timestamp_us < 0 || server_now_us - timestamp_us > recv_window_us) {
    return std::unexpected(errors::kTimestampOutsideRecvWindow);
  }
  return {};
}

std::expected<void, ApiError> CheckTimestamp(int64_t timestamp_ms, int64_t recv_window_ms,
                                             int64_t server_now_ms) {
  SPOTEX_ASSERT(server_now_ms >= 0 && server_now_ms < kInt64Max / (2 * kUsPerMs));
  if (recv_window_ms < 0 || recv_window_ms > kRecvWindowMaxMs) {
    return std::unexpected(errors::kBadRecvWindow);
  }
  if (timestamp_ms > kInt64Max / (2 * kUsPerMs)) {
    return std::unexpected(errors::kTimestampAhead);  // far beyond any server time
  }
  if (timestamp_ms < 0) {
    return std::unexpected(errors::kTimestampOutsideRecvWindow);
  }
  return CheckTimestampUs(timestamp_ms * kUsPerMs, recv_window_ms * kUsPerMs,
                          server_now_ms * kUsPerMs);
}

int64_t ReplayExpiryMs(int64_t timestamp_us, int64_t recv_window_us) {
  if (timestamp_us < 0) {
    timestamp_us = 0;
  }
  if (recv_window_us < 0) {
    recv_window_us = 0;
  }
  if (timestamp_us > kInt64Max - recv_window_us - kUsPerMs) {
    return kInt64Max / kUsPerMs;
  }
  const int64_t expiry_us = timestamp_us + recv_window_us;
  return (expiry_us + kUsPerMs - 1) / kUsPerMs;
}

}  // namespace spotex::auth
