// POST /api/v3/order: Binance parameters -> engine::NewOrder, and the engine's answer (an event
// envelope) -> Binance's ACK / RESULT / FULL response (BINANCE_API.md §7.3).
//
// The gateway checks only syntax here: enum spellings, decimal format and precision, client id
// pattern. Which parameters a type requires or forbids, the filters and balances are the
// engine's rules (engine/validate.h), answered with the same Binance codes; one definition of
// each rule means the gateway and the engine can never disagree.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "engine/command.h"
#include "proto/envelope.h"

namespace spotex::gateway {

// A Binance error: code, HTTP status, exact message.
struct ApiError {
  int code = 0;
  int http_status = 400;
  std::string msg;
};

// What the gateway knows of a symbol (from the engine's `symbols` query).
struct SymbolInfo {
  engine::SymbolId id = 0;
  std::string name;
  std::string base_asset, quote_asset;
  int base_scale = 8, quote_scale = 8;
};

enum class RespType : uint8_t { kAck, kResult, kFull };

// The value of a request parameter as sent (percent-decoded), nullopt when absent. Reading a
// parameter through it marks it read (for -1104).
using ParamLookup = std::function<std::optional<std::string_view>(std::string_view name)>;

struct NewOrderRequest {
  engine::NewOrder order;
  RespType resp = RespType::kAck;
};

// Parses the order parameters for `account` on `symbol`. `generated_client_id` is used when no
// newClientOrderId is sent (it must match the pattern).
std::expected<NewOrderRequest, ApiError> ParseNewOrder(const ParamLookup& param,
                                                       const SymbolInfo& symbol,
                                                       engine::AccountId account,
                                                       std::string_view generated_client_id);

// The Binance error for a rejected command's envelope; nullopt when it was applied.
std::optional<ApiError> RejectionOf(const proto::Envelope& envelope);

// The JSON response of an accepted new order, from its envelope.
std::string RenderNewOrder(const proto::Envelope& envelope, const NewOrderRequest& request,
                           const SymbolInfo& symbol, RespType resp);

}  // namespace spotex::gateway
