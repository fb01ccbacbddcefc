#include "engine/reject.h"

namespace spotex::engine {

BinanceError ToBinance(RejectCode code) {
  switch (code) {
    case RejectCode::kNone:
      return {0, 200, ""};
    case RejectCode::kInvalidPrice:
      return {-1013, 400, "Invalid price."};
    case RejectCode::kInvalidQuantity:
      return {-1013, 400, "Invalid quantity."};
    case RejectCode::kZeroNotional:
      return {-2010, 400, "Price * QTY is zero or less."};
    case RejectCode::kFilterPrice:
      return {-1013, 400, "Filter failure: PRICE_FILTER"};
    case RejectCode::kFilterLotSize:
      return {-1013, 400, "Filter failure: LOT_SIZE"};
    case RejectCode::kFilterMarketLotSize:
      return {-1013, 400, "Filter failure: MARKET_LOT_SIZE"};
    case RejectCode::kFilterNotional:
      return {-1013, 400, "Filter failure: NOTIONAL"};
    case RejectCode::kFilterMinNotional:
      return {-1013, 400, "Filter failure: MIN_NOTIONAL"};
    case RejectCode::kFilterIcebergParts:
      return {-1013, 400, "Filter failure: ICEBERG_PARTS"};
    case RejectCode::kFilterPercentPriceBySide:
      return {-1013, 400, "Filter failure: PERCENT_PRICE_BY_SIDE"};
    case RejectCode::kFilterMaxNumOrders:
      return {-1013, 400, "Filter failure: MAX_NUM_ORDERS"};
    case RejectCode::kFilterMaxNumAlgoOrders:
      return {-1013, 400, "Filter failure: MAX_NUM_ALGO_ORDERS"};
    case RejectCode::kOcoPriceRelationship:
      return {-2010, 400, "The relationship of the prices for the orders is not correct."};
    case RejectCode::kMissingPrice:
      return {-1102, 400,
              "Mandatory parameter 'price' was not sent, was empty/null, or malformed."};
    case RejectCode::kMissingQuantity:
      return {-1102, 400,
              "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed."};
    case RejectCode::kMissingQtyOrQuoteQty:
      return {-1102, 400,
              "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!"};
    case RejectCode::kMissingStopPrice:
      return {-1102, 400,
              "Mandatory parameter 'stopPrice' was not sent, was empty/null, or malformed."};
    case RejectCode::kMissingTimeInForce:
      return {-1102, 400,
              "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed."};
    case RejectCode::kMissingOrderRef:
      return {-1102, 400,
              "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"};
    case RejectCode::kParamNotRequired:
      return {-1106, 400, "Parameter sent when not required."};
    case RejectCode::kTimeInForceNotRequired:
      return {-1114, 400, "TimeInForce parameter sent when not required."};
    case RejectCode::kInvalidTimeInForce:
      return {-1115, 400, "Invalid timeInForce."};
    case RejectCode::kInvalidOrderType:
      return {-1116, 400, "Invalid orderType."};
    case RejectCode::kInvalidSide:
      return {-1117, 400, "Invalid side."};
    case RejectCode::kInvalidStpMode:
      return {-1130, 400, "Data sent for parameter 'selfTradePreventionMode' is not valid."};
    case RejectCode::kInvalidClientOrderId:
      return {-1100, 400, "Illegal characters found in parameter 'newClientOrderId'."};
    case RejectCode::kInvalidParameter:
      return {-1130, 400, "Data sent for parameter is not valid."};
    case RejectCode::kInvalidCancelRestrictions:
      return {-1145, 400, "Invalid cancelRestrictions"};
    case RejectCode::kUnknownSymbol:
      return {-1121, 400, "Invalid symbol."};
    case RejectCode::kInsufficientBalance:
      return {-2010, 400, "Account has insufficient balance for requested action."};
    case RejectCode::kWouldTakeLiquidity:
      return {-2010, 400, "Order would immediately match and take."};
    case RejectCode::kDuplicateOrder:
      return {-2010, 400, "Duplicate order sent."};
    case RejectCode::kMarketClosed:
      return {-2010, 400, "Market is closed."};
    case RejectCode::kNoLiquidity:
      return {-2010, 400, "Order book liquidity is less than symbol minimum quantity."};
    case RejectCode::kQuoteQtyNotAllowed:
      return {-2010, 400, "Quote order qty market orders are not support for this symbol."};
    case RejectCode::kIcebergNotAllowed:
      return {-2010, 400, "Iceberg orders are not supported for this symbol."};
    case RejectCode::kOcoNotAllowed:
      return {-2010, 400, "OCO orders are not supported for this symbol"};
    case RejectCode::kCancelReplaceNotAllowed:
      return {-2010, 400, "Order cancel-replace is not supported for this symbol."};
    case RejectCode::kUnsupportedCombination:
      return {-2010, 400, "Unsupported order combination"};
    case RejectCode::kWouldTrigger:
      return {-2010, 400, "Order would trigger immediately."};
    case RejectCode::kIcebergExceedsQty:
      return {-2010, 400, "IcebergQty exceeds QTY."};
    case RejectCode::kAccountFrozen:
      return {-2010, 400, "This action is disabled on this account."};
    case RejectCode::kUnknownOrder:
      return {-2011, 400, "Unknown order sent."};
    case RejectCode::kCancelRestricted:
      return {-2011, 400, "Order was not canceled due to cancel restrictions."};
    case RejectCode::kUnknownOrderList:
      return {-2011, 400, "Order list does not exist."};
    case RejectCode::kAmendNotAllowed:
      return {-2038, 400, "Order amend is not supported for this symbol."};
    case RejectCode::kAmendQtyIncrease:
      return {-2038, 400, "Order amend (quantity increase) is not supported."};
    case RejectCode::kAmendNoChange:
      return {-2038, 400, "The requested action would change no state; rejecting"};
    case RejectCode::kAmendOrderListLeg:
      return {-2038, 400, "Order amend is not supported for orders in an order list."};
    case RejectCode::kUnknownAccount:
      return {-2015, 401, "Invalid API-key, IP, or permissions for action."};
    case RejectCode::kUnknownAsset:
      return {-1130, 400, "Data sent for parameter 'asset' is not valid."};
    case RejectCode::kDuplicateAsset:
      return {-1130, 400, "Data sent for parameter 'asset' is not valid."};
    case RejectCode::kDuplicateSymbol:
      return {-1130, 400, "Data sent for parameter 'symbol' is not valid."};
    case RejectCode::kDuplicateAccount:
      return {-1130, 400, "Data sent for parameter 'account' is not valid."};
    case RejectCode::kBadAssetConfig:
      return {-1130, 400, "Data sent for parameter 'asset' is not valid."};
    case RejectCode::kBadSymbolConfig:
      return {-1130, 400, "Data sent for parameter 'symbol' is not valid."};
    case RejectCode::kBadFees:
      return {-1130, 400, "Data sent for parameter 'commission' is not valid."};
    case RejectCode::kOverflow:
      return {-1013, 400, "Filter failure: NOTIONAL"};
    case RejectCode::kAmountOverflow:
      return {-1130, 400, "Data sent for parameter 'amount' is not valid."};
    case RejectCode::kCount:
      break;
  }
  return {-1000, 500, "An unknown error occurred while processing the request."};
}

std::string_view ToString(RejectCode code) {
  switch (code) {
#define SPOTEX_CASE(x) \
  case RejectCode::x:  \
    return #x;
    SPOTEX_CASE(kNone)
    SPOTEX_CASE(kInvalidPrice)
    SPOTEX_CASE(kInvalidQuantity) SPOTEX_CASE(kZeroNotional) SPOTEX_CASE(kFilterPrice) SPOTEX_CASE(
        kFilterLotSize) SPOTEX_CASE(kFilterMarketLotSize) SPOTEX_CASE(kFilterNotional)
        SPOTEX_CASE(kFilterMinNotional) SPOTEX_CASE(kFilterIcebergParts) SPOTEX_CASE(
            kFilterPercentPriceBySide) SPOTEX_CASE(kFilterMaxNumOrders)
            SPOTEX_CASE(kFilterMaxNumAlgoOrders) SPOTEX_CASE(kOcoPriceRelationship) SPOTEX_CASE(
                kMissingPrice) SPOTEX_CASE(kMissingQuantity) SPOTEX_CASE(kMissingQtyOrQuoteQty)
                SPOTEX_CASE(kMissingStopPrice) SPOTEX_CASE(kMissingTimeInForce) SPOTEX_CASE(
                    kMissingOrderRef) SPOTEX_CASE(kParamNotRequired)
                    SPOTEX_CASE(kTimeInForceNotRequired) SPOTEX_CASE(
                        kInvalidTimeInForce) SPOTEX_CASE(kInvalidOrderType) SPOTEX_CASE(kInvalidSide)
                        SPOTEX_CASE(kInvalidStpMode) SPOTEX_CASE(kInvalidClientOrderId) SPOTEX_CASE(
                            kInvalidParameter) SPOTEX_CASE(kInvalidCancelRestrictions)
                            SPOTEX_CASE(kUnknownSymbol) SPOTEX_CASE(kInsufficientBalance) SPOTEX_CASE(
                                kWouldTakeLiquidity) SPOTEX_CASE(kDuplicateOrder)
                                SPOTEX_CASE(kMarketClosed) SPOTEX_CASE(kNoLiquidity) SPOTEX_CASE(
                                    kQuoteQtyNotAllowed) SPOTEX_CASE(kIcebergNotAllowed)
                                    SPOTEX_CASE(kOcoNotAllowed) SPOTEX_CASE(
                                        kCancelReplaceNotAllowed) SPOTEX_CASE(kUnsupportedCombination)
                                        SPOTEX_CASE(kWouldTrigger) SPOTEX_CASE(
                                            kIcebergExceedsQty) SPOTEX_CASE(kAccountFrozen)
                                            SPOTEX_CASE(kUnknownOrder) SPOTEX_CASE(
                                                kCancelRestricted) SPOTEX_CASE(kUnknownOrderList)
                                                SPOTEX_CASE(kAmendNotAllowed) SPOTEX_CASE(
                                                    kAmendQtyIncrease) SPOTEX_CASE(kAmendNoChange)
                                                    SPOTEX_CASE(kAmendOrderListLeg) SPOTEX_CASE(
                                                        kUnknownAccount) SPOTEX_CASE(kUnknownAsset)
                                                        SPOTEX_CASE(kDuplicateAsset) SPOTEX_CASE(
                                                            kDuplicateSymbol)
                                                            SPOTEX_CASE(kDuplicateAccount)
                                                                SPOTEX_CASE(kBadAssetConfig)
                                                                    SPOTEX_CASE(kBadSymbolConfig)
                                                                        SPOTEX_CASE(kBadFees)
                                                                            SPOTEX_CASE(kOverflow)
                                                                                SPOTEX_CASE(
                                                                                    kAmountOverflow)
                                                                                    SPOTEX_CASE(
                                                                                        kCount)
#undef SPOTEX_CASE
  }
  return "?";
}

}  // namespace spotex::engine
