// Strong integer types for money and the ids every layer shares. No I/O, no floating point.
//
// Units (DESIGN.md principle 3):
//   Amount  — a count of an asset's smallest unit (10^-scale of one whole unit).
//   Qty     — a count of the base asset's smallest unit.
//   Price   — quote-asset smallest units per ONE WHOLE base unit.
// Hence notional (in quote units) = price * qty / 10^base_scale, computed in 128 bits.
#pragma once

#include <compare>
#include <cstdint>
#include <limits>
#include <optional>

namespace spotex::core {

template <class Tag>
struct StrongInt {
  int64_t v = 0;

  constexpr StrongInt() = default;
  constexpr explicit StrongInt(int64_t value) : v(value) {}

  constexpr auto operator<=>(const StrongInt&) const = default;
  constexpr StrongInt operator+(StrongInt o) const { return StrongInt(v + o.v); }
  constexpr StrongInt operator-(StrongInt o) const { return StrongInt(v - o.v); }
  constexpr StrongInt& operator+=(StrongInt o) {
    v += o.v;
    return *this;
  }
  constexpr StrongInt& operator-=(StrongInt o) {
    v -= o.v;
    return *this;
  }
  constexpr bool IsZero() const { return v == 0; }
  constexpr bool IsPositive() const { return v > 0; }
};

struct PriceTag {};
struct QtyTag {};
struct AmountTag {};
using Price = StrongInt<PriceTag>;
using Qty = StrongInt<QtyTag>;
using Amount = StrongInt<AmountTag>;

using AccountId = uint64_t;   // external account (user) id
using AssetId = uint32_t;     // dense, assigned by the engine in listing order
using SymbolId = uint32_t;    // dense, assigned by the engine in listing order
using OrderId = int64_t;      // engine-assigned, 1.., below 2^53
using OrderListId = int64_t;  // engine-assigned, 1..; -1 = not in a list
using TradeId = int64_t;      // engine-assigned, 1..
using UpdateId = int64_t;     // per-symbol book update counter
using Seq = uint64_t;         // command-log sequence number
using TimeMs = int64_t;       // milliseconds since the epoch, from the command log

inline constexpr int kMaxScale = 18;

// 10^n for 0 <= n <= 18.
constexpr int64_t Pow10(int n) {
  int64_t r = 1;
  for (int i = 0; i < n; ++i) {
    r *= 10;
  }
  return r;
}

// Named rounding for non-negative numerators and positive denominators.
constexpr __int128 DivFloor(__int128 num, __int128 den) { return num / den; }
constexpr __int128 DivCeil(__int128 num, __int128 den) { return (num + den - 1) / den; }

// Checked narrowing from 128 bits: nullopt when outside int64.
constexpr std::optional<int64_t> Narrow(__int128 x) {
  if (x > std::numeric_limits<int64_t>::max() || x < std::numeric_limits<int64_t>::min()) {
    return std::nullopt;
  }
  return static_cast<int64_t>(x);
}

// price * qty / 10^base_scale, exact only when the division has no remainder; callers that
// need exactness check the symbol grid (see engine::SymbolConfig). nullopt on overflow.
constexpr std::optional<Amount> NotionalFloor(Price price, Qty qty, int64_t base_unit) {
  const __int128 n = static_cast<__int128>(price.v) * qty.v;
  auto r = Narrow(DivFloor(n, base_unit));
  if (!r) {
    return std::nullopt;
  }
  return Amount(*r);
}

constexpr std::optional<Amount> NotionalCeil(Price price, Qty qty, int64_t base_unit) {
  const __int128 n = static_cast<__int128>(price.v) * qty.v;
  auto r = Narrow(DivCeil(n, base_unit));
  if (!r) {
    return std::nullopt;
  }
  return Amount(*r);
}

// Fee rates and other ratios are fixed-point with 8 decimals: 100000 = 0.001 = 0.1 %.
inline constexpr int64_t kRateOne = 100'000'000;

// amount * rate, rounded up (the exchange never under-charges a commission).
constexpr int64_t FeeCeil(int64_t amount, int64_t rate_e8) {
  return static_cast<int64_t>(DivCeil(static_cast<__int128>(amount) * rate_e8, kRateOne));
}

}  // namespace spotex::core
