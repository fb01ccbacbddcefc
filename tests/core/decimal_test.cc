#include "core/decimal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace spotex::core {

// Readable failure messages. In spotex::core (not the anonymous namespace) so that GoogleTest
// finds them by argument-dependent lookup.
void PrintTo(DecimalError error, std::ostream* os) {
  switch (error) {
    case DecimalError::kSyntax:
      *os << "kSyntax";
      return;
    case DecimalError::kTooPrecise:
      *os << "kTooPrecise";
      return;
    case DecimalError::kOutOfRange:
      *os << "kOutOfRange";
      return;
  }
  *os << "DecimalError(" << static_cast<int>(error) << ")";
}

void PrintTo(const std::expected<int64_t, DecimalError>& result, std::ostream* os) {
  if (result.has_value()) {
    *os << *result;
  } else {
    *os << "error ";
    PrintTo(result.error(), os);
  }
}

namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int kScaleMax = 18;
constexpr uint64_t kSeed = 20240601;

// Reference formatter, built on std::to_string and string edits only, independent of the code
// under test: `digits` is a non-negative integer without sign; inserts the dot `scale` places
// from the right, zero-padding so that there is at least one integer digit.
std::string InsertDot(std::string digits, int scale) {
  if (scale == 0) {
    return digits;
  }
  const size_t width = static_cast<size_t>(scale) + 1;
  if (digits.size() < width) {
    digits.insert(0, width - digits.size(), '0');
  }
  digits.insert(digits.size() - static_cast<size_t>(scale), 1, '.');
  return digits;
}

// Reference formatter for any int64, including INT64_MIN.
std::string ReferenceFormat(int64_t units, int scale) {
  if (units < 0) {
    const uint64_t magnitude = uint64_t{0} - static_cast<uint64_t>(units);
    return "-" + InsertDot(std::to_string(magnitude), scale);
  }
  return InsertDot(std::to_string(units), scale);
}

// Values of many magnitudes: a random 63-bit value shifted right by a random amount.
int64_t RandomUnits(std::mt19937_64& rng) {
  const uint64_t bits = rng() & static_cast<uint64_t>(kInt64Max);
  return static_cast<int64_t>(bits >> (rng() % 64));
}

std::expected<int64_t, DecimalError> Error(DecimalError error) { return std::unexpected(error); }

std::string FormatWithTo(int64_t units, int scale) {
  char buf[kDecimalMaxChars];
  const size_t len = FormatDecimalTo(buf, units, scale);
  return std::string(buf, len);
}

// ---------------------------------------------------------------------------------------------
// ParseDecimal: accepted inputs.

struct ParseCase {
  std::string_view text;
  int scale;
  int64_t units;
};

