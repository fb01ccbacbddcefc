// The browser's way to carry a web session (docs/api-v1.md, "Web sessions"): the session token
// in an HttpOnly, SameSite=Strict cookie instead of an `Authorization: Bearer` header.
//
// A cookie is sent by the browser on its own, so it is only taken as a credential when the
// request also proves it was made by the page itself:
//   - the header `X-Spotex-CSRF` with any non-empty value (a cross-site page cannot add a
//     custom header without a CORS preflight, which the gateway never allows), and
//   - when an `Origin` header is present, its host[:port] equals the request's `Host`.
// The WebSocket user stream cannot set headers; there `Origin` must be present and
// same-origin instead (SameOriginRequired).
//
// SessionToken() is the one place that picks the session token of a request: the Bearer header
// first, then the cookie under the rule above. The authenticator (signed /api/v3 endpoints) and
// the /api/v1 account endpoints both use it.
//
// Thread safety: free functions without state.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "gateway/http/message.h"

namespace spotex::gateway {

inline constexpr std::string_view kSessionCookie = "spotex_session";
inline constexpr std::string_view kCsrfHeader = "X-Spotex-CSRF";
// Longest Cookie header value looked at; longer ones are ignored (no session).
inline constexpr size_t kCookieHeaderBytesMax = 8192;

// The value of cookie `name` in the request's Cookie headers (RFC 6265 "a=b; c=d"), or nullopt.
std::optional<std::string_view> CookieValue(const http::HeaderList& headers, std::string_view name);

// True when `origin` ("http://host:port", "https://host") names the same host[:port] as
// `host` (the Host header), compared ignoring ASCII case. "null" and other schemes are never
// same-origin.
bool SameOrigin(std::string_view origin, std::string_view host);

// The Origin rule for cookie requests: no Origin header, or a same-origin one.
bool OriginAllowed(const http::HeaderList& headers);

// The session token the request carries, not yet checked for form: the `Authorization: Bearer`
// token if that header uses the Bearer scheme, else the spotex_session cookie when the CSRF
// header and the Origin rule allow it; nullopt otherwise. The view points into `request`.
std::optional<std::string_view> SessionToken(const http::Request& request);

// True when the `Authorization` header uses the Bearer scheme (case-insensitive).
bool HasBearerScheme(std::string_view authorization);

// The Set-Cookie value that stores `token` for `max_age_s` seconds (0 with an empty token
// clears it); `secure` adds "; Secure".
std::string SessionCookie(std::string_view token, long long max_age_s, bool secure);

}  // namespace spotex::gateway
