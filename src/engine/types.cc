#include "engine/types.h"

#include "engine/event.h"

namespace spotex::engine {
namespace {

bool IsClientIdChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == ':' || c == '/' || c == '_' || c == '-';
}

}  // namespace

bool ClientOrderId::Assign(std::string_view s) {
  *this = ClientOrderId{};
  if (s.empty() || s.size() > kMaxLen) {
    return false;
  }
  for (char c : s) {
    if (!IsClientIdChar(c)) {
      return false;
    }
  }
  std::memcpy(bytes, s.data(), s.size());
  len = static_cast<uint8_t>(s.size());
  return true;
}

bool Name::Assign(std::string_view s) {
  *this = Name{};
  if (s.empty() || s.size() > kMaxLen) {
    return false;
  }
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
      return false;
    }
  }
  std::memcpy(bytes, s.data(), s.size());
  len = static_cast<uint8_t>(s.size());
  return true;
}

std::string_view ToString(Side v) { return v == Side::kBuy ? "BUY" : "SELL"; }

std::string_view ToString(OrderType v) {
  switch (v) {
    case OrderType::kLimit:
      return "LIMIT";
    case OrderType::kMarket:
      return "MARKET";
    case OrderType::kStopLoss:
      return "STOP_LOSS";
    case OrderType::kStopLossLimit:
      return "STOP_LOSS_LIMIT";
    case OrderType::kTakeProfit:
      return "TAKE_PROFIT";
    case OrderType::kTakeProfitLimit:
      return "TAKE_PROFIT_LIMIT";
    case OrderType::kLimitMaker:
      return "LIMIT_MAKER";
  }
  return "?";
}

std::string_view ToString(TimeInForce v) {
  switch (v) {
    case TimeInForce::kNone:
      return "";
    case TimeInForce::kGtc:
      return "GTC";
    case TimeInForce::kIoc:
      return "IOC";
    case TimeInForce::kFok:
      return "FOK";
  }
  return "?";
}

std::string_view ToString(StpMode v) {
  switch (v) {
    case StpMode::kDefault:
      return "DEFAULT";
    case StpMode::kNone:
      return "NONE";
    case StpMode::kExpireTaker:
      return "EXPIRE_TAKER";
    case StpMode::kExpireMaker:
      return "EXPIRE_MAKER";
    case StpMode::kExpireBoth:
      return "EXPIRE_BOTH";
  }
  return "?";
}

std::string_view ToString(OrderStatus v) {
  switch (v) {
    case OrderStatus::kNew:
      return "NEW";
    case OrderStatus::kPartiallyFilled:
      return "PARTIALLY_FILLED";
    case OrderStatus::kFilled:
      return "FILLED";
    case OrderStatus::kCanceled:
      return "CANCELED";
    case OrderStatus::kRejected:
      return "REJECTED";
    case OrderStatus::kExpired:
      return "EXPIRED";
    case OrderStatus::kExpiredInMatch:
      return "EXPIRED_IN_MATCH";
    case OrderStatus::kPendingNew:
      return "PENDING_NEW";
  }
  return "?";
}

std::string_view ToString(ExecType v) {
  switch (v) {
    case ExecType::kNew:
      return "NEW";
    case ExecType::kCanceled:
      return "CANCELED";
    case ExecType::kReplaced:
      return "REPLACED";
    case ExecType::kRejected:
      return "REJECTED";
    case ExecType::kTrade:
      return "TRADE";
    case ExecType::kExpired:
      return "EXPIRED";
    case ExecType::kTradePrevention:
      return "TRADE_PREVENTION";
    case ExecType::kTriggered:
      return "TRIGGERED";
  }
  return "?";
}

std::string_view ToString(ExpiryReason v) {
  switch (v) {
    case ExpiryReason::kNone:
      return "NONE";
    case ExpiryReason::kRejected:
      return "REJECTED";
    case ExpiryReason::kExchangeCanceled:
      return "EXCHANGE_CANCELED";
    case ExpiryReason::kOcoTrigger:
      return "OCO_TRIGGER";
    case ExpiryReason::kUnfilledIoc:
      return "UNFILLED_IOC_QUANTITY_EXPIRED";
    case ExpiryReason::kUnfilledFok:
      return "UNFILLED_FOK_ORDER_EXPIRED";
    case ExpiryReason::kInsufficientLiquidity:
      return "INSUFFICIENT_LIQUIDITY";
    case ExpiryReason::kStp:
      return "STP";
    case ExpiryReason::kInsufficientFunds:
      return "INSUFFICIENT_FUNDS";
  }
  return "?";
}

std::string_view ToString(SymbolStatus v) {
  switch (v) {
    case SymbolStatus::kTrading:
      return "TRADING";
    case SymbolStatus::kHalt:
      return "HALT";
    case SymbolStatus::kBreak:
      return "BREAK";
  }
  return "?";
}

std::string_view ToString(EventType t) {
  switch (t) {
    case EventType::kCommandRejected:
      return "CommandRejected";
    case EventType::kOrderAccepted:
      return "OrderAccepted";
    case EventType::kOrderUpdate:
      return "OrderUpdate";
    case EventType::kOrderCanceledBy:
      return "OrderCanceledBy";
    case EventType::kOrderAmended:
      return "OrderAmended";
    case EventType::kTrade:
      return "Trade";
    case EventType::kPreventedMatch:
      return "PreventedMatch";
    case EventType::kBalanceChanged:
      return "BalanceChanged";
    case EventType::kBookLevel:
      return "BookLevel";
    case EventType::kOrderList:
      return "OrderList";
    case EventType::kTransfer:
      return "Transfer";
    case EventType::kAssetAdded:
      return "AssetAdded";
    case EventType::kSymbolAdded:
      return "SymbolAdded";
    case EventType::kSymbolStatusChanged:
      return "SymbolStatusChanged";
    case EventType::kAccountUpdated:
      return "AccountUpdated";
  }
  return "?";
}

}  // namespace spotex::engine
