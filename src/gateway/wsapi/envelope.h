// The request and response envelopes of the WebSocket API (/ws-api/v3, BINANCE_API.md §10,
// docs/websocket-api.md): parsing one client text frame into {id, method, params} and writing
// the {"id","status","result"|"error","rateLimits"} answers. Socket-free and pure.
//
// A request is a JSON object {"id":…,"method":"…","params":{…}}:
// - id: a string (at most kIdCharsMax printable ASCII characters), an integer (int64) or null;
//   missing = null. Echoed with the same JSON type.
// - method: a string; a leading "v3/" is accepted and dropped.
// - params: optional object. Values may be strings (unescaped), numbers (kept as the exact token
//   sent, so that signatures over "0.10" stay byte-exact), booleans ("true"/"false"), arrays
//   (kept as their JSON text, e.g. symbols=["BTCUSDT"]) or null (= not sent). Objects are refused.
//
// Errors (Binance's codes, status 400, id echoed when it could be read, else null):
//   not JSON, not an object, nesting deeper than kDepthMax     -1135 "Invalid JSON request"
//   id of another type, or too long                             -1135 "Invalid 'id' in JSON request; ..."
//   method missing, not a string, or empty                      -1102 "Mandatory parameter 'method' ..."
//   params not an object                                        -1135 "Invalid 'params' in JSON request; expected an object."
//   a parameter value that is an object                         -1135 "JSON sent for parameter '<name>' is not valid."
//   more than auth::kWsApiParamsMax parameters                  -1101 "Too many parameters sent for this endpoint."
//   the same parameter twice                                    -1101 "Duplicate values for a parameter detected."
//   a name longer than kNameBytesMax or with a control char     -1100 "Illegal characters found in a parameter."
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/http/error.h"

namespace spotex::gateway::wsapi {

inline constexpr size_t kIdCharsMax = 64;
inline constexpr size_t kNameBytesMax = 64;
inline constexpr size_t kMethodBytesMax = 64;
inline constexpr int kDepthMax = 8;

enum class ValueKind : uint8_t { kString, kNumber, kBool, kArray };

struct Param {
  std::string name;
  std::string value;  // see the header comment for each kind
  ValueKind kind = ValueKind::kString;
};

struct Request {
  std::string id_json = "null";  // ready to echo: null, 42, "abc"
  std::string method;            // "v3/" prefix removed
  std::vector<Param> params;     // in the order sent

  // The value of `name`, or nullopt when not sent.
  std::optional<std::string_view> Find(std::string_view name) const;
};

struct EnvelopeError {
  std::string id_json = "null";
  http::Error error;
};

// Parses one text frame. Pure; thread-safe.
[[nodiscard]] std::expected<Request, EnvelopeError> ParseRequest(std::string_view text);

// {"id":<id>,"status":200,"result":<result_json>[,"rateLimits":<rate_limits_json>]}
// `rate_limits_json` empty = no rateLimits member.
std::string SuccessResponse(std::string_view id_json, std::string_view result_json,
                            std::string_view rate_limits_json);
// {"id":<id>,"status":<status>,"error":{"code":…,"msg":"…"}[,"rateLimits":…]}
std::string ErrorResponse(std::string_view id_json, const http::Error& error,
                          std::string_view rate_limits_json);
// The same with `error_json` already an object ({"code":…,"msg":…}, as a REST error body).
std::string ErrorResponseRaw(std::string_view id_json, int status, std::string_view error_json,
                             std::string_view rate_limits_json);

// The announced limits and the counts a limiter reported, as the rateLimits array.
struct RateLimitCounts {
  std::optional<int64_t> weight_1m;
  std::optional<int64_t> orders_10s;
  std::optional<int64_t> orders_1d;
};
struct RateLimitConfig {
  int64_t weight_per_minute = 6000;
  int64_t orders_per_10s = 100;
  int64_t orders_per_day = 200'000;
};
// [{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":…,"count":…},
//  {"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,…},
//  {"rateLimitType":"ORDERS","interval":"DAY","intervalNum":1,…}] — only the counts known.
std::string RateLimitsJson(const RateLimitConfig& config, const RateLimitCounts& counts);

// Reads X-MBX-USED-WEIGHT-1M, X-MBX-ORDER-COUNT-10S and X-MBX-ORDER-COUNT-1D (any case).
RateLimitCounts CountsFromHeaders(const std::vector<std::pair<std::string, std::string>>& headers);

}  // namespace spotex::gateway::wsapi
