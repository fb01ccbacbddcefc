#include "gateway/obs/request_log.h"

#include <chrono>
#include <utility>

#include "service/log.h"

namespace spotex::gateway::obs {
namespace {

constexpr size_t kPathLogMax = 256;
constexpr size_t kTokenSegmentMin = 32;

bool IsTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

http::Method ToMethod(std::string_view token) {
  using http::Method;
  if (token == "GET") return Method::kGet;
  if (token == "POST") return Method::kPost;
  if (token == "DELETE") return Method::kDelete;
  if (token == "PUT") return Method::kPut;
  if (token == "HEAD") return Method::kHead;
  if (token == "OPTIONS") return Method::kOptions;
  if (token == "PATCH") return Method::kPatch;
  return Method::kOther;
}

void LogRequest(const http::RequestRecord& r, std::string_view route, double seconds) {
  const bool warn = r.status >= 500 || !r.written;
  service::LogLine line(warn ? service::LogLevel::kWarn : service::LogLevel::kInfo, "http",
                        "request");
  line.Str("method", r.method)
      .Str("path", SanitizePath(r.path))
      .Str("route", route)
      .Int("status", r.status);
  if (r.code != 0) {
    line.Int("code", r.code);
  }
  line.Seconds("duration_s", seconds);
  if (!r.written) {
    line.Str("write", "failed");
  }
  line
      .Fields(service::LogFields{
          .request_id = r.request_id, .account_id = r.account_id, .command_id = r.command_id})
      .Str("client_ip", r.client_ip)
      .Write();
}

}  // namespace

std::expected<AccessLog, std::string> ParseAccessLog(std::string_view text) {
  if (text == "all") return AccessLog::kAll;
  if (text == "errors") return AccessLog::kErrors;
  if (text == "off") return AccessLog::kOff;
  return std::unexpected("access log must be all, errors or off, not '" +
                         std::string(text.substr(0, 32)) + "'");
}

std::string SanitizePath(std::string_view path) {
  const bool cut = path.size() > kPathLogMax;
  if (cut) {
    path = path.substr(0, kPathLogMax);
  }
  std::string out;
  out.reserve(path.size() + 3);
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      out += '/';
      ++i;
      continue;
    }
    const size_t end = std::min(path.find('/', i), path.size());
    const std::string_view segment = path.substr(i, end - i);
    bool token = segment.size() >= kTokenSegmentMin;
    for (size_t k = 0; token && k < segment.size(); ++k) {
      token = IsTokenChar(segment[k]);
    }
    // A segment cut at the length limit may be the start of a token: redact it too.
    if (!token && cut && end == path.size()) {
      token = true;
      for (const char c : segment) token = token && IsTokenChar(c);
    }
    out += token ? std::string_view("<redacted>") : segment;
    i = end;
  }
  if (cut) {
    out += "...";
  }
  return out;
}

http::RequestObserver MakeRequestObserver(RequestObserverOptions options) {
  return [options = std::move(options)](const http::RequestRecord& r) {
    std::string_view route = r.route;
    if (route.empty() && options.route_of && !r.method.empty()) {
      route = options.route_of(ToMethod(r.method), r.path);
    }
    const double seconds = std::chrono::duration<double>(r.duration).count();
    if (options.metrics != nullptr) {
      options.metrics->ObserveRequest(route, r.method, r.status, r.code, seconds);
    }
    const bool error = r.status >= 400 || !r.written;
    if (options.access_log == AccessLog::kAll ||
        (options.access_log == AccessLog::kErrors && error)) {
      LogRequest(r, route.empty() ? std::string_view("unmatched") : route, seconds);
    }
  };
}

}  // namespace spotex::gateway::obs
