// Exchange vocabulary shared by commands, events and the engine. Plain enums, no I/O.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#include "core/types.h"

namespace spotex::engine {

using core::AccountId;
using core::Amount;
using core::AssetId;
using core::OrderId;
using core::OrderListId;
using core::Price;
using core::Qty;
using core::Seq;
using core::SymbolId;
using core::TimeMs;
using core::TradeId;
using core::UpdateId;

enum class Side : uint8_t { kBuy = 0, kSell = 1 };

enum class OrderType : uint8_t {
  kLimit = 0,
  kMarket = 1,
  kStopLoss = 2,
  kStopLossLimit = 3,
  kTakeProfit = 4,
  kTakeProfitLimit = 5,
  kLimitMaker = 6,
};

// kNone: not sent (MARKET, LIMIT_MAKER, STOP_LOSS, TAKE_PROFIT must use it).
enum class TimeInForce : uint8_t { kNone = 0, kGtc = 1, kIoc = 2, kFok = 3 };

// kDefault: take the account's default, else the symbol's default.
enum class StpMode : uint8_t {
  kDefault = 0,
  kNone = 1,
  kExpireTaker = 2,
  kExpireMaker = 3,
  kExpireBoth = 4,
};

enum class OrderStatus : uint8_t {
  kNew = 0,
  kPartiallyFilled = 1,
  kFilled = 2,
  kCanceled = 3,
  kRejected = 4,
  kExpired = 5,
  kExpiredInMatch = 6,
  kPendingNew = 7,  // Binance's status for pending OTO legs; Spotex has no OTO lists yet
};

// executionReport "x".
enum class ExecType : uint8_t {
  kNew = 0,
  kCanceled = 1,
  kReplaced = 2,  // amend keep priority
  kRejected = 3,
  kTrade = 4,
  kExpired = 5,
  kTradePrevention = 6,
  kTriggered = 7,  // Spotex: a stop order became active (Binance reports it as "NEW" with w=true)
};

// executionReport "eR" / expiryReason.
enum class ExpiryReason : uint8_t {
  kNone = 0,
  kRejected = 1,  // (Binance's; not produced by Spotex yet)
  kExchangeCanceled = 2,
  kOcoTrigger = 3,
  kUnfilledIoc = 4,            // UNFILLED_IOC_QUANTITY_EXPIRED (also MARKET remainder)
  kUnfilledFok = 5,            // UNFILLED_FOK_ORDER_EXPIRED
  kInsufficientLiquidity = 6,  // MARKET ran out of book
  kStp = 7,                    // expired by self-trade prevention (status EXPIRED_IN_MATCH)
  kInsufficientFunds = 8,      // a MARKET order stopped because its reserve ran out
};

enum class SymbolStatus : uint8_t { kTrading = 0, kHalt = 1, kBreak = 2 };

// DELETE order `cancelRestrictions`.
enum class CancelRestriction : uint8_t { kNone = 0, kOnlyNew = 1, kOnlyPartiallyFilled = 2 };

enum class CancelReplaceMode : uint8_t { kStopOnFailure = 0, kAllowFailure = 1 };

// An order list's listStatusType.
enum class ListStatus : uint8_t { kExecuting = 0, kAllDone = 1, kReject = 2 };

inline constexpr bool IsStopType(OrderType t) {
  return t == OrderType::kStopLoss || t == OrderType::kStopLossLimit ||
         t == OrderType::kTakeProfit || t == OrderType::kTakeProfitLimit;
}
// Types whose working order is a MARKET order.
inline constexpr bool IsMarketLike(OrderType t) {
  return t == OrderType::kMarket || t == OrderType::kStopLoss || t == OrderType::kTakeProfit;
}
inline constexpr Side Opposite(Side s) { return s == Side::kBuy ? Side::kSell : Side::kBuy; }

// Binance's clientOrderId: ^[\.A-Z\:/a-z0-9_-]{1,36}$, held inline (no allocation).
// An empty id means "none sent"; the gateway always sends one for real clients.
struct ClientOrderId {
  static constexpr size_t kMaxLen = 36;
  char bytes[kMaxLen] = {};
  uint8_t len = 0;

  // Returns false (and leaves the id empty) when `s` is empty-invalid or breaks the pattern.
  [[nodiscard]] bool Assign(std::string_view s);
  // len may be anything in a command read off the wire: never read past kMaxLen.
  std::string_view view() const { return {bytes, len <= kMaxLen ? len : kMaxLen}; }
  bool empty() const { return len == 0; }
  bool operator==(const ClientOrderId& o) const {
    return len == o.len && len <= kMaxLen && std::memcmp(bytes, o.bytes, len) == 0;
  }
  // The same id with every byte past len zeroed (what state and events store).
  ClientOrderId Canonical() const {
    ClientOrderId c;
    c.len = len <= kMaxLen ? len : 0;
    std::memcpy(c.bytes, bytes, c.len);
    return c;
  }
};

// A short name (asset "BTC", symbol "BTCUSDT"): [A-Z0-9]{1,20}.
struct Name {
  static constexpr size_t kMaxLen = 20;
  char bytes[kMaxLen] = {};
  uint8_t len = 0;

  [[nodiscard]] bool Assign(std::string_view s);
  std::string_view view() const { return {bytes, len <= kMaxLen ? len : kMaxLen}; }
  bool operator==(const Name& o) const {
    return len == o.len && len <= kMaxLen && std::memcmp(bytes, o.bytes, len) == 0;
  }
  Name Canonical() const {
    Name c;
    c.len = len <= kMaxLen ? len : 0;
    std::memcpy(c.bytes, bytes, c.len);
    return c;
  }
};

std::string_view ToString(Side v);
std::string_view ToString(OrderType v);
std::string_view ToString(TimeInForce v);
std::string_view ToString(StpMode v);
std::string_view ToString(OrderStatus v);
std::string_view ToString(ExecType v);
std::string_view ToString(ExpiryReason v);
std::string_view ToString(SymbolStatus v);

}  // namespace spotex::engine
