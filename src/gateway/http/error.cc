#include "gateway/http/error.h"

#include <string>

namespace spotex::http {
namespace errors {
namespace {

Error Make(int code, std::string msg, int http_status = 400) {
  return Error{code, std::move(msg), http_status};
}

std::string Quote(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 2);
  out.push_back('\'');
  out.append(name);
  out.push_back('\'');
  return out;
}

}  // namespace

Error Unknown() {
  return Make(-1000, "An unknown error occurred while processing the request.", 500);
}

Error BackendTimeout() {
  return Make(-1007,
              "Timeout waiting for response from backend server. Send status unknown; execution "
              "status unknown.",
              500);
}

Error ServerBusy() {
  return Make(-1008,
              "Server is currently overloaded with other requests. Please try again in a few "
              "minutes.",
              503);
}

Error ShuttingDown() { return Make(-1016, "This service is no longer available.", 503); }

Error UnsupportedOperation(int http_status) {
  return Make(-1020, "This operation is not supported.", http_status);
}

Error IllegalCharacters() { return Make(-1100, "Illegal characters found in a parameter."); }

Error IllegalCharacters(std::string_view name, std::string_view legal_range) {
  return Make(-1100, "Illegal characters found in parameter " + Quote(name) + "; legal range is " +
                         Quote(legal_range) + ".");
}

Error TooManyParameters() { return Make(-1101, "Too many parameters sent for this endpoint."); }

Error DuplicateParameter() { return Make(-1101, "Duplicate values for a parameter detected."); }

Error MandatoryParameter(std::string_view name) {
  return Make(
      -1102, "Mandatory parameter " + Quote(name) + " was not sent, was empty/null, or malformed.");
}

Error NotAllParametersRead(size_t read, size_t sent) {
  return Make(-1104, "Not all sent parameters were read; read " + Quote(std::to_string(read)) +
                         " parameter(s) but was sent " + Quote(std::to_string(sent)) + ".");
}

Error ParameterOverflow(std::string_view name) {
  return Make(-1108, "Parameter " + Quote(name) + " overflowed.");
}

Error TooMuchPrecision(std::string_view name) {
  return Make(-1111, "Parameter " + Quote(name) + " has too much precision.");
}

Error InvalidParameter(std::string_view name) {
  return Make(-1130, "Data sent for parameter " + Quote(name) + " is not valid.");
}

}  // namespace errors

std::string ErrorBody(const Error& error) {
  std::string out;
  out.reserve(error.msg.size() + 32);
  out += "{\"code\":";
  out += std::to_string(error.code);
  out += ",\"msg\":";
  AppendJsonString(out, error.msg);
  out += '}';
  return out;
}

}  // namespace spotex::http
