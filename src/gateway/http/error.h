// Binance-style errors of the HTTP layer: the error value every gateway function returns, the
// texts Binance uses for each request-level failure (Binance's errors.md, BINANCE_API.md §5), and
// the JSON body `{"code":-1121,"msg":"Invalid symbol."}`.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include "core/json_string.h"

namespace spotex::http {

// One rejected request: Binance error code (negative), its message and the HTTP status the
// gateway answers with (400 for client errors, 401 for API-key errors, 5xx when the outcome is
// unknown).
struct Error {
  int code = 0;
  std::string msg;
  int http_status = 400;

  friend bool operator==(const Error&, const Error&) = default;
};

template <typename T>
using Result = std::expected<T, Error>;

// The Binance errors this layer produces. Each returns Binance's exact message text; `name`
// is a parameter name chosen by the server (never a client-supplied string).
namespace errors {

// -1000, HTTP 500: "An unknown error occurred while processing the request."
Error Unknown();
// -1007, HTTP 500: the backend did not answer in time; the outcome is unknown.
Error BackendTimeout();
// -1008, HTTP 503: too many connections or requests in flight.
Error ServerBusy();
// -1016, HTTP 503: the server is shutting down.
Error ShuttingDown();
// -1020, HTTP `http_status`: "This operation is not supported." (unknown path or method).
Error UnsupportedOperation(int http_status);
// -1100: "Illegal characters found in a parameter." (bad percent-escape, invalid UTF-8, ...)
Error IllegalCharacters();
// -1100: "Illegal characters found in parameter '<name>'; legal range is '<legal_range>'."
Error IllegalCharacters(std::string_view name, std::string_view legal_range);
// -1101: "Too many parameters sent for this endpoint."
Error TooManyParameters();
// -1101: "Duplicate values for a parameter detected."
Error DuplicateParameter();
// -1102: "Mandatory parameter '<name>' was not sent, was empty/null, or malformed."
Error MandatoryParameter(std::string_view name);
// -1104: "Not all sent parameters were read; read '<read>' parameter(s) but was sent '<sent>'."
Error NotAllParametersRead(size_t read, size_t sent);
// -1108: "Parameter '<name>' overflowed."
Error ParameterOverflow(std::string_view name);
// -1111: "Parameter '<name>' has too much precision."
Error TooMuchPrecision(std::string_view name);
// -1130: "Data sent for parameter '<name>' is not valid."
Error InvalidParameter(std::string_view name);

}  // namespace errors

// `{"code":<code>,"msg":"<msg escaped>"}`. The message is escaped as a JSON string
// (json::AppendString: quotes, backslashes, control characters; invalid UTF-8 replaced).
std::string ErrorBody(const Error& error);

// Appends `text` to `out` as a JSON string literal, quotes included (json::AppendString).
inline void AppendJsonString(std::string& out, std::string_view text) {
  json::AppendString(out, text);
}

}  // namespace spotex::http
