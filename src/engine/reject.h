// The closed set of reasons the engine rejects a command, each mapped 1:1 to a Binance error
// code and message (BINANCE_API.md §5 and Binance's errors.md). Rejecting never allocates.
#pragma once

#include <cstdint>
#include <string_view>

namespace spotex::engine {

enum class RejectCode : uint16_t {
  kNone = 0,
  // -1013 filter failures and invalid values
  kInvalidPrice,
  kInvalidQuantity,
  kZeroNotional,
  kFilterPrice,
  kFilterLotSize,
  kFilterMarketLotSize,
  kFilterNotional,
  kFilterMinNotional,
  kFilterIcebergParts,
  kFilterPercentPriceBySide,
  kFilterMaxNumOrders,
  kFilterMaxNumAlgoOrders,
  kOcoPriceRelationship,
  // -1102 mandatory parameters
  kMissingPrice,
  kMissingQuantity,
  kMissingQtyOrQuoteQty,
  kMissingStopPrice,
  kMissingTimeInForce,
  kMissingOrderRef,
  // -1106 / -1114..-1117 / -1130 parameter shape
  kParamNotRequired,
  kTimeInForceNotRequired,
  kInvalidTimeInForce,
  kInvalidOrderType,
  kInvalidSide,
  kInvalidStpMode,
  kInvalidClientOrderId,
  kInvalidParameter,
  kInvalidCancelRestrictions,
  // -1121
  kUnknownSymbol,
  // -2010 new order rejected by the engine
  kInsufficientBalance,
  kWouldTakeLiquidity,
  kDuplicateOrder,
  kMarketClosed,
  kNoLiquidity,
  kQuoteQtyNotAllowed,
  kIcebergNotAllowed,
  kOcoNotAllowed,
  kCancelReplaceNotAllowed,
  kUnsupportedCombination,
  kWouldTrigger,
  kIcebergExceedsQty,
  kAccountFrozen,
  // -2011 cancel rejected
  kUnknownOrder,
  kCancelRestricted,
  kUnknownOrderList,
  // -2038 amend rejected
  kAmendNotAllowed,
  kAmendQtyIncrease,
  kAmendNoChange,
  kAmendOrderListLeg,
  // -2015 account
  kUnknownAccount,
  // administrative commands (-1130 "Data sent for parameter ... is not valid.")
  kUnknownAsset,
  kDuplicateAsset,
  kDuplicateSymbol,
  kDuplicateAccount,
  kBadAssetConfig,
  kBadSymbolConfig,
  kBadFees,
  kOverflow,
  kAmountOverflow,
  kCount,  // not a code
};

struct BinanceError {
  int32_t code;  // e.g. -2010
  int32_t http;  // HTTP status the gateway answers with
  std::string_view msg;
};

// The Binance error for `code`; kNone maps to {0, 200, ""}.
BinanceError ToBinance(RejectCode code);

std::string_view ToString(RejectCode code);

}  // namespace spotex::engine
