// Commands: the only way engine state changes. Each is a plain value (trivially copyable, no
// pointers, no heap), so a command log can carry it and replay it bit for bit.
//
// Every command carries the log's sequence number and timestamp (`seq`, `time_ms`); the engine
// never reads a clock. Validation happens inside the engine: nothing here is trusted.
#pragma once

#include <cstdint>
#include <type_traits>
#include <variant>

#include "engine/types.h"

namespace spotex::engine {

// Symbol filters (BINANCE_API.md §6). A zero field disables that rule, as on Binance.
// All prices in quote units per whole base unit; quantities in base units; notional in quote.
// Account id 0 is the exchange's own fee account: it receives every commission, cannot trade,
// and names "the defaults" in SetFees.
inline constexpr AccountId kFeeAccount = 0;
inline constexpr AccountId kDefaultsAccount = 0;

struct SymbolFilters {
  // PRICE_FILTER
  Price min_price, max_price, tick_size;
  // LOT_SIZE
  Qty min_qty, max_qty, step_size;
  // MARKET_LOT_SIZE (step 0 = LOT_SIZE's step)
  Qty market_min_qty, market_max_qty, market_step_size;
  // NOTIONAL (or the older MIN_NOTIONAL when `legacy_min_notional`)
  Amount min_notional, max_notional;
  bool apply_min_to_market = true;
  bool apply_max_to_market = false;
  bool legacy_min_notional = false;
  // Shared by NOTIONAL (market orders) and PERCENT_PRICE_BY_SIDE.
  int32_t avg_price_mins = 5;
  // PERCENT_PRICE_BY_SIDE; multipliers are fixed point with 8 decimals (core::kRateOne = 1.0);
  // 0 disables the filter.
  int64_t bid_multiplier_up_e8 = 0, bid_multiplier_down_e8 = 0;
  int64_t ask_multiplier_up_e8 = 0, ask_multiplier_down_e8 = 0;
  // ICEBERG_PARTS: ceil(qty / icebergQty) must not exceed it (0: every iceberg fails it)
  int32_t iceberg_parts = 10;
  // MAX_NUM_ORDERS / MAX_NUM_ALGO_ORDERS per account on this symbol (0 = no limit)
  int32_t max_num_orders = 200;
  int32_t max_num_algo_orders = 5;
};

struct SymbolConfig {
  Name name;
  AssetId base_asset = 0;
  AssetId quote_asset = 0;
  SymbolStatus status = SymbolStatus::kTrading;
  SymbolFilters filters;
  bool iceberg_allowed = true;
  bool oco_allowed = true;
  bool quote_order_qty_market_allowed = true;
  bool cancel_replace_allowed = true;
  bool amend_allowed = true;
  StpMode default_stp = StpMode::kExpireMaker;
};

// The order part shared by PlaceOrder and CancelReplace.
struct NewOrder {
  AccountId account = 0;
  SymbolId symbol = 0;
  Side side = Side::kBuy;
  OrderType type = OrderType::kLimit;
  TimeInForce tif = TimeInForce::kNone;
  StpMode stp = StpMode::kDefault;
  Price price;       // LIMIT-like types; zero = not sent
  Qty qty;           // zero = not sent
  Amount quote_qty;  // MARKET only; zero = not sent
  Price stop_price;  // stop types; zero = not sent
  Qty iceberg_qty;   // zero = not an iceberg
  ClientOrderId client_order_id;
};

struct PlaceOrder {
  NewOrder order;
};

// Names an order by id or by client id (either may be empty; one must be set).
struct OrderRef {
  AccountId account = 0;
  SymbolId symbol = 0;
  OrderId order_id = 0;                // 0 = not sent
  ClientOrderId orig_client_order_id;  // empty = not sent
};

struct CancelOrder {
  OrderRef ref;
  ClientOrderId new_client_order_id;  // the cancel's own id, echoed in its events
  CancelRestriction restriction = CancelRestriction::kNone;
};

struct CancelReplace {
  CancelOrder cancel;
  NewOrder order;  // account and symbol must equal the cancel's
  CancelReplaceMode mode = CancelReplaceMode::kStopOnFailure;
};

// Cancels every open order (and order list) of an account on a symbol.
struct CancelAll {
  AccountId account = 0;
  SymbolId symbol = 0;
};

// order.amend.keepPriority: reduce the order's quantity in place.
struct AmendOrder {
  OrderRef ref;
  ClientOrderId new_client_order_id;  // empty = keep
  Qty new_qty;                        // the new original quantity; must be < current
};

// One leg of an OCO (Binance's orderList/oco "above"/"below" legs).
struct OcoLeg {
  OrderType type = OrderType::kLimitMaker;
  Price price;
  Price stop_price;
  TimeInForce tif = TimeInForce::kNone;
  Qty iceberg_qty;
  ClientOrderId client_order_id;
};

struct PlaceOco {
  AccountId account = 0;
  SymbolId symbol = 0;
  Side side = Side::kSell;
  Qty qty;
  StpMode stp = StpMode::kDefault;
  ClientOrderId list_client_order_id;
  OcoLeg above;
  OcoLeg below;
};

struct CancelOrderList {
  AccountId account = 0;
  SymbolId symbol = 0;
  OrderListId order_list_id = 0;       // 0 = not sent
  ClientOrderId list_client_order_id;  // empty = not sent
};

struct AddAsset {
  Name name;
  int32_t scale = 8;  // decimals of one whole unit, 0..18
};

struct AddSymbol {
  SymbolConfig config;
};

struct SetSymbolStatus {
  SymbolId symbol = 0;
  SymbolStatus status = SymbolStatus::kTrading;
};

struct OpenAccount {
  AccountId account = 0;
};

struct Deposit {
  AccountId account = 0;
  AssetId asset = 0;
  Amount amount;
};

struct Withdraw {
  AccountId account = 0;
  AssetId asset = 0;
  Amount amount;
};

// Commission rates, fixed point with 8 decimals (100000 = 0.1 %), each in [0, kRateOne).
// `account` == kDefaultsAccount sets the rates of every account that has no rates of its own.
struct SetFees {
  AccountId account = 0;
  int64_t maker_rate_e8 = 0;
  int64_t taker_rate_e8 = 0;
};

// An account's default self-trade-prevention mode (kDefault = use the symbol's).
struct SetAccountStp {
  AccountId account = 0;
  StpMode mode = StpMode::kDefault;
};

// A frozen account can neither place orders nor withdraw; it can still cancel.
struct FreezeAccount {
  AccountId account = 0;
  bool frozen = true;
};

using CommandBody =
    std::variant<PlaceOrder, CancelOrder, CancelReplace, CancelAll, AmendOrder, PlaceOco,
                 CancelOrderList, AddAsset, AddSymbol, SetSymbolStatus, OpenAccount, Deposit,
                 Withdraw, SetFees, SetAccountStp, FreezeAccount>;

struct Command {
  Seq seq = 0;         // position in the command log, strictly increasing
  TimeMs time_ms = 0;  // the log's timestamp of this command
  CommandBody body;
};

static_assert(std::is_trivially_copyable_v<Command>);

}  // namespace spotex::engine
