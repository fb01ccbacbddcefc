// Input checks shared by the engine's command handlers and Restore. Internal to src/engine.
#pragma once

#include <cstdint>

#include "engine/types.h"

namespace spotex::engine {

// The key of a two-part index: (slot << 32 | id).
inline constexpr uint64_t Key2(uint32_t a, uint32_t b) { return (uint64_t{a} << 32) | b; }

inline bool ValidSide(Side s) { return s == Side::kBuy || s == Side::kSell; }
inline bool ValidType(OrderType t) { return static_cast<uint8_t>(t) <= 6; }
inline bool ValidTif(TimeInForce t) { return static_cast<uint8_t>(t) <= 3; }
inline bool ValidStp(StpMode m) { return static_cast<uint8_t>(m) <= 4; }
inline bool ValidStatus(SymbolStatus s) { return static_cast<uint8_t>(s) <= 2; }

inline bool ValidClientId(const ClientOrderId& id) {
  if (id.len > ClientOrderId::kMaxLen) {
    return false;
  }
  ClientOrderId copy;
  return id.len == 0 || copy.Assign(id.view());
}

inline bool ValidName(const Name& n) {
  if (n.len == 0 || n.len > Name::kMaxLen) {
    return false;
  }
  Name copy;
  return copy.Assign(n.view());
}

inline bool OnGrid(int64_t v, int64_t step) { return step == 0 || v % step == 0; }

// a * b <= c * d, all non-negative, in 128 bits.
inline bool MulLe(int64_t a, int64_t b, int64_t c, int64_t d) {
  return static_cast<__int128>(a) * b <= static_cast<__int128>(c) * d;
}

}  // namespace spotex::engine
