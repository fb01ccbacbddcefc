// Timing security of signed requests (BINANCE_API.md §2, Binance "Timing security").
//
// A signed request carries `timestamp` (ms, or µs — Binance accepts either and tells them
// apart by size) and an optional `recvWindow` (ms with up to 3 decimals; default 5000, at most
// 60000). The server accepts it only if
//     timestamp < server_time + 1000 ms   and   server_time - timestamp <= recvWindow
// and otherwise answers -1021. The forward bound is a fixed second that recvWindow does not
// widen. Binance applies the check on receipt and again just before the matching engine; the
// gateway should do the same (the second time with the clock read again).
//
// Internally everything is in microseconds so that µs timestamps and fractional recvWindows
// are exact. All functions are pure (the caller passes the clock) and thread-safe.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string_view>

#include "auth/errors.h"

namespace spotex::auth {

inline constexpr int64_t kRecvWindowDefaultMs = 5000;
inline constexpr int64_t kRecvWindowMaxMs = 60000;
inline constexpr int64_t kTimestampAheadMaxMs = 1000;
// A `timestamp` at or above this is read as microseconds: 10^14 ms is the year 5138, while
// µs timestamps have been above 10^15 since 2001.
inline constexpr int64_t kMicrosecondTimestampMin = 100'000'000'000'000;

// Parses the `timestamp` parameter (1 to 19 decimal digits) into microseconds.
// Errors: kTimestampMissing if empty, not all digits, or out of int64 range.
[[nodiscard]] std::expected<int64_t, ApiError> ParseTimestampUs(std::string_view text);

// Parses the `recvWindow` parameter into microseconds; nullopt (not sent) gives the default.
// Syntax: 1 to 10 digits, optionally '.' and 1 to 3 digits ("5000", "6000.346").
// Errors: kRecvWindowIllegal for anything else (including an empty value); kBadRecvWindow if
// above kRecvWindowMaxMs.
[[nodiscard]] std::expected<int64_t, ApiError> ParseRecvWindowUs(
    std::optional<std::string_view> text);

// The -1021 rule, in microseconds. `server_now_us` is the server's wall clock (≥ 0).
// Errors: kBadRecvWindow if recv_window_us is outside [0, 60000 ms]; kTimestampAhead if
// timestamp_us >= server_now_us + 1 s; kTimestampOutsideRecvWindow if
// server_now_us - timestamp_us > recv_window_us.
[[nodiscard]] std::expected<void, ApiError> CheckTimestampUs(int64_t timestamp_us,
                                                             int64_t recv_window_us,
                                                             int64_t server_now_us);

// The same rule in milliseconds, for callers whose values are whole milliseconds.
[[nodiscard]] std::expected<void, ApiError> CheckTimestamp(int64_t timestamp_ms,
                                                           int64_t recv_window_ms,
                                                           int64_t server_now_ms);

// The last server time (ms, rounded up) at which a request with this timestamp and window
// still passes CheckTimestampUs: timestamp + recvWindow. A replay cache that remembers a
// signature until then rejects every replay the timestamp check would let through.
// Saturates instead of overflowing; expects values that passed CheckTimestampUs.
[[nodiscard]] int64_t ReplayExpiryMs(int64_t timestamp_us, int64_t recv_window_us);

}  // namespace spotex::auth
