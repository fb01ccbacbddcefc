#include "gateway/market/engine_json.h"

#include <simdjson.h>

#include "core/decimal.h"

namespace spotex::gateway {

namespace {

using simdjson::ondemand::object;

template <class T>
bool Get(object& o, std::string_view key, T& out) {
  auto v = o.find_field_unordered(key);
  if (v.error()) return false;
  if constexpr (std::is_same_v<T, std::string>) {
    std::string_view s;
    if (v.get_string().get(s)) return false;
    out.assign(s);
  } else if constexpr (std::is_same_v<T, bool>) {
    if (v.get_bool().get(out)) return false;
  } else {
    int64_t n;
    if (v.get_int64().get(n)) return false;
    out = static_cast<T>(n);
  }
  return true;
}

void Str(std::string& out, std::string_view key, std::string_view v) {
  out += '"';
  out += key;
  out += "\":\"";
  out += v;
  out += '"';
}

}  // namespace

std::expected<std::vector<AssetRecord>, std::string> ParseAssets(std::string_view json) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc)) return std::unexpected("assets: not JSON");
  simdjson::ondemand::array arr;
  if (doc["assets"].get_array().get(arr)) return std::unexpected("assets: no array");
  std::vector<AssetRecord> out;
  for (auto item : arr) {
    object o;
    if (item.get_object().get(o)) return std::unexpected("assets: entry not an object");
    AssetRecord r;
    int64_t id = 0;
    if (!(Get(o, "id", id) && Get(o, "name", r.name) && Get(o, "scale", r.scale)) || id < 0 ||
        id > UINT32_MAX || r.scale < 0 || r.scale > 18 || r.name.empty() || r.name.size() > 20) {
      return std::unexpected("assets: an entry without id, name and scale, or out of range");
    }
    if (out.size() >= kAssetsMax) return std::unexpected("assets: more than kAssetsMax entries");
    r.id = static_cast<uint32_t>(id);
    out.push_back(std::move(r));
  }
  return out;
}

std::expected<std::vector<SymbolRecord>, std::string> ParseSymbols(std::string_view json) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc)) return std::unexpected("symbols: not JSON");
  simdjson::ondemand::array arr;
  if (doc["symbols"].get_array().get(arr)) return std::unexpected("symbols: no array");
  std::vector<SymbolRecord> out;
  for (auto item : arr) {
    object o;
    if (item.get_object().get(o)) return std::unexpected("symbols: entry not an object");
    SymbolRecord r;
    int64_t id = 0;
    bool ok = Get(o, "id", id) && Get(o, "symbol", r.info.name) && Get(o, "status", r.status) &&
              Get(o, "baseAsset", r.info.base_asset) && Get(o, "quoteAsset", r.info.quote_asset) &&
              Get(o, "baseScale", r.info.base_scale) && Get(o, "quoteScale", r.info.quote_scale) &&
              Get(o, "minPrice", r.min_price) && Get(o, "maxPrice", r.max_price) &&
              Get(o, "tickSize", r.tick_size) && Get(o, "minQty", r.min_qty) &&
              Get(o, "maxQty", r.max_qty) && Get(o, "stepSize", r.step_size) &&
              Get(o, "marketMinQty", r.market_min_qty) &&
              Get(o, "marketMaxQty", r.market_max_qty) &&
              Get(o, "marketStepSize", r.market_step_size) &&
              Get(o, "minNotional", r.min_notional) && Get(o, "maxNotional", r.max_notional) &&
              Get(o, "applyMinToMarket", r.apply_min_to_market) &&
              Get(o, "applyMaxToMarket", r.apply_max_to_market) &&
              Get(o, "legacyMinNotional", r.legacy_min_notional) &&
              Get(o, "avgPriceMins", r.avg_price_mins) && Get(o, "bidMultiplierUp", r.bid_up) &&
              Get(o, "bidMultiplierDown", r.bid_down) && Get(o, "askMultiplierUp", r.ask_up) &&
              Get(o, "askMultiplierDown", r.ask_down) && Get(o, "icebergParts", r.iceberg_parts) &&
              Get(o, "maxNumOrders", r.max_num_orders) &&
              Get(o, "maxNumAlgoOrders", r.max_num_algo_orders) &&
              Get(o, "icebergAllowed", r.iceberg_allowed) && Get(o, "ocoAllowed", r.oco_allowed) &&
              Get(o, "quoteOrderQtyMarketAllowed", r.quote_order_qty_market_allowed) &&
              Get(o, "cancelReplaceAllowed", r.cancel_replace_allowed) &&
              Get(o, "amendAllowed", r.amend_allowed) &&
              Get(o, "defaultSelfTradePreventionMode", r.default_stp);
    if (!ok || id < 0) return std::unexpected("symbols: an entry lacks a field");
    r.info.id = static_cast<engine::SymbolId>(id);
    out.push_back(std::move(r));
  }
  return out;
}

