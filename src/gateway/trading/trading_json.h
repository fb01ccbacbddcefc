// JSON of the signed trading endpoints (BINANCE_API.md §7.3-7.5): orders, cancels, trades and
// order lists in Binance's exact shapes (decimal strings at the symbol's scales, ids as
// integers), and the engine's query answers (service/query.h) read back into OrderRecords.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/market/engine_json.h"
#include "gateway/trading/account_history.h"

namespace spotex::gateway {

// GET /api/v3/order (also the element of openOrders and allOrders).
void AppendOrder(std::string& out, const OrderRecord& order, const SymbolInfo& symbol);
// One cancelled order as DELETE order answers it: clientOrderId is the cancel's id,
// origClientOrderId the order's.
void AppendCanceledOrder(std::string& out, const OrderRecord& order, const SymbolInfo& symbol,
                         std::string_view cancel_client_order_id, int64_t transact_time_ms);
// One order of an order list's orderReports (RESULT shape with transactTime).
void AppendOrderReport(std::string& out, const OrderRecord& order, const SymbolInfo& symbol,
                       int64_t transact_time_ms);
// myTrades element.
void AppendTrade(std::string& out, const TradeRecord& trade, const SymbolInfo& symbol);
// An order list without orderReports (GET orderList, allOrderList, openOrderList).
void AppendOrderList(std::string& out, const OrderListRecord& list, const SymbolInfo& symbol,
                     const std::vector<OrderRecord>& legs);

// Parses one order object of the engine's `order` / `open_orders` answers. `symbol_of` gives
// the scales of a symbol name (nullopt: unknown symbol, the order is skipped).
using SymbolByName = std::function<std::optional<SymbolInfo>(std::string_view name)>;
std::expected<std::vector<OrderRecord>, std::string> ParseEngineOrders(
    std::string_view json, const SymbolByName& symbol_of);

// One balance of the engine's `balances` answer, decimals as printed.
struct BalanceText {
  std::string asset, free, locked;
};
// nullopt (no error) when the engine does not know the account.
std::expected<std::optional<std::vector<BalanceText>>, std::string> ParseEngineBalances(
    std::string_view json);

// The engine's answer was {"error": ...}; its text.
std::optional<std::string> EngineError(std::string_view json);

}  // namespace spotex::gateway
