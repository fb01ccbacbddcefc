#include "core/decimal.h"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "core/assert.h"
#include "core/types.h"

namespace spotex::core {
namespace {

// Binance's limit on the length of each part of a decimal string.
constexpr size_t kPartDigitsMax = 20;

constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Length of the run of ASCII digits in `text` starting at `pos`.
size_t DigitRun(std::string_view text, size_t pos) {
  size_t end = pos;
  while (end < text.size() && IsDigit(text[end])) {
    ++end;
  }
  return end - pos;
}

}  // namespace

std::expected<int64_t, DecimalError> ParseDecimal(std::string_view text, int scale) {
  SPOTEX_ASSERT(scale >= 0 && scale <= kMaxScale);

  // Syntax first, over the whole text, so that e.g. "1.5x" is kSyntax, never kTooPrecise.
  const size_t int_len = DigitRun(text, 0);
  if (int_len == 0 || int_len > kPartDigitsMax) {
    return std::unexpected(DecimalError::kSyntax);
  }
  std::string_view frac;
  if (int_len < text.size()) {
    if (text[int_len] != '.') {
      return std::unexpected(DecimalError::kSyntax);
    }
    frac = text.substr(int_len + 1);
    if (frac.empty() || frac.size() > kPartDigitsMax || DigitRun(frac, 0) != frac.size()) {
      return std::unexpected(DecimalError::kSyntax);
    }
  }

  // Precision before range: digits past `scale` must be zeros.
  const size_t frac_used = std::min(frac.size(), static_cast<size_t>(scale));
  for (size_t i = frac_used; i < frac.size(); ++i) {
    if (frac[i] != '0') {
      return std::unexpected(DecimalError::kTooPrecise);
    }
  }

  // Range. At most 20 + 18 significant digits: < 10^38 < 2^127, so 128 bits cannot overflow.
  unsigned __int128 units = 0;
  for (size_t i = 0; i < int_len; ++i) {
    units = units * 10 + static_cast<unsigned>(text[i] - '0');
  }
  for (size_t i = 0; i < frac_used; ++i) {
    units = units * 10 + static_cast<unsigned>(frac[i] - '0');
  }
  units *= static_cast<unsigned __int128>(Pow10(scale - static_cast<int>(frac_used)));
  if (units > static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max())) {
    return std::unexpected(DecimalError::kOutOfRange);
  }
  return static_cast<int64_t>(units);
}

size_t FormatDecimalTo(char* out, int64_t units, int scale) {
  SPOTEX_ASSERT(out != nullptr);
  SPOTEX_ASSERT(scale >= 0 && scale <= kMaxScale);

  // Negate in uint64: exact for INT64_MIN, whose negation does not fit int64.
  uint64_t magnitude =
      units < 0 ? uint64_t{0} - static_cast<uint64_t>(units) : static_cast<uint64_t>(units);

  // Digits least significant first, zero-padded to scale + 1 so that there is always an
  // integer digit ("0.5", not ".5"). At most 19 digits: 2^63 has 19, and kMaxScale + 1 = 19.
  char digits[20];
  int count = 0;
  do {
    digits[count++] = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude != 0);
  while (count <= scale) {
    digits[count++] = '0';
  }

  size_t len = 0;
  if (units < 0) {
    out[len++] = '-';
  }
  for (int i = count - 1; i >= 0; --i) {
    out[len++] = digits[i];
    if (i == scale && scale > 0) {
      out[len++] = '.';
    }
  }
  SPOTEX_ASSERT(len < kDecimalMaxChars);
  return len;
}

std::string FormatDecimal(int64_t units, int scale) {
  char buf[kDecimalMaxChars];
  const size_t len = FormatDecimalTo(buf, units, scale);
  return std::string(buf, len);
}

}  // namespace spotex::core
