#include "gateway/auth/web_session.h"

#include "gateway/http/ascii.h"

namespace spotex::gateway {
namespace {

using http::ascii::EqualsIgnoreCase;
using http::ascii::StartsWithIgnoreCase;
using http::ascii::TrimSpaces;

constexpr std::string_view kBearer = "bearer ";

}  // namespace

std::optional<std::string_view> CookieValue(const http::HeaderList& headers,
                                            std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (!EqualsIgnoreCase(n, "Cookie") || v.size() > kCookieHeaderBytesMax) {
      continue;
    }
    std::string_view rest = v;
    while (!rest.empty()) {
      const size_t semi = rest.find(';');
      std::string_view pair = TrimSpaces(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
      const size_t eq = pair.find('=');
      if (eq != std::string_view::npos && TrimSpaces(pair.substr(0, eq)) == name) {
        std::string_view value = TrimSpaces(pair.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
          value = value.substr(1, value.size() - 2);
        }
        return value;
      }
    }
  }
  return std::nullopt;
}

bool SameOrigin(std::string_view origin, std::string_view host) {
  origin = TrimSpaces(origin);
  host = TrimSpaces(host);
  std::string_view rest;
  if (origin.size() > 7 && StartsWithIgnoreCase(origin, "http://")) {
    rest = origin.substr(7);
  } else if (origin.size() > 8 && StartsWithIgnoreCase(origin, "https://")) {
    rest = origin.substr(8);
  } else {
    return false;
  }
  // An Origin is scheme://host[:port] with nothing after; a trailing '/' is tolerated.
  if (!rest.empty() && rest.back() == '/') {
    rest.remove_suffix(1);
  }
  if (rest.empty() || host.empty() || rest.find_first_of("/?#@ ") != std::string_view::npos) {
    return false;
  }
  return EqualsIgnoreCase(rest, host);
}

bool OriginAllowed(const http::HeaderList& headers) {
  const auto origin = http::FindHeader(headers, "Origin");
  if (!origin.has_value()) {
    return true;
  }
  const auto host = http::FindHeader(headers, "Host");
  return host.has_value() && SameOrigin(*origin, *host);
}

bool HasBearerScheme(std::string_view authorization) {
  return authorization.size() > kBearer.size() && StartsWithIgnoreCase(authorization, kBearer);
}

std::optional<std::string_view> SessionToken(const http::Request& request) {
  if (const auto authorization = request.Header("Authorization"); authorization.has_value()) {
    if (HasBearerScheme(*authorization)) {
      return TrimSpaces(authorization->substr(kBearer.size()));
    }
  }
  const auto csrf = request.Header(kCsrfHeader);
  if (!csrf.has_value() || TrimSpaces(*csrf).empty() || !OriginAllowed(request.headers())) {
    return std::nullopt;
  }
  return CookieValue(request.headers(), kSessionCookie);
}

std::string SessionCookie(std::string_view token, long long max_age_s, bool secure) {
  std::string out(kSessionCookie);
  out += '=';
  out += token;
  out += "; Path=/; HttpOnly; SameSite=Strict; Max-Age=";
  out += std::to_string(max_age_s < 0 ? 0 : max_age_s);
  if (secure) {
    out += "; Secure";
  }
  return out;
}

}  // namespace spotex::gateway
