#include "gateway/auth/web_session.h"

namespace spotex::gateway {
namespace {

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) {
      return false;
    }
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

constexpr std::string_view kBearer = "bearer ";

}  // namespace

std::optional<std::string_view> FindHeader(const http::HeaderList& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) {
      return std::string_view(v);
    }
  }
  return std::nullopt;
}

std::optional<std::string_view> CookieValue(const http::HeaderList& headers,
                                            std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (!EqualsIgnoreCase(n, "Cookie") || v.size() > kCookieHeaderBytesMax) {
      continue;
    }
    std::string_view rest = v;
    while (!rest.empty()) {
      const size_t semi = rest.find(';');
      std::string_view pair = Trim(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
      const size_t eq = pair.find('=');
      if (eq != std::string_view::npos && Trim(pair.substr(0, eq)) == name) {
        std::string_view value = Trim(pair.substr(eq + 1));
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
  origin = Trim(origin);
  host = Trim(host);
  std::string_view rest;
  if (origin.size() > 7 && EqualsIgnoreCase(origin.substr(0, 7), "http://")) {
    rest = origin.substr(7);
  } else if (origin.size() > 8 && EqualsIgnoreCase(origin.substr(0, 8), "https://")) {
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
  const auto origin = FindHeader(headers, "Origin");
  if (!origin.has_value()) {
    return true;
  }
  const auto host = FindHeader(headers, "Host");
  return host.has_value() && SameOrigin(*origin, *host);
}

bool HasBearerScheme(std::string_view authorization) {
  return authorization.size() > kBearer.size() &&
         EqualsIgnoreCase(authorization.substr(0, kBearer.size()), kBearer);
}

std::optional<std::string_view> SessionToken(const http::Request& request) {
  if (const auto authorization = request.Header("Authorization"); authorization.has_value()) {
    if (HasBearerScheme(*authorization)) {
      return Trim(authorization->substr(kBearer.size()));
    }
  }
  const auto csrf = request.Header(kCsrfHeader);
  if (!csrf.has_value() || Trim(*csrf).empty() || !OriginAllowed(request.headers())) {
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
