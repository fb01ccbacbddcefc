// The request a handler receives and the response it answers with. Plain values: no Beast types,
// so handlers and the API layer compile without Boost.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/http/error.h"

namespace spotex::http {

enum class Method : uint8_t { kGet, kHead, kPost, kPut, kDelete, kOptions, kPatch, kOther };

// "GET", "POST", ...; "OTHER" for kOther.
std::string_view MethodName(Method method);

// Content-Type of every JSON response, as Binance sends it.
inline constexpr std::string_view kJsonContentType = "application/json;charset=UTF-8";

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The value of the first header named `name` (ASCII case-insensitive) in `headers`.
std::optional<std::string_view> FindHeader(const HeaderList& headers, std::string_view name);

// One complete HTTP/1.1 request. Built by the server; every field is already bounded by the
// server's header and body limits. Movable; not thread-safe (one owner at a time).
class Request {
 public:
  Request() = default;
  Request(Method method, std::string method_name, std::string target, HeaderList headers,
          std::string body, std::string peer_ip, std::string client_ip);

  Method method() const { return method_; }
  // The method token as sent ("GET", "PURGE", ...).
  std::string_view method_name() const { return method_name_; }
  // Request target exactly as sent ("/api/v3/order?symbol=BTCUSDT").
  std::string_view target() const { return target_; }
  // The target up to the first '?', not percent-decoded.
  std::string_view path() const;
  // The raw query string after the first '?', without the '?'; empty when there is none.
  // Byte-exact as sent: signatures are computed over it (BINANCE_API.md §2).
  std::string_view query() const;
  // The body, byte-exact as sent (chunked framing removed).
  std::string_view body() const { return body_; }

  // The value of the first header named `name`, compared case-insensitively.
  std::optional<std::string_view> Header(std::string_view name) const;
  // Every header in arrival order, names as sent.
  const HeaderList& headers() const { return headers_; }

  // The request's id for logs (docs/logging.md): the validated X-Request-Id the proxy sent, or
  // one the server made up; empty when the server does not assign ids
  // (ServerConfig::request_id_header).
  std::string_view request_id() const { return request_id_; }
  void set_request_id(std::string id) { request_id_ = std::move(id); }

  // Address of the TCP peer ("127.0.0.1", "::1").
  std::string_view peer_ip() const { return peer_ip_; }
  // The client's address: the peer, or, when the peer is a trusted proxy, the address it
  // reported in X-Forwarded-For (ServerConfig::trusted_proxies).
  std::string_view client_ip() const { return client_ip_; }

 private:
  Method method_ = Method::kGet;
  std::string method_name_;
  std::string target_;
  HeaderList headers_;
  std::string body_;
  std::string peer_ip_;
  std::string client_ip_;
  std::string request_id_;
};

// A response to send. Content-Length, Connection and Server are set by the server; `headers`
// may add others (e.g. X-MBX-USED-WEIGHT-1M). A header whose name or value holds CR, LF or NUL,
// or whose name is empty, is dropped when sending.
struct Response {
  int status = 200;
  std::string body;
  std::string content_type = std::string(kJsonContentType);
  HeaderList headers;
  // The Binance error code of an error body (set by FromError), 0 otherwise. Not sent: it
  // tells the server's request observer (metrics, request log) the code without parsing.
  int code = 0;

  // A JSON response with `status` and `json` as the body.
  static Response Json(int status, std::string json);
  // The Binance error body `{"code":...,"msg":...}` with the error's HTTP status.
  static Response FromError(const Error& error);
};

}  // namespace spotex::http
