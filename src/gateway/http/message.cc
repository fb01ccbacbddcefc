#include "gateway/http/message.h"

#include <utility>

#include "gateway/http/ascii.h"

namespace spotex::http {

std::string_view MethodName(Method method) {
  switch (method) {
    case Method::kGet:
      return "GET";
    case Method::kHead:
      return "HEAD";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kDelete:
      return "DELETE";
    case Method::kOptions:
      return "OPTIONS";
    case Method::kPatch:
      return "PATCH";
    case Method::kOther:
      return "OTHER";
  }
  return "OTHER";
}

Request::Request(Method method, std::string method_name, std::string target, HeaderList headers,
                 std::string body, std::string peer_ip, std::string client_ip)
    : method_(method),
      method_name_(std::move(method_name)),
      target_(std::move(target)),
      headers_(std::move(headers)),
      body_(std::move(body)),
      peer_ip_(std::move(peer_ip)),
      client_ip_(std::move(client_ip)) {}

std::string_view Request::path() const {
  const std::string_view target = target_;
  return target.substr(0, target.find('?'));
}

std::string_view Request::query() const {
  const std::string_view target = target_;
  const size_t mark = target.find('?');
  return mark == std::string_view::npos ? std::string_view() : target.substr(mark + 1);
}

std::optional<std::string_view> FindHeader(const HeaderList& headers, std::string_view name) {
  for (const auto& [field, value] : headers) {
    if (ascii::EqualsIgnoreCase(field, name)) {
      return std::string_view(value);
    }
  }
  return std::nullopt;
}

std::optional<std::string_view> Request::Header(std::string_view name) const {
  return FindHeader(headers_, name);
}

Response Response::Json(int status, std::string json) {
  Response response;
  response.status = status;
  response.body = std::move(json);
  return response;
}

Response Response::FromError(const Error& error) {
  Response response = Json(error.http_status, ErrorBody(error));
  response.code = error.code;
  return response;
}

}  // namespace spotex::http
