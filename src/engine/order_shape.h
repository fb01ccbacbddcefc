// Which parameters an order type requires or forbids (docs/engine-semantics.md, step 3 of a
// new order): one definition, used by the engine before it looks at balances and by the
// gateway to reject early (and for POST /api/v3/order/test, which never reaches the engine).
// Pure: depends only on the order and its symbol's configuration.
#pragma once

#include <optional>
#include <string_view>

#include "engine/command.h"
#include "engine/reject.h"

namespace spotex::engine {

struct ShapeError {
  RejectCode code;
  // For kParamNotRequired: the Binance name of the parameter that should not have been sent
  // ("price", "stopPrice", "quoteOrderQty", "icebergQty"); empty otherwise.
  std::string_view param;
};

// The first shape rule `order` breaks on a symbol configured as `config`, or nullopt. Checks
// the per-type required/forbidden parameters and the iceberg combination rules; not the
// filters, the symbol status, the account or funds.
std::optional<ShapeError> CheckOrderShape(const NewOrder& order, const SymbolConfig& config);

}  // namespace spotex::engine
