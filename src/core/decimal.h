// Exact decimal strings <-> scaled int64, never through floating point.
//
// The accepted syntax is Binance's: ^([0-9]{1,20})(\.[0-9]{1,20})?$ — no sign, no exponent
// ("1e-8" is illegal, as on Binance, code -1100), no leading or trailing dot, no spaces.
// Digits past `scale` are accepted only when they are zeros ("0.010000000000" at scale 8);
// a non-zero digit there is "too much precision" (code -1111).
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace spotex::core {

enum class DecimalError : uint8_t {
  kSyntax,      // not ^([0-9]{1,20})(\.[0-9]{1,20})?$  -> Binance -1100
  kTooPrecise,  // a non-zero digit beyond `scale`      -> Binance -1111
  kOutOfRange,  // does not fit int64 at this scale      -> Binance -1100 (illegal value)
};

// Parses `text` into a count of 10^-scale units ("0.01000000" at scale 8 -> 1000000).
// Leading zeros are accepted ("007.5"). When several errors apply, the first of kSyntax,
// kTooPrecise, kOutOfRange wins ("99999999999999999999.5" at scale 0 is kTooPrecise).
// Pure: no allocation, no floating point, no exceptions; thread-safe.
// Precondition (asserted): 0 <= scale <= kMaxScale (18, core/types.h).
[[nodiscard]] std::expected<int64_t, DecimalError> ParseDecimal(std::string_view text, int scale);

// Size of the buffer FormatDecimalTo needs. The longest text it writes is 21 chars
// ("-9.223372036854775808"); the bound is sign, 19 digits, dot, leading "0", NUL spare.
inline constexpr size_t kDecimalMaxChars = 24;

// Writes `units` as a decimal with exactly `scale` fractional digits ("0.01000000" for 1000000
// at scale 8; "100" at scale 0, no dot; "-0.5" for -5 at scale 1; INT64_MIN is exact).
// Always at least one integer digit. Returns the number of chars written, which is less than
// kDecimalMaxChars; writes nothing else, in particular no NUL terminator. `out` must hold
// kDecimalMaxChars. Pure: no allocation; thread-safe.
// Preconditions (asserted): out != nullptr, 0 <= scale <= kMaxScale (18, core/types.h).
size_t FormatDecimalTo(char* out, int64_t units, int scale);

// Allocating convenience form of FormatDecimalTo; same text, same preconditions.
std::string FormatDecimal(int64_t units, int scale);

}  // namespace spotex::core
