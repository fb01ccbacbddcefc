// The engine's live-state query answers (service/query.h, JSON) read into the gateway's types,
// and exchangeInfo rendered in Binance's shape (BINANCE_API.md §7.2) from them.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/market/market_data.h"
#include "gateway/orders/new_order.h"

namespace spotex::gateway {

// One symbol as the engine's `symbols` query lists it: the gateway's SymbolInfo plus the
// filter values as the engine prints them (exact decimal strings).
struct SymbolRecord {
  SymbolInfo info;
  std::string status;  // TRADING / HALT / BREAK
  std::string min_price, max_price, tick_size, min_qty, max_qty, step_size;
  std::string market_min_qty, market_max_qty, market_step_size, min_notional, max_notional;
  std::string bid_up, bid_down, ask_up, ask_down;
  bool apply_min_to_market = true, apply_max_to_market = false, legacy_min_notional = false;
  bool iceberg_allowed = true, oco_allowed = true, quote_order_qty_market_allowed = true;
  bool cancel_replace_allowed = true, amend_allowed = true;
  int64_t avg_price_mins = 5, iceberg_parts = 10, max_num_orders = 200, max_num_algo_orders = 5;
  std::string default_stp;
};

// Parses the `symbols` answer; an error names what was wrong.
std::expected<std::vector<SymbolRecord>, std::string> ParseSymbols(std::string_view json);

// One asset as the engine's `assets` query lists it.
struct AssetRecord {
  uint32_t id = 0;
  std::string name;
  int scale = 8;
};
// Parses the `assets` answer ({"assets":[{"id":0,"name":"BTC","scale":8},...]}), in listing
// order; at most kAssetsMax assets. An error text says what was wrong.
inline constexpr size_t kAssetsMax = 4096;
std::expected<std::vector<AssetRecord>, std::string> ParseAssets(std::string_view json);

struct BookSnapshot {
  int64_t last_update_id = 0;
  std::vector<MarketData::Level> bids, asks;
};
// Parses a `book <symbol> <depth>` answer at the symbol's scales.
std::expected<BookSnapshot, std::string> ParseBook(std::string_view json, const SymbolInfo& info);

// The limits exchangeInfo.rateLimits announces: the ones the gateway enforces
// (src/gateway/redis/rate_limits.h; Binance's values by default).
struct AnnouncedLimits {
  int64_t weight_per_minute = 6000;
  int64_t orders_per_10s = 100;
  int64_t orders_per_day = 200000;
};

// GET /api/v3/exchangeInfo for `symbols` (all when the filter is empty).
std::string RenderExchangeInfo(const std::vector<SymbolRecord>& symbols, int64_t server_time_ms,
                               const AnnouncedLimits& limits = {});

}  // namespace spotex::gateway