std::expected<BookSnapshot, std::string> ParseBook(std::string_view json, const SymbolInfo& info) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc)) return std::unexpected("book: not JSON");
  BookSnapshot snap;
  if (doc["lastUpdateId"].get_int64().get(snap.last_update_id)) {
    return std::unexpected("book: no lastUpdateId");
  }
  for (auto [key, side] : {std::pair{"bids", &snap.bids}, std::pair{"asks", &snap.asks}}) {
    simdjson::ondemand::array levels;
    if (doc[key].get_array().get(levels)) return std::unexpected(std::string("book: no ") + key);
    for (auto level : levels) {
      simdjson::ondemand::array pq;
      if (level.get_array().get(pq)) return std::unexpected("book: bad level");
      std::string_view price, qty;
      auto it = pq.begin();
      if (it == pq.end() || (*it).get_string().get(price)) return std::unexpected("book: price");
      ++it;
      if (it == pq.end() || (*it).get_string().get(qty)) return std::unexpected("book: qty");
      auto p = core::ParseDecimal(price, info.quote_scale);
      auto q = core::ParseDecimal(qty, info.base_scale);
      if (!p || !q) return std::unexpected("book: bad decimal");
      side->push_back({*p, *q});
    }
  }
  return snap;
}

std::string RenderExchangeInfo(const std::vector<SymbolRecord>& symbols, int64_t server_time_ms,
                               const AnnouncedLimits& limits) {
  // Only the limits the gateway enforces: no RAW_REQUESTS limiter.
  std::string out = "{\"timezone\":\"UTC\",\"serverTime\":" + std::to_string(server_time_ms) +
                    ",\"rateLimits\":[{\"rateLimitType\":\"REQUEST_WEIGHT\",\"interval\":"
                    "\"MINUTE\",\"intervalNum\":1,\"limit\":" +
                    std::to_string(limits.weight_per_minute) +
                    "},{\"rateLimitType\":\"ORDERS\",\"interval\":\"SECOND\",\"intervalNum\":10,"
                    "\"limit\":" +
                    std::to_string(limits.orders_per_10s) +
                    "},{\"rateLimitType\":\"ORDERS\",\"interval\":\"DAY\",\"intervalNum\":1,"
                    "\"limit\":" +
                    std::to_string(limits.orders_per_day) +
                    "}],\"exchangeFilters\":[],\"symbols\":[";
  bool first = true;
  for (const auto& r : symbols) {
    if (!first) out += ',';
    first = false;
    const auto b = [](bool v) { return v ? "true" : "false"; };
    out += '{';
    Str(out, "symbol", r.info.name);
    out += ',';
    Str(out, "status", r.status);
    out += ',';
    Str(out, "baseAsset", r.info.base_asset);
    out += ",\"baseAssetPrecision\":" + std::to_string(r.info.base_scale) + ',';
    Str(out, "quoteAsset", r.info.quote_asset);
    out += ",\"quotePrecision\":" + std::to_string(r.info.quote_scale) +
           ",\"quoteAssetPrecision\":" + std::to_string(r.info.quote_scale) +
           ",\"baseCommissionPrecision\":" + std::to_string(r.info.base_scale) +
           ",\"quoteCommissionPrecision\":" + std::to_string(r.info.quote_scale) +
           ",\"orderTypes\":[\"LIMIT\",\"LIMIT_MAKER\",\"MARKET\",\"STOP_LOSS\","
           "\"STOP_LOSS_LIMIT\",\"TAKE_PROFIT\",\"TAKE_PROFIT_LIMIT\"]";
    out += std::string(",\"icebergAllowed\":") + b(r.iceberg_allowed) +
           ",\"ocoAllowed\":" + b(r.oco_allowed) +
           ",\"otoAllowed\":false,\"opoAllowed\":false,\"quoteOrderQtyMarketAllowed\":" +
           b(r.quote_order_qty_market_allowed) +
           ",\"allowTrailingStop\":false,\"cancelReplaceAllowed\":" + b(r.cancel_replace_allowed) +
           ",\"amendAllowed\":" + b(r.amend_allowed) +
           ",\"pegInstructionsAllowed\":false,\"isSpotTradingAllowed\":true,"
           "\"isMarginTradingAllowed\":false,\"filters\":[";
    out += "{\"filterType\":\"PRICE_FILTER\",";
    Str(out, "minPrice", r.min_price);
    out += ',';
    Str(out, "maxPrice", r.max_price);
    out += ',';
    Str(out, "tickSize", r.tick_size);
    out += "},{\"filterType\":\"LOT_SIZE\",";
    Str(out, "minQty", r.min_qty);
    out += ',';
    Str(out, "maxQty", r.max_qty);
    out += ',';
    Str(out, "stepSize", r.step_size);
    out += "},{\"filterType\":\"ICEBERG_PARTS\",\"limit\":" + std::to_string(r.iceberg_parts) +
           "},{\"filterType\":\"MARKET_LOT_SIZE\",";
    Str(out, "minQty", r.market_min_qty);
    out += ',';
    Str(out, "maxQty", r.market_max_qty);
    out += ',';
    Str(out, "stepSize", r.market_step_size);
    out += "},";
    if (r.legacy_min_notional) {
      out += "{\"filterType\":\"MIN_NOTIONAL\",";
      Str(out, "minNotional", r.min_notional);
      out += std::string(",\"applyToMarket\":") + b(r.apply_min_to_market) +
             ",\"avgPriceMins\":" + std::to_string(r.avg_price_mins) + "},";
    } else {
      out += "{\"filterType\":\"NOTIONAL\",";
      Str(out, "minNotional", r.min_notional);
      out += std::string(",\"applyMinToMarket\":") + b(r.apply_min_to_market) + ',';
      Str(out, "maxNotional", r.max_notional);
      out += std::string(",\"applyMaxToMarket\":") + b(r.apply_max_to_market) +
             ",\"avgPriceMins\":" + std::to_string(r.avg_price_mins) + "},";
    }
    if (r.bid_up != core::FormatDecimal(0, 8) || r.ask_up != core::FormatDecimal(0, 8)) {
      out += "{\"filterType\":\"PERCENT_PRICE_BY_SIDE\",";
      Str(out, "bidMultiplierUp", r.bid_up);
      out += ',';
      Str(out, "bidMultiplierDown", r.bid_down);
      out += ',';
      Str(out, "askMultiplierUp", r.ask_up);
      out += ',';
      Str(out, "askMultiplierDown", r.ask_down);
      out += ",\"avgPriceMins\":" + std::to_string(r.avg_price_mins) + "},";
    }
    out +=
        "{\"filterType\":\"MAX_NUM_ORDERS\",\"maxNumOrders\":" + std::to_string(r.max_num_orders) +
        "},{\"filterType\":\"MAX_NUM_ALGO_ORDERS\",\"maxNumAlgoOrders\":" +
        std::to_string(r.max_num_algo_orders) + "}]";
    out += ",\"permissions\":[],\"permissionSets\":[[\"SPOT\"]],";
    Str(out, "defaultSelfTradePreventionMode", r.default_stp);
    out +=
        ",\"allowedSelfTradePreventionModes\":[\"NONE\",\"EXPIRE_TAKER\",\"EXPIRE_MAKER\","
        "\"EXPIRE_BOTH\"]}";
  }
  out += "]}";
  return out;
}

}  // namespace spotex::gateway