TEST(ParseDecimalTest, AcceptsValidText) {
  const ParseCase kCases[] = {
      {"0", 0, 0},
      {"0", 8, 0},
      {"0.0", 0, 0},
      {"100", 0, 100},
      {"100", 2, 10000},
      {"1", 8, 100'000'000},
      {"0.01000000", 8, 1'000'000},
      {"0.01", 8, 1'000'000},
      {"0.00000001", 8, 1},
      {"0.000000010", 8, 1},
      {"0.010000000000", 8, 1'000'000},
      {"12345.6789", 4, 123'456'789},
      {"12345.6789", 6, 12'345'678'900},
      {"007.5", 1, 75},
      {"00000000000000000000", 0, 0},
      {"00000000000000000001", 0, 1},
      {"00000000000000000001.00000000000000000000", 18, 1'000'000'000'000'000'000},
      {"0.00000000000000000000", 0, 0},
      {"1.50000000000000000000", 1, 15},
      {"0.000000000000000001", 18, 1},
      {"0.00000000000000000100", 18, 1},
      {"9223372036854775807", 0, kInt64Max},
      {"09223372036854775807", 0, kInt64Max},
      {"9223372036854775807.00000000000000000000", 0, kInt64Max},
      {"92233720368.54775807", 8, kInt64Max},
      {"9.223372036854775807", 18, kInt64Max},
      {"1.5", 8, 150'000'000},
  };
  for (const ParseCase& c : kCases) {
    SCOPED_TRACE(testing::Message() << "text=\"" << c.text << "\" scale=" << c.scale);
    const auto parsed = ParseDecimal(c.text, c.scale);
    EXPECT_EQ(parsed, c.units);
  }
}

TEST(ParseDecimalTest, OneWholeUnitAndOneSmallestUnitAtEveryScale) {
  int64_t pow10 = 1;
  for (int scale = 0; scale <= kScaleMax; ++scale) {
    SCOPED_TRACE(testing::Message() << "scale=" << scale);
    EXPECT_EQ(ParseDecimal("1", scale), pow10);
    EXPECT_EQ(ParseDecimal(InsertDot("1", scale), scale), 1);
    // The smallest unit of scale + 1 is a non-zero digit past `scale`.
    EXPECT_EQ(ParseDecimal(InsertDot("1", scale + 1), scale), Error(DecimalError::kTooPrecise));
    if (scale < kScaleMax) {
      pow10 *= 10;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// ParseDecimal: rejected inputs.

TEST(ParseDecimalTest, RejectsBadSyntaxAtEveryScale) {
  const std::string_view kBad[] = {
      "",
      " ",
      " 1",
      "1 ",
      "\t1",
      "1\n",
      "-1",
      "+1",
      "-0",
      "1e-8",
      "1E8",
      "1e8",
      ".5",
      "5.",
      ".",
      "..",
      "1..5",
      "1.2.3",
      "0x10",
      "1,5",
      "1_000",
      "1'000",
      "NaN",
      "inf",
      "abc",
      std::string_view("1\0", 2),
      std::string_view("\0001", 2),  // NUL, then "1" (octal escapes stop at 3 digits)
      "\uff11",                      // FULLWIDTH DIGIT ONE, in UTF-8
      "1\u00b75",                    // 1, MIDDLE DOT, 5
      "\xff",
      "1\x80",
      "123456789012345678901",    // 21 integer digits
      "000000000000000000000",    // 21 integer digits, even as zeros
      "000000000000000000001.5",  // 21 integer digits with a fraction
      "1.000000000000000000000",  // 21 fractional digits
      "0.000000000000000000001",  // 21 fractional digits
      "1.5x",                     // syntax wins over anything else
      "99999999999999999999.5x",
      "1.0000000000000000000000000",
  };
  for (int scale : {0, 1, 8, kScaleMax}) {
    for (std::string_view text : kBad) {
      SCOPED_TRACE(testing::Message()
                   << "text=\"" << text << "\" size=" << text.size() << " scale=" << scale);
      EXPECT_EQ(ParseDecimal(text, scale), Error(DecimalError::kSyntax));
    }
  }
}

TEST(ParseDecimalTest, RejectsNonZeroDigitsBeyondScale) {
  const ParseCase kCases[] = {
      {"0.000000001", 8, 0},
      {"0.000000011", 8, 0},
      {"0.5", 0, 0},
      {"1.05", 1, 0},
      {"0.0000000000000000001", kScaleMax, 0},
      {"1.00000000000000000001", kScaleMax, 0},
      {"1.00000000000000000010", kScaleMax, 0},
      {"9223372036854775807.1", 0, 0},
      // Precision is checked before range.
      {"99999999999999999999.5", 0, 0},
      {"99999999999999999999.99999999999999999999", kScaleMax, 0},
  };
  for (const ParseCase& c : kCases) {
    SCOPED_TRACE(testing::Message() << "text=\"" << c.text << "\" scale=" << c.scale);
    EXPECT_EQ(ParseDecimal(c.text, c.scale), Error(DecimalError::kTooPrecise));
  }
}

TEST(ParseDecimalTest, RejectsValuesOutsideInt64) {
  const ParseCase kCases[] = {
      {"9223372036854775808", 0, 0},
      {"9223372036854775808.0", 0, 0},
      {"09223372036854775808", 0, 0},
      {"18446744073709551615", 0, 0},  // UINT64_MAX
      {"18446744073709551616", 0, 0},  // UINT64_MAX + 1: must not wrap to 0
      {"36893488147419103232", 0, 0},  // 2^65: must not wrap to 0
      {"99999999999999999999", 0, 0},
      {"92233720368.54775808", 8, 0},
      {"92233720369", 8, 0},
      {"9.223372036854775808", kScaleMax, 0},
      {"10", kScaleMax, 0},
      {"99999999999999999999", kScaleMax, 0},  // 10^38 - 10^18: the 128-bit worst case
      {"99999999999999999999.999999999999999999", kScaleMax, 0},
      {"99999999999999999999.99999999999999999900", kScaleMax, 0},
  };
  for (const ParseCase& c : kCases) {
    SCOPED_TRACE(testing::Message() << "text=\"" << c.text << "\" scale=" << c.scale);
    EXPECT_EQ(ParseDecimal(c.text, c.scale), Error(DecimalError::kOutOfRange));
  }
}

TEST(ParseDecimalTest, Int64MaxIsTheBoundaryAtEveryScale) {
  for (int scale = 0; scale <= kScaleMax; ++scale) {
    SCOPED_TRACE(testing::Message() << "scale=" << scale);
    const std::string max_text = InsertDot("9223372036854775807", scale);
    const std::string above_text = InsertDot("9223372036854775808", scale);
    EXPECT_EQ(ParseDecimal(max_text, scale), kInt64Max) << max_text;
    EXPECT_EQ(ParseDecimal(above_text, scale), Error(DecimalError::kOutOfRange)) << above_text;
    EXPECT_EQ(ParseDecimal("99999999999999999999", scale), Error(DecimalError::kOutOfRange));
  }
}

// ---------------------------------------------------------------------------------------------
// FormatDecimalTo / FormatDecimal.

struct FormatCase {
  int64_t units;
  int scale;
  std::string_view text;
};

TEST(FormatDecimalTest, FormatsKnownValues) {
  const FormatCase kCases[] = {
      {0, 0, "0"},
      {0, 1, "0.0"},
      {0, 8, "0.00000000"},
      {1'000'000, 8, "0.01000000"},
      {100, 0, "100"},
      {100, 2, "1.00"},
      {1, 8, "0.00000001"},
      {150'000'000, 8, "1.50000000"},
      {123'456'789, 4, "12345.6789"},
      {-5, 1, "-0.5"},
      {-1, 0, "-1"},
      {-1, 8, "-0.00000001"},
      {-1, kScaleMax, "-0.000000000000000001"},
      {-100'000'000, 8, "-1.00000000"},
      {kInt64Max, 0, "9223372036854775807"},
      {kInt64Max, 8, "92233720368.54775807"},
      {kInt64Max, kScaleMax, "9.223372036854775807"},
      {kInt64Min, 0, "-9223372036854775808"},
      {kInt64Min, 8, "-92233720368.54775808"},
      {kInt64Min, kScaleMax, "-9.223372036854775808"},
      {kInt64Min + 1, kScaleMax, "-9.223372036854775807"},
  };
  for (const FormatCase& c : kCases) {
    SCOPED_TRACE(testing::Message() << "units=" << c.units << " scale=" << c.scale);
    EXPECT_EQ(FormatDecimal(c.units, c.scale), c.text);
    EXPECT_EQ(FormatWithTo(c.units, c.scale), c.text);
  }
}

TEST(FormatDecimalTest, WritesExactlyTheReturnedLengthAndNoMore) {
  constexpr char kSentinel = '#';
  const int64_t kValues[] = {0, 1, -1, 7, 1'000'000, kInt64Max, kInt64Min, kInt64Min + 1};
  for (int scale = 0; scale <= kScaleMax; ++scale) {
    for (int64_t units : kValues) {
      SCOPED_TRACE(testing::Message() << "units=" << units << " scale=" << scale);
      // One spare byte past the contract catches writes beyond kDecimalMaxChars.
      char buf[kDecimalMaxChars + 1];
      std::fill(std::begin(buf), std::end(buf), kSentinel);
      const size_t len = FormatDecimalTo(buf, units, scale);
      ASSERT_LT(len, kDecimalMaxChars);
      EXPECT_EQ(std::string(buf, len), ReferenceFormat(units, scale));
      for (size_t i = len; i < sizeof(buf); ++i) {
        EXPECT_EQ(buf[i], kSentinel) << "byte " << i << " written";
      }
    }
  }
}

TEST(FormatDecimalTest, NegativeIsMinusAndTheMagnitude) {
  std::mt19937_64 rng(kSeed);
  SCOPED_TRACE(testing::Message() << "seed=" << kSeed);
  for (int scale = 0; scale <= kScaleMax; ++scale) {
    for (int i = 0; i < 200; ++i) {
      const int64_t units = RandomUnits(rng);
      if (units == 0) {
        continue;
      }
      SCOPED_TRACE(testing::Message() << "units=" << units << " scale=" << scale);
      EXPECT_EQ(FormatDecimal(-units, scale), "-" + FormatDecimal(units, scale));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Round trips, against the reference formatter, with a fixed seed.

TEST(DecimalRoundTripTest, FixedValuesAtEveryScale) {
  const int64_t kValues[] = {0,
                             1,
                             9,
                             10,
                             99,
                             100,
                             12345,
                             1'000'000,
                             999'999'999,
                             kInt64Max,
                             kInt64Max - 1,
                             kInt64Max / 10,
                             1'000'000'000'000'000'000};
  for (int scale = 0; scale <= kScaleMax; ++scale) {
    for (int64_t units : kValues) {
      SCOPED_TRACE(testing::Message() << "units=" << units << " scale=" << scale);
      const std::string text = FormatDecimal(units, scale);
      EXPECT_EQ(text, ReferenceFormat(units, scale));
      EXPECT_EQ(ParseDecimal(text, scale), units);
    }
  }
}

TEST(DecimalRoundTripTest, RandomValuesAtEveryScale) {
  std::mt19937_64 rng(kSeed);
  SCOPED_TRACE(testing::Message() << "seed=" << kSeed);
  for (int scale = 0; scale <= kScaleMax; ++scale) {
    for (int i = 0; i < 2000; ++i) {
      const int64_t units = RandomUnits(rng);
      SCOPED_TRACE(testing::Message() << "units=" << units << " scale=" << scale);
      const std::string reference = ReferenceFormat(units, scale);
      const std::string text = FormatDecimal(units, scale);
      ASSERT_EQ(text, reference);
      ASSERT_EQ(ParseDecimal(reference, scale), units);
      ASSERT_EQ(FormatDecimal(*ParseDecimal(text, scale), scale), text);
    }
  }
}

// Leading zeros and trailing zeros past the scale do not change the value, as long as each
// part stays within 20 digits.
TEST(DecimalRoundTripTest, RandomNonCanonicalTextParsesToTheSameValue) {
  std::mt19937_64 rng(kSeed);
  SCOPED_TRACE(testing::Message() << "seed=" << kSeed);
  for (int scale = 0; scale <= kScaleMax; ++scale) {
    for (int i = 0; i < 500; ++i) {
      const int64_t units = RandomUnits(rng);
      const std::string canonical = ReferenceFormat(units, scale);
      const size_t dot = canonical.find('.');
      const size_t int_len = dot == std::string::npos ? canonical.size() : dot;
      const size_t frac_len = dot == std::string::npos ? 0 : canonical.size() - dot - 1;

      std::string text(rng() % (20 - int_len + 1), '0');
      text += canonical;
      const size_t extra_frac = rng() % (20 - frac_len + 1);
      if (extra_frac > 0) {
        text += frac_len == 0 ? "." : "";
        text.append(extra_frac, '0');
      }
      SCOPED_TRACE(testing::Message() << "text=\"" << text << "\" scale=" << scale);
      ASSERT_EQ(ParseDecimal(text, scale), units);
      ASSERT_EQ(FormatDecimal(units, scale), canonical);
    }
  }
}

// A non-zero digit anywhere past `scale` (within the 20-digit limit) is kTooPrecise.
TEST(DecimalRoundTripTest, RandomExtraNonZeroDigitIsTooPrecise) {
  std::mt19937_64 rng(kSeed);
  SCOPED_TRACE(testing::Message() << "seed=" << kSeed);
  for (int scale = 0; scale <= kScaleMax; ++scale) {
    for (int i = 0; i < 500; ++i) {
      std::string text = ReferenceFormat(RandomUnits(rng), scale);
      if (scale == 0) {
        text += '.';
      }
      const size_t extra = 1 + rng() % (20 - static_cast<size_t>(scale));
      std::string tail(extra, '0');
      tail[rng() % extra] = static_cast<char>('1' + rng() % 9);
      text += tail;
      SCOPED_TRACE(testing::Message() << "text=\"" << text << "\" scale=" << scale);
      ASSERT_EQ(ParseDecimal(text, scale), Error(DecimalError::kTooPrecise));
    }
  }
}

// Replacing any character of a valid text with a byte that is neither a digit nor '.' breaks
// the syntax, as does inserting such a byte anywhere.
TEST(DecimalRoundTripTest, RandomForeignByteIsSyntaxError) {
  std::mt19937_64 rng(kSeed);
  SCOPED_TRACE(testing::Message() << "seed=" << kSeed);
  auto foreign_byte = [&rng] {
    char c;
    do {
      c = static_cast<char>(rng() % 256);
    } while ((c >= '0' && c <= '9') || c == '.');
    return c;
  };
  for (int scale = 0; scale <= kScaleMax; ++scale) {
    for (int i = 0; i < 500; ++i) {
      const std::string valid = ReferenceFormat(RandomUnits(rng), scale);
      std::string replaced = valid;
      replaced[rng() % replaced.size()] = foreign_byte();
      std::string inserted = valid;
      inserted.insert(rng() % (inserted.size() + 1), 1, foreign_byte());
      for (const std::string& text : {replaced, inserted}) {
        SCOPED_TRACE(testing::Message() << "text=\"" << text << "\" scale=" << scale);
        ASSERT_EQ(ParseDecimal(text, scale), Error(DecimalError::kSyntax));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Preconditions: a scale outside 0..18 is a bug in the caller, and the process dies.

TEST(DecimalDeathTest, ScaleOutsideRangeAborts) {
  char buf[kDecimalMaxChars];
  EXPECT_DEATH((void)ParseDecimal("1", -1), "scale");
  EXPECT_DEATH((void)ParseDecimal("1", kScaleMax + 1), "scale");
  EXPECT_DEATH((void)FormatDecimalTo(buf, 1, -1), "scale");
  EXPECT_DEATH((void)FormatDecimalTo(buf, 1, kScaleMax + 1), "scale");
  EXPECT_DEATH((void)FormatDecimal(1, kScaleMax + 1), "scale");
}

}  // namespace
}  // namespace spotex::core
