// The -1021 timing rule at its boundaries, in ms and µs, and the parameter parsers.
#include "auth/timestamp.h"

#include <gtest/gtest.h>

namespace spotex::auth {
namespace {

constexpr int64_t kNowMs = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
constexpr int64_t kNowUs = kNowMs * 1000;

TEST(CheckTimestampTest, AheadBoundIsOneSecondExclusive) {
  EXPECT_TRUE(CheckTimestamp(kNowMs + 999, 5000, kNowMs).has_value());
  EXPECT_EQ(CheckTimestamp(kNowMs + 1000, 5000, kNowMs).error(), errors::kTimestampAhead);
  EXPECT_EQ(CheckTimestamp(kNowMs + 1000, 60000, kNowMs).error(), errors::kTimestampAhead)
      << "recvWindow must not widen the forward bound";
  EXPECT_TRUE(CheckTimestamp(kNowMs, 0, kNowMs).has_value());
  EXPECT_EQ(CheckTimestamp(kNowMs + 1000, 5000, kNowMs).error().msg,
            "Timestamp for this request was 1000ms ahead of the server's time.");
}

TEST(CheckTimestampTest, RecvWindowBoundIsInclusive) {
  EXPECT_TRUE(CheckTimestamp(kNowMs - 5000, 5000, kNowMs).has_value());
  EXPECT_EQ(CheckTimestamp(kNowMs - 5001, 5000, kNowMs).error(),
            errors::kTimestampOutsideRecvWindow);
  EXPECT_TRUE(CheckTimestamp(kNowMs - 10000, 10000, kNowMs).has_value());  // ccxt's window
  EXPECT_TRUE(CheckTimestamp(kNowMs - 60000, 60000, kNowMs).has_value());
  EXPECT_EQ(CheckTimestamp(kNowMs - 1, 0, kNowMs).error(), errors::kTimestampOutsideRecvWindow);
  EXPECT_EQ(CheckTimestamp(kNowMs - 5001, 5000, kNowMs).error().code, -1021);
  EXPECT_EQ(CheckTimestamp(kNowMs - 5001, 5000, kNowMs).error().http_status, 400);
}

TEST(CheckTimestampTest, RecvWindowLimitsAndAbsurdTimestamps) {
  EXPECT_EQ(CheckTimestamp(kNowMs, 60001, kNowMs).error(), errors::kBadRecvWindow);
  EXPECT_EQ(CheckTimestamp(kNowMs, -1, kNowMs).error(), errors::kBadRecvWindow);
  EXPECT_EQ(CheckTimestamp(-1, 5000, kNowMs).error(), errors::kTimestampOutsideRecvWindow);
  EXPECT_EQ(CheckTimestamp(0, 5000, kNowMs).error(), errors::kTimestampOutsideRecvWindow);
  EXPECT_EQ(CheckTimestamp(INT64_MAX, 5000, kNowMs).error(), errors::kTimestampAhead);
  EXPECT_EQ(CheckTimestamp(INT64_MIN, 5000, kNowMs).error(), errors::kTimestampOutsideRecvWindow);
  EXPECT_EQ(CheckTimestampUs(INT64_MAX, 5'000'000, kNowUs).error(), errors::kTimestampAhead);
  EXPECT_EQ(CheckTimestampUs(INT64_MIN, 5'000'000, kNowUs).error(),
            errors::kTimestampOutsideRecvWindow);
  EXPECT_EQ(CheckTimestampUs(kNowUs, 60'000'001, kNowUs).error(), errors::kBadRecvWindow);
}

TEST(CheckTimestampTest, MicrosecondBoundaries) {
  EXPECT_TRUE(CheckTimestampUs(kNowUs + 999'999, 5'000'000, kNowUs).has_value());
  EXPECT_EQ(CheckTimestampUs(kNowUs + 1'000'000, 5'000'000, kNowUs).error(),
            errors::kTimestampAhead);
  // recvWindow=6000.346 ms
  EXPECT_TRUE(CheckTimestampUs(kNowUs - 6'000'346, 6'000'346, kNowUs).has_value());
  EXPECT_EQ(CheckTimestampUs(kNowUs - 6'000'347, 6'000'346, kNowUs).error(),
            errors::kTimestampOutsideRecvWindow);
}

TEST(ParseTimestampTest, MillisecondsAndMicrosecondsByMagnitude) {
  EXPECT_EQ(ParseTimestampUs("1499827319559"), 1'499'827'319'559'000);
  EXPECT_EQ(ParseTimestampUs("1499827319559123"), 1'499'827'319'559'123);
  EXPECT_EQ(ParseTimestampUs("99999999999999"), 99'999'999'999'999'000);  // 10^14 - 1 ms
  EXPECT_EQ(ParseTimestampUs("100000000000000"), 100'000'000'000'000);    // 10^14: µs
  EXPECT_EQ(ParseTimestampUs("0"), 0);
  EXPECT_EQ(ParseTimestampUs("9223372036854775807"), INT64_MAX);
}

TEST(ParseTimestampTest, MalformedIsMandatoryParameterError) {
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "12a", "1.5", "0x10", "9223372036854775808",
                          "12345678901234567890"}) {
    auto ts = ParseTimestampUs(bad);
    ASSERT_FALSE(ts.has_value()) << bad;
    EXPECT_EQ(ts.error(), errors::kTimestampMissing) << bad;
  }
  EXPECT_EQ(errors::kTimestampMissing.code, -1102);
}

TEST(ParseRecvWindowTest, DefaultDecimalsAndLimit) {
  EXPECT_EQ(ParseRecvWindowUs(std::nullopt), 5'000'000);
  EXPECT_EQ(ParseRecvWindowUs("10000"), 10'000'000);
  EXPECT_EQ(ParseRecvWindowUs("6000.346"), 6'000'346);
  EXPECT_EQ(ParseRecvWindowUs("6000.3"), 6'000'300);
  EXPECT_EQ(ParseRecvWindowUs("6000.03"), 6'000'030);
  EXPECT_EQ(ParseRecvWindowUs("0"), 0);
  EXPECT_EQ(ParseRecvWindowUs("60000"), 60'000'000);
  EXPECT_EQ(ParseRecvWindowUs("60000.000"), 60'000'000);
  EXPECT_EQ(ParseRecvWindowUs("060000"), 60'000'000);
  EXPECT_EQ(ParseRecvWindowUs("60000.001").error(), errors::kBadRecvWindow);
  EXPECT_EQ(ParseRecvWindowUs("60001").error(), errors::kBadRecvWindow);
  EXPECT_EQ(ParseRecvWindowUs("9999999999").error(), errors::kBadRecvWindow);
  EXPECT_EQ(errors::kBadRecvWindow.code, -1131);
}

TEST(ParseRecvWindowTest, MalformedIsIllegalCharacters) {
  for (const char* bad : {"", ".", "5000.", ".5", "5000.1234", "1e3", "-1", "+5", " 5", "5,0",
                          "12345678901", "5000..1", "0x10"}) {
    auto rw = ParseRecvWindowUs(bad);
    ASSERT_FALSE(rw.has_value()) << bad;
    EXPECT_EQ(rw.error(), errors::kRecvWindowIllegal) << bad;
  }
}

TEST(ReplayExpiryTest, IsTimestampPlusWindowRoundedUp) {
  EXPECT_EQ(ReplayExpiryMs(kNowUs, 5'000'000), kNowMs + 5000);
  EXPECT_EQ(ReplayExpiryMs(1'000'500, 5'000'000), 6001);
  EXPECT_EQ(ReplayExpiryMs(1'000'000, 6'000'346), 7001);
  EXPECT_EQ(ReplayExpiryMs(INT64_MAX, 60'000'000), INT64_MAX / 1000);
  EXPECT_EQ(ReplayExpiryMs(-5, -5), 0);
  // A request accepted at server time T has T <= expiry: it is still in the cache then.
  for (int64_t rw_us : {0, 1, 999, 5'000'000, 6'000'346}) {
    for (int64_t ts_us : {kNowUs - rw_us, kNowUs - rw_us + 1, kNowUs}) {
      if (CheckTimestampUs(ts_us, rw_us, kNowUs).has_value()) {
        EXPECT_GE(ReplayExpiryMs(ts_us, rw_us), kNowMs) << ts_us << " " << rw_us;
      }
    }
  }
}

}  // namespace
}  // namespace spotex::auth
